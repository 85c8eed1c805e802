"""make_all.py -- regenerate every ntk-lens reference fixture under tests/fixtures/.

Usage (from the repo root):
  python -m venv .venv-ref && .venv-ref/bin/pip install -r tests/reference/requirements.txt
  .venv-ref/bin/python tests/reference/make_all.py [--skip-minilm]

Runs, in order and each in its own process (PYTHONHASHSEED=0, 1 CPU thread):
  make_models.py   tests/fixtures/models/    tiny random BERT/RoBERTa + tokenizers + expected outputs
  make_counts.py   tests/fixtures/models/counts.json   parameter counts transformers reports for those models
  make_lora.py     tests/fixtures/adapters/  PEFT LoRA adapters (qv, all, qv_layer1) + expected logits
  make_ntk.py      tests/fixtures/ntk/       empirical NTK over the qv LoRA parameters
  make_prox_gd.py  tests/fixtures/prox_gd/   5 steps of proximal full-batch GD
  make_regression.py  tests/fixtures/{models/bert_reg,adapters/bert_reg_qv,ntk/bert_reg_qv}/   one-output (regression)
                   BERT + qv LoRA + its NTK (C = 1); needs make_models.py (compares the tokenizer with bert_cls)
  make_metrics.py  tests/fixtures/metrics/   MCC, accuracy (scikit-learn), Pearson, Spearman (SciPy)
  make_minilm.py   tests/fixtures/minilm/    real all-MiniLM-L6-v2 embeddings (needs the model, see README)
Each script asserts its own sanity checks (batched vs single, merged vs unmerged, ...) and prints max
diffs. At the end file modes are set to 0644 and the total fixture size is printed (must stay < 3 MB).
Takes well under a minute per script on one CPU core.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SCRIPTS = ["make_models.py", "make_counts.py", "make_lora.py", "make_ntk.py", "make_prox_gd.py",
           "make_regression.py", "make_metrics.py", "make_minilm.py"]


def main():
    skip_minilm = "--skip-minilm" in sys.argv[1:]
    env = dict(os.environ, PYTHONHASHSEED="0", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               RAYON_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false", PYTHONWARNINGS="ignore")
    t_all = time.time()
    for s in SCRIPTS:
        if skip_minilm and s == "make_minilm.py":
            print(f"== {s}: SKIPPED (--skip-minilm); tests/fixtures/minilm left as is")
            continue
        t0 = time.time()
        print(f"== {s}", flush=True)
        subprocess.run([sys.executable, str(HERE / s)], cwd=REPO, env=env, check=True)
        print(f"== {s}: {time.time() - t0:.1f}s", flush=True)
    total = 0
    for p in sorted(FIXTURES.rglob("*")):
        if p.is_file():
            p.chmod(0o644)
            total += p.stat().st_size
    print(f"== done in {time.time() - t_all:.1f}s; tests/fixtures total {total / 1e6:.2f} MB")
    assert total < 3_000_000, "fixtures grew beyond 3 MB"


if __name__ == "__main__":
    main()

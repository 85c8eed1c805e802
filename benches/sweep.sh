#!/usr/bin/env bash
# The λ sweep's fine-tuning of all-MiniLM-L6-v2 + LoRA (r = 8, alpha = 8, query,value, all 6
# layers, PEFT init), C = 2, on the first N rows of the bundled Yelp sentences: 7 λ × 100
# full-batch GD steps on Σ½‖f − onehot(y)‖² + (λ/2)‖θ − θ0‖². ntk-lens (`ntk-lens sweep`, CLI,
# CPU, release) against a plain PyTorch loop (benches/sweep_torch.py) taking the same steps (the
# step sizes ntk-lens chose, read from its JSON), side by side with the same thread count. Prints
# wall time and peak memory (max RSS) of both and the ratio. ntk-lens's time also covers what
# the sweep does besides training (the NTK at θ0, the linearized model, the report); the torch
# script's own "seconds" is its training loops alone. Not a test: nothing is asserted.
#
#   bash benches/sweep.sh                                # N = 64, threads = nproc
#   N=32 STEPS=20 THREADS=1 bash benches/sweep.sh
#   NTK_LENS_BIN=target/debug/ntk-lens bash benches/sweep.sh   # no cargo build
#
# Env: MINILM_DIR, DATA, N, STEPS, LAMBDAS, THREADS, NTK_LENS_BIN, PYTHON (an interpreter with
# torch and peft; default /tmp/refenv/bin/python from benches/refenv.sh, else .venv-ref, else
# python3; the PyTorch side is skipped when none has them).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${MINILM_DIR:-web/models/all-MiniLM-L6-v2}
DATA=${DATA:-web/datasets/uci-yelp.jsonl}
N=${N:-64}
STEPS=${STEPS:-100}
LAMBDAS=${LAMBDAS:-1e-4,1e-3,1e-2,1e-1,1,10,100}
THREADS=${THREADS:-$(nproc)}
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS MATMUL_NUM_THREADS=$THREADS
[ -f "$MODEL/model.safetensors" ] || { echo "no model at $MODEL (run scripts/setup.sh)" >&2; exit 2; }

BIN=${NTK_LENS_BIN:-}
if [ -z "$BIN" ]; then
  cargo build --release -p ntk-lens --quiet
  BIN=${CARGO_TARGET_DIR:-target}/release/ntk-lens
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

measure() { # label, command...: prints "<seconds> <max RSS MB>"
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$OUT/$label.time" "$@" > "$OUT/$label.out" 2> "$OUT/$label.err" || {
    echo "$label failed:" >&2; cat "$OUT/$label.err" >&2; return 1; }
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$OUT/$label.time"
}

read -r ours_s ours_mb < <(measure ntk-lens "$BIN" sweep --model "$MODEL" --data "$DATA" --n "$N" \
  --sample first --rank 8 --alpha 8 --targets query,value --lambdas "$LAMBDAS" --steps "$STEPS" \
  --out "$OUT/sweep.json")
echo "ntk-lens sweep : n=$N, $STEPS steps x λ in {$LAMBDAS}  ${ours_s} s  peak ${ours_mb} MB"
# The step size ntk-lens used for each λ, so the torch side takes the same steps.
LRS=$(python3 -c "import json; print(','.join(repr(r['lr']) for r in json.load(open('$OUT/sweep.json'))['results']))")
echo "  step sizes: $LRS"

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in /tmp/refenv/bin/python .venv-ref/bin/python python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c "import torch, peft" 2>/dev/null; then PY=$c; break; fi
  done
fi
if [ -z "$PY" ]; then echo "torch: skipped (no Python with torch and peft; see benches/refenv.sh)"; exit 0; fi
read -r theirs_s theirs_mb < <(measure torch "$PY" benches/sweep_torch.py --model "$MODEL" \
  --data "$DATA" --n "$N" --lambdas "$LAMBDAS" --lrs "$LRS" --steps "$STEPS" --threads "$THREADS")
inner=$(python3 -c "import json; print(round(json.load(open('$OUT/torch.out'))['seconds'], 2))")
echo "torch loop     : n=$N  ${theirs_s} s (training loops ${inner} s)  peak ${theirs_mb} MB"
python3 - "$OUT/sweep.json" "$OUT/torch.out" <<'PY'
import json, sys
ours, theirs = json.load(open(sys.argv[1]))["results"], json.load(open(sys.argv[2]))
print("  final loss (data + proximal) per λ, ntk-lens vs torch (different head/LoRA A draws):")
for r, t in zip(ours, theirs["final_losses"]):
    print(f"    λ = {r['lambda']:<8g} {r['loss_curve_actual'][-1]:12.4f} {t:12.4f}")
PY
python3 - "$ours_s" "$theirs_s" "$inner" <<'PY'
import sys
ours, theirs, inner = map(float, sys.argv[1:])
print(f"torch / ntk-lens: {theirs / ours:.2f}x (whole process), {inner / ours:.2f}x (torch loops only)")
PY

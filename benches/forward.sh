#!/usr/bin/env bash
# Forward throughput of all-MiniLM-L6-v2 (batch 32, length 32, float32, CPU): ntk-lens
# (burn-flex, release build) against PyTorch on the same machine with the same thread count,
# in one run. Prints sentences/s for both and the ratio. Not a test: nothing is asserted.
#
#   bash benches/forward.sh                     # threads = nproc
#   THREADS=1 REPS=20 bash benches/forward.sh
#
# Env: MINILM_DIR (default web/models/all-MiniLM-L6-v2, fetched by scripts/setup.sh), THREADS,
# BATCH, LEN, WARMUP, REPS, NTK_LENS_BIN (a built binary to time; no cargo build), PYTHON (an
# interpreter with torch and transformers; default
# /tmp/refenv/bin/python, else .venv-ref/bin/python, else python3; the PyTorch side is skipped
# when none has torch).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${MINILM_DIR:-web/models/all-MiniLM-L6-v2}
THREADS=${THREADS:-$(nproc)}
BATCH=${BATCH:-32} LEN=${LEN:-32} WARMUP=${WARMUP:-3} REPS=${REPS:-15}
[ -f "$MODEL/model.safetensors" ] || { echo "no model at $MODEL (run scripts/setup.sh or set MINILM_DIR)" >&2; exit 2; }

# Same thread count everywhere: rayon (burn-flex, gemm) and OpenMP/MKL (PyTorch).
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS MATMUL_NUM_THREADS=$THREADS

BIN=${NTK_LENS_BIN:-}
if [ -z "$BIN" ]; then
  t0=$(date +%s)
  cargo build --release -p ntk-lens --quiet
  echo "release build of ntk-lens: $(( $(date +%s) - t0 )) s"
  BIN=${CARGO_TARGET_DIR:-target}/release/ntk-lens
fi

ARGS=(--model "$MODEL" --batch "$BATCH" --len "$LEN" --warmup "$WARMUP" --reps "$REPS")
ours=$("$BIN" bench-forward "${ARGS[@]}")

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in /tmp/refenv/bin/python .venv-ref/bin/python python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c "import torch, transformers" 2>/dev/null; then PY=$c; break; fi
  done
fi
theirs=""
if [ -n "$PY" ]; then
  theirs=$("$PY" benches/forward_torch.py "${ARGS[@]}" --threads "$THREADS" 2>/dev/null)
fi

python3 - "$ours" "$theirs" <<'PY'
import json, sys
ours = json.loads(sys.argv[1])
theirs = json.loads(sys.argv[2]) if sys.argv[2] else None
print(f"model batch {ours['batch']} x length {ours['len']}, {ours['reps']} timed passes, "
      f"median; threads {ours['threads']}")
print(f"  ntk-lens (burn-flex)   : {ours['sentences_per_s']:9.1f} sentences/s")
if theirs:
    print(f"  {theirs['backend']:<23}: {theirs['sentences_per_s']:9.1f} sentences/s "
          f"(torch threads {theirs['threads']})")
    r = theirs["sentences_per_s"] / ours["sentences_per_s"]
    print(f"  PyTorch / ntk-lens = {r:.2f}x (goal: <= 1x, issue 11)")
else:
    print("  PyTorch: skipped (no python with torch and transformers; set PYTHON)")
PY

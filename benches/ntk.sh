#!/usr/bin/env bash
# The plain full NTK of all-MiniLM-L6-v2 + LoRA (r = 8, alpha = 8, query,value, all 6 layers,
# PEFT init) over the first N rows of the bundled Yelp sentences, C = 2: ntk-lens (CLI, CPU,
# release) against torch.func's jacobian-contraction recipe (benches/ntk_torch.py), run side by
# side with the same thread count. Prints wall time and peak memory (max RSS) of both and the
# ratio. Not a test: nothing is asserted.
#
# The two run REPS times in turn and the ratios are those of the medians: on a shared 2-core VM a
# single run of either can take up to twice its usual time.
#
#   bash benches/ntk.sh            # N = 64, threads = nproc, REPS = 3
#   N=256 THREADS=1 REPS=5 bash benches/ntk.sh
#   NTK_LENS_BIN=/path/to/ntk-lens bash benches/ntk.sh   # another build, no cargo build
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${MINILM_DIR:-web/models/all-MiniLM-L6-v2}
DATA=${DATA:-web/datasets/uci-yelp.jsonl}
N=${N:-64}
REPS=${REPS:-3}
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
  /usr/bin/time -f "%e %M" -o "$OUT/$label.time" "$@" > "$OUT/$label.json" 2> "$OUT/$label.err" || {
    echo "$label failed:" >&2; cat "$OUT/$label.err" >&2; return 1; }
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$OUT/$label.time"
}

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in /tmp/refenv/bin/python .venv-ref/bin/python python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c "import torch, peft" 2>/dev/null; then PY=$c; break; fi
  done
fi

for rep in $(seq 1 "$REPS"); do
  read -r ours_s ours_mb < <(measure ntk-lens "$BIN" ntk --model "$MODEL" --data "$DATA" --n "$N" \
    --sample first --rank 8 --alpha 8 --targets query,value --chunk 16 --out /dev/stdout)
  echo "ntk-lens  : n=$N  ${ours_s} s  peak ${ours_mb} MB"
  echo "$ours_s $ours_mb" >> "$OUT/ours"
  if [ -z "$PY" ]; then continue; fi
  read -r theirs_s theirs_mb < <(measure torch "$PY" benches/ntk_torch.py --model "$MODEL" \
    --data "$DATA" --n "$N" --threads "$THREADS")
  inner=$(python3 -c "import json; print(round(json.load(open('$OUT/torch.json'))['seconds'], 2))")
  echo "torch.func: n=$N  ${theirs_s} s (kernel part ${inner} s)  peak ${theirs_mb} MB"
  echo "$theirs_s $inner $theirs_mb" >> "$OUT/theirs"
done
if [ -z "$PY" ]; then echo "torch.func: skipped (no Python with torch and peft)"; exit 0; fi
python3 - "$OUT" <<'PY'
import statistics, sys
out = sys.argv[1]
ours = [list(map(float, l.split())) for l in open(f"{out}/ours")]
theirs = [list(map(float, l.split())) for l in open(f"{out}/theirs")]
med = lambda rows, k: statistics.median(r[k] for r in rows)
o, t, inner = med(ours, 0), med(theirs, 0), med(theirs, 1)
print(f"medians of {len(ours)}: ntk-lens {o:.2f} s, {med(ours, 1):.0f} MB; torch.func {t:.2f} s "
      f"(kernel part {inner:.2f} s), {med(theirs, 2):.0f} MB")
print(f"torch.func / ntk-lens: {t / o:.2f}x (whole process), {inner / o:.2f}x (torch kernel part only)")
PY

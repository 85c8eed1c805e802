#!/usr/bin/env bash
# The PyTorch reference environment of the benchmarks: a venv at ${REFENV:-/tmp/refenv} with
# the exact pins of benches/requirements.txt (CPU use; ~4.6 GB, mostly the CUDA libraries that
# PyPI's torch wheel links). benches/ntk.sh, forward.sh and sweep.sh look for /tmp/refenv first.
# Idempotent: when the venv already holds these pins (a stamp of the requirements' sha256 plus
# a working `import torch, transformers, peft`), it does nothing.
#
#   bash benches/refenv.sh                 # then: /tmp/refenv/bin/python benches/ntk_torch.py ...
#   REFENV=$HOME/refenv bash benches/refenv.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ENV=${REFENV:-/tmp/refenv}
REQ=benches/requirements.txt
want=$(sha256sum "$REQ" | cut -d' ' -f1)
stamp="$ENV/.benches-requirements.sha256"

if [ -x "$ENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] \
   && "$ENV/bin/python" -c "import torch, transformers, peft, tokenizers, safetensors, numpy" 2>/dev/null; then
  echo "refenv: $ENV is up to date"
  exit 0
fi

[ -x "$ENV/bin/python" ] || python3 -m venv "$ENV"
# --no-deps: requirements.txt is a full lock; this keeps pip from pulling torch's declared but
# (on CPU) unneeded triton and cuda-bindings. Binary wheels only: nothing is built here.
"$ENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary :all: -r "$REQ"
"$ENV/bin/python" -c "import torch, transformers, peft; torch.ones(2) @ torch.ones(2); \
print(f'refenv: {\"$ENV\"}: torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}')"
echo "$want" > "$stamp"

#!/usr/bin/env bash
# Installs what is missing, builds the explorer (release) and serves it on http://127.0.0.1:${PORT:-8088}.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/wasm-env.sh
exec trunk serve --release --port "${PORT:-8088}" --address 127.0.0.1

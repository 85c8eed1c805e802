#!/usr/bin/env bash
# Installs what is missing, builds the explorer (release) and serves it on http://127.0.0.1:${PORT:-8088}
# with scripts/serve-dist.mjs: precompressed (brotli/gzip), ETags, cross-origin isolated (COI=0: not).
# It does not rebuild on changes: run it again (the compressed copies of unchanged files are kept).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/wasm-env.sh
trunk build --release
PORT="${PORT:-8088}" HOST=127.0.0.1 exec node scripts/serve-dist.mjs dist

#!/usr/bin/env bash
# Installs what is missing, then runs every test: formatting and lints, the native workspace tests,
# the core's tests inside headless Chromium (wasm-bindgen-test), and the browser end-to-end tests
# against the release build of the page.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# A test run builds once: incremental caches would only add a gigabyte to target/.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
T0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - T0 ))s"; }

step "setup"
bash scripts/setup.sh

step "format and lints ($(elapsed))"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# No import circles between modules (outside tests), in the core and the shells alike.
if command -v python3 >/dev/null 2>&1; then
  for src in crates/core/src crates/cli/src crates/plots/src src; do
    python3 scripts/module-cycles.py --depth 3 "$src" >/dev/null || python3 scripts/module-cycles.py --depth 3 "$src"
  done
fi

step "native tests ($(elapsed))"
node scripts/to-fp16.test.mjs
# The real MiniLM weights (fetched by setup) for the sentence-transformers parity test.
MINILM_DIR="$ROOT/web/models/all-MiniLM-L6-v2" cargo test --workspace

step "build the page ($(elapsed))"
(
  source scripts/wasm-env.sh
  trunk build --release
)
ls -l dist

step "core tests in headless Chromium ($(elapsed))"
(
  source scripts/wasm-env.sh
  CHROMEDRIVER=$(command -v chromedriver) \
  WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/tests/webdriver.json" \
  WASM_BINDGEN_TEST_TIMEOUT=300 \
    cargo test -p ntk-lens-web --release --target wasm32-unknown-unknown --features webgpu --test wasm_browser
)

step "browser end-to-end tests ($(elapsed))"
# The tour test compares the page with the CLI built by the native tests.
(cd tests/e2e && NTK_LENS_DIST="$ROOT/dist" \
  NTK_LENS_CLI="${CARGO_TARGET_DIR:-$ROOT/target}/debug/ntk-lens" node --test --test-concurrency=1 --test-reporter=spec)

step "all tests passed ($(elapsed))"

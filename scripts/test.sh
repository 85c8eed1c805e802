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

step "format ($(elapsed))"
cargo fmt --all -- --check
# No import circles between modules (outside tests), in the core and the shells alike.
if command -v python3 >/dev/null 2>&1; then
  for src in crates/core/src crates/cli/src crates/plots/src src; do
    python3 scripts/module-cycles.py --depth 3 "$src" >/dev/null || python3 scripts/module-cycles.py --depth 3 "$src"
  done
fi

step "native tests and lints ($(elapsed))"
node scripts/to-fp16.test.mjs
# Clippy lints the workspace's crates while they compile for the tests: clippy-driver is their
# compiler (RUSTC_WORKSPACE_WRAPPER; the dependencies are compiled by rustc as before) and denies
# warnings (CLIPPY_ARGS, as `cargo clippy -- -D warnings` passes them). The same targets as
# `cargo clippy --workspace --all-targets` (libraries, binaries, tests; there are no examples or
# benches), without a second compilation of every dependency for it (about 6 minutes on a new
# machine). The real MiniLM weights (fetched by setup) are for the sentence-transformers parity test.
CLIPPY_DRIVER=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver || true)
if [ -n "$CLIPPY_DRIVER" ]; then
  RUSTC_WORKSPACE_WRAPPER="$CLIPPY_DRIVER" CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" \
    MINILM_DIR="$ROOT/web/models/all-MiniLM-L6-v2" cargo test --workspace
else
  cargo clippy --workspace --all-targets --quiet -- -D warnings
  MINILM_DIR="$ROOT/web/models/all-MiniLM-L6-v2" cargo test --workspace
fi

step "build the page ($(elapsed))"
(
  source scripts/wasm-env.sh
  # The CPU worker's module compiles beside the page's (its own target folder); trunk's
  # post-build hook then waits on cargo's lock for it and only binds it.
  CPU_LOG=$(mktemp)
  bash scripts/build-cpu-worker.sh --compile-only >"$CPU_LOG" 2>&1 &
  CPU_PID=$!
  # If trunk fails, the CPU module's build stops too.
  trap 'pkill -P "$CPU_PID" 2>/dev/null || true; kill "$CPU_PID" 2>/dev/null || true' EXIT
  trunk build --release
  CPU_RC=0
  wait "$CPU_PID" || CPU_RC=$?
  cat "$CPU_LOG"; rm -f "$CPU_LOG"
  [ "$CPU_RC" -eq 0 ] || { echo "the CPU worker's module failed (exit $CPU_RC)"; exit "$CPU_RC"; }
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

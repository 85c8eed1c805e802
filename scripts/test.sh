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

# Two jobs side by side where one leaves a core idle (a large crate's front end, a link, a
# download): `background NAME CMD…` starts one with its output in a log, `collect NAME` waits for
# it, prints the log and fails as it failed.
declare -A JOB_PID JOB_LOG
background() {
  local name=$1; shift
  JOB_LOG[$name]=$(mktemp)
  "$@" >"${JOB_LOG[$name]}" 2>&1 &
  JOB_PID[$name]=$!
}
collect() {
  local rc=0
  wait "${JOB_PID[$1]}" || rc=$?
  cat "${JOB_LOG[$1]}"; rm -f "${JOB_LOG[$1]}"; unset "JOB_PID[$1]"
  if [ "$rc" -ne 0 ]; then echo "$1 failed (exit $rc)"; exit "$rc"; fi
}
# A failure leaves nothing running behind it (a subshell sets this trap again: traps are not
# inherited).
stop_jobs() {
  local pid
  for pid in "${JOB_PID[@]}"; do
    pkill -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
  done
}
trap stop_jobs EXIT

step "setup"
# The lints need only cargo, which a machine of this kind has: they compile (in their own target
# folder) beside the setup's installs and downloads.
if command -v cargo >/dev/null 2>&1; then
  background lints cargo clippy --workspace --all-targets --quiet --target-dir target/clippy -- -D warnings
fi
bash scripts/setup.sh

step "format ($(elapsed))"
cargo fmt --all -- --check
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

step "lints ($(elapsed))"
if [ -n "${JOB_PID[lints]:-}" ]; then
  collect lints
else
  cargo clippy --workspace --all-targets --quiet --target-dir target/clippy -- -D warnings
fi

step "build the page ($(elapsed))"
(
  trap stop_jobs EXIT
  source scripts/wasm-env.sh
  # The CPU worker's module compiles beside the page's (its own target folder); trunk's
  # post-build hook then waits on cargo's lock for it and only binds it.
  background cpu-module bash scripts/build-cpu-worker.sh --compile-only
  trunk build --release
  collect cpu-module
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

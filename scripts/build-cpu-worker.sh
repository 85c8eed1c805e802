#!/usr/bin/env bash
# Builds the CPU worker's wasm module into $1 (default dist/cpu; trunk's post-build hook passes
# its staging folder): the web crate without the page and WebGPU, with its thread pool
# (`--no-default-features --features threads`), compiled with atomics and a std rebuilt with
# them (-Zbuild-std on the stable toolchain through RUSTC_BOOTSTRAP; docs/toolchain.md), then
# wasm-bindgen (web target). Its own target folder keeps the page's build untouched.
# `--compile-only`: the cargo build alone, no output folder (scripts/test.sh runs it beside the
# page's build; trunk's hook then finds it compiled, after waiting on cargo's lock if need be).
set -euo pipefail
cd "$(dirname "$0")/.."
COMPILE_ONLY=0
if [ "${1:-}" = "--compile-only" ]; then COMPILE_ONLY=1; shift; fi
OUT="${1:-dist/cpu}"
source scripts/wasm-env.sh
export RUSTC_BOOTSTRAP=1
export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
# .cargo/config.toml's rustflags for wasm32 (RUSTFLAGS replaces them), with atomics.
export RUSTFLAGS='--cfg getrandom_backend="wasm_js" -C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals'
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/cpu-worker"
# The link of the module itself: a shared, imported memory of up to wasm32's 4 GiB (a
# distilroberta-sized NTK can need more than 1 GiB) and the thread-local storage exports that
# wasm-bindgen's thread support needs (rustc 1.95 does not add them for wasm32-unknown-unknown).
LINK=()
for arg in --shared-memory --import-memory --max-memory=4294967296 \
  --export=__wasm_init_tls --export=__tls_size --export=__tls_align --export=__tls_base; do
  LINK+=(-C "link-arg=$arg")
done
cargo rustc --release --target wasm32-unknown-unknown --lib -p ntk-lens-web \
  --no-default-features --features threads --target-dir "$TARGET_DIR" -- "${LINK[@]}"
[ "$COMPILE_ONLY" = 1 ] && exit 0
mkdir -p "$OUT"
wasm-bindgen --target web --no-typescript --out-dir "$OUT" --out-name ntk-lens-cpu \
  "$TARGET_DIR/wasm32-unknown-unknown/release/ntk_lens_web.wasm"

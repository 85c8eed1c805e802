# Sourced before any wasm build, trunk run or wasm test. With rustup's wasm32 target nothing is
# needed beyond .cargo/config.toml; on the Debian route it puts Debian's cargo/rustc/rustdoc first
# on PATH and turns on build-std (docs/toolchain.md).
if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  export NTK_LENS_WASM_ROUTE=rustup
else
  export NTK_LENS_WASM_ROUTE=debian
  _shim="$(pwd)/.wasm-toolchain/bin"
  mkdir -p "$_shim"
  for _t in cargo rustc rustdoc; do ln -sf "/usr/bin/$_t" "$_shim/$_t"; done
  export PATH="$_shim:$PATH"
  export RUSTC_BOOTSTRAP=1
  export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/lib/llvm-22/bin/wasm-ld
  # Debian's rustc cannot reuse artifacts of rustup's: keep them apart.
  export CARGO_TARGET_DIR="$(pwd)/target/debian"
  unset _shim _t
fi

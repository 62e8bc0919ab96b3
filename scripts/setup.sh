# Installs what building the page needs, from the package registries only, when it is missing:
# the wasm target, wasm-bindgen-cli of the exact version in Cargo.lock, Trunk, and the node
# packages of the browser tests and benchmarks (playwright-core, TensorFlow.js, the MNIST
# reader, axe-core and Lighthouse). wasm-opt is off (it grew the gzipped modules), so binaryen is not installed.
# `--browser` also installs Debian's
# Chromium for the tests. Sourced by serve.sh and test.sh; safe to run again.
set -euo pipefail

TRUNK_VERSION=0.21.14
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

if ! command -v npm >/dev/null 2>&1; then
  say "installing Debian's nodejs and npm (for the browser tests)"
  apt_install nodejs npm
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# Trunk refuses a wasm-bindgen whose version differs from the crate's, and may not download one.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' "$ROOT/Cargo.lock")"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 minutes)"
  # Not --locked: its lock file names a webpki-roots release the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (about 9 minutes)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# Trunk runs cargo offline (Trunk.toml), so every crate in Cargo.lock must be on disk first: on a
# fresh machine `trunk serve` otherwise stops at the first crate it would have to download.
# (Offline first: where every crate is already on disk, no registry is asked.)
(cd "$ROOT" && { cargo fetch --locked --offline --quiet 2>/dev/null || cargo fetch --locked --quiet; })

missing_package=0
for package in playwright-core @tensorflow/tfjs axe-core lighthouse chrome-launcher; do
  [ -d "$ROOT/node_modules/$package" ] || missing_package=1
done
if [ "$missing_package" = 1 ]; then
  say "installing node packages (playwright-core, TensorFlow.js, axe-core, Lighthouse)"
  (cd "$ROOT" && npm ci --no-audit --no-fund)
fi

if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  say "installing Debian's chromium"
  apt_install chromium
fi

#!/usr/bin/env bash
# Builds the page and serves it at http://127.0.0.1:8080/, rebuilding on every change.
# Extra arguments go to `trunk serve` (for example --port 9000).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
say "building and serving the page (a cold build takes about 12 minutes)"
exec trunk serve "$@"

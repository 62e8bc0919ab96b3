#!/usr/bin/env bash
# Runs every test: formatting and lints, the native unit and integration tests, the page's
# build, the browser tests in headless Chromium (CPU fallback and WebGPU), then prints the
# benchmarks. Installs what is missing first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" --browser
cd "$ROOT"

started=$SECONDS
stage() { say "$1 (at $((SECONDS - started)) s)"; }

stage "cargo fmt --check"
cargo fmt --all -- --check

stage "cargo clippy (native, then the page's wasm)"
cargo clippy --all-targets --locked -- -D warnings
# The page's module (no burn) and its worker (burn), as Trunk builds them.
cargo clippy --target wasm32-unknown-unknown --no-default-features --features page --lib --locked -- -D warnings
cargo clippy --target wasm32-unknown-unknown --no-default-features --features worker,webgpu --bin worker --locked -- -D warnings
cargo clippy --target wasm32-unknown-unknown --no-default-features --features worker --bin worker-cpu --locked -- -D warnings

stage "cargo test --release (native; the model tests train real networks)"
cargo test --release --locked

stage "trunk build (the page)"
trunk build --locked

stage "browser tests (headless Chromium)"
node --test --test-concurrency=1 tests/browser/page.test.mjs tests/browser/training.test.mjs tests/browser/digits.test.mjs tests/browser/embed.test.mjs tests/browser/robust.test.mjs tests/browser/classroom.test.mjs tests/browser/recovery.test.mjs tests/browser/soak.test.mjs tests/browser/webgpu.test.mjs

stage "benchmarks"
node tests/browser/bench.mjs
# Lighthouse's accessibility score (fails below 100).
node tests/browser/lighthouse.mjs
# `cargo test --release` built target/release/diffusion for the CLI tests; a separate
# `cargo build --release` would recompile burn with the non-test feature set.
bench_dir="$(mktemp -d)"
echo "native training with the defaults (the page's network, batch and steps; burn flex on one core):"
target/release/diffusion swissroll train --out "$bench_dir/model"
rm -rf "$bench_dir"
echo "the digit U-Net natively on one thread (scripts/bench-native.sh adds PyTorch's side where it is installed):"
target/release/examples/unet_grid

say "all tests passed in $((SECONDS - started)) s"

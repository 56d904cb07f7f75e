#!/usr/bin/env bash
# The README's test command: makes sure the WASM target the plugin tests need is
# installed (rustup does not install rust-toolchain.toml targets by itself), then runs
# every test of the workspace. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx 'wasm32-wasip2'; then
    echo "installing the wasm32-wasip2 target (needed to build the test plugins)" >&2
    rustup target add wasm32-wasip2 || {
        echo "error: could not install wasm32-wasip2; run 'rustup target add wasm32-wasip2' and retry" >&2
        exit 1
    }
fi

cargo test --workspace "$@"

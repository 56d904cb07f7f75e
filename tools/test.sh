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

# The EBR report's browser test renders the pack in headless Chromium. Install it when it
# is missing and this machine can (root with apt-get); otherwise that test says it skips.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
    && ! command -v google-chrome >/dev/null 2>&1 && [ -z "${KAM_CHROMIUM:-}" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing chromium (for the EBR report's browser test)" >&2
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
            || echo "warning: could not install chromium; the browser test will skip" >&2
    else
        echo "note: no chromium and no root apt-get; the EBR browser test will skip (set KAM_CHROMIUM)" >&2
    fi
fi

cargo test --workspace "$@"

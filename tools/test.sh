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

# The Python and JavaScript guests (plugins/volume-rebate-py, plugins/volume-rebate-js) are
# built by the tests with their pinned tools, installed here into git-ignored directories:
# componentize-py into the venv plugins/target/py, componentize-js by `npm ci` from the
# committed package-lock.json. Where a tool cannot be installed (no python3 or npm, no
# registry), the tests that need it print "skipping: …" and pass.
py_venv=plugins/target/py
py_req=plugins/volume-rebate-py/requirements.txt
if [ ! -x "$py_venv/bin/componentize-py" ] || [ "$py_req" -nt "$py_venv/bin/componentize-py" ]; then
    if command -v python3 >/dev/null 2>&1; then
        echo "installing componentize-py (pinned in $py_req) into $py_venv" >&2
        { python3 -m venv "$py_venv" && "$py_venv/bin/pip" install -q -r "$py_req" \
            && touch "$py_venv/bin/componentize-py"; } >&2 \
            || echo "warning: could not install componentize-py; the Python guest's tests will skip" >&2
    else
        echo "note: no python3; the Python guest's tests will skip" >&2
    fi
fi
js_dir=plugins/volume-rebate-js
if [ ! -x "$js_dir/node_modules/.bin/componentize-js" ] \
    || [ "$js_dir/package-lock.json" -nt "$js_dir/node_modules/.package-lock.json" ]; then
    if command -v npm >/dev/null 2>&1; then
        echo "installing componentize-js (pinned in $js_dir/package-lock.json)" >&2
        npm ci --prefix "$js_dir" --no-audit --no-fund >&2 \
            || echo "warning: could not install componentize-js; the JavaScript guest's tests will skip" >&2
    else
        echo "note: no npm; the JavaScript guest's tests will skip" >&2
    fi
fi

cargo test --workspace "$@"

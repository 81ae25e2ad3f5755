#!/usr/bin/env bash
# Install flowenv (and, with "test", what the tests need) into ./.venv. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
extras=""
if [ "${1:-}" = "test" ]; then
    extras="[test]"
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -e ".${extras}" --config-settings editable_mode=compat
if [ "${1:-}" = "test" ] && [ -f package.json ]; then
    # azurite (Azure Blob emulator) for the store tests, from the npm registry.
    if command -v npm >/dev/null 2>&1; then
        npm install --no-audit --no-fund --silent >/dev/null
    else
        echo "npm not found: the Azure store tests will be skipped" >&2
    fi
fi

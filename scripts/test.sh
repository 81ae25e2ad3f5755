#!/usr/bin/env bash
# Install flowenv with its test dependencies and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test
# Metaflow needs a user name and never accepts "root" (CI runs as root, maybe without USER).
if [ -z "${METAFLOW_USER:-}" ] && { [ -z "${USER:-}" ] || [ "$USER" = root ]; }; then
    export METAFLOW_USER=flowenv-tests
fi
.venv/bin/python -m pytest -p no:cacheprovider -n 2 "$@"

#!/usr/bin/env bash
# Quick start: install flowenv, name an environment from a requirements.txt, run a flow on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# Metaflow needs a user name and never accepts "root" (CI runs as root, maybe without USER).
if [ -z "${METAFLOW_USER:-}" ] && { [ -z "${USER:-}" ] || [ "$USER" = root ]; }; then
    export METAFLOW_USER=flowenv-demo
fi
cd examples/quickstart
../../.venv/bin/metaflow environment resolve -r requirements.txt --alias demo/quickstart:v1
../../.venv/bin/python quickstart_flow.py --environment=conda run

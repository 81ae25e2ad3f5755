"""The PyPI half of creation: a venv and wheels installed by uv, offline."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Sequence

from ..errors import CreateError
from ..resolve.pypi import uv_binary, uv_env


def _run(cmd, what: str):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=uv_env())
    if proc.returncode != 0:
        raise CreateError("%s failed:\n%s" % (what, proc.stderr.strip()))


def make_venv(interpreter: str, prefix: Path) -> None:
    _run([uv_binary(), "venv", "--quiet", "--python", interpreter, "--no-python-downloads",
          "--no-config", prefix], "Creating a virtualenv at %s" % prefix)


def install_wheels(python: Path, wheels: Sequence[Path]) -> None:
    """Install exactly these files: no index, no dependency resolution."""
    # --break-system-packages: a conda prefix is no venv, and its python may carry an
    # EXTERNALLY-MANAGED marker; the prefix is flowenv's own, so uv may write into it.
    options = ["--no-deps", "--offline", "--no-index", "--no-config", "--break-system-packages"]
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        # Steps will not cache bytecode either: compile once here, not at every import.
        options.append("--compile-bytecode")
    _run([uv_binary(), "pip", "install", "--quiet", "--python", python, *options, *wheels],
         "Installing %d wheels into %s" % (len(wheels), python.parent.parent))

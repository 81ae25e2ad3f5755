"""The PyPI half of creation: a venv and wheels installed by uv, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import CreateError
from ..uv_runner import UvRunner


def _run(uv: UvRunner, args, what: str):
    proc = uv.run(args)
    if proc.returncode != 0:
        raise CreateError("%s failed:\n%s" % (what, proc.stderr.strip()))


def make_venv(uv: UvRunner, interpreter: str, prefix: Path) -> None:
    _run(uv, ["venv", "--quiet", "--allow-existing", "--python", interpreter, "--no-python-downloads",
              "--no-config", prefix], "Creating a virtualenv at %s" % prefix)


def install_wheels(uv: UvRunner, python: Path, wheels: Sequence[Path], cache_dir: Path) -> None:
    """Install exactly these files: no index, no dependency resolution. uv unpacks each
    wheel once into cache_dir, on the same disk as the environments, and hard-links
    from there: a package shared by several environments is written once."""
    # --break-system-packages: a conda prefix is no venv, and its python may carry an
    # EXTERNALLY-MANAGED marker; the prefix is flowenv's own, so uv may write into it.
    options = ["--no-deps", "--offline", "--no-index", "--no-config", "--break-system-packages",
               "--cache-dir", cache_dir]
    _run(uv, ["pip", "install", "--quiet", "--python", python, *options, *wheels],
         "Installing %d wheels into %s" % (len(wheels), python.parent.parent))

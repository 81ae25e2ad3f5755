"""Writes the start-up hook (site_hook.py) into an environment, compiled for the
environment's own Python: it runs at every interpreter start there, so it must not be
compiled again each time (machines that set PYTHONDONTWRITEBYTECODE never cache it)."""

from __future__ import annotations

import importlib.util
import py_compile
import subprocess
import sys
from pathlib import Path

from ..atomic import write_text
from ..errors import CreateError

MODULE = "_flowenv_site_hook"
# zz_ sorts it after every other .pth file of the environment.
PTH = "zz_flowenv_site_append.pth"
SOURCE = Path(__file__).with_name("site_hook.py")
# Like the environment's own bytecode: valid wherever the source is the same.
CHECKED = py_compile.PycInvalidationMode.CHECKED_HASH


def install_site_hook(prefix: Path, python: Path, python_minor: str) -> None:
    """The hook module and the .pth that imports it, in each site-packages of prefix."""
    source = SOURCE.read_text()
    for site_packages in Path(prefix).glob("lib/python*/site-packages"):
        module = site_packages / (MODULE + ".py")
        write_text(module, source)
        write_text(site_packages / PTH, "import %s\n" % MODULE)
        _compile(module, python, python_minor)


def _compile(module: Path, python: Path, python_minor: str) -> None:
    if python_minor == "%d.%d" % sys.version_info[:2] and sys.implementation.name == "cpython":
        py_compile.compile(str(module), cfile=importlib.util.cache_from_source(str(module)),
                           doraise=True, invalidation_mode=CHECKED)
        return
    proc = subprocess.run([str(python), "-I", "-c", "import py_compile, sys; "
                           "py_compile.compile(sys.argv[1], doraise=True, invalidation_mode="
                           "py_compile.PycInvalidationMode.CHECKED_HASH)", str(module)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise CreateError("compiling %s with the environment's Python failed:\n%s"
                          % (module, proc.stderr.strip()))

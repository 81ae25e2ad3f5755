"""Mixed environments: PyPI packages resolved on top of a conda solution. The Python
packages conda installs are constraints for uv, and tiny stand-in wheels let a PyPI
package that depends on one resolve against it even if the index lacks it."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Dict

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


def _is_python_package(record) -> bool:
    if record.name.normalized == "python":
        return False
    if record.noarch is not None and record.noarch.python:
        return True
    return any(dep.split(" ", 1)[0] in ("python", "python_abi") for dep in record.depends)


def conda_python_packages(records) -> Dict[str, str]:
    """PyPI name -> version of the conda records that install a Python distribution
    (names taken to be the same on both sides, as they are for the great majority)."""
    out = {}
    for record in records:
        if not _is_python_package(record):
            continue
        try:
            version = str(Version(str(record.version)))
        except InvalidVersion:
            continue  # not a PEP 440 version: uv could not use it as a constraint
        out[canonicalize_name(record.name.normalized)] = version
    return out


def write_stand_in_wheels(folder: Path, installed: Dict[str, str]) -> None:
    """A metadata-only wheel per conda-installed Python package, for uv's find-links.
    They never enter the lock (resolve_pypi leaves `installed` names out)."""
    for name, version in installed.items():
        module = name.replace("-", "_")
        dist = "%s-%s" % (module, version)
        with zipfile.ZipFile(folder / ("%s-py3-none-any.whl" % dist), "w") as zf:
            zf.writestr("%s.dist-info/METADATA" % dist, "Metadata-Version: 2.1\nName: %s\n"
                        "Version: %s\n" % (name, version))
            zf.writestr("%s.dist-info/WHEEL" % dist, "Wheel-Version: 1.0\nGenerator: flowenv\n"
                        "Root-Is-Purelib: true\nTag: py3-none-any\n")
            zf.writestr("%s.dist-info/RECORD" % dist, "")

"""A Jupyter kernel that runs an environment's Python: the environment, extended with
ipykernel when it lacks it, and its kernelspec."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Mapping, Optional

from .atomic import write_text
from .errors import CreateError

KERNEL_PACKAGE = "ipykernel"


def with_kernel(envs, lock):
    """(lock, added): lock itself when it has ipykernel, else the environment that extends
    it with ipykernel (its pins kept), resolved and stored like any other."""
    from .spec import Spec

    if any(f.name == KERNEL_PACKAGE for f in lock.files):
        return lock, False
    spec = Spec(pypi=(KERNEL_PACKAGE,), base=lock.full_id,
                origin="a Jupyter kernel for environment %s" % lock.full_id)
    return envs.resolve(spec, lock.platform), True


def kernels_dir(environ: Mapping[str, str]) -> Path:
    data = environ.get("JUPYTER_DATA_DIR") or os.path.expanduser("~/.local/share/jupyter")
    return Path(data) / "kernels"


def install_kernel(prefix: Path, display_name: str, environ: Mapping[str, str],
                   variables: Optional[Mapping[str, str]] = None) -> Path:
    """Write a kernelspec for prefix's python (the env must contain ipykernel); variables
    are set for the kernel (a step's code on PYTHONPATH)."""
    python = Path(prefix) / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import ipykernel"], capture_output=True, text=True)
    if probe.returncode != 0:
        raise CreateError(
            "environment %s has no ipykernel, so Jupyter cannot run it" % display_name,
            hint="Add ipykernel to its requirements and resolve again.")
    name = "flowenv-" + re.sub(r"[^a-z0-9_.-]+", "-", display_name.lower()).strip("-")
    folder = kernels_dir(environ) / name
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "flowenv %s" % display_name, "language": "python",
            "metadata": {"flowenv": {"prefix": str(prefix)}}}
    if variables:
        spec["env"] = dict(variables)
    write_text(folder / "kernel.json", json.dumps(spec, indent=1))
    return folder

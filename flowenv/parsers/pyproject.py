"""pyproject.toml -> Spec: [project] dependencies and requires-python."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

from ..errors import SpecError
from ..spec import Spec, canonical_requirement
from .source import read_toml


def parse_pyproject(path, python: Optional[str] = None, environ: Mapping[str, str] = None) -> Spec:
    path = Path(path)
    data = read_toml(path, "pyproject.toml")
    project = data.get("project")
    if not isinstance(project, dict):
        raise SpecError("there is no [project] table with dependencies", file=str(path))
    deps = project.get("dependencies") or []
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise SpecError("[project] dependencies must be a list of requirement strings, "
                        "such as [\"requests>=2\"]", file=str(path))
    requires_python = project.get("requires-python")
    if requires_python is not None and not isinstance(requires_python, str):
        raise SpecError("[project] requires-python must be a string such as \">=3.10\"",
                        file=str(path))
    try:
        reqs = [canonical_requirement(d, "[project] dependencies") for d in deps]
        return Spec(python=python or requires_python, pypi=tuple(reqs), origin=str(path))
    except SpecError as exc:
        raise exc.within(file=str(path)) from None

"""pyproject.toml -> Spec: [project] dependencies and requires-python."""

from __future__ import annotations

from pathlib import Path

from ..errors import SpecError
from ..spec import Spec, canonical_requirement

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib


def parse_pyproject(path, python=None) -> Spec:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise SpecError("Cannot read %s: %s" % (path, exc.strerror)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise SpecError("%s is not valid TOML: %s" % (path, exc)) from exc
    project = data.get("project")
    if not isinstance(project, dict):
        raise SpecError("%s has no [project] table with dependencies" % path)
    deps = project.get("dependencies") or []
    reqs = [canonical_requirement(d, "%s, [project] dependencies" % path) for d in deps]
    return Spec(python=python or project.get("requires-python"), pypi=tuple(reqs), origin=str(path))

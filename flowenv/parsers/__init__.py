"""Requirement files -> Spec. One entry point, `parse_file`, picks the parser by the
file's name (or the kind the caller names): requirements.txt and its kin, conda's
environment.yml, and pyproject.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping, Optional

from ..errors import SpecError
from ..spec import Spec

KINDS = ("requirements", "environment", "pyproject")

__all__ = ["parse_file", "kind_of", "KINDS"]


def kind_of(path) -> str:
    name = Path(path).name.lower()
    if name.endswith((".yml", ".yaml")):
        return "environment"
    if name == "pyproject.toml":
        return "pyproject"
    return "requirements"


def parse_file(path, kind: Optional[str] = None, python: Optional[str] = None,
               environ: Mapping[str, str] = None, warn: Callable[[str], None] = None) -> Spec:
    """The Spec a file asks for. `environ` expands ${VAR}; `python` overrides the
    file's own Python constraint; `warn` reports what the file holds that flowenv
    ignores (default: a Python warning)."""
    kind = kind or kind_of(path)
    if kind == "requirements":
        from .requirements_txt import parse_requirements_file as parse
    elif kind == "environment":
        from .environment_yml import parse_environment_file as parse
    elif kind == "pyproject":
        from .pyproject import parse_pyproject as parse
    else:
        raise SpecError("unknown kind of requirements file %r (expected %s)"
                        % (kind, ", ".join(KINDS)))
    return parse(path, python=python, environ=environ or {}, warn=warn)

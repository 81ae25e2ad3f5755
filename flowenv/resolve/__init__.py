"""Resolvers: PyPI through uv, conda through py-rattler, mixed = conda first, PyPI on top."""

from __future__ import annotations

from typing import Optional

from ..lock import Lock
from ..platforms import Target
from ..spec import Spec, requirement_name
from .pypi import resolve_pypi

__all__ = ["solve"]


def effective_identity(spec: Spec, base: Optional[Lock]) -> dict:
    """The spec as recorded in the lock: with a base, its requirements are folded in, so
    that extending an extension keeps every requirement."""
    identity = spec.identity()
    if base is not None:
        own = {requirement_name(r) for r in spec.pypi}
        identity["pypi"] = sorted(list(spec.pypi) + [r for r in base.spec.get("pypi", [])
                                                     if requirement_name(r) not in own])
        identity["python"] = base.spec.get("python")
    return identity


def solve(spec: Spec, platform: str, target: Optional[Target], base: Optional[Lock],
          build_sdist=None) -> Lock:
    if spec.conda or (base is not None and base.by_kind("conda")):
        from .conda import solve_conda

        return solve_conda(spec, platform, base)
    files = resolve_pypi(spec, target, base, build_sdist=build_sdist)
    return Lock(spec.req_id, platform, target.python_version, tuple(files),
                effective_identity(spec, base))

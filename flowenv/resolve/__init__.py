"""Resolvers: PyPI through uv, conda through py-rattler, mixed = conda first, PyPI on top."""

from __future__ import annotations

from typing import Optional

from ..cache import LocalCache
from ..lock import Lock
from ..platforms import Target
from ..spec import Spec
from ..uv_runner import UvRunner
from .identity import recorded_identity
from .pypi import resolve_pypi

__all__ = ["solve"]


def solve(spec: Spec, platform: str, target: Optional[Target], base: Optional[Lock],
          uv: UvRunner, cache: LocalCache, build_sdist=None) -> Lock:
    if spec.conda or (base is not None and base.by_kind("conda")):
        from .conda import solve_conda

        return solve_conda(spec, platform, base, uv, cache)
    files = resolve_pypi(spec, target, uv, base, build_sdist=build_sdist)
    return Lock(spec.req_id, platform, target.python_version, tuple(files),
                recorded_identity(spec, base))

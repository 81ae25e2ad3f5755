"""Resolvers: PyPI through uv, conda through py-rattler, mixed = conda first, PyPI on top."""

from __future__ import annotations

from typing import Optional

from ..cache import LocalCache
from ..debuglog import SILENT, DebugLog
from ..lock import Lock
from ..platforms import Target
from ..spec import Spec
from ..uv_runner import UvRunner
from .identity import recorded_identity
from .pypi import PypiTools, resolve_pypi

__all__ = ["solve", "PypiTools"]


def solve(spec: Spec, platform: str, target: Optional[Target], base: Optional[Lock],
          uv: UvRunner, cache: LocalCache, pypi: PypiTools = None, log: DebugLog = SILENT,
          ceilings=None) -> Lock:
    """The lock of spec for platform. `pypi` carries what PyPI resolution needs besides
    uv: how to reach the indexes, how to build wheels, the base's built wheels; `log`
    shows the rattler calls (uv's show through the runner). `ceilings`: (kind, name) ->
    the highest version allowed (co-resolution, together.py)."""
    pypi = pypi or PypiTools()
    if spec.conda or (base is not None and base.by_kind("conda")):
        from .conda import solve_conda

        return solve_conda(spec, platform, base, uv, cache, pypi, log, ceilings)
    files = resolve_pypi(spec, target, uv, base, builder=pypi.builder_for(target),
                         access=pypi.access, base_wheels=pypi.base_wheels, ceilings=ceilings)
    return Lock(spec.req_id, platform, target.python_version, tuple(files),
                recorded_identity(spec, base))

"""What a lock records of the request it answers: the spec's identity, with a base
environment's requirements folded in, so that extending an extension keeps them all."""

from __future__ import annotations

from typing import Optional, Sequence

from ..lock import Lock
from ..redact import redact_url
from ..spec import Spec, conda_name, requirement_name


def recorded_identity(spec: Spec, base: Optional[Lock], channels: Sequence[str] = None,
                      python: Optional[str] = None) -> dict:
    identity = spec.identity()
    if base is not None:
        own = {requirement_name(r) for r in spec.pypi}
        identity["pypi"] = sorted(list(spec.pypi) + [r for r in base.spec.get("pypi", [])
                                                     if requirement_name(r) not in own])
        own_conda = {conda_name(r) for r in spec.conda}
        identity["conda"] = sorted(list(spec.conda) + [r for r in base.spec.get("conda", [])
                                                       if conda_name(r) not in own_conda])
        identity["python"] = base.spec.get("python")
    if channels is not None:
        identity["channels"] = [redact_url(c) for c in channels]
    if identity.get("python") is None:
        identity["python"] = python
    return identity

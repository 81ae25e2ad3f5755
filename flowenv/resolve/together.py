"""Co-resolution: one lock per platform, with one version of each package they share.

Each platform is resolved on its own first. A package that two platforms pin to
different versions (its newest release lacks files for one of them, say) is then held
back, on every platform, to the lowest of those versions (a ceiling), and all are
resolved again, until they agree. Packages only some platforms have (a dependency behind
a marker, a platform's own library) are left where they are, as are packages the request
itself pins differently per platform with markers."""

from __future__ import annotations

from typing import Callable, Dict, Iterable, Mapping, Sequence, Tuple

from packaging.version import InvalidVersion, Version

from ..errors import ResolveError
from ..lock import Lock

# (kind, name) -> the highest version allowed: "wheel" entries become uv constraints
# (name<=version), "conda" entries rattler constraints (name <=version).
Ceilings = Mapping[Tuple[str, str], str]

MAX_ROUNDS = 12


def _version_key(version: str):
    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)


def differences(locks: Mapping[str, Lock], exempt: Iterable[str] = ()
                ) -> Dict[Tuple[str, str], Dict[str, str]]:
    """(kind, name) -> {platform: version} of the packages that platforms pin differently."""
    exempt = set(exempt)
    seen: Dict[Tuple[str, str], Dict[str, str]] = {}
    for platform, lock in locks.items():
        for file in lock.files:
            if file.name not in exempt:
                seen.setdefault((file.kind, file.name), {})[platform] = file.version
    return {key: by_platform for key, by_platform in seen.items()
            if len(by_platform) > 1 and len(set(by_platform.values())) > 1}


def _shown(key, by_platform) -> str:
    return "%s (%s)" % (key[1], ", ".join("%s: %s" % item for item in sorted(by_platform.items())))


def solve_together(platforms: Sequence[str], solve: Callable[[str, Ceilings], Lock],
                   exempt: Iterable[str] = ()) -> Dict[str, Lock]:
    """platform -> Lock, every shared package at one version. solve(platform, ceilings)
    resolves one platform; a ResolveError under ceilings means no common set exists,
    reported with the packages that differed."""
    ceilings: Dict[Tuple[str, str], str] = {}
    held: Dict[Tuple[str, str], Dict[str, str]] = {}  # why each ceiling was set
    for _ in range(MAX_ROUNDS):
        locks = {}
        for platform in platforms:
            try:
                locks[platform] = solve(platform, dict(ceilings))
            except ResolveError as exc:
                if not ceilings:
                    raise
                raise ResolveError(
                    "no set of versions resolves for every platform: %s differ%s, and held "
                    "back to %s, %s cannot be resolved:\n%s" % (
                        "; ".join(_shown(k, v) for k, v in sorted(held.items())),
                        "s" if len(held) == 1 else "",
                        ", ".join("%s<=%s" % (k[1], v) for k, v in sorted(ceilings.items())),
                        platform, exc),
                    package=sorted(held)[0][1],
                    hint="Resolve each platform on its own (--per-platform); their versions "
                         "may then differ.") from exc
        differ = differences(locks, exempt)
        if not differ:
            return locks
        changed = False
        for key, by_platform in differ.items():
            lowest = min(by_platform.values(), key=_version_key)
            if key in ceilings and _version_key(ceilings[key]) <= _version_key(lowest):
                continue
            ceilings[key] = lowest
            held.setdefault(key, dict(by_platform))
            changed = True
        if not changed:
            break
    raise ResolveError("the platforms %s do not settle on common versions (still differing: "
                       "%s)" % (", ".join(platforms), "; ".join(
                           _shown(k, v) for k, v in sorted(differences(locks, exempt).items()))),
                       hint="Resolve each platform on its own (--per-platform).")

"""Which of a package's wheels a target installs: the best-ranked compatible one."""

from __future__ import annotations

from typing import Dict, List

from ..errors import ResolveError
from ..lock import LockedFile
from ..platforms import Target, wheel_tag_priority
from ..redact import redact_url


def tag_priority(target: Target) -> Dict[str, int]:
    return {tag: i for i, tag in enumerate(wheel_tag_priority(target))}


def wheel_rank(filename: str, priority: Dict[str, int]) -> int:
    """The rank of the wheel's best tag for the target; len(priority) when none fits."""
    stem = filename[: -len(".whl")]
    try:
        pythons, abis, platforms = stem.split("-")[-3:]
    except ValueError:
        return len(priority)
    ranks = [
        priority.get("%s-%s-%s" % (py, abi, plat), len(priority))
        for py in pythons.split(".")
        for abi in abis.split(".")
        for plat in platforms.split(".")
    ]
    return min(ranks)


def pick_wheel(package: dict, name: str, target: Target, priority: Dict[str, int]) -> LockedFile:
    """The wheel of a pylock package entry to install on target; an error when none fits."""
    version = str(package.get("version"))
    wheels: List[dict] = package.get("wheels") or []
    if not wheels:
        raise ResolveError(
            "%s %s has no wheel for %s, Python %s (only a source it would have to be built "
            "from), and this resolution builds none"
            % (name, version, target.platform, target.python_version),
            package=name,
            hint="Pin a version that ships wheels, or resolve on a %s machine." % target.platform)
    for wheel in wheels:
        wheel["filename"] = wheel.get("name") or wheel["url"].rsplit("/", 1)[-1].split("#")[0]
    fitting = [w for w in wheels if wheel_rank(w["filename"], priority) < len(priority)]
    if not fitting:
        raise ResolveError(
            "none of the %d wheels of %s %s installs on %s, Python %s (%s)"
            % (len(wheels), name, version, target.platform, target.python_version,
               ", ".join(sorted(w["filename"] for w in wheels))[:500]),
            package=name,
            hint="Pin a version with a wheel for this platform and Python.")
    best = min(fitting, key=lambda w: wheel_rank(w["filename"], priority))
    sha = (best.get("hashes") or {}).get("sha256")
    if not sha:
        raise ResolveError("the index gave no sha256 for %s" % best["filename"], package=name,
                           hint="flowenv verifies every file: use an index that publishes "
                                "sha256 digests.")
    return LockedFile(name=name, version=version, kind="wheel", filename=best["filename"],
                      url=redact_url(best["url"]), sha256=sha, size=best.get("size"))

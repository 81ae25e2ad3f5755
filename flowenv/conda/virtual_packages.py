"""Virtual packages (__glibc, __cuda, __osx, ...) a conda solve assumes for its target:
detected on this machine's platform, documented defaults for another, and the spec's
own entries on top (from @sys_packages or the settings)."""

from __future__ import annotations

from typing import Dict, Sequence, Tuple

from ..errors import SpecError
from ..platforms import DEFAULT_LINUX_GLIBC, DEFAULT_MACOS, host_platform
from .loader import load_rattler

# For a platform other than this machine's (documented in the README): the oldest
# systems conda-forge still targets by default.
_ARCHSPEC = {"linux-64": "x86_64", "linux-aarch64": "aarch64", "osx-64": "x86_64",
             "osx-arm64": "arm64"}
DEFAULT_LINUX_KERNEL = "4.18"


def _foreign(platform: str) -> Dict[str, Tuple[str, str]]:
    found = {"__unix": ("0", "0"), "__archspec": ("1", _ARCHSPEC[platform])}
    if platform.startswith("linux"):
        found["__glibc"] = ("%d.%d" % DEFAULT_LINUX_GLIBC, "0")
        found["__linux"] = (DEFAULT_LINUX_KERNEL, "0")
    else:
        found["__osx"] = ("%d.%d" % DEFAULT_MACOS[platform], "0")
    return found


def _detected() -> Dict[str, Tuple[str, str]]:
    rattler = load_rattler()
    found = {}
    for vp in rattler.VirtualPackage.detect():
        generic = vp.into_generic()
        found[generic.name.normalized] = (str(generic.version), str(generic.build_string))
    return found


def virtual_packages(platform: str, overrides: Sequence[str] = ()) -> list:
    """GenericVirtualPackages for the target. overrides: '__name=version=build' entries
    that replace one, or '__name=' that removes it."""
    rattler = load_rattler()
    found = _detected() if platform == host_platform() else _foreign(platform)
    for entry in overrides:
        name, version, *build = entry.split("=")
        if version:
            found[name] = (version, build[0] if build else "0")
        else:
            found.pop(name, None)
    out = []
    for name, (version, build) in sorted(found.items()):
        try:
            out.append(rattler.GenericVirtualPackage(
                rattler.PackageName(name), rattler.Version(version), rattler.BuildString(build)))
        except Exception as exc:
            raise SpecError("virtual package %s=%s=%s is not valid (%s)"
                            % (name, version, build, exc),
                            hint="Check @sys_packages or FLOWENV_CONDA_VIRTUAL_PACKAGES.") from exc
    return out

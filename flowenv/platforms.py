"""Target platforms by their conda names, and what each means to uv and to wheel tags."""

from __future__ import annotations

import os
import platform as _platform
import sys
from dataclasses import dataclass
from typing import List, Optional, Tuple

from .errors import SpecError

# Foreign Linux targets assume this glibc, documented in the README.
DEFAULT_LINUX_GLIBC = (2, 28)
DEFAULT_MACOS = {"osx-64": (10, 13), "osx-arm64": (11, 0)}

_ARCH = {"linux-64": "x86_64", "linux-aarch64": "aarch64", "osx-64": "x86_64", "osx-arm64": "arm64"}
SUPPORTED = tuple(_ARCH)


@dataclass(frozen=True)
class Target:
    """A platform plus the exact Python version the environment is built for."""

    platform: str
    python_version: str  # "3.11.7"
    # The glibc of the target's machines (Linux; a requested __glibc): caps the manylinux
    # level of the wheels chosen. None: this machine's own on its platform, else the default.
    glibc: Optional[Tuple[int, int]] = None

    @property
    def python_minor(self) -> str:
        return ".".join(self.python_version.split(".")[:2])

    @property
    def python_nodot(self) -> str:
        return self.python_minor.replace(".", "")


def check_platform(name: str) -> str:
    if name not in _ARCH:
        raise SpecError(
            "Unknown platform %r: use one of %s" % (name, ", ".join(SUPPORTED))
        )
    return name


def host_platform() -> str:
    machine = _platform.machine().lower()
    if sys.platform.startswith("linux"):
        return "linux-aarch64" if machine in ("aarch64", "arm64") else "linux-64"
    if sys.platform == "darwin":
        return "osx-arm64" if machine == "arm64" else "osx-64"
    raise SpecError("flowenv supports Linux and macOS hosts, not %s" % sys.platform)


def host_glibc() -> Optional[Tuple[int, int]]:
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):
        return None
    if not text.startswith("glibc "):
        return None
    major, minor = text.split()[1].split(".")[:2]
    return int(major), int(minor)


def glibc_for(platform_name: str, requested: Optional[Tuple[int, int]] = None) -> Tuple[int, int]:
    if requested is not None:
        return requested
    if platform_name == host_platform():
        return host_glibc() or DEFAULT_LINUX_GLIBC
    return DEFAULT_LINUX_GLIBC


def parse_glibc(version: str) -> Tuple[int, int]:
    """'2.27' (a __glibc virtual package's version) -> (2, 27); '3' -> (3, 0)."""
    try:
        numbers = [int(x) for x in version.split(".")[:2]]
    except ValueError:
        raise SpecError("__glibc=%s is not a glibc version: write major.minor, such as 2.27"
                        % version) from None
    return numbers[0], (numbers[1] if len(numbers) > 1 else 0)


def uv_python_platform(platform_name: str, glibc: Optional[Tuple[int, int]] = None) -> str:
    """The --python-platform triple uv understands for this target."""
    arch = _ARCH[check_platform(platform_name)]
    if platform_name.startswith("linux"):
        # uv knows manylinux levels up to a point; the foreign default is safe everywhere.
        major, minor = glibc_for(platform_name, glibc)
        minor = min(minor, 40)
        return "%s-manylinux_%d_%d" % (arch, major, minor)
    return "%s-apple-darwin" % ("aarch64" if arch == "arm64" else arch)


def wheel_platform_tags(platform_name: str, glibc: Optional[Tuple[int, int]] = None) -> List[str]:
    """Platform tags in preference order, most specific first."""
    arch = _ARCH[check_platform(platform_name)]
    if platform_name.startswith("linux"):
        major, top = glibc_for(platform_name, glibc)
        tags = ["manylinux_%d_%d_%s" % (major, m, arch) for m in range(top, 4, -1)]
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        for minor, name in legacy.items():
            if minor <= top:
                tags.insert(tags.index("manylinux_2_%d_%s" % (minor, arch)) + 1, "%s_%s" % (name, arch))
        return tags + ["linux_%s" % arch]
    from packaging.tags import mac_platforms

    return list(mac_platforms(DEFAULT_MACOS[platform_name], arch))


def wheel_tag_priority(target: Target) -> List[str]:
    """Every 'py-abi-plat' tag the target accepts, best first."""
    from packaging.tags import compatible_tags, cpython_tags

    version = tuple(int(x) for x in target.python_minor.split("."))
    platforms = wheel_platform_tags(target.platform, target.glibc)
    tags = list(cpython_tags(version, platforms=platforms)) + list(
        compatible_tags(version, "cp" + target.python_nodot, platforms)
    )
    return [str(t) for t in tags]


def marker_environment(target: Target) -> dict:
    """The PEP 508 marker values of a CPython on target (what uv's --python-platform
    assumes): used to take a universal lock's packages for one platform."""
    arch = _ARCH[check_platform(target.platform)]
    linux = target.platform.startswith("linux")
    return {
        "os_name": "posix",
        "sys_platform": "linux" if linux else "darwin",
        "platform_system": "Linux" if linux else "Darwin",
        "platform_machine": arch,
        "platform_release": "",
        "platform_version": "",
        "python_version": target.python_minor,
        "python_full_version": target.python_version,
        "implementation_name": "cpython",
        "implementation_version": target.python_version,
        "platform_python_implementation": "CPython",
    }

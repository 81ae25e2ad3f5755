"""Conda match specs and package file names."""

from __future__ import annotations

from typing import Optional, Tuple

from ..errors import SpecError
from ..spec import python_specifier, split_channel
from .channels import channel_url
from .loader import load_rattler


def python_match_spec(constraint: str) -> str:
    """'3.11' -> 'python 3.11.*'; a PEP 440 specifier set -> the same conda version spec."""
    parts = []
    for spec in sorted(python_specifier(constraint), key=str):
        op, version = spec.operator, spec.version
        if op == "===":
            op = "=="
        if op == "==" and version.endswith(".*"):
            parts.append(version)
        else:
            parts.append(op + version)
    return "python " + ",".join(parts) if parts else "python"


def split_filename(filename: str) -> Tuple[str, str, str]:
    """name, version, build of 'name-version-build.conda' (or .tar.bz2)."""
    stem = filename
    for ext in (".conda", ".tar.bz2"):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
    name, version, build = stem.rsplit("-", 2)
    return name, version, build


def exact_spec(name: str, filename: str) -> str:
    """The match spec that admits exactly this package file."""
    _, version, build = split_filename(filename)
    return "%s ==%s %s" % (name, version, build)


def parse_match_spec(text: str, channel_alias: Optional[str] = None, where: str = None):
    """A rattler MatchSpec; a channel given by name is resolved through the alias."""
    rattler = load_rattler()
    name, _, rest = text.partition(" ")
    channel, pkg = split_channel(name)
    if channel is not None:
        text = "%s::%s%s" % (channel_url(channel, channel_alias), pkg, " " + rest if rest else "")
    try:
        return rattler.MatchSpec(text, strict=False)
    except Exception as exc:
        raise SpecError("%r is not a valid conda match spec (%s)" % (text, exc),
                        entry=where) from exc


def record_for(name: str, filename: str):
    """A PackageRecord standing for a locked file, enough to test a match spec against."""
    rattler = load_rattler()
    _, version, build = split_filename(filename)
    tail = build.rsplit("_", 1)[-1]
    return rattler.PackageRecord(
        name=name, version=version, build=rattler.BuildString(build),
        build_number=int(tail) if tail.isdigit() else 0, subdir="noarch")

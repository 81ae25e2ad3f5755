"""conda's @EXPLICIT files (`conda list --explicit --sha256` or `--md5`, `conda-lock
render`, flowenv's own export): one platform, one package file URL a line, each with a
hash after `#`, written as conda reads it: `#<md5>`, `#sha256:<hex>` or `#<sha256 hex>`.
Wheels come as conda-lock renders them, in comment lines conda itself skips:
`# pip name @ <url>#sha256=<hex>`."""

from __future__ import annotations

import re
from pathlib import Path

from ..conda.match_specs import split_filename
from ..errors import SpecError
from ..parsers.source import read_text
from ..platforms import SUPPORTED
from ..redact import redact_url
from .base import PlatformLock, Selection, sha256_of_hash

MARKER = "@EXPLICIT"
_PLATFORM = re.compile(r"^#\s*platform:\s*(\S+)\s*$")
_PIP = re.compile(r"^#\s*pip\s+(?P<name>\S+)\s*@\s*(?P<url>\S+?)(?:#(?P<hash>\S*))?$")
_HASH = re.compile(r"^(?:(?P<md5>[0-9a-f]{32})|(?:sha256[:=])?(?P<sha256>[0-9a-f]{64}))$")


def is_explicit(text: str) -> bool:
    return any(line.strip() == MARKER for line in text.splitlines())


def read_explicit(path: Path, selection: Selection) -> "ExplicitLock":
    origin = str(path)
    text = read_text(path, "@EXPLICIT file")
    platform, entries, seen_marker = None, [], False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        where = "line %d" % number
        header = _PLATFORM.match(line)
        if header:
            platform = header.group(1)
        wheel = _PIP.match(line)
        if wheel and seen_marker:
            entries.append(_wheel(wheel, origin, number, where))
            continue
        if not line or line.startswith("#"):
            continue
        if line == MARKER:
            seen_marker = True
            continue
        if not seen_marker:
            raise SpecError("%r comes before the @EXPLICIT line" % line, file=origin, line=number,
                            hint="An @EXPLICIT file lists package URLs after an @EXPLICIT line.")
        entries.append(_entry(line, origin, number, where))
    if not seen_marker:
        raise SpecError("it has no @EXPLICIT line: it is not a conda explicit file",
                        file=origin)
    if not entries:
        raise SpecError("it lists no package", file=origin)
    subdirs = sorted({e.pop("subdir") for e in entries} - {"noarch"})
    if platform is None:
        if len(subdirs) != 1:
            raise SpecError("it has no '# platform:' line, and its packages are for %s"
                            % (" and ".join(subdirs) or "noarch only"), file=origin,
                            hint="Add a line such as '# platform: linux-64' before @EXPLICIT.")
        platform = subdirs[0]
    if platform not in SUPPORTED:
        raise SpecError("platform %r is not one flowenv supports (%s)" % (
            platform, ", ".join(SUPPORTED)), file=origin)
    foreign = [s for s in subdirs if s != platform]
    if foreign:
        raise SpecError("it says '# platform: %s' but lists packages for %s" % (
            platform, ", ".join(foreign)), file=origin)
    return ExplicitLock(path, {platform: entries}, selection)


def _entry(line: str, origin: str, number: int, where: str) -> dict:
    url, _, digest = line.partition("#")
    url = url.strip()
    filename = url.rstrip("/").rsplit("/", 1)[-1]
    if not filename.endswith((".conda", ".tar.bz2")) or "/" not in url:
        raise SpecError("%r is not the URL of a conda package file (.conda or .tar.bz2)" % url,
                        file=origin, line=number)
    found = _HASH.match(digest.strip().lower())
    if not found:
        raise SpecError("%s has no hash" % filename if not digest.strip() else
                        "%r after %s is not an md5 or sha256 digest" % (digest, filename),
                        file=origin, line=number,
                        hint="flowenv verifies every file: export with conda list --explicit "
                             "--sha256 (or --md5).")
    try:
        name, version, _ = split_filename(filename)
    except ValueError:
        raise SpecError("%r is not a conda package file name (name-version-build)" % filename,
                        file=origin, line=number) from None
    return {"kind": "conda", "name": name, "version": version, "filename": filename,
            "url": redact_url(url), "sha256": found.group("sha256"), "md5": found.group("md5"),
            "size": None, "subdir": url.rsplit("/", 2)[-2], "where": where}


def _wheel(match, origin: str, number: int, where: str) -> dict:
    from packaging.utils import (InvalidWheelFilename, canonicalize_name,
                                 parse_wheel_filename)

    url = match.group("url")
    filename = url.rstrip("/").rsplit("/", 1)[-1]
    sha256 = sha256_of_hash((match.group("hash") or "").replace("=", ":", 1))
    if not sha256:
        raise SpecError("wheel %s has no sha256" % filename, file=origin, line=number,
                        hint="Write it as '# pip name @ <url>#sha256=<hex>'.")
    try:
        name, version, _, _ = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        raise SpecError("%r is not a wheel file name" % filename, file=origin,
                        line=number) from None
    if canonicalize_name(match.group("name")) != name:
        raise SpecError("%s names %s, not %s" % (filename, name, match.group("name")),
                        file=origin, line=number)
    return {"kind": "wheel", "name": name, "version": str(version), "filename": filename,
            "url": redact_url(url), "sha256": sha256, "md5": None, "size": None,
            "subdir": "noarch", "where": where}


class ExplicitLock(PlatformLock):
    kind = "explicit"

"""conda-lock.yml (conda-lock's unified lock, format version 1): one lock per platform
it lists, conda packages and pip wheels alike. Categories are selected as conda-lock
install does: `main` always, `dev` unless default groups are turned off, and each extra
or group named."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

from packaging.utils import canonicalize_name

from ..conda.match_specs import split_filename
from ..errors import SpecError
from ..parsers.source import read_text
from ..platforms import SUPPORTED
from ..redact import redact_url
from .base import PlatformLock, Selection, sha256_of_hash

_MANAGERS = {"conda": "conda", "pip": "wheel"}


def read_conda_lock(path: Path, selection: Selection) -> "CondaLock":
    import yaml

    origin = str(path)
    try:
        data = yaml.safe_load(read_text(path, "conda-lock file"))
    except yaml.YAMLError as exc:
        raise SpecError("this is not valid YAML: %s" % exc, file=origin) from None
    if not isinstance(data, dict) or not isinstance(data.get("package"), list):
        raise SpecError("it has no 'package' list: it is not a conda-lock file", file=origin)
    if data.get("version") != 1:
        raise SpecError("conda-lock format version %r is not one flowenv reads (1)"
                        % data.get("version"), file=origin)
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    platforms = metadata.get("platforms") or []
    if not isinstance(platforms, list) or not platforms:
        raise SpecError("its metadata lists no platforms", file=origin)
    unknown = [p for p in platforms if p not in SUPPORTED]
    if unknown:
        raise SpecError("platform %r is not one flowenv supports (%s)" % (
            unknown[0], ", ".join(SUPPORTED)), file=origin)
    categories = {"main"} | set(selection.extras) | set(selection.groups)
    if selection.default_groups:
        categories.add("dev")
    listed = {p for entry in data["package"] if isinstance(entry, dict)
              for p in [entry.get("category", "main")]}
    unknown = sorted((set(selection.extras) | set(selection.groups)) - listed)
    if unknown:
        raise SpecError("it has no category %s (it has: %s)" % (
            ", ".join(unknown), ", ".join(sorted(map(str, listed)))), file=origin)

    entries: Dict[str, List[dict]] = {p: [] for p in platforms}
    taken = set()
    for number, entry in enumerate(data["package"], 1):
        if not isinstance(entry, dict):
            raise SpecError("package entry %d is not a mapping" % number, file=origin)
        where = "package %s (%s, entry %d)" % (entry.get("name"), entry.get("platform"), number)
        platform = entry.get("platform")
        if platform not in entries:
            raise SpecError("its platform %r is not in metadata.platforms" % (platform,),
                            file=origin, entry=where)
        if str(entry.get("category", "main")) not in categories:
            continue
        parsed = _entry(entry, origin, where)
        key = (platform, parsed["kind"], parsed["name"])
        if key in taken:  # one entry per category it belongs to
            continue
        taken.add(key)
        entries[platform].append(parsed)
    channels = [c.get("url") if isinstance(c, dict) else c
                for c in metadata.get("channels") or []]
    return CondaLock(path, entries, selection, [redact_url(str(c)) for c in channels if c])


def _entry(entry: dict, origin: str, where: str) -> dict:
    manager = entry.get("manager")
    if manager not in _MANAGERS:
        raise SpecError("manager %r is neither conda nor pip" % (manager,), file=origin,
                        entry=where)
    url = entry.get("url")
    if not isinstance(url, str) or "/" not in url:
        raise SpecError("it has no url", file=origin, entry=where)
    filename = url.split("#")[0].rstrip("/").rsplit("/", 1)[-1]
    hashes = entry.get("hash") if isinstance(entry.get("hash"), dict) else {}
    sha256 = sha256_of_hash(hashes.get("sha256"), prefix_required=False)
    md5 = str(hashes.get("md5") or "").lower() or None
    name, version = str(entry.get("name") or ""), str(entry.get("version") or "")
    if manager == "pip":
        if not filename.endswith(".whl"):
            raise SpecError("%s is a source distribution; flowenv installs wheels" % filename,
                            file=origin, entry=where,
                            hint="Lock with a version of it that has a wheel.")
        name = canonicalize_name(name)
        md5 = None
    else:
        if not filename.endswith((".conda", ".tar.bz2")):
            raise SpecError("%r is not a conda package file" % filename, file=origin, entry=where)
        name = split_filename(filename)[0]
    if not sha256 and not (manager == "conda" and md5 and len(md5) == 32):
        raise SpecError("%s has no sha256%s" % (filename, "" if manager == "pip" else " or md5"),
                        file=origin, entry=where,
                        hint="flowenv verifies every file: lock again with conda-lock.")
    if not name or not version:
        raise SpecError("it lacks a name or a version", file=origin, entry=where)
    return {"kind": _MANAGERS[manager], "name": name, "version": version, "filename": filename,
            "url": redact_url(url.split("#")[0]), "sha256": sha256, "md5": md5, "size": None,
            "where": where}


class CondaLock(PlatformLock):
    kind = "conda-lock"

"""PEP 751 pylock.toml (uv's, pip's, flowenv's own export): each package whose marker
holds on the target (PEP 751's lock-file markers: `'x' in extras`, `'dev' in
dependency_groups`) installs its best wheel for the target."""

from __future__ import annotations

from pathlib import Path
from typing import List

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from ..errors import SpecError
from ..lock import LockedFile
from ..parsers.source import read_toml
from ..platforms import Target
from ..resolve.wheels import tag_priority
from .base import Fetcher, LockFile, Selection, choose_file, marker_holds, wheel_candidates


def read_pylock(path: Path, selection: Selection) -> "PyLock":
    data = read_toml(path, "pylock.toml")
    origin = str(path)
    version = str(data.get("lock-version", ""))
    if version.split(".")[0] != "1":
        raise SpecError("lock-version %r is not one flowenv reads (1.x)" % data.get("lock-version"),
                        file=origin, hint="Is this a PEP 751 pylock.toml?")
    packages = data.get("packages")
    if not isinstance(packages, list) or not all(
            isinstance(p, dict) and isinstance(p.get("name"), str) for p in packages):
        raise SpecError("[[packages]] must be tables with a name", file=origin)
    return PyLock(path, data, selection)


def _specifier(text, origin, where) -> SpecifierSet:
    try:
        return SpecifierSet(text)
    except (InvalidSpecifier, TypeError):
        raise SpecError("requires-python %r is not a version range" % (text,), file=origin,
                        entry=where) from None


class PyLock(LockFile):
    kind = "pylock"

    def __init__(self, path: Path, data: dict, selection: Selection):
        content = {k: v for k, v in data.items() if k not in ("created-by", "tool")}
        requires = data.get("requires-python")
        requires = requires if isinstance(requires, str) else None
        super().__init__(path, content, selection, python=_one_series(requires),
                         requires_python=requires)
        self.data = data
        for what, asked, key in (("extra", selection.extras, "extras"),
                                 ("dependency group", selection.groups, "dependency-groups")):
            available = sorted(canonicalize_name(x) for x in data.get(key) or [])
            unknown = [x for x in asked if x not in available]
            if unknown:
                raise SpecError("it has no %s %s (it has: %s)" % (
                    what, ", ".join(unknown), ", ".join(available) or "none"), file=self.origin)

    def files_for(self, target: Target, fetcher: Fetcher) -> List[LockedFile]:
        data, origin = self.data, self.origin
        if self.requires_python and target.python_version not in _specifier(
                self.requires_python, origin, "requires-python"):
            raise SpecError("it was locked for Python %s, not %s" % (
                self.requires_python, target.python_version), file=origin,
                hint="Choose a Python in that range (--python).")
        environments = data.get("environments") or []
        if environments and not any(marker_holds(m, target, "environments", origin)
                                    for m in environments):
            raise SpecError("its environments (%s) exclude %s, Python %s" % (
                " or ".join(environments), target.platform, target.python_version),
                file=origin, hint="Lock it for that platform too.")
        groups = set(self.selection.groups)
        if self.selection.default_groups:
            groups |= {canonicalize_name(g) for g in data.get("default-groups") or []}
        priority = tag_priority(target)
        files = {}
        for package in data["packages"]:
            name = canonicalize_name(package["name"])
            version = str(package.get("version", ""))
            where = "package %s %s" % (name, version)
            if not marker_holds(package.get("marker"), target, where, origin,
                                self.selection.extras, groups):
                continue
            if package.get("requires-python") and target.python_version not in _specifier(
                    package["requires-python"], origin, where):
                continue
            if name in files:
                raise SpecError("two entries of %s apply to %s, Python %s" % (
                    name, target.platform, target.python_version), file=origin, entry=where)
            files[name] = self._file(package, name, version, where, target, priority, fetcher)
        return [files[n] for n in sorted(files)]

    def _file(self, package, name, version, where, target, priority, fetcher) -> LockedFile:
        for kind in ("vcs", "directory"):
            if package.get(kind):
                raise SpecError("it comes from a %s, which is not a file with a hash" % kind,
                                file=self.origin, entry=where,
                                hint="flowenv shares files by sha256: build a wheel, publish "
                                     "it to an index and lock again.")
        wheels = list(package.get("wheels") or [])
        archive = package.get("archive")
        if isinstance(archive, dict):
            target_name = str(archive.get("url") or archive.get("path") or "")
            if not target_name.split("#")[0].endswith(".whl"):
                raise SpecError("its archive is not a wheel", file=self.origin, entry=where,
                                hint="Build a wheel and lock it instead.")
            wheels.append(archive)
        if not version:
            raise SpecError("it has no version", file=self.origin, entry=where)
        sdist = package.get("sdist")
        if isinstance(sdist, dict):
            sdist = {"url": sdist.get("url"), "hashes": sdist.get("hashes") or {}}
        return choose_file(name, version, wheel_candidates(
            [_normalised(w) for w in wheels], self.origin, where, self.path.parent),
            sdist, target, priority, fetcher, self.origin, where)


def _one_series(requires_python):
    """'==3.11.*' (flowenv's own export pins one series) -> '3.11'; a range -> None."""
    text = (requires_python or "").replace(" ", "")
    if text.startswith("==") and text.endswith(".*") and "," not in text:
        return text[2:-2]
    return None


def _normalised(wheel) -> dict:
    if not isinstance(wheel, dict):
        return wheel
    hashes = wheel.get("hashes") if isinstance(wheel.get("hashes"), dict) else {}
    return {"url": wheel.get("url"), "path": wheel.get("path"), "size": wheel.get("size"),
            "name": wheel.get("name"), "sha256": hashes.get("sha256")}

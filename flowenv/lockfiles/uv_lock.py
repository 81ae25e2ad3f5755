"""uv.lock (with the pyproject.toml and .python-version beside it): a universal lock.

The project's dependencies (plus the chosen extras and dependency groups; uv's default
groups unless turned off) are followed through the lock's dependency graph, each edge's
marker evaluated for the target; each package then installs its best wheel for the
target. The project itself is not installed (the flow's code travels in the code
package), as with `uv sync --no-install-project`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from packaging.utils import canonicalize_name

from ..errors import SpecError
from ..lock import LockedFile
from ..parsers.source import read_toml
from ..platforms import Target
from ..resolve.wheels import tag_priority
from .base import (Fetcher, LockFile, Selection, choose_file, marker_holds, sha256_of_hash,
                   wheel_candidates)

_PROJECT_SOURCES = ("virtual", "editable")
_VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)?)")


def python_version_file(folder: Path) -> Optional[str]:
    """The version a .python-version file names ('3.11', 'cpython@3.11.7', ...), or None."""
    path = folder / ".python-version"
    if not path.is_file():
        return None
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            found = _VERSION.search(line)
            if not found:
                raise SpecError("%r names no Python version such as 3.11" % line, file=str(path))
            return found.group(1)
    return None


def read_uv_lock(path: Path, selection: Selection) -> "UvLock":
    data = read_toml(path, "uv.lock")
    origin = str(path)
    if data.get("version") != 1:
        raise SpecError("lock format version %r is not one flowenv reads (1)" % data.get("version"),
                        file=origin, hint="A newer uv wrote it: upgrade flowenv, or lock "
                                          "with a uv that writes version 1.")
    packages = data.get("package")
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        raise SpecError("it has no [[package]] tables", file=origin)
    pyproject = _read_pyproject(path.parent / "pyproject.toml")
    return UvLock(path, data, selection, pyproject, python_version_file(path.parent))


def _read_pyproject(path: Path) -> dict:
    if not path.is_file():
        return {}
    return read_toml(path, "pyproject.toml")


class UvLock(LockFile):
    kind = "uv.lock"

    def __init__(self, path: Path, data: dict, selection: Selection, pyproject: dict,
                 python: Optional[str]):
        self.data = data
        project = pyproject.get("project") if isinstance(pyproject.get("project"), dict) else {}
        self.project_name = canonicalize_name(project["name"]) if project.get("name") else None
        tool_uv = ((pyproject.get("tool") or {}).get("uv") or {})
        self.default_groups = tool_uv.get("default-groups", ["dev"])
        requires = data.get("requires-python")
        super().__init__(path, {"lock": data, "project": self.project_name}, selection,
                         python=python, requires_python=requires if isinstance(requires, str)
                         else None)
        self.by_name: Dict[str, List[dict]] = {}
        for package in data["package"]:
            if not isinstance(package.get("name"), str):
                raise SpecError("a [[package]] has no name", file=self.origin)
            self.by_name.setdefault(canonicalize_name(package["name"]), []).append(package)
        self.root = self._root()
        self._check_selection()

    # -- the project and what it selects ---------------------------------------------

    def _root(self) -> dict:
        if self.project_name and self.project_name in self.by_name:
            return self.by_name[self.project_name][0]
        roots = [p for p in self.data["package"] if any(
            (p.get("source") or {}).get(k) == "." for k in _PROJECT_SOURCES)]
        if len(roots) == 1:
            return roots[0]
        raise SpecError(
            "cannot tell which project this lock is for%s" % (
                " (project %r is not in it)" % self.project_name if self.project_name else ""),
            file=self.origin, hint="Keep the uv.lock beside the pyproject.toml it was made from.")

    def _groups(self) -> Tuple[str, ...]:
        available = self.root.get("dev-dependencies") or {}
        chosen = set(self.selection.groups)
        if self.selection.default_groups:
            defaults = self.default_groups
            chosen |= set(available) if defaults == "all" else {
                canonicalize_name(g) for g in defaults if isinstance(g, str)}
        return tuple(sorted(g for g in chosen if g in available or g in self.selection.groups))

    def _check_selection(self) -> None:
        for what, asked, table in (("extra", self.selection.extras, "optional-dependencies"),
                                   ("dependency group", self.selection.groups, "dev-dependencies")):
            available = sorted(self.root.get(table) or {})
            unknown = [name for name in asked if name not in available]
            if unknown:
                raise SpecError("project %s has no %s %s (it has: %s)" % (
                    self.root["name"], what, ", ".join(unknown), ", ".join(available) or "none"),
                    file=self.origin)

    # -- one target -----------------------------------------------------------------------

    def files_for(self, target: Target, fetcher: Fetcher) -> List[LockedFile]:
        self._check_environment(target)
        priority = tag_priority(target)
        root_name = canonicalize_name(self.root["name"])
        groups = self._groups()
        tokens = (["extra-%d-%s-%s" % (len(root_name), root_name, e) for e in self.selection.extras]
                  + ["group-%d-%s-%s" % (len(root_name), root_name, g) for g in groups])
        edges = list(self.root.get("dependencies") or [])
        for extra in self.selection.extras:
            edges += self.root["optional-dependencies"][extra]
        for group in groups:
            edges += self.root["dev-dependencies"][group]
        taken: Dict[str, dict] = {}
        seen = set()
        todo = [(edge, "project %s" % self.root["name"]) for edge in edges]
        while todo:
            edge, parent = todo.pop()
            where = "dependency %s of %s" % (edge.get("name"), parent)
            if not marker_holds(edge.get("marker"), target, where, self.origin, tokens):
                continue
            package = self._package_for(edge, target, where, tokens)
            name = canonicalize_name(package["name"])
            extras = tuple(sorted(canonicalize_name(e) for e in edge.get("extra") or ()))
            if (name, package.get("version"), extras) in seen:
                continue
            seen.add((name, package.get("version"), extras))
            if name in taken and taken[name] is not package:
                raise SpecError("two versions of %s apply to %s (%s and %s)" % (
                    name, target.platform, taken[name].get("version"), package.get("version")),
                    file=self.origin, entry=where)
            taken[name] = package
            label = "%s %s" % (name, package.get("version"))
            more = list(package.get("dependencies") or [])
            for extra in extras:
                more += (package.get("optional-dependencies") or {}).get(extra) or []
            todo += [(e, label) for e in more]
        return [self._file(package, target, priority, fetcher)
                for _, package in sorted(taken.items()) if package is not self.root]

    def _check_environment(self, target: Target) -> None:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        if self.requires_python:
            try:
                allowed = SpecifierSet(self.requires_python)
            except InvalidSpecifier:
                raise SpecError("requires-python %r is not a version range"
                                % self.requires_python, file=self.origin) from None
            if target.python_version not in allowed:
                raise SpecError(
                    "it was locked for Python %s, not %s" % (self.requires_python,
                                                             target.python_version),
                    file=self.origin, hint="Choose a Python in that range (.python-version "
                                           "or --python).")
        supported = self.data.get("supported-markers") or []
        if supported and not any(marker_holds(m, target, "supported-markers", self.origin)
                                 for m in supported):
            raise SpecError("its supported-markers (%s) exclude %s, Python %s" % (
                " or ".join(supported), target.platform, target.python_version), file=self.origin,
                hint="Add the platform to [tool.uv] environments and lock again.")

    def _package_for(self, edge: dict, target: Target, where: str, tokens) -> dict:
        name = edge.get("name")
        candidates = self.by_name.get(canonicalize_name(name or ""), [])
        if edge.get("version") is not None:
            candidates = [p for p in candidates if p.get("version") == edge["version"]]
        if edge.get("source") is not None:
            candidates = [p for p in candidates if p.get("source") == edge["source"]]
        if len(candidates) > 1:  # forks: the one whose resolution markers hold
            candidates = [p for p in candidates if any(
                marker_holds(m, target, where, self.origin, tokens)
                for m in p.get("resolution-markers") or [""])]
        if len(candidates) != 1:
            raise SpecError("%s: the lock has %d matching packages" % (
                "no package for it" if not candidates else "it is ambiguous", len(candidates)),
                file=self.origin, entry=where, hint="Lock again with uv lock.")
        return candidates[0]

    def _file(self, package: dict, target: Target, priority, fetcher: Fetcher) -> LockedFile:
        name, version = canonicalize_name(package["name"]), str(package.get("version"))
        where = "package %s %s" % (name, version)
        source = package.get("source") or {}
        if not ("registry" in source or "url" in source):
            kind = next(iter(source), "unknown")
            raise SpecError(
                "it comes from a %s source (%s), which is not a file with a hash" % (
                    kind, source.get(kind)), file=self.origin, entry=where,
                hint="flowenv shares files by sha256: publish the package to an index (or "
                     "build a wheel and depend on it by URL) and lock again.")
        wheels = wheel_candidates([_normalised(w) for w in package.get("wheels") or []],
                                  self.origin, where, self.path.parent)
        sdist = package.get("sdist")
        sdist = {"url": sdist.get("url"), "hashes": {"sha256": sha256_of_hash(sdist.get("hash"))}
                 } if isinstance(sdist, dict) and sdist.get("url") else None
        return choose_file(name, version, wheels, sdist, target, priority, fetcher,
                           self.origin, where)

    def recorded_identity(self, lock_files, python_minor):
        identity = super().recorded_identity(lock_files, python_minor)
        direct = {canonicalize_name(p["name"]): (p.get("source") or {}).get("url")
                  for p in self.data["package"] if (p.get("source") or {}).get("url")}
        identity["pypi"] = sorted("%s @ %s" % (f.name, direct[f.name]) if f.name in direct
                                  else "%s==%s" % (f.name, f.version)
                                  for f in lock_files if f.kind == "wheel")
        return identity


def _normalised(wheel) -> dict:
    if not isinstance(wheel, dict):
        return wheel
    return {"url": wheel.get("url"), "path": wheel.get("path"), "size": wheel.get("size"),
            "name": wheel.get("filename"), "sha256": sha256_of_hash(wheel.get("hash"))}

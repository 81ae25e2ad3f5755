"""What every kind of lock file gives once read: its identity, the platforms it holds,
the Python it asks for, and the files one target installs, taken from the file (URL and
sha256 as written there; no resolver chooses anything)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from packaging.markers import InvalidMarker, Marker
from packaging.utils import canonicalize_name

from ..conda.channels import channel_of
from ..conda.match_specs import exact_spec
from ..errors import FlowenvError, SpecError
from ..lock import LockedFile
from ..platforms import Target, marker_environment
from ..spec import SPEC_SCHEMA

LOCK_IMPORT_SCHEMA = 1


@dataclass(frozen=True)
class Selection:
    """Which optional parts of a lock to take: extras and dependency groups (conda-lock:
    categories), and whether the file's default groups come too."""

    extras: Tuple[str, ...] = ()
    groups: Tuple[str, ...] = ()
    default_groups: bool = True

    @classmethod
    def of(cls, extras: Iterable[str] = (), groups: Iterable[str] = (),
           default_groups: bool = True) -> "Selection":
        return cls(tuple(sorted({canonicalize_name(e) for e in extras})),
                   tuple(sorted({canonicalize_name(g) for g in groups})), bool(default_groups))

    def to_dict(self) -> dict:
        return {"extras": list(self.extras), "groups": list(self.groups),
                "default_groups": self.default_groups}


class Fetcher:
    """What taking a lock in may need beyond the file itself, passed in by the caller
    (flowenv.environments): an index's file list for exact pins (a hashed requirements
    file names no URLs), a wheel built from a source distribution (this machine's platform
    only), and the sha256 of a file a conda lock names by md5 only. This base class has
    none of them; each says so."""

    def pinned_files(self, requirements: Sequence[str], index: dict, target: Target,
                     allowed: Dict[str, set], origin: str) -> List[LockedFile]:
        raise SpecError("a hashed requirements file needs a package index to find its files",
                        file=origin)

    def build_wheel(self, package: dict, name: str, target: Target, origin: str) -> None:
        return None  # None: no builder here; the caller says what is missing

    def conda_sha256(self, url: str, md5: str, what: str) -> Tuple[str, int]:
        raise SpecError("%s has only an md5 hash, and nothing here can download it to learn "
                        "its sha256" % what)


class LockFile:
    """A lock file, read and checked. Subclasses set `kind` and implement files_for."""

    kind = ""
    #: the Python comes from the lock itself (a conda `python` package)
    brings_python = False
    #: its files are found on a package index (so the index settings are part of its id)
    uses_index = False

    def __init__(self, path: Path, content, selection: Selection = Selection(),
                 python: Optional[str] = None, requires_python: Optional[str] = None):
        self.path = Path(path)
        self.content = content  # the normalised content: what it pins, no layout or comments
        self.selection = selection
        self.python = python  # the Python it asks for ('3.11'), or None
        self.requires_python = requires_python  # the range it was locked for, or None

    @property
    def origin(self) -> str:
        return str(self.path)

    @property
    def digest(self) -> str:
        """sha256 of the normalised content and the selection: the same for the same pins,
        whatever the layout, comments or time stamps of the file."""
        blob = json.dumps({"schema": LOCK_IMPORT_SCHEMA, "kind": self.kind,
                           "content": self.content, "selection": self.selection.to_dict()},
                          sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def platforms(self) -> Optional[Tuple[str, ...]]:
        """The platforms the file holds locks for; None when it is universal (markers and
        wheel tags decide, for any platform)."""
        return None

    def check_platform(self, platform: str) -> None:
        held = self.platforms()
        if held is not None and platform not in held:
            raise SpecError(
                "this %s has no lock for %s (it has %s)" % (self.kind, platform, ", ".join(held)),
                file=self.origin,
                hint="Lock it for %s too, or run the step on a platform it has." % platform)

    def python_version(self, platform: str) -> Optional[str]:
        """The full Python version the lock brings for platform (conda kinds), else None."""
        return None

    def files_for(self, target: Target, fetcher: Fetcher) -> List[LockedFile]:
        raise NotImplementedError

    def recorded_identity(self, lock_files: Sequence[LockedFile], python_minor: str) -> dict:
        """What a Lock taken from this file records as its request: every package pinned
        (so that a step extending it keeps them all), and where it came from."""
        wheels = [f for f in lock_files if f.kind == "wheel"]
        conda = [f for f in lock_files if f.kind == "conda"]
        return {
            "schema": SPEC_SCHEMA,
            "python": python_minor,
            "pypi": sorted("%s==%s" % (f.name, f.version) for f in wheels),
            "conda": sorted(exact_spec(f.name, f.filename) for f in conda),
            "channels": sorted({channel_of(f.url) for f in conda if f.url}),
            "lock_file": {"kind": self.kind, "file": self.path.name, "digest": self.digest,
                          **self.selection.to_dict()},
        }


# -- helpers the readers share --------------------------------------------------------


def marker_holds(text: Optional[str], target: Target, where: str, origin: str,
                 extras: Iterable[str] = (), groups: Optional[Iterable[str]] = None) -> bool:
    """Whether a PEP 508 marker holds on target. `extras` are tried one at a time as the
    `extra` value (uv.lock markers); with `groups`, PEP 751's lock-file context is used
    (`'x' in extras`, `'dev' in dependency_groups`)."""
    if not text:
        return True
    try:
        marker = Marker(text)
    except InvalidMarker as exc:
        raise SpecError("marker %r is not valid (%s)" % (text, exc), file=origin,
                        entry=where) from None
    env = marker_environment(target)
    if groups is not None:
        return marker.evaluate({**env, "extras": set(extras), "dependency_groups": set(groups)},
                               context="lock_file")
    return any(marker.evaluate({**env, "extra": extra}) for extra in ("",) + tuple(extras))


def sha256_of_hash(text, prefix_required: bool = True) -> Optional[str]:
    """'sha256:<hex>' (or a bare hex digest, without prefix_required) -> hex; else None."""
    if not isinstance(text, str):
        return None
    algorithm, sep, digest = text.partition(":")
    if not sep:
        algorithm, digest = ("" if prefix_required else "sha256"), text
    digest = digest.strip().lower()
    if algorithm.lower() == "sha256" and len(digest) == 64 and all(
            c in "0123456789abcdef" for c in digest):
        return digest
    return None


def wheel_candidates(entries, origin: str, where: str, base_dir: Path) -> List[dict]:
    """A lock's wheel entries as pick_wheel reads them ({name, url, hashes, size}); a wheel
    without a sha256 is an error naming the entry."""
    out = []
    for wheel in entries or []:
        if not isinstance(wheel, dict):
            raise SpecError("a wheel entry is a table, not %r" % (wheel,), file=origin, entry=where)
        url = wheel.get("url") or _path_url(wheel.get("path"), base_dir)
        if not url:
            raise SpecError("a wheel has neither a url nor a path", file=origin, entry=where)
        sha = wheel.get("sha256")
        if not sha:
            raise SpecError("wheel %s has no sha256" % url.rsplit("/", 1)[-1], file=origin,
                            entry=where, hint="flowenv verifies every file by sha256: lock "
                                              "with an index that publishes hashes.")
        out.append({"name": wheel.get("name") or url.rsplit("/", 1)[-1].split("#")[0],
                    "url": url, "hashes": {"sha256": sha}, "size": wheel.get("size")})
    return out


def choose_file(name: str, version: str, wheels: List[dict], sdist: Optional[dict],
                target: Target, priority: Dict[str, int], fetcher: Fetcher, origin: str,
                where: str) -> LockedFile:
    """The file of a locked package that target installs: its best wheel, or (no wheel,
    this machine's platform) a wheel built from its hashed source distribution."""
    from ..resolve.wheels import pick_wheel

    try:
        if not wheels and sdist:
            built = fetcher.build_wheel({"version": version, "sdist": sdist}, name, target, origin)
            if built is not None:
                return built
        return pick_wheel({"version": version, "wheels": wheels}, name, target, priority)
    except FlowenvError as exc:
        raise exc.within(file=origin, entry=where) from None


def _path_url(path, base_dir: Path) -> Optional[str]:
    if not isinstance(path, str) or not path:
        return None
    return (base_dir / path).resolve().as_uri()


class PlatformLock(LockFile):
    """A lock that lists each platform's files outright (conda-lock, @EXPLICIT): entries
    {platform: [entry]}, an entry a dict of kind, name, version, filename, url, sha256 (or
    md5 alone, for conda files), size, and `where` it is in the file (not content)."""

    brings_python = True

    def __init__(self, path: Path, entries: Dict[str, List[dict]], selection: Selection,
                 channels: Sequence[str] = ()):
        for platform, listed in entries.items():
            if not listed:
                raise SpecError("its %s lock lists no package" % platform, file=str(path))
        self.entries = entries
        content = {"channels": sorted(channels), "platforms": {
            p: sorted(({k: v for k, v in e.items() if k != "where"} for e in listed),
                      key=lambda e: (e["kind"], e["name"]))
            for p, listed in entries.items()}}
        super().__init__(path, content, selection)

    def platforms(self):
        return tuple(sorted(self.entries))

    def python_version(self, platform: str) -> Optional[str]:
        self.check_platform(platform)
        for entry in self.entries[platform]:
            if entry["kind"] == "conda" and entry["name"] == "python":
                return entry["version"]
        raise SpecError("its %s lock has no python package" % platform, file=self.origin,
                        hint="flowenv runs steps with the environment's own Python: lock "
                             "python too.")

    def files_for(self, target: Target, fetcher: Fetcher) -> List[LockedFile]:
        self.check_platform(target.platform)
        files = []
        for entry in self.entries[target.platform]:
            sha256, size = entry.get("sha256"), entry.get("size")
            if not sha256:
                sha256, size = fetcher.conda_sha256(entry["url"], entry["md5"], "%s %s (%s)" % (
                    entry["name"], entry["version"], entry["filename"]))
            try:
                files.append(LockedFile(
                    name=entry["name"], version=entry["version"], kind=entry["kind"],
                    filename=entry["filename"], url=entry["url"], sha256=sha256, size=size,
                    md5=entry.get("md5")))
            except FlowenvError as exc:
                raise SpecError(exc.what, file=self.origin, entry=entry["where"]) from None
        return files

"""Cleaning up this machine's cache: environments, package files and extracted code not
used for a while, never one in use.

What counts as use is recorded cheaply where it happens (flowenv/usage.py): a folder's
mtime is its last use, and a process using an environment or extracted code holds its
in-use lock. Package files are only read while resolving or creating, which hold the
cache's maintenance lock (shared): they are removed only when nobody holds it.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Sequence, Tuple

from .atomic import TEMP_PREFIX, set_aside, sweep_stale
from .cache import LocalCache
from .debuglog import SILENT, DebugLog
from .filelock import try_lock
from .usage import in_use_file

DAY = 86400.0

# Kinds of entries, in the order they are cleaned up.
ENVIRONMENTS = "environment"
PACKAGES = "package"
CONDA_PACKAGES = "conda package"
REPODATA = "conda repodata"
BUILDS = "build folder"
CODE = "extracted code"
SUPPORT = "runtime support"
TOOLS = "tools"
KINDS = (ENVIRONMENTS, PACKAGES, CONDA_PACKAGES, REPODATA, BUILDS, CODE, SUPPORT, TOOLS)
# Read only under the cache's maintenance lock, rather than held one by one.
_UNDER_MAINTENANCE_LOCK = (PACKAGES, CONDA_PACKAGES, REPODATA, BUILDS)


@dataclass(frozen=True)
class CacheEntry:
    kind: str
    path: Path
    last_used: float  # seconds since the epoch
    size: int  # bytes of its files, each counted once
    own_size: int  # of those, bytes no other folder links to: what removing it frees

    @property
    def idle_days(self) -> float:
        return max(0.0, (time.time() - self.last_used) / DAY)


@dataclass
class CleanupReport:
    dry_run: bool
    removed: List[CacheEntry] = field(default_factory=list)
    in_use: List[CacheEntry] = field(default_factory=list)  # unused long enough, but held
    recent: int = 0  # entries used recently enough to keep
    skipped: List[str] = field(default_factory=list)  # kinds left alone, and why
    failed: List[str] = field(default_factory=list)  # entries that could not be removed

    @property
    def freed(self) -> int:
        return sum(e.own_size for e in self.removed)


def collect(cache: LocalCache, older_than_days: float, dry_run: bool = False,
            kinds: Sequence[str] = KINDS, log: DebugLog = SILENT) -> CleanupReport:
    """Remove (or, dry, list) the entries of kinds unused for older_than_days, except those
    in use: an environment or extracted code a running process holds, or packages while
    another flowenv process resolves or creates."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError("unknown kinds %s" % ", ".join(sorted(unknown)))
    horizon = time.time() - older_than_days * DAY
    report = CleanupReport(dry_run)
    held_one_by_one = [k for k in kinds if k not in _UNDER_MAINTENANCE_LOCK]
    for kind in held_one_by_one:
        for path, lock in _entries(cache, kind):
            _consider(kind, path, [lock, in_use_file(path)], horizon, report, log)
    shared = [k for k in kinds if k in _UNDER_MAINTENANCE_LOCK]
    if shared:
        with try_lock(cache.maintenance_lock, create=cache.root.is_dir()) as free:
            if not free:
                report.skipped.append(
                    "%ss: another flowenv process is resolving or creating an environment "
                    "with them; run gc again later" % ", ".join(shared))
            else:
                for kind in shared:
                    for path, _ in _entries(cache, kind):
                        _consider(kind, path, [], horizon, report, log)
    for folder in _folders(cache, kinds):
        sweep_stale(folder)  # what a killed writer (or gc) left half-removed
    return report


def _consider(kind, path: Path, locks, horizon, report: CleanupReport, log) -> None:
    try:
        last_used = path.lstat().st_mtime
    except OSError:
        return  # gone meanwhile
    if last_used > horizon:
        report.recent += 1
        return
    entry = CacheEntry(kind, path, last_used, *_sizes(path))
    with _all_free([l for l in locks if l is not None]) as free:
        if not free:
            log("gc: %s %s is in use" % (kind, path))
            report.in_use.append(entry)
            return
        if report.dry_run:
            report.removed.append(entry)
            return
        log("gc: removing %s %s (unused for %.1f days)" % (kind, path, entry.idle_days))
        try:
            aside = set_aside(path) if path.is_dir() and not path.is_symlink() else None
            if aside is None:
                os.unlink(path)
        except OSError as exc:
            report.failed.append("%s %s: %s" % (kind, path, exc.strerror or exc))
            return
        report.removed.append(entry)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


class _all_free:
    """Try every lock, without waiting and without creating a missing lock file; True
    only if nobody holds any. Held until the block ends."""

    def __init__(self, paths):
        self._managers = [try_lock(p, create=False) for p in paths]
        self._entered = []

    def __enter__(self) -> bool:
        for manager in self._managers:
            got = manager.__enter__()
            self._entered.append(manager)
            if not got:
                return False
        return True

    def __exit__(self, *exc):
        for manager in reversed(self._entered):
            manager.__exit__(None, None, None)
        return False


def _entries(cache: LocalCache, kind: str) -> Iterator[Tuple[Path, Path]]:
    """(entry path, its creation lock or None) for every entry of kind."""
    if kind == ENVIRONMENTS:
        for path in _listing(cache.envs_dir, dirs_only=True):
            yield path, cache.envs_dir / (path.name + ".lock")
    elif kind == PACKAGES:
        for shard in _listing(cache.packages_dir, dirs_only=True):
            for path in _listing(shard, dirs_only=True):
                yield path, None
    else:
        folder = {CONDA_PACKAGES: cache.conda_packages_dir, REPODATA: cache.conda_repodata_dir,
                  BUILDS: cache.builds_dir, CODE: cache.code_dir,
                  SUPPORT: cache.runtime_support_root, TOOLS: cache.tools_root}[kind]
        for path in _listing(folder, dirs_only=kind != REPODATA):
            yield path, None


def _listing(folder: Path, dirs_only: bool) -> List[Path]:
    """Entries of folder, without lock files and temporary names (sweep_stale's)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    return [Path(e.path) for e in sorted(entries, key=lambda e: e.name)
            if not e.name.startswith(TEMP_PREFIX) and not e.name.endswith(".lock")
            and (e.is_dir(follow_symlinks=False) or not dirs_only)]


def _folders(cache: LocalCache, kinds) -> List[Path]:
    folders = {ENVIRONMENTS: [cache.envs_dir], CONDA_PACKAGES: [cache.conda_packages_dir],
               REPODATA: [cache.conda_repodata_dir], BUILDS: [cache.builds_dir],
               CODE: [cache.code_dir], SUPPORT: [cache.runtime_support_root],
               TOOLS: [cache.tools_root]}
    return [f for kind in kinds for f in folders.get(kind, [])]


def _sizes(path: Path) -> Tuple[int, int]:
    """(bytes of the files under path, each counted once; bytes of those that have no link
    outside path, which removing it frees: an environment shares much with uv's and
    rattler's package caches through hard links)."""
    inodes = {}  # (dev, ino) -> [size, links, links seen under path]
    stack = [str(path)]
    while stack:
        current = stack.pop()
        try:
            info = os.lstat(current)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            try:
                stack += [e.path for e in os.scandir(current)]
            except OSError:
                pass
            continue
        found = inodes.setdefault((info.st_dev, info.st_ino), [info.st_size, info.st_nlink, 0])
        found[2] += 1
    total = sum(size for size, _, _ in inodes.values())
    own = sum(size for size, links, seen in inodes.values() if seen >= links)
    return total, own

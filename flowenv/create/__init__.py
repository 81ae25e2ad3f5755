"""Creator: a Lock plus the store become a ready prefix on this machine, from the
store's copies only, verified, and marked complete last.

A prefix is flowenv's own while it is being made (an `incomplete` marker is written
first) and once it is complete (a `complete` marker, written last). Only such folders
are ever removed or replaced: a folder flowenv did not make is refused, never deleted.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import traceback
from pathlib import Path
from typing import List, Sequence

from ..atomic import os_error, write_text
from ..cache import LocalCache
from ..debuglog import SILENT as SILENT_LOG, DebugLog
from ..errors import CreateError, FlowenvError
from ..filelock import file_lock
from ..interpreters import InterpreterFinder
from ..lock import Lock, LockedFile
from ..progress import SILENT, Progress
from ..store import Store
from ..store.transfer import Transfer
from ..usage import stamp
from ..uv_runner import UvRunner
from ..verify import is_intact
from .bytecode import SharedBytecode
from .hook import install_site_hook
from .pypi import install_wheels, make_venv

COMPLETE_MARKER = ".flowenv-complete"
MARKER_SCHEMA = 1
INCOMPLETE_MARKER = ".flowenv-incomplete"

__all__ = ["Creator", "env_python", "is_complete", "completed_id", "COMPLETE_MARKER"]


def env_python(prefix: Path) -> Path:
    return Path(prefix) / "bin" / "python"


def is_complete(prefix: Path) -> bool:
    return (Path(prefix) / COMPLETE_MARKER).is_file()


def completed_id(prefix: Path):
    """The environment id a complete flowenv prefix holds, or None (also for a marker of
    another layout: that prefix is then made again)."""
    try:
        marker = json.loads((Path(prefix) / COMPLETE_MARKER).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("schema") != MARKER_SCHEMA:
        return None
    return marker.get("full_id")



class Creator:
    def __init__(self, store: Store, cache: LocalCache, finder: InterpreterFinder, uv: UvRunner,
                 compile_bytecode: bool = False, lock_timeout: float = 600.0,
                 progress: Progress = SILENT, fetch_concurrency: int = 8,
                 share_bytecode: bool = True, log: DebugLog = SILENT_LOG):
        self.store = store
        self.cache = cache
        self.finder = finder
        self.uv = uv
        self.compile_bytecode = compile_bytecode
        self.lock_timeout = lock_timeout
        self.progress = progress
        self.fetch_concurrency = fetch_concurrency
        self.bytecode = SharedBytecode(store, cache, progress, fetch_concurrency, share_bytecode)
        self.log = log

    def local_copies(self, files: Sequence[LockedFile]) -> List[Path]:
        """Verified local copies of the files: the cache's when intact, else the store's."""
        paths = [self.cache.package_path(f) for f in files]
        for path in paths:
            stamp(path.parent)  # its last use, for gc
        self._transfer().fetch_all([(f, p) for f, p in zip(files, paths) if not is_intact(p, f)])
        return paths

    def _transfer(self) -> Transfer:
        return Transfer(self.store.packages, self.fetch_concurrency, self.progress)

    def create(self, lock: Lock, dest: Path = None, replace: bool = False) -> Path:
        """The prefix of lock's environment, created if needed. Safe to call from many
        processes at once: one builds, the others wait and reuse. With dest, the folder
        must be new, empty or flowenv's own; replace allows replacing a complete flowenv
        environment of another id there."""
        prefix = Path(dest) if dest else self.cache.env_prefix(lock.full_id)
        if completed_id(prefix) == lock.full_id:
            return prefix
        lock_path = (self.cache.env_lock(lock.full_id) if dest is None
                     else self.cache.folder_lock(prefix))
        with file_lock(lock_path, "creating environment %s" % lock.full_id,
                       timeout=self.lock_timeout,
                       on_wait=lambda: self.progress.say(
                           "Waiting for another process creating %s" % lock.full_id),
                       log=self.log):
            if completed_id(prefix) == lock.full_id:
                return prefix
            self._clear(prefix, owned=dest is None, replace=replace)
            if dest is None:
                self._sweep_abandoned(lock.full_id)
            start = time.monotonic()
            try:
                prefix.mkdir(parents=True, exist_ok=True)
                write_text(prefix / INCOMPLETE_MARKER, lock.full_id)
                with self.progress.task("Creating environment %s (%d packages)"
                                        % (lock.full_id[:12], len(lock.files))), \
                        self.cache.using(self.lock_timeout, self.log):
                    self._build(lock, prefix)
                marker = {"schema": MARKER_SCHEMA, "full_id": lock.full_id,
                          "seconds": round(time.monotonic() - start, 3)}
                write_text(prefix / COMPLETE_MARKER, json.dumps(marker))
                os.unlink(prefix / INCOMPLETE_MARKER)
            except FlowenvError:
                self._remove_own(prefix)
                raise
            except OSError as exc:
                self._remove_own(prefix)
                raise os_error(exc, "create environment %s in" % lock.full_id, prefix) from exc
            except Exception as exc:
                self._remove_own(prefix)
                where = traceback.extract_tb(exc.__traceback__)[-1]
                raise CreateError("creating environment %s failed: %s: %s (%s:%d)" % (
                    lock.full_id, type(exc).__name__, exc, os.path.basename(where.filename),
                    where.lineno)) from exc
        return prefix

    def _clear(self, prefix: Path, owned: bool, replace: bool) -> None:
        """Make room at prefix, removing only what flowenv made. owned: prefix lies in the
        cache, where everything is flowenv's (a half-made env of a killed process)."""
        if not prefix.exists() and not prefix.is_symlink():
            return
        if not prefix.is_dir() or prefix.is_symlink():
            raise CreateError("%s exists and is not a folder" % prefix,
                              hint="Choose another destination.")
        if owned or (prefix / INCOMPLETE_MARKER).is_file():
            shutil.rmtree(prefix)
            return
        if is_complete(prefix):
            if not replace:
                raise CreateError(
                    "%s already holds flowenv environment %s" % (prefix, completed_id(prefix)),
                    hint="Pass --force to replace it, or choose another folder.")
            shutil.rmtree(prefix)
            return
        if any(prefix.iterdir()):
            raise CreateError(
                "%s exists and was not made by flowenv; it is left untouched" % prefix,
                hint="Choose a new or empty folder.")

    def _sweep_abandoned(self, building: str) -> None:
        """Remove the half-made environments of killed processes: incomplete prefixes
        whose lock nobody holds (a live builder holds it until its prefix is complete)."""
        try:
            entries = [e for e in os.scandir(self.cache.envs_dir)
                       if e.name != building and e.is_dir(follow_symlinks=False)]
        except OSError:
            return
        for entry in entries:
            prefix = Path(entry.path)
            if not (prefix / INCOMPLETE_MARKER).is_file():
                continue
            try:
                with file_lock(self.cache.env_lock(entry.name), "sweeping", timeout=0):
                    self._remove_own(prefix)
            except FlowenvError:
                continue  # being built right now, or not an id of ours

    @staticmethod
    def _remove_own(prefix: Path) -> None:
        if (prefix / INCOMPLETE_MARKER).is_file():
            shutil.rmtree(prefix, ignore_errors=True)

    def _build(self, lock: Lock, prefix: Path) -> None:
        """Fetch what the cache lacks and install at the same time: conda packages once
        they are all here (rattler links them in one go), wheels in batches as they
        arrive; then the bytecode, unpacked where it was shared, compiled where not."""
        paths = {id(f): self.cache.package_path(f) for f in lock.files}
        for path in paths.values():
            stamp(path.parent)  # its last use, for gc
        items = [(f, paths[id(f)]) for f in lock.files if not is_intact(paths[id(f)], f)]
        archives = self.bytecode.archives(lock) if self.compile_bytecode else []
        items += [(a, a.path) for a in archives if not is_intact(a.path, a)]
        waiting = {id(f) for f, _ in items}
        with self._transfer().start(items) as fetching:
            def wait_for(files) -> None:
                while any(id(f) in waiting for f in files):
                    waiting.difference_update(id(f) for f, _ in fetching.next_batch())

            conda_files = lock.by_kind("conda")
            if conda_files:
                from .conda import install_conda

                wait_for(conda_files)
                install_conda(lock, [paths[id(f)] for f in conda_files], prefix, self.cache,
                              self.log)
            else:
                interpreter = self.finder.find(lock.python_minor, prefer=lock.python)
                make_venv(self.uv, interpreter.path, prefix)
            self._install_wheels(lock, prefix, paths, waiting, fetching)
            if self.compile_bytecode:
                wait_for(archives)
                self.bytecode.apply(lock, prefix, archives)
        install_site_hook(prefix, env_python(prefix), lock.python_minor)

    def _install_wheels(self, lock: Lock, prefix: Path, paths, waiting, fetching) -> None:
        wheels = lock.by_kind("wheel")
        if not wheels:
            return
        # A batch is installed once it holds a quarter of the bytes, or at the end: each
        # uv run costs a little, so not one per file.
        threshold = sum(f.size or 0 for f in wheels) / 4
        with self.progress.meter("Installing %d wheels" % len(wheels), total_items=len(wheels),
                                 unit="wheels") as meter:
            pending = list(wheels)
            while pending:
                ready = [f for f in pending if id(f) not in waiting]
                if ready and (len(ready) == len(pending)
                              or sum(f.size or 0 for f in ready) >= threshold):
                    install_wheels(self.uv, env_python(prefix), [paths[id(f)] for f in ready],
                                   self.cache.uv_dir)
                    meter.item_done(len(ready))
                    pending = [f for f in pending if id(f) in waiting]
                else:
                    waiting.difference_update(id(f) for f, _ in fetching.next_batch())

"""The public face of the core: resolve, publish, name, look up and create environments."""

from __future__ import annotations

import getpass
import os
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from packaging.version import Version

from .cache import LocalCache
from .create import create_env
from .errors import AliasError, EnvNotFound, ResolveError
from .fetch import download
from .interpreters import InterpreterFinder
from .lock import Lock
from .platforms import Target, check_platform, host_platform
from .progress import SILENT, Progress
from .refs import Alias, is_full_id
from .spec import Spec, python_specifier
from .store import AliasRecord, Store


def current_user() -> str:
    for var in ("METAFLOW_USER", "USER", "USERNAME", "LOGNAME"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown@%s" % socket.gethostname()


class Environments:
    def __init__(self, store: Store, cache: LocalCache = None, progress: Progress = SILENT):
        self.store = store
        self.cache = cache or LocalCache()
        self.progress = progress
        self.finder = InterpreterFinder(self.cache.interpreters_file)

    # -- resolving ----------------------------------------------------------------

    def default_python(self) -> str:
        return "%d.%d" % sys.version_info[:2]

    def target_for(self, spec: Spec, platform: str, base: Optional[Lock]) -> Target:
        if base is not None:
            if base.platform != platform:
                raise ResolveError(
                    "Cannot extend environment %s (built for %s) for platform %s"
                    % (base.full_id, base.platform, platform)
                )
            return Target(platform, base.python)
        interpreter = self.finder.find(spec.python or self.default_python())
        return Target(platform, interpreter.version)

    def resolve(self, spec: Spec, platform: str = None, force: bool = False) -> Lock:
        """The lock for spec: the last published resolution, or a new one (then published)."""
        platform = check_platform(platform or host_platform())
        if spec.python is None and spec.base is None:
            spec = spec.replace(python=self.default_python())
        if not force:
            cached = self.store.envs.resolution(spec.req_id, platform)
            if cached is not None:
                return cached
        lock = self.solve_only(spec, platform)
        self.publish(lock, spec, repair=force)
        return lock

    def solve_only(self, spec: Spec, platform: str = None) -> Lock:
        """Resolve without storing anything (a dry run)."""
        platform = check_platform(platform or host_platform())
        if spec.python is None and spec.base is None:
            spec = spec.replace(python=self.default_python())
        base = self.store.envs.get(spec.base) if spec.base else None
        if base is not None and spec.python:
            if Version(base.python) not in python_specifier(spec.python):
                raise ResolveError(
                    "%s asks for Python %s, but its base environment %s has Python %s"
                    % (spec.origin or "The spec", spec.python, base.full_id, base.python))
        with self.progress.task("Resolving %s for %s" % (spec.describe(), platform)):
            return self._solve(spec, platform, base)

    def _solve(self, spec: Spec, platform: str, base: Optional[Lock]) -> Lock:
        from .resolve import solve
        from .resolve.build import SdistBuilder

        target = None if spec.conda and base is None else self.target_for(spec, platform, base)
        builder = None
        if target is not None and platform == host_platform():
            # Source distributions can be built into wheels for this machine only.
            interpreter = self.finder.find(target.python_minor, prefer=target.python_version)
            builder = SdistBuilder(spec, interpreter.path, self.cache)
        return solve(spec, platform, target, base, builder)

    def resolve_many(self, specs: Sequence[Spec], platform: str = None, force=False) -> List[Lock]:
        """Resolve several specs at once (distinct ones in parallel)."""
        unique = {s.req_id: s for s in specs}
        with ThreadPoolExecutor(max_workers=4) as pool:
            locks = dict(zip(unique, pool.map(lambda s: self.resolve(s, platform, force),
                                              unique.values())))
        return [locks[s.req_id] for s in specs]

    # -- publishing ---------------------------------------------------------------

    def publish(self, lock: Lock, spec: Spec, repair: bool = False) -> None:
        """Packages first, then the env record, then the req_id pointer: nothing in the
        store ever refers to a file the store does not have. With repair, every package
        is uploaded again (from a verified local copy), mending damaged blobs."""
        missing = [f for f in lock.files if repair or not self.store.packages.has(f)]
        if missing:
            size = sum(f.size or 0 for f in missing) / 1e6
            with self.progress.task("Caching %d package files (%.1f MB) in %s"
                                    % (len(missing), size, self.store.url)):
                def upload(file):
                    path = self.cache.package_path(file)
                    if not path.is_file():
                        download(file, path, spec.index_urls)
                    self.store.packages.upload(file, path)

                with ThreadPoolExecutor(max_workers=8) as pool:
                    list(pool.map(upload, missing))
        self.store.envs.put(lock)
        self.store.envs.set_resolution(lock.req_id, lock.platform, lock.full_id)

    # -- naming -------------------------------------------------------------------

    def set_alias(self, alias: str, locks: Sequence[Lock], who: str = None) -> bool:
        parsed = Alias.parse(alias)
        for lock in locks:
            self.store.envs.get(lock.full_id)  # only published envs can be named
        req_ids = {lock.req_id for lock in locks}
        return self.store.aliases.set(parsed, sorted(req_ids)[0],
                                      {l.platform: l.full_id for l in locks}, who or current_user())

    def restore_alias(self, alias: str, who: str = None) -> Dict[str, str]:
        """Move a mutable alias back to where it pointed before its last move."""
        parsed = Alias.parse(alias)
        record = self.store.aliases.get(parsed)
        previous = record.history[-1].get("previous") if record.history else None
        if not parsed.mutable:
            raise AliasError("%s is immutable: it has never moved" % alias)
        if not previous:
            raise AliasError("%s has no earlier target to restore" % alias)
        req_id = self.store.envs.get(next(iter(previous.values()))).req_id
        self.store.aliases.set(parsed, req_id, previous, who or current_user(), replace=True)
        return previous

    def alias_record(self, alias: str) -> AliasRecord:
        return self.store.aliases.get(Alias.parse(alias))

    def lookup(self, ref: str, platform: str = None) -> Lock:
        """The lock an alias or full id names, for platform (default: this machine's)."""
        platform = platform or host_platform()
        if is_full_id(ref):
            return self.store.envs.get(ref)
        record = self.alias_record(ref)
        return self.store.envs.get(record.full_id_for(platform))

    def lookup_all(self, ref: str) -> Dict[str, Lock]:
        if is_full_id(ref):
            lock = self.store.envs.get(ref)
            return {lock.platform: lock}
        record = self.alias_record(ref)
        return {p: self.store.envs.get(f) for p, f in record.envs.items()}

    # -- creating -----------------------------------------------------------------

    def create(self, lock: Lock, dest: Path = None) -> Path:
        if lock.platform != host_platform():
            raise EnvNotFound(
                "Environment %s is for %s; this machine is %s" % (lock.full_id, lock.platform, host_platform()))
        return create_env(lock, self.store, self.cache, self.finder, dest, self.progress)

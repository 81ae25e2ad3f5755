"""The public face of the core: resolve, publish, name, look up and create environments."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from packaging.version import Version

from .cache import LocalCache
from .create import Creator, completed_id
from .credentials import Credentials, IndexAccess
from .debuglog import DebugLog, debug_log
from .errors import (AliasError, CreateError, DamagedRecord, EnvNotFound, IntegrityError,
                     ResolveError, SpecError)
from .fetch import download_locked
from .interpreters import InterpreterFinder
from .local_tree import local_contents
from .lock import Lock
from .lockfiles import LockFile
from .platforms import Target, check_platform, host_platform
from .progress import SILENT, Progress
from .refs import Alias, is_full_id
from .settings import Settings
from .spec import (Spec, check_supported_python, conda_name, python_specifier,
                   requirement_name)
from .store import AliasRecord, Store
from .usage import Holds
from .uv_runner import UvRunner
from .verify import is_intact


class Environments:
    def __init__(self, store: Store, cache: LocalCache = None, progress: Progress = SILENT,
                 settings: Settings = None, log: DebugLog = None):
        """log: debug lines (every uv and rattler call, store operation, lock wait);
        by default on stderr when the settings ask for debugging, else silent."""
        self.settings = settings or Settings()
        self.log = log if log is not None else debug_log(self.settings.debug)
        # Logged, unless it was opened with the log already (no store: requests alone).
        self.store = store.logged(self.log) if store is not None else None
        self.cache = cache or LocalCache(self.settings.cache_dir)
        self.progress = progress
        # Local folders this process uses, held until it ends: gc leaves them alone.
        self.holds = Holds()
        self.finder = InterpreterFinder(self.cache.interpreters_file, self.settings.pythons,
                                        self.settings.environ)
        uv_environ = dict(self.settings.environ)
        if self.settings.netrc:  # the setting, wherever it was given, is uv's NETRC too
            uv_environ["NETRC"] = self.settings.netrc_file
        self.uv = UvRunner(self.settings.uv_bin, uv_environ, self.log)
        self.credentials = Credentials(self.settings.environ, self.settings.netrc_file,
                                       self.settings.keyring_provider)
        self.creator = Creator(self.store, self.cache, self.finder, self.uv,
                               self.settings.should_compile_bytecode, self.settings.lock_timeout,
                               progress, self.settings.fetch_concurrency,
                               self.settings.share_bytecode, self.log)

    # -- resolving ----------------------------------------------------------------

    def default_python(self) -> str:
        return "%d.%d" % sys.version_info[:2]

    def request(self, spec: Spec) -> Spec:
        """The spec as it will be resolved: the settings fill in what it leaves open
        (channels, indexes, virtual packages, the Python), so its req_id covers them."""
        s = self.settings
        spec = spec.with_defaults(
            channels=s.conda_channels, channel_alias=s.conda_channel_alias,
            virtual_packages=s.conda_virtual_packages, index_url=s.index_url,
            extra_index_urls=s.extra_index_urls, find_links=s.find_links,
            index_names=s.index_names, no_index=s.no_index, trusted_hosts=s.trusted_hosts)
        python_is_a_package = any(conda_name(r) == "python" for r in spec.conda)
        if spec.python is None and spec.base is None and not python_is_a_package:
            spec = spec.replace(python=self.default_python())
        if spec.local_locations():
            # The content of local folders is part of what was asked for: an edit is a
            # new request, and two checkouts of one tree are the same request.
            spec = spec.replace(local_contents=local_contents(spec, s.environ))
        return spec

    def target_for(self, spec: Spec, platform: str, base: Optional[Lock]) -> Target:
        if base is not None:
            if base.platform != platform:
                raise ResolveError("cannot extend environment %s (built for %s) for platform %s"
                                   % (base.full_id, base.platform, platform))
            return Target(platform, base.python, spec.glibc)
        interpreter = self.finder.find(spec.python or self.default_python())
        return Target(platform, interpreter.version, spec.glibc)

    def resolve(self, spec: Spec, platform: str = None, force: bool = False) -> Lock:
        """The lock for spec: the last published resolution, or a new one (then published)."""
        platform = check_platform(platform or host_platform())
        spec = self.request(spec)
        repair = force
        if not force:
            try:
                cached = self.store.envs.resolution(spec.req_id, platform)
            except DamagedRecord as exc:
                self.progress.say("%s; resolving again" % exc)
                cached, repair = None, True
            if cached is not None:
                return cached
        lock = self._solve(spec, platform)
        self.publish(lock, spec, repair=repair)
        return lock

    def solve_only(self, spec: Spec, platform: str = None) -> Lock:
        """Resolve without storing anything (a dry run)."""
        return self._solve(self.request(spec), check_platform(platform or host_platform()))

    def resolve_together(self, spec: Spec, platforms: Sequence[str], force: bool = False,
                         store: bool = True) -> List[Lock]:
        """One lock per platform, each package they share at one version: the newest
        version that every platform has files for (co-resolution, resolve/together.py).
        The request is spec for exactly these platforms, so it has a requirements id of its
        own; with store=False nothing is stored (a dry run)."""
        from .resolve.together import solve_together

        platforms = list(dict.fromkeys(check_platform(p) for p in platforms))
        if len(platforms) == 1:
            if not store:
                return [self.solve_only(spec, platforms[0])]
            return [self.resolve(spec, platforms[0], force)]
        spec = self.request(spec)
        blob = json.dumps({"spec": spec.req_id, "together": sorted(platforms)}, sort_keys=True)
        req_id = hashlib.sha256(blob.encode()).hexdigest()[:32]
        repair = force
        if store and not force:
            try:
                cached = [self.store.envs.resolution(req_id, p) for p in platforms]
            except DamagedRecord as exc:
                self.progress.say("%s; resolving again" % exc)
                cached, repair = [None], True
            if all(lock is not None for lock in cached):
                return cached
        exempt = {requirement_name(r) for r in spec.pypi if ";" in r}
        solved = solve_together(platforms, lambda p, ceilings: self._solve(spec, p, ceilings),
                                exempt)
        locks = [dataclasses.replace(solved[p], req_id=req_id,
                                     spec=dict(solved[p].spec, resolved_together=platforms))
                 for p in platforms]
        if store:
            for lock in locks:
                self.publish(lock, spec, repair=repair)
        return locks

    def _solve(self, spec: Spec, platform: str, ceilings=None) -> Lock:
        from .resolve import PypiTools, solve
        from .resolve.build import SourceBuilder

        base = self.store.envs.get(spec.base) if spec.base else None
        if base is not None and spec.python:
            if Version(base.python) not in python_specifier(spec.python):
                raise ResolveError("it asks for Python %s, but its base environment %s has "
                                   "Python %s" % (spec.python, base.full_id, base.python),
                                   entry=spec.origin or None)
        if spec.python:
            check_supported_python(spec.python, spec.origin or None)
        access = IndexAccess.for_spec(spec, self.credentials)

        def make_builder(target: Target) -> SourceBuilder:
            # Packages without a wheel are built here, with the target's Python version.
            interpreter = self.finder.find(target.python_minor, prefer=target.python_version)
            return SourceBuilder(spec, target, interpreter.path, self.cache, self.uv, access,
                                 self.settings.environ)

        built = [f for f in base.by_kind("wheel") if not f.url] if base is not None else []
        tools = PypiTools(access, make_builder, self.local_copies(built) if built else ())
        with self.progress.task("Resolving %s for %s" % (spec.describe(), platform)), \
                self.using_cache():
            target = None if spec.conda and base is None else self.target_for(spec, platform, base)
            lock = solve(spec, platform, target, base, self.uv, self.cache, tools, self.log,
                         ceilings)
        check_supported_python(lock.python, spec.origin or None)  # a conda solve's choice
        return lock

    def resolve_many(self, specs: Sequence[Spec], platform: str = None, force=False) -> List[Lock]:
        """Resolve several specs at once (distinct ones in parallel)."""
        unique = {s.req_id: s for s in specs}
        with ThreadPoolExecutor(max_workers=4) as pool:
            locks = dict(zip(unique, pool.map(lambda s: self.resolve(s, platform, force),
                                              unique.values())))
        return [locks[s.req_id] for s in specs]

    # -- lock files -------------------------------------------------------------------

    def import_lock(self, lock_file: LockFile, platform: str = None, python: str = None,
                    force: bool = False) -> Lock:
        """The environment a lock file pins for platform, without resolving: the last
        import of the same content (same requirements id), or a new one, published."""
        platform = check_platform(platform or host_platform())
        lock_file.check_platform(platform)  # before the store: the clearer error first
        req_id, constraint = self._lock_request(lock_file, python)
        repair = force
        if not force:
            try:
                cached = self.store.envs.resolution(req_id, platform)
            except DamagedRecord as exc:
                self.progress.say("%s; taking the lock in again" % exc)
                cached, repair = None, True
            if cached is not None:
                return cached
        lock = self._lock_from(lock_file, platform, req_id, constraint)
        self.publish(lock, self._index_spec(), repair=repair)
        return lock

    def find_import(self, lock_file: LockFile, platform: str = None, python: str = None
                    ) -> Optional[Lock]:
        """The stored import of lock_file for platform, or None: reads, never takes in."""
        platform = check_platform(platform or host_platform())
        return self.store.envs.resolution(self._lock_request(lock_file, python)[0], platform)

    def lock_from_file(self, lock_file: LockFile, platform: str = None, python: str = None
                       ) -> Lock:
        """The Lock a lock file pins for platform, storing nothing (a dry run, a diff)."""
        platform = check_platform(platform or host_platform())
        return self._lock_from(lock_file, platform, *self._lock_request(lock_file, python))

    def _lock_request(self, lock_file: LockFile, python: Optional[str]):
        """(req_id, Python constraint) of taking lock_file in: its digest, the Python it is
        taken in for (PyPI locks) and, when its files are found on an index, the index
        settings. The same on every machine."""
        if lock_file.brings_python:
            if python:
                raise SpecError("a Python version (%s) does not apply: this %s brings its own "
                                "(its python package)" % (python, lock_file.kind),
                                file=lock_file.origin)
            constraint = None
        else:
            constraint = python or lock_file.python
            if constraint is None:
                default = self.default_python()
                fits = lock_file.requires_python is None or Version(default + ".0") in \
                    python_specifier(lock_file.requires_python)
                constraint = default if fits else lock_file.requires_python
        identity = {"lock": lock_file.digest, "python": constraint}
        if lock_file.uses_index:
            identity["index"] = self._index_spec().identity()
        blob = json.dumps(identity, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:32], constraint

    def _index_spec(self) -> Spec:
        s = self.settings
        return Spec(index_url=s.index_url, extra_index_urls=s.extra_index_urls,
                    find_links=s.find_links, index_names=s.index_names, no_index=s.no_index,
                    trusted_hosts=s.trusted_hosts, origin="the index settings")

    def _lock_from(self, lock_file: LockFile, platform: str, req_id: str,
                   constraint: Optional[str]) -> Lock:
        from .lockfiles.fetching import IndexFetcher

        python = lock_file.python_version(platform)
        if python is None:
            python = self.finder.find(constraint).version
        target = Target(platform, python)
        with self.progress.task("Taking in %s for %s" % (lock_file.origin, platform)), \
                self.using_cache():
            fetcher = IndexFetcher(self.uv, self.cache, self.finder, self._index_spec(),
                                   self.credentials, self.settings.environ)
            files = tuple(lock_file.files_for(target, fetcher))
        return Lock(req_id, platform, python, files,
                    lock_file.recorded_identity(files, target.python_minor))

    # -- publishing ---------------------------------------------------------------

    def publish(self, lock: Lock, spec: Spec, repair: bool = False) -> None:
        """Packages first, then the env record, then the req_id pointer: nothing in the
        store ever refers to a file the store does not have. With repair, every package
        is uploaded again (from a verified local copy), mending damaged blobs, and a
        damaged env record is rewritten."""
        missing = [f for f in lock.files if repair or not self.store.packages.has(f)]
        access = IndexAccess.for_spec(spec, self.credentials)
        if missing:
            known = sum(f.size or 0 for f in missing) or None

            def done(meter, file, path) -> None:
                size = os.path.getsize(path)
                if file.size is None:
                    meter.add_bytes_total(size)
                meter.advance(size)
                meter.item_done()

            def fetch(file):
                path = self.cache.package_path(file)
                if not is_intact(path, file):
                    download_locked(file, path, access)
                done(meter, file, path)
                return path

            def upload(file, path):
                self.store.packages.upload(file, path)
                done(meter, file, path)

            with self.using_cache():
                # Every file verified here before any reaches the store: a file that fails
                # its sha256 leaves the store as it was.
                with self.progress.meter("Downloading %d package files" % len(missing),
                                         total_bytes=known, total_items=len(missing)) as meter, \
                        ThreadPoolExecutor(max_workers=8) as pool:
                    paths = list(pool.map(fetch, missing))
                with self.progress.meter("Caching %d package files in %s" % (
                        len(missing), self.store.url), total_bytes=known,
                        total_items=len(missing)) as meter, \
                        ThreadPoolExecutor(max_workers=8) as pool:
                    list(pool.map(upload, missing, paths))
        self.store.envs.put(lock, repair=repair)
        self.store.envs.set_resolution(lock.req_id, lock.platform, lock.full_id)

    # -- naming -------------------------------------------------------------------

    def missing_files(self, lock: Lock) -> List:
        """The package files of lock that the store lacks (existence only: no download)."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            present = list(pool.map(self.store.packages.has, lock.files))
        return [f for f, ok in zip(lock.files, present) if not ok]

    def check_whole(self, lock: Lock) -> None:
        """Every package of lock is in the store."""
        lost = self.missing_files(lock)
        if lost:
            raise IntegrityError(
                "environment %s cannot be named: %d of its package files are missing from "
                "the store at %s (%s)" % (lock.full_id, len(lost), self.store.url,
                                         ", ".join(f.filename for f in lost[:5])),
                hint="Publish them again: metaflow environment resolve --force with the same "
                     "requirements.")

    def set_alias(self, alias: str, locks: Sequence[Lock], who: str = None,
                  repair: bool = False) -> bool:
        parsed = Alias.parse(alias)
        for lock in locks:
            self.store.envs.get(lock.full_id)  # only published envs can be named
            self.check_whole(lock)
        req_ids = {lock.req_id for lock in locks}
        return self.store.aliases.set(parsed, sorted(req_ids)[0],
                                      {l.platform: l.full_id for l in locks},
                                      who or self.settings.acting_user, repair=repair)

    def restore_alias(self, alias: str, who: str = None) -> Dict[str, str]:
        """Move a mutable alias back to where it pointed before its last move."""
        parsed = Alias.parse(alias)
        record = self.store.aliases.get(parsed)
        previous = record.history[-1].get("previous") if record.history else None
        if not parsed.mutable:
            raise AliasError("this tag is immutable: it has never moved", alias=alias)
        if not previous:
            raise AliasError("it has no earlier target to restore", alias=alias)
        locks = [self.store.envs.get(full_id) for full_id in previous.values()]
        for lock in locks:
            self.check_whole(lock)
        self.store.aliases.set(parsed, locks[0].req_id, previous,
                               who or self.settings.acting_user, replace=True)
        return previous

    def alias_record(self, alias: str) -> AliasRecord:
        return self.store.aliases.get(Alias.parse(alias))

    def aliases(self, under: str = ""):
        """(records, damaged) under a prefix such as 'team/': damaged records are reported,
        not fatal."""
        records, damaged = [], []
        for item in self.store.aliases.scan(under.strip("/")):
            (damaged if isinstance(item, DamagedRecord) else records).append(item)
        return sorted(records, key=lambda r: r.alias), damaged

    def lookup(self, ref: str, platform: str = None) -> Lock:
        """The lock an alias or full id names, for platform (default: this machine's)."""
        platform = platform or host_platform()
        if is_full_id(ref):
            return self.store.envs.get(ref)
        record = self.alias_record(ref)
        try:
            return self.store.envs.get(record.full_id_for(platform))
        except EnvNotFound as exc:
            raise exc.within(alias=record.alias) from None

    def lookup_all(self, ref: str) -> Dict[str, Lock]:
        if is_full_id(ref):
            lock = self.store.envs.get(ref)
            return {lock.platform: lock}
        record = self.alias_record(ref)
        try:
            return {p: self.store.envs.get(f) for p, f in record.envs.items()}
        except EnvNotFound as exc:
            raise exc.within(alias=record.alias) from None

    def find_resolution(self, spec: Spec, platform: str = None) -> Optional[Lock]:
        """The published resolution of spec for platform, or None: reads, never resolves."""
        return self.store.envs.resolution(self.request(spec).req_id,
                                          check_platform(platform or host_platform()))

    # -- creating -----------------------------------------------------------------

    def using_cache(self):
        """Hold this machine's cache while its packages are read or written (gc waits)."""
        return self.cache.using(self.settings.lock_timeout, self.log)

    def local_copies(self, files) -> List[Path]:
        """Verified local copies of locked files, from the cache or the store."""
        with self.using_cache():
            return self.creator.local_copies(files)

    def created_here(self, lock: Lock) -> Optional[Path]:
        """The prefix of lock's environment in this machine's cache, if it is complete."""
        prefix = self.cache.env_prefix(lock.full_id)
        return prefix if completed_id(prefix) == lock.full_id else None

    def create(self, lock: Lock, dest: Path = None, replace: bool = False) -> Path:
        """The prefix of lock's environment, created if needed. One in the cache is held
        in use until this process ends (gc never removes it meanwhile)."""
        if lock.platform != host_platform():
            raise EnvNotFound("environment %s is for %s; this machine is %s"
                              % (lock.full_id, lock.platform, host_platform()))
        if dest is not None:
            return self.creator.create(lock, dest, replace)
        for _attempt in range(3):
            prefix = self.creator.create(lock)
            if self.holds.hold(prefix) and completed_id(prefix) == lock.full_id:
                return prefix
        raise CreateError("environment %s was removed three times while it was being "
                          "created" % lock.full_id,
                          hint="Is a metaflow environment gc running in a loop? Stop it.")

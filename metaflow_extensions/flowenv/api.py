"""flowenv from Python: what `metaflow environment ...` does, as calls with typed results,
for CI pipelines and notebooks.

    from metaflow_extensions.flowenv.api import EnvironmentAPI

    api = EnvironmentAPI()        # Metaflow's configured datastore, profile and settings
    latest = api.resolve(requirements="requirements.txt", aliases=["team/app:latest"])
    api.alias("team/app:latest", "team/app:candidate")
    for line in api.diff("team/app:stable", "team/app:candidate").lines():
        print(line)                      # ~ alpha 1.0.0 (wheel) -> 2.0.0 (wheel)

Results are flowenv's own types (`flowenv.Lock`, `flowenv.diff.EnvDiff`,
`flowenv.store.AliasRecord` / `AliasMove`, ...) or the small ones below. Errors are
`flowenv.errors.FlowenvError`s: what went wrong, where, and what to do. A flow's own step
environments are reached through Metaflow's Runner: `Runner("flow.py").environment()`
(plugins/runner_environment.py).
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from flowenv.errors import AliasError, DamagedRecord, SpecError
from flowenv.lock import Lock

DEFAULT_GC_DAYS = 30


@dataclass(frozen=True)
class Named:
    """An alias set (or already set) to environments."""

    alias: str
    changed: bool  # False when it already pointed there
    envs: Dict[str, str]  # platform -> environment id


@dataclass(frozen=True)
class Resolution:
    locks: Tuple[Lock, ...]  # one per platform asked for
    named: Tuple[Named, ...]
    dry_run: bool = False  # resolved only: nothing stored, nothing named
    lock_file: Optional[str] = None  # the lock file taken in (not resolved), if any

    def lock(self, platform: str = None) -> Lock:
        """The lock for platform (the only one when there is one)."""
        if platform is None and len(self.locks) == 1:
            return self.locks[0]
        for lock in self.locks:
            if lock.platform == platform:
                return lock
        raise KeyError("no resolution for %s (have %s)" % (
            platform, ", ".join(l.platform for l in self.locks)))


@dataclass(frozen=True)
class Created:
    """An environment created on this machine."""

    prefix: Path
    lock: Lock
    kernel_added: bool = False  # it lacked ipykernel: lock extends the one asked for with it
    activate: Optional[Path] = None  # a past step into a folder: the script to source
    has_code: bool = False  # ... and whether its run's code package was unpacked there
    variables: Dict[str, str] = field(default_factory=dict)  # what the script sets


@dataclass(frozen=True)
class AliasListing:
    records: tuple  # AliasRecord, by alias
    damaged: Tuple[DamagedRecord, ...]  # records that could not be read, reported not fatal


@dataclass(frozen=True)
class SettingValue:
    name: str  # FLOWENV_X (or the foreign variable a setting shares)
    value: str  # as shown: secrets hidden
    source: str  # "default", the variable, or the profile file it came from
    help: str


def _one_source(ref, pathspec):
    if bool(ref) == bool(pathspec):
        raise AliasError("give an environment (an alias or an id) or a pathspec "
                         "(Flow/Run/Step), not both and not neither")


def _names(value: Union[str, Iterable[str], None]) -> List[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class EnvironmentAPI:
    """The `metaflow environment` commands over one store.

    datastore: local, s3, gs or azure (default: Metaflow's configured one); the store is
    `<datastore root>/flowenv` unless FLOWENV_STORE says otherwise. verbose: debug lines
    on stderr (as --verbose). settings: flowenv settings by field name, overriding the
    environment and the profile (store_url="s3://bucket/flowenv", cache_dir=...).
    progress: a flowenv.progress.Progress (default: on stderr when it is a terminal).
    warn: called with what a requirements file holds that flowenv ignores (default: a
    Python warning).
    """

    def __init__(self, datastore: str = None, verbose: bool = False, progress=None,
                 warn=None, **settings):
        self.datastore = datastore
        self._warn = warn
        self._overrides = dict(settings, **({"debug": True} if verbose else {}))
        self._progress = progress
        self._settings = None
        self._envs = None

    @property
    def settings(self):
        """flowenv.Settings: the environment, the Metaflow profile, then the overrides."""
        if self._settings is None:
            from .plugins.config import metaflow_settings

            self._settings = metaflow_settings(**self._overrides)
        return self._settings

    def _datastore(self) -> str:
        from metaflow.metaflow_config import DEFAULT_DATASTORE

        return self.datastore or DEFAULT_DATASTORE

    @property
    def envs(self):
        """The core's flowenv.Environments: everything else is built on it."""
        if self._envs is None:
            from .plugins.store_location import open_environments

            self._envs = open_environments(self._datastore(), None, self._progress,
                                           self.settings)
        return self._envs

    @property
    def store_url(self) -> str:
        """Where the environments are stored (the store is not opened)."""
        from .plugins.store_location import store_url

        return store_url(self._datastore(), self.settings)

    # -- resolving and naming -----------------------------------------------------------

    def resolve(self, requirements: str = None, environment_file: str = None,
                pyproject: str = None, python: str = None, aliases: Sequence[str] = (),
                arches: Sequence[str] = (), using: str = None, from_env: str = None,
                force: bool = False, dry_run: bool = False, lock: str = None,
                lock_beside: bool = True, extras: Sequence[str] = (),
                groups: Sequence[str] = (), default_groups: bool = True,
                allow_empty: bool = False, per_platform: bool = False) -> Resolution:
        """Resolve requirements (one file: requirements.txt, environment.yml or
        pyproject.toml; or from_env's recorded requirements; using extends an environment
        keeping its pins) for each of arches (default: this machine), cache the packages
        in the store and name the result. dry_run stores and names nothing; allow_empty
        allows an environment of Python alone.

        lock: take the environment in as a lock file pins it (uv.lock, pylock.toml, hashed
        requirements, conda-lock.yml, @EXPLICIT; extras, groups and default_groups select
        its parts), without resolving; a pyproject.toml with a uv.lock beside it is taken
        in that way too, unless lock_beside is False.

        Several arches are resolved together, one version of each package they share
        (flowenv/resolve/together.py); per_platform resolves each on its own."""
        from flowenv.refs import Alias

        aliases = _names(aliases)
        for alias in aliases:
            Alias.parse(alias)
        lock_file, lock_path = self._lock_file(lock, pyproject, lock_beside, extras, groups,
                                               default_groups,
                                               (requirements, environment_file, from_env, using))
        if lock_file is not None:
            platforms = list(arches) or list(lock_file.platforms() or [None])
            if dry_run:
                return Resolution(tuple(self.envs.lock_from_file(lock_file, p, python)
                                        for p in platforms), (), True, lock_path)
            locks = [self.envs.import_lock(lock_file, p, python, force=force)
                     for p in platforms]
            return Resolution(tuple(locks), tuple(self._name(a, locks, force) for a in aliases),
                              False, lock_path)
        spec = self._spec(requirements, environment_file, pyproject, python, from_env)
        if using:
            spec = spec.replace(base=self.envs.lookup(using).full_id)
        if spec.is_empty and not (allow_empty or from_env):
            given = requirements or environment_file or pyproject
            if given:
                raise SpecError("it asks for no packages, so it would name an empty environment",
                                file=given, hint="Add requirements, or pass --allow-empty "
                                "(allow_empty=True) to resolve an environment with Python alone.")
            raise SpecError("nothing to resolve", hint="Give -r requirements.txt, -f "
                            "environment.yml, -p pyproject.toml, --lock FILE, --from ALIAS or "
                            "--using ALIAS (or --allow-empty for Python alone).")
        platforms = list(dict.fromkeys(arches)) or [None]
        if len(platforms) > 1 and not per_platform:
            locks = self.envs.resolve_together(spec, platforms, force=force, store=not dry_run)
        elif dry_run:
            locks = [self.envs.solve_only(spec, p) for p in platforms]
        else:
            locks = [self.envs.resolve(spec, p, force=force) for p in platforms]
        if dry_run:
            return Resolution(tuple(locks), (), True)
        named = tuple(self._name(alias, locks, force) for alias in aliases)
        return Resolution(tuple(locks), named)

    def _lock_file(self, path, pyproject, beside, extras, groups, default_groups, others):
        """(LockFile, its path) to take in: the one given, or the uv.lock beside a
        pyproject.toml; (None, None) to resolve."""
        from flowenv.lockfiles import lock_beside, read_lock_file

        if path and (pyproject or any(others)):
            raise SpecError("a lock file gives the environment as it pins it: give it alone, "
                            "without requirements, a pyproject.toml or a starting environment",
                            file=str(path))
        if not path and pyproject and beside and not any(others):
            path = lock_beside(pyproject)
        if not path:
            if extras or groups or not default_groups:
                raise SpecError("extras, groups and default groups select parts of a lock "
                                "file: give one")
            return None, None
        return read_lock_file(path, extras=extras, groups=groups, default_groups=default_groups,
                              environ=self.envs.settings.environ), str(path)

    def _spec(self, requirements, environment_file, pyproject, python, from_env):
        from flowenv.parsers import parse_file
        from flowenv.spec import Spec

        given = [(path, kind) for path, kind in ((requirements, "requirements"),
                                                  (environment_file, "environment"),
                                                  (pyproject, "pyproject")) if path]
        if len(given) + bool(from_env) > 1:
            raise SpecError("give one source of requirements, not several: %s" % ", ".join(
                [str(p) for p, _ in given] + (["the environment " + from_env] if from_env else [])))
        if from_env:
            source = self.envs.lookup_all(from_env)
            spec = Spec.from_identity(next(iter(source.values())).spec, origin=from_env)
            return spec.replace(python=python) if python else spec
        if given:
            path, kind = given[0]
            spec = parse_file(path, kind, python=python, environ=self.envs.settings.environ,
                              warn=self._warn)
            if kind == "requirements" and spec.channels:
                # --conda-channel adds channels, as for the reference: the defaults stay.
                spec = spec.replace(channels=spec.channels + tuple(
                    c for c in self.settings.conda_channels if c not in spec.channels))
            return spec
        return Spec(python=python, origin="command line")

    def _name(self, alias: str, locks: Sequence[Lock], force: bool) -> Named:
        changed = self.envs.set_alias(alias, locks, repair=force)
        return Named(alias, changed, {l.platform: l.full_id for l in locks})

    def alias(self, source: str = None, to: Union[str, Sequence[str]] = (),
              pathspec: str = None, force: bool = False) -> List[Named]:
        """Point each alias of `to` at what source (an alias or an environment id) points
        to, or at the environment the past step `pathspec` (Flow/Run/Step) ran in. force
        rewrites an alias record that is damaged."""
        names = _names(to)
        if not names:
            raise AliasError("no alias to set", hint="Name one, such as team/env:v1.")
        locks = list(self._locks(source, pathspec).values())
        return [self._name(name, locks, force) for name in names]

    def restore(self, alias: str) -> Named:
        """Move a mutable alias back to where it pointed before its last move."""
        return Named(alias, True, self.envs.restore_alias(alias))

    # -- looking -------------------------------------------------------------------------

    def _locks(self, ref: Optional[str], pathspec: Optional[str]) -> Dict[str, Lock]:
        """platform -> Lock of an alias or id, or of the environment a past step ran in."""
        from flowenv import expand_vars

        _one_source(ref, pathspec)
        environ = self.envs.settings.environ
        if pathspec:
            from .plugins.task_metadata import env_id_of_pathspec

            pathspec = expand_vars(pathspec, "pathspec", environ)
            lock = self.envs.lookup(env_id_of_pathspec(pathspec, "pathspec"))
            return {lock.platform: lock}
        return self.envs.lookup_all(expand_vars(ref, "environment", environ))

    def show(self, ref: str = None, pathspec: str = None) -> Dict[str, Lock]:
        """platform -> Lock of an alias or environment id, or of a past step's environment."""
        return self._locks(ref, pathspec)

    def lock(self, ref: Union[str, Lock], arch: str = None) -> Lock:
        """The Lock of an alias or environment id for arch (default: this machine's), or
        what a lock file (an existing file) pins, read without storing; a Lock is
        returned as it is."""
        import os

        if isinstance(ref, Lock):
            return ref
        if os.path.isfile(ref):
            from flowenv.lockfiles import read_lock_file

            lock_file = read_lock_file(ref, environ=self.envs.settings.environ)
            return self.envs.lock_from_file(lock_file, arch)
        return self.envs.lookup(ref, arch)

    def list(self, prefix: str = "") -> AliasListing:
        records, damaged = self.envs.aliases(prefix)
        return AliasListing(tuple(records), tuple(damaged))

    def history(self, alias: str):
        """The moves of an alias, oldest first (flowenv.store.AliasMove)."""
        return self.envs.alias_record(alias).moves

    def diff(self, old: Union[str, Lock], new: Union[str, Lock], arch: str = None):
        """Packages added, removed and changed from old to new (aliases, ids, lock files
        or Locks), as a flowenv.diff.EnvDiff."""
        from flowenv.diff import diff_locks

        return diff_locks(self.lock(old, arch), self.lock(new, arch))

    def export(self, ref: str, fmt: str = "requirements", arch: str = None) -> str:
        """The environment as a pinned requirements.txt, a PEP 751 pylock.toml ("pylock"),
        a conda @EXPLICIT list ("explicit") or a conda-lock.yml ("conda-lock": every
        platform of an alias unless arch is given)."""
        from flowenv import exporters

        if fmt == "conda-lock" and not arch:
            locks = list(self.envs.lookup_all(ref).values())
        else:
            locks = [self.envs.lookup(ref, arch)]
        return exporters.export(locks, fmt, md5_of=self._md5)

    def _md5(self, file) -> str:
        """The md5 of a locked file, from its verified local copy (records written before
        flowenv kept conda md5s lack it)."""
        import hashlib

        (path,) = self.envs.local_copies([file])
        digest = hashlib.md5()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    # -- this machine -------------------------------------------------------------------

    def get(self, ref: str) -> Path:
        """The environment created in this machine's cache (from the store), its path."""
        return self.envs.create(self.envs.lookup(ref))

    def create(self, ref: str, into_dir: Union[str, Path] = None, replace: bool = False
               ) -> Path:
        """The environment created in into_dir (default: the cache); replace allows
        replacing another flowenv environment there, never a folder flowenv did not make."""
        return self.create_env(ref, into_dir, replace).prefix

    def create_env(self, ref: str = None, into_dir: Union[str, Path] = None,
                   replace: bool = False, pathspec: str = None, kernel: bool = False
                   ) -> Created:
        """The environment of ref (an alias or id), or of the past step pathspec, created
        in into_dir (default: the cache). With pathspec and into_dir, a past step on this
        machine: its environment in into_dir/.venv, its run's code package unpacked in
        into_dir (a new or empty folder) and into_dir/activate. kernel: ipykernel is
        added (a derived environment, stored like any) when the environment lacks it."""
        _one_source(ref, pathspec)
        if pathspec:
            pathspec = self._expanded(pathspec)
            (lock,) = self._locks(None, pathspec).values()
        else:
            lock = self.envs.lookup(self._expanded(ref))
        added = False
        if kernel:
            from flowenv.notebook import with_kernel

            lock, added = with_kernel(self.envs, lock)
        if not (pathspec and into_dir):
            prefix = self.envs.create(lock, Path(into_dir).resolve() if into_dir else None,
                                      replace)
            return Created(prefix, lock, added)
        folder = Path(into_dir).resolve()
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise SpecError("the step's code is unpacked there, so it must be a new or empty "
                            "folder", file=str(folder), hint="Choose another --into-dir.")
        prefix = self.envs.create(lock, folder / ".venv", replace)
        return self._step_copy(pathspec, folder, prefix, lock, added)

    def _expanded(self, ref: str) -> str:
        from flowenv import expand_vars

        return expand_vars(ref, "environment", self.envs.settings.environ)

    def _step_copy(self, pathspec, folder, prefix, lock, added) -> Created:
        """The step's code unpacked in folder, and folder/activate that puts it and the
        environment (and Metaflow's own needs) on the paths."""
        from flowenv.activation import write_activation_script

        from .plugins.code_package import extract_step_code
        from .plugins.runtime_support import support_path

        code = extract_step_code(pathspec, folder)
        variables = dict(code or {})
        variables["PYTHONNOUSERSITE"] = "1"
        variables["FLOWENV_SITE_APPEND"] = support_path(self.envs, self._datastore(),
                                                        lock.python_minor, lock.platform)
        script = write_activation_script(folder / "activate", prefix, variables,
                                         "the environment and code of step %s" % pathspec)
        return Created(prefix, lock, added, script, code is not None, variables)

    def gc(self, older_than_days: float = DEFAULT_GC_DAYS, dry_run: bool = False):
        """Remove environments, package files and extracted code unused for
        older_than_days from this machine's cache, never one in use; a
        flowenv.cleanup.CleanupReport of what was (or, dry, would be) freed."""
        from flowenv.cache import LocalCache
        from flowenv.cleanup import collect
        from flowenv.debuglog import debug_log

        if not older_than_days >= 0:
            raise SpecError("older_than_days must be 0 or more, not %r" % (older_than_days,))
        return collect(LocalCache(self.settings.cache_dir), older_than_days, dry_run,
                       log=debug_log(self.settings.debug))

    def config(self) -> List[SettingValue]:
        """Every flowenv setting: its effective value and where it came from."""
        from flowenv.settings import DEFINITIONS

        helps = {d.name: d.help for d in DEFINITIONS}
        return [SettingValue(name, value, source, helps[name])
                for name, value, source in self.settings.describe()]

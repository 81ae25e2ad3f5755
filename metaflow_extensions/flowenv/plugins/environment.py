"""`--environment=conda`: every step runs in its own resolved environment, made by flowenv."""

import inspect
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from metaflow.metaflow_environment import MetaflowEnvironment

from .decorators import ENV_VAR_ALIAS, ENV_VAR_ID
from . import remote
from .code_package import extracted_code_env, flowenv_files
from .config import metaflow_settings
from .errors import FlowenvException, user_errors
from .runtime_support import support_path
from .task_metadata import env_id_of_pathspec


# The target_platform Metaflow's compute decorators give when none was chosen.
METAFLOW_DEFAULT_TARGET = "linux-64"


class FlowenvEnvironment(MetaflowEnvironment):
    TYPE = "conda"

    def __init__(self, flow):
        super().__init__(flow)
        self.flow = flow
        self.datastore_type = "local"
        self._echo = None
        self._envs = None
        self._settings = None
        self._plans = None
        self._resolved = {}  # step -> (Lock, alias shown to the user or None)
        self._imported = {}  # (LockRef, platform) -> Lock: each lock file read once a run
        self._import_lock = threading.Lock()
        self._code_env = None  # set once per run by prepare_code
        self._support = {}  # (python minor, platform) -> Metaflow's runtime needs
        self._setting_overrides = {}  # from command-line options (environment --verbose)

    def decospecs(self):
        return ("named_env",) + super().decospecs()

    def validate_environment(self, logger, datastore_type):
        self.datastore_type = datastore_type
        self._echo = logger

    # -- planning and resolving (launcher only) ----------------------------------------

    def environments(self):
        if self._envs is None:
            from metaflow.cli_args import cli_args

            from flowenv.progress import QUIET, EchoProgress, Progress
            from .store_location import open_environments

            # Phases through Metaflow's logger, live figures on a terminal; none with
            # `python flow.py --quiet ...`.
            if (cli_args.top_kwargs or {}).get("quiet"):
                progress = Progress(mode=QUIET)
            elif self._echo:
                progress = EchoProgress(self._echo)
            else:
                progress = Progress()
            self._envs = open_environments(self.datastore_type, self._echo, progress,
                                           self.settings())
        return self._envs

    def settings(self):
        """Read once, without opening the store (which steps are remote needs them)."""
        if self._settings is None:
            with user_errors():
                self._settings = metaflow_settings(**self._setting_overrides)
        return self._settings

    def override_settings(self, **overrides):
        """Settings given on the command line, over the environment and the profile."""
        self._setting_overrides.update(overrides)
        self._envs = self._settings = None

    def plans(self):
        if self._plans is None:
            from .step_plan import plan_step

            settings = self.settings()
            flow_dir = os.path.dirname(os.path.abspath(inspect.getfile(type(self.flow))))
            with user_errors():
                self._plans = {
                    step.name: plan_step(self.flow.name, self.flow._flow_decorators,
                                         step.name, step.decorators, settings.environ, flow_dir,
                                         settings.gpu_virtual_packages, settings.conda_channels)
                    for step in self.flow
                }
            self._say_deprecations(self._plans.values())
        return self._plans

    def _say_deprecations(self, plans):
        """Each deprecated spelling once, with every place it is written."""
        places = {}
        for plan in plans:
            for d in plan.deprecations:
                places.setdefault((d.spelling, d.instead), set()).add(d.where)
        for (spelling, instead), where in sorted(places.items()):
            line = "flowenv: %s is deprecated (%s): write %s instead" % (
                spelling, ", ".join(sorted(where)), instead)
            if self._echo is not None:
                self._echo(line, bad=True)
            else:
                print(line, file=sys.stderr)

    def lock_for_reference(self, plan, platform=None, lock_files="import", task_values=None):
        """The lock a named_env / named_env_base reference points to, right now. A lock=
        file is taken in ("import": stored, once per run), only read ("read": a dry run),
        or looked up in the store ("find": None when it was never taken in). @{VAR} also
        knows task_values (a fetch_at_exec reference, per task)."""
        from flowenv import expand_vars
        from flowenv.errors import FlowenvError

        envs = self.environments()
        environ = dict(envs.settings.environ, **(task_values or {}))
        try:
            if plan.lock:
                return self._lock_file_env(plan.lock, platform, lock_files), None
            if plan.name:
                name = expand_vars(plan.name, plan.source, environ)
                return envs.lookup(name, platform), name
            pathspec = expand_vars(plan.pathspec, plan.source, environ)
            lock = envs.lookup(env_id_of_pathspec(pathspec, plan.source))
        except FlowenvError as exc:  # say which decorator asked for it
            raise exc.within(decorator=plan.decorator, step=plan.step) from None
        if platform and lock.platform != platform:
            raise FlowenvException(
                "%s: %s ran on %s; step %s needs %s. Name its environment and add the "
                "platform: metaflow environment alias --pathspec %s --alias NAME, then "
                "metaflow environment resolve --from NAME --arch %s --alias NAME"
                % (plan.source, pathspec, lock.platform, plan.step, platform, pathspec, platform))
        return lock, None

    def _lock_file_env(self, ref, platform, how):
        """The environment a lock file pins for platform; taken in once per run."""
        from flowenv.lockfiles import read_lock_file
        from flowenv.platforms import host_platform

        envs = self.environments()
        key = (ref, platform or host_platform())

        def read():
            return read_lock_file(ref.path, extras=ref.extras, groups=ref.groups,
                                  environ=envs.settings.environ)

        if how == "read":
            return envs.lock_from_file(read(), key[1])
        if how == "find":
            return self._imported.get(key) or envs.find_import(read(), key[1])
        with self._import_lock:
            if key not in self._imported:
                self._imported[key] = envs.import_lock(read(), key[1])
            return self._imported[key]

    def remote_decorator(self, step_name):
        """The decorator that runs step_name on another machine: one named in the setting
        FLOWENV_REMOTE_DECORATORS, or one that says it supports conda environments (as
        Metaflow's compute decorators do); None for a local step."""
        names = set(self.settings().remote_decorators)
        step = next(s for s in self.flow if s.name == step_name)
        for deco in step.decorators:
            if deco.name in names or getattr(deco, "supports_conda_environment", False) is True:
                return deco
        return None

    def is_remote(self, step_name):
        return self.remote_decorator(step_name) is not None

    def platform_for(self, step_name):
        """A remote step's platform is the one its compute decorator targets (its
        target_platform: OSS @kubernetes takes METAFLOW_KUBERNETES_CONDA_ARCH), else
        FLOWENV_REMOTE_PLATFORM; a local step's is this machine's. `linux-64` is what
        Metaflow's decorators say when nobody chose (OSS @batch always, @kubernetes without
        METAFLOW_KUBERNETES_CONDA_ARCH): there FLOWENV_REMOTE_PLATFORM decides."""
        from flowenv.platforms import SUPPORTED, host_platform

        deco = self.remote_decorator(step_name)
        if deco is None:
            return host_platform()
        target = getattr(deco, "target_platform", None)
        if not target or target == METAFLOW_DEFAULT_TARGET:
            return self.settings().remote_platform
        if target not in SUPPORTED:
            raise FlowenvException(
                "@%s on step %s targets platform %r, which flowenv cannot resolve for "
                "(it knows %s)%s" % (deco.name, step_name, target, ", ".join(SUPPORTED),
                                     ": check METAFLOW_KUBERNETES_CONDA_ARCH"
                                     if deco.name == "kubernetes" else ""))
        return target

    def resolve_step(self, plan, force=False, platform=None, dry_run=False):
        """(lock, alias shown) of a step with a fixed environment, for platform (default:
        where the step runs); dry_run resolves without storing anything."""
        envs = self.environments()
        platform = platform or self.platform_for(plan.step)

        def resolve(spec):
            if dry_run:
                return envs.solve_only(spec, platform)
            return envs.resolve(spec, platform, force=force)

        if plan.reference:
            base, alias = self.lock_for_reference(plan, platform,
                                                  "read" if dry_run else "import")
            if plan.spec is None:
                return base, alias
            return resolve(plan.spec.replace(base=base.full_id)), None
        return resolve(plan.spec), None

    def resolve_steps(self, only_steps=None, force=False):
        """(step -> (lock, alias)) for every step that has a fixed environment."""
        plans = [p for p in self.plans().values()
                 if not p.disabled and not p.fetch_at_exec
                 and (only_steps is None or p.step in only_steps)]
        with user_errors(), ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda p: self.resolve_step(p, force), plans))
        resolved = {p.step: r for p, r in zip(plans, results)}
        self._resolved.update(resolved)
        return resolved

    def init_environment(self, echo, only_steps=None):
        resolved = self.resolve_steps(only_steps)
        local = {lock.full_id: lock for step, (lock, _) in resolved.items()
                 if not self.is_remote(step)}
        with user_errors(), ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda lock: self.environments().create(lock), local.values()))
        plans = self.plans()
        order = getattr(self.flow._graph, "sorted_nodes", None) or list(plans)
        for step in order:
            if step in plans:
                echo(self.describe(plans[step]), fg="magenta", bold=False)

    def describe(self, plan):
        if plan.disabled:
            return "  %s: launching Python (%s)" % (plan.step, plan.source)
        if plan.fetch_at_exec:
            return "  %s: %s, looked up when each task starts" % (plan.step, plan.reference)
        lock, alias = self._resolved[plan.step]
        named = " = " + alias if alias else ""
        if plan.lock and not plan.spec:
            named = " from %s" % os.path.basename(plan.lock.path)
        return "  %s: environment %s%s (Python %s, %d packages)" % (
            plan.step, lock.full_id[:12], named, lock.python, len(lock.files))

    def locate(self, step_name, task_values=None):
        """(interpreter, env vars) for a local task of step_name, or None to keep the
        launching Python. fetch_at_exec references are looked up here, per task, with
        task_values() (the task's ids and parameters) known to @{VAR}."""
        plan = self.plans()[step_name]
        if plan.disabled:
            return None
        with user_errors():
            if plan.fetch_at_exec:
                lock, alias = self.lock_for_reference(
                    plan, task_values=task_values() if task_values else None)
            elif step_name in self._resolved:
                lock, alias = self._resolved[step_name]
            else:
                lock, alias = self.resolve_steps([step_name])[step_name]
            prefix = self.environments().create(lock)
            support = self._support_path(lock)
        env = {ENV_VAR_ID: lock.full_id, "FLOWENV_SITE_APPEND": support}
        if alias:
            env[ENV_VAR_ALIAS] = alias
        return os.path.join(str(prefix), "bin", "python"), env

    def _support_path(self, lock):
        """Metaflow's runtime needs for lock's Python: found once per run, not per task."""
        key = (lock.python_minor, lock.platform)
        if key not in self._support:
            self._support[key] = support_path(self.environments(), self.datastore_type,
                                              lock.python_minor, lock.platform)
        return self._support[key]

    # -- remote tasks: the container creates the env from the store --------------------

    def _remote_plan(self, step_name):
        plan = self.plans().get(step_name)
        if plan is None or plan.disabled or not self.is_remote(step_name):
            return None
        return plan

    def _fetched_env_shape(self, plan, platform):
        """(python minor, needs conda tools) of what a fetch_at_exec alias points to now;
        when it cannot be known at deploy time, the launcher's Python and both toolsets."""
        from flowenv.errors import FlowenvError

        try:
            lock, _ = self.lock_for_reference(plan, platform)
        except (FlowenvError, FlowenvException):
            return self.environments().default_python(), True
        return lock.python_minor, bool(lock.by_kind("conda"))

    def executable(self, step_name, default=None):
        if self._remote_plan(step_name) is None:
            return super().executable(step_name, default)
        return remote.STEP_PYTHON

    def bootstrap_commands(self, step_name, datastore_type):
        plan = self._remote_plan(step_name)
        if plan is None:
            return super().bootstrap_commands(step_name, datastore_type)
        from flowenv.spec import Spec
        from flowenv.tools import tools_requirements
        from .store_location import store_url

        with user_errors():
            platform = self.platform_for(step_name)
            fetched = None
            if plan.fetch_at_exec:  # worked out in the container, task by task
                fetched = (self.flow.name, "name" if plan.name else "pathspec")
                ref, alias = plan.name or plan.pathspec, None
                python, conda = self._fetched_env_shape(plan, platform)
            else:
                lock, alias = self._resolved.get(step_name) or self.resolve_steps([step_name])[step_name]
                ref, python, conda = lock.full_id, lock.python_minor, bool(lock.by_kind("conda"))
            tools = self.environments().resolve(
                Spec(pypi=tuple(tools_requirements(conda)), python=python,
                     origin="flowenv's tools"), platform)
            return remote.bootstrap_commands(
                step_name, store_url(datastore_type, self.settings(), self._echo), ref,
                tools.full_id, alias, self.settings().exported(), fetched)

    # -- code package for local tasks --------------------------------------------------

    def add_to_package(self):
        from metaflow.packaging_sys import ContentType

        for path, arcname in flowenv_files():
            yield path, arcname, ContentType.CODE_CONTENT

    def prepare_code(self, package):
        if self._code_env is None:
            self._code_env = extracted_code_env(package, self.environments())

    def code_env_vars(self):
        return dict(self._code_env or {})


class PypiNamedEnvironment(FlowenvEnvironment):
    """`--environment=pypi`, as OSS Metaflow spells it: the same environment."""

    TYPE = "pypi"

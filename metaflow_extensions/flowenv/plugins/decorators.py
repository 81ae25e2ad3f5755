"""The decorators: @conda, @pypi, @named_env, @sys_packages and their flow-level _base
forms, plus @pip / @pip_base (the reference extension's old names of @pypi). They carry
and check attributes; step_plan decides what they mean, and the named_env step decorator
(on every step) drives the step's environment."""

import os
import sys
from collections.abc import Mapping

from metaflow.decorators import FlowDecorator, StepDecorator
from metaflow.metadata_provider import MetaDatum

from flowenv.errors import SpecError  # stdlib only: tasks import this module in their env

from .errors import FlowenvException, user_errors
from .task_metadata import ALIAS_FIELD, ENV_ID_FIELD

ENV_VAR_ID = "FLOWENV_ENV_ID"
ENV_VAR_ALIAS = "FLOWENV_ENV_ALIAS"


# `--environment=pypi` is OSS Metaflow's other name for the same thing.
FLOWENV_ENVIRONMENTS = ("conda", "pypi")


def _require_flowenv(deco_name, environment):
    if environment.TYPE not in FLOWENV_ENVIRONMENTS:
        raise FlowenvException(
            "@%s needs flowenv's environment: run with --environment=conda "
            "(e.g. python flow.py --environment=conda run)" % deco_name
        )


def parameter_values(flow, load):
    """METAFLOW_INIT_<NAME> -> value of each flow parameter; load(var) gives a parameter's
    stored value."""
    from .exec_reference import init_variable

    values = {}
    for var, param in flow._get_parameters():
        if getattr(param, "IS_CONFIG_PARAMETER", False):
            continue
        try:
            value = load(var)
        except (KeyError, AttributeError):
            continue
        if hasattr(param, "load_parameter"):  # IncludeFile: the file's content
            value = param.load_parameter(value)
        if value is not None:
            key, text = init_variable(param.name, value)
            values[key] = text
    return values


# -- argument checks: every argument has a kind, checked with the decorator and step named --


def _flag(value, key, from_command_line):
    if value is None or isinstance(value, bool):
        return value
    # Decorators given with --with arrive as text: true/false, as the command line spells them.
    if from_command_line and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise SpecError("%s must be True or False, not %r" % (key, value))


_EXAMPLES = {"name": "team/env:v1", "pathspec": "Flow/123/step", "lock": "uv.lock"}


def _text(value, key, from_command_line):
    if value is None or value == "" or (from_command_line and value == "None"):
        return None
    if isinstance(value, str):
        return value
    if from_command_line and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # --with named_env:name=123 (a name made of digits)
    raise SpecError("%s must be a string, such as %r, not %r" % (key, _EXAMPLES[key], value))


def _names(value, key, from_command_line):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]  # one name, never split into letters
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise SpecError("%s must be a name or a list of names, not %r" % (key, value))


def _requirements(value, key, from_command_line):
    """{name: version}, or the reference's older list of requirements ['numpy==1.26']."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return _mapping(value, key, from_command_line)


def _mapping(value, key, from_command_line):
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    raise SpecError("%s must be a dict {name: version}, such as {'numpy': '1.26'}, not %r"
                    % (key, value))


_CHECKS = {"flag": _flag, "text": _text, "names": _names, "mapping": _mapping,
           "requirements": _requirements}


class _Arguments:
    """Argument types, checked once Metaflow has given the decorator all its values (in
    flow_init / step_init, so the error can name the step). What the Spec reads (python,
    channels, extra_indices, the package entries) is checked in depth where the Spec is
    built (step_plan), with the decorator and step named too."""

    kinds = {}

    def check_arguments(self, **where):
        from_command_line = not self.statically_defined
        with user_errors():
            for key, kind in self.kinds.items():
                try:
                    self.attributes[key] = _CHECKS[kind](self.attributes.get(key), key,
                                                         from_command_line)
                except SpecError as exc:
                    raise exc.within(decorator=self.name, **where) from None


class _NamedEnvMixin(_Arguments):
    defaults = {"name": None, "pathspec": None, "lock": None, "extras": [], "groups": [],
                "fetch_at_exec": False, "disabled": None}
    kinds = {"name": "text", "pathspec": "text", "lock": "text", "extras": "names",
             "groups": "names", "fetch_at_exec": "flag", "disabled": "flag"}

    def check_reference(self, **where):
        a = self.attributes
        given = [k for k in ("name", "pathspec", "lock") if a[k]]
        with user_errors():
            if len(given) > 1:
                raise SpecError("give one of name=, pathspec= or lock=, not both %s"
                                % " and ".join("%s=%r" % (k, a[k]) for k in given),
                                decorator=self.name, **where)
            if a["fetch_at_exec"] and not (a["name"] or a["pathspec"]):
                raise SpecError("fetch_at_exec=True needs name= or pathspec=%s"
                                % (" (a lock file is read when the run starts)"
                                   if a["lock"] else ""), decorator=self.name, **where)
            for key in ("extras", "groups"):
                if a[key] and not a["lock"]:
                    raise SpecError("%s= selects parts of a lock file: give lock= too" % key,
                                    decorator=self.name, **where)

    @property
    def reference(self):
        return self.attributes["name"] or self.attributes["pathspec"] or self.attributes["lock"]


class _CondaMixin(_Arguments):
    # The reference extension's deprecated arguments are read too (step_plan notes them):
    # pip_packages, pip_sources (now @pypi's), sources (channels), name, pathspec,
    # fetch_at_exec (now @named_env's).
    defaults = {"libraries": {}, "packages": {}, "channels": [], "python": None, "disabled": None,
                "pip_packages": {}, "pip_sources": [], "sources": [], "name": None,
                "pathspec": None, "fetch_at_exec": None}
    kinds = {"libraries": "mapping", "packages": "mapping", "disabled": "flag",
             "pip_packages": "requirements", "pip_sources": "names", "sources": "names",
             "name": "text", "pathspec": "text", "fetch_at_exec": "flag"}
    allow_multiple = True  # several on one step are merged

    def check_arguments(self, **where):
        super().check_arguments(**where)
        # `packages` is OSS Metaflow's spelling for @conda; `libraries` the reference's.
        self.attributes["libraries"].update(self.attributes["packages"])
        self.attributes["packages"] = {}


class _PypiMixin(_Arguments):
    # conda_only: conda packages (ffmpeg) added to the environment; extras: pip options
    # without dashes (["pre"]). Deprecated: sources (extra_indices), name, pathspec,
    # fetch_at_exec (now @named_env's).
    defaults = {"packages": {}, "python": None, "extra_indices": [], "disabled": None,
                "conda_only": {}, "extras": [], "sources": [], "name": None, "pathspec": None,
                "fetch_at_exec": None}
    kinds = {"packages": "mapping", "disabled": "flag", "conda_only": "mapping",
             "extras": "names", "sources": "names", "name": "text", "pathspec": "text",
             "fetch_at_exec": "flag"}
    allow_multiple = True


class _SysPackagesMixin(_Arguments):
    # Virtual packages for the resolution: {"__cuda": "12.2", "__glibc": "2.27"}.
    defaults = {"packages": {}, "disabled": None}
    kinds = {"packages": "mapping", "disabled": "flag"}
    allow_multiple = True


# -- flow level -------------------------------------------------------------------------


class _EnvFlowDecorator(FlowDecorator):
    def flow_init(self, flow, graph, environment, flow_datastore, metadata, logger, echo, options):
        _require_flowenv(self.name, environment)
        self.check_arguments(flow=flow.name)
        # The flow's decorators together are checked when the launcher plans the steps
        # (step_plan): tasks run this in their environment, which may lack flowenv's needs.
        if self.name == "named_env_base":
            self.check_reference(flow=flow.name)


class CondaFlowDecorator(_CondaMixin, _EnvFlowDecorator):
    """Conda packages for every step: libraries={name: version}, channels, python."""

    name = "conda_base"


class PypiFlowDecorator(_PypiMixin, _EnvFlowDecorator):
    """PyPI packages for every step: packages={name: version}, python, extra_indices,
    conda_only={name: version}, extras=[pip options]."""

    name = "pypi_base"


class PipFlowDecorator(PypiFlowDecorator):
    """The reference extension's old name of @pypi_base (deprecated)."""

    name = "pip_base"


class SysPackagesFlowDecorator(_SysPackagesMixin, _EnvFlowDecorator):
    """Virtual packages for every step's resolution: packages={"__cuda": "12.2"}."""

    name = "sys_packages_base"


class NamedEnvFlowDecorator(_NamedEnvMixin, _EnvFlowDecorator):
    """A named environment (name='team/env:tag' or pathspec='Flow/Run/Step'), or the one a
    lock file pins (lock='uv.lock', with extras=[...], groups=[...]), for every step."""

    name = "named_env_base"


# -- step level -------------------------------------------------------------------------


class _EnvStepDecorator(StepDecorator):
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        _require_flowenv(self.name, environment)
        self.check_arguments(step=step)


class CondaStepDecorator(_CondaMixin, _EnvStepDecorator):
    """Conda packages for this step, on top of @conda_base or a named base environment."""

    name = "conda"


class PypiStepDecorator(_PypiMixin, _EnvStepDecorator):
    """PyPI packages for this step, on top of @pypi_base or a named base environment."""

    name = "pypi"


class PipStepDecorator(PypiStepDecorator):
    """The reference extension's old name of @pypi (deprecated)."""

    name = "pip"


class SysPackagesStepDecorator(_SysPackagesMixin, _EnvStepDecorator):
    """Virtual packages for this step's resolution (and its requirements id):
    packages={"__cuda": "12.2", "__glibc": "2.27"}, on top of @sys_packages_base."""

    name = "sys_packages"


class NamedEnvStepDecorator(_NamedEnvMixin, _EnvStepDecorator):
    """A named environment for this step; flowenv also puts one (empty) on every step to
    run the step in its environment."""

    name = "named_env"

    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        super().step_init(flow, graph, step, decos, environment, flow_datastore, logger)
        self.check_reference(step=step)
        self.step = step
        self.environment = environment
        self.flow_datastore = flow_datastore
        self.interpreter = None

    # -- launcher side --

    def runtime_init(self, flow, graph, package, run_id):
        self.environment.prepare_code(package)

    def runtime_task_created(self, task_datastore, task_id, split_index, input_paths,
                             is_cloned, ubf_context):
        self.interpreter = None
        self.env_vars = {}
        if self.environment.is_remote(self.step):
            return
        located = self.environment.locate(
            self.step, lambda: self._task_values(task_datastore.run_id, task_id, input_paths))
        if located is not None:
            self.interpreter, self.env_vars = located

    def _task_values(self, run_id, task_id, input_paths):
        """What @{VAR} also knows in a fetch_at_exec reference: the task's run, step and
        task ids, and the flow's parameters (METAFLOW_INIT_<NAME>), read from the task's
        first input."""
        values = {"METAFLOW_RUN_ID": str(run_id), "METAFLOW_STEP_NAME": self.step,
                  "METAFLOW_TASK_ID": str(task_id)}
        if input_paths:
            parent = self.flow_datastore.get_task_datastore(*input_paths[0].split("/")[-3:])
            values.update(parameter_values(self.environment.flow, lambda var: parent[var]))
        return values

    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        if not self.interpreter:
            return
        cli_args.env.update(self.environment.code_env_vars())
        cli_args.env.update(self.env_vars)
        cli_args.env["PYTHONNOUSERSITE"] = "1"
        cli_args.entrypoint[0] = self.interpreter

    # -- task side --

    def task_pre_step(self, step_name, task_datastore, metadata, run_id, task_id, flow, graph,
                      retry_count, max_retries, ubf_context, inputs):
        env_id = os.environ.get(ENV_VAR_ID)
        if not env_id:
            return
        # Non-Python tools installed in the env (console scripts) come first on PATH.
        os.environ["PATH"] = os.pathsep.join(
            [os.path.dirname(sys.executable), os.environ.get("PATH", "")])
        tags = ["attempt_id:%d" % retry_count]
        data = [MetaDatum(ENV_ID_FIELD, env_id, ENV_ID_FIELD, tags)]
        alias = os.environ.get(ENV_VAR_ALIAS)
        if alias:
            data.append(MetaDatum(ALIAS_FIELD, alias, ALIAS_FIELD, tags))
        metadata.register_metadata(run_id, step_name, task_id, data)

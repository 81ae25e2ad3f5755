"""The environment a fetch_at_exec reference names, worked out where the task runs:

    python -m metaflow_extensions.flowenv.plugins.exec_reference FLOW STEP name|pathspec REF

prints the alias (name) or the environment id (pathspec) after expanding @{VAR}. Besides
the process environment, @{VAR} knows the task's own values, as the reference extension's
do: METAFLOW_RUN_ID, METAFLOW_STEP_NAME, METAFLOW_TASK_ID (as far as the scheduler sets
them) and METAFLOW_INIT_<PARAMETER>, the run's parameter values, read from the run's
metadata when the container's environment lacks them (Argo Workflows exports them to the
start step only). Standard library, flowenv's refs and Metaflow only: it runs on the
image's Python before the environment exists."""

import os
import re
import sys

_INIT = re.compile(r"@\{(METAFLOW_INIT_[A-Za-z0-9_]+)\}")


def init_variable(name, value):
    """(METAFLOW_INIT_<NAME>, text) of a parameter's value, as Metaflow exports it to remote
    start steps: upper case, '-' as '_', values other than text as JSON."""
    import json

    return ("METAFLOW_INIT_%s" % name.upper().replace("-", "_"),
            value if isinstance(value, str) else json.dumps(value))


def run_parameters(flow_name, run_id):
    """METAFLOW_INIT_<NAME> -> value of the run's parameters, from Metaflow's client."""
    from metaflow import Step, namespace
    from metaflow.exception import MetaflowNotFound

    namespace(None)
    try:
        task = Step("%s/%s/_parameters" % (flow_name, run_id)).task
    except MetaflowNotFound:
        return {}  # @{METAFLOW_INIT_X} then says the variable is not set
    values = {}
    for artifact in task:
        if not artifact.id.startswith("_"):
            key, text = init_variable(artifact.id, artifact.data)
            values[key] = text
    return values


def task_environ(flow_name, step_name, ref, environ):
    environ = dict(environ)
    environ.setdefault("METAFLOW_STEP_NAME", step_name)
    missing = [v for v in _INIT.findall(ref) if v not in environ]
    if missing and environ.get("METAFLOW_RUN_ID"):
        for key, value in run_parameters(flow_name, environ["METAFLOW_RUN_ID"]).items():
            environ.setdefault(key, value)
    return environ


def exec_reference(flow_name, step_name, kind, ref, environ):
    from flowenv.refs import expand_vars

    where = "@named_env on step %s" % step_name
    expanded = expand_vars(ref, where, task_environ(flow_name, step_name, ref, environ))
    if kind == "pathspec":
        from .task_metadata import env_id_of_pathspec

        return env_id_of_pathspec(expanded, where)
    return expanded


def main(argv=None):
    from flowenv.errors import FlowenvError

    flow_name, step_name, kind, ref = (argv if argv is not None else sys.argv[1:])
    try:
        print(exec_reference(flow_name, step_name, kind, ref, os.environ))
    except FlowenvError as exc:
        print("flowenv: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Which environment a past task ran in, as flowenv recorded it in Metaflow's metadata."""

ENV_ID_FIELD = "flowenv_env_id"
ALIAS_FIELD = "flowenv_alias"


def env_id_of_pathspec(pathspec, where):
    from flowenv.errors import EnvNotFound
    from metaflow import Step, get_namespace, namespace
    from metaflow.exception import MetaflowNotFound

    parts = pathspec.strip("/").split("/")
    if len(parts) not in (3, 4):
        raise EnvNotFound("%s: pathspec %r must look like Flow/RunId/StepName" % (where, pathspec))
    previous = get_namespace()
    namespace(None)  # the run may belong to anyone
    try:
        step = Step("/".join(parts[:3]))
        tasks = [step.task] if len(parts) == 3 else [step[parts[3]]]
        env_ids = [t.metadata_dict.get(ENV_ID_FIELD) for t in tasks if t is not None]
    except MetaflowNotFound as exc:
        raise EnvNotFound("%s: %s does not exist (%s)" % (where, pathspec, exc)) from None
    finally:
        namespace(previous)
    for env_id in env_ids:
        if env_id:
            return env_id
    raise EnvNotFound(
        "%s: %s did not run in a flowenv environment (no %s in its metadata)"
        % (where, pathspec, ENV_ID_FIELD))

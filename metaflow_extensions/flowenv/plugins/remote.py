"""What a remote container runs before the step: build the env from the store alone."""

# A stable path for the step's interpreter; the bootstrap links it to the env it builds.
STEP_ENV_LINK = ".flowenv/step-env"
STEP_PYTHON = STEP_ENV_LINK + "/bin/python"


def bootstrap_commands(step_name, store_url, env_ref, tools_id, alias=None, settings=None,
                       fetched=None):
    """Shell commands, quoted to survive Metaflow's `bash -c "..."` wrapping (no double
    quotes). env_ref is an env id; or, with fetched=(flow name, 'name' or 'pathspec'), the
    fetch_at_exec reference, worked out in the container (@{VAR} with the task's values).
    settings: the launcher's flowenv settings the container needs (name -> text), set
    for the bootstrap (Metaflow passes its own, such as METAFLOW_S3_ENDPOINT_URL)."""
    assignments = "".join("%s=%s " % (name, _quoted(name, value))
                          for name, value in sorted((settings or {}).items()))
    commands = ["echo 'flowenv: creating the environment of step %s'" % step_name]
    if fetched is not None:
        flow_name, kind = fetched
        # An assignment alone fails when its command substitution fails; export would not.
        commands += [
            "FLOWENV_EXEC_REF=$(python -m metaflow_extensions.flowenv.plugins.exec_reference "
            "'%s' '%s' %s '%s')" % (flow_name, step_name, kind, env_ref),
            "export FLOWENV_EXEC_REF",
        ]
        env_ref = "$FLOWENV_EXEC_REF"
    else:
        env_ref = "'%s'" % env_ref
    commands += [
        "%spython -m flowenv.bootstrap --store '%s' --env %s --tools %s --link %s "
        "--cache .flowenv/cache" % (assignments, store_url, env_ref, tools_id, STEP_ENV_LINK),
        "export FLOWENV_ENV_ID=$(cat %s.id)" % STEP_ENV_LINK,
        # Metaflow's own needs (boto3, requests) come from the image, after the env's packages.
        "export FLOWENV_SITE_APPEND=$(python -c 'import os, site; "
        "print(os.pathsep.join(site.getsitepackages()))')",
    ]
    if fetched is not None and fetched[1] == "name":
        commands.append("export FLOWENV_ENV_ALIAS=$FLOWENV_EXEC_REF")
    elif alias:
        commands.append("export FLOWENV_ENV_ALIAS='%s'" % alias)
    return commands


def _quoted(name, value):
    if any(c in value for c in "'\"\\$`"):
        from flowenv.errors import SettingsError

        raise SettingsError("its value %r cannot be passed to a remote container (no quotes, "
                            "backslashes, $ or backticks)" % value, setting=name)
    return "'%s'" % value

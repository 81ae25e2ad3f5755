"""flowenv's Settings as Metaflow users configure them: the environment, then the
Metaflow profile (`~/.metaflowconfig/config[_PROFILE].json`, and the project's
`.metaflow/config.json`), each setting spelled FLOWENV_X or METAFLOW_FLOWENV_X."""

import os


def metaflow_profile():
    """The values of the active Metaflow profile, the project's local config on top."""
    import importlib

    try:
        importlib.import_module("metaflow.metaflow_config")  # reads the profile
        from metaflow import metaflow_config_funcs as funcs
    except Exception:  # Metaflow half-imported: the environment is then all we have
        return {}
    return {**(funcs.METAFLOW_CONFIG or {}), **(funcs.METAFLOW_LOCAL_CONFIG or {})}


def profile_name():
    profile = os.environ.get("METAFLOW_PROFILE")
    return "Metaflow profile %s" % profile if profile else "Metaflow configuration"


def load_settings(**overrides):
    from flowenv.settings import Settings

    from .errors import user_errors

    with user_errors():
        return Settings.load(os.environ, metaflow_profile(), overrides, profile_name())

"""flowenv's Settings as Metaflow users configure them: the environment, then the
Metaflow profile (`~/.metaflowconfig/config[_PROFILE].json`, and the project's
`.metaflow/config.json`), each setting spelled FLOWENV_X or METAFLOW_FLOWENV_X."""

import os


def profile_layers():
    """(where, values) of each Metaflow configuration file, the winning one last: the
    active profile, then the project's local config."""
    import importlib

    try:
        importlib.import_module("metaflow.metaflow_config")  # reads the profile
        from metaflow import metaflow_config_funcs as funcs
    except Exception:  # Metaflow half-imported: the environment is then all we have
        return []
    home = os.environ.get("METAFLOW_HOME", "~/.metaflowconfig")
    profile = os.environ.get("METAFLOW_PROFILE")
    path = os.path.expanduser(os.path.join(home, "config_%s.json" % profile if profile
                                           else "config.json"))
    where = ("Metaflow profile %s (%s)" % (profile, path) if profile
             else "Metaflow configuration %s" % path)
    return [(where, funcs.METAFLOW_CONFIG or {}),
            ("project's .metaflow/config.json", funcs.METAFLOW_LOCAL_CONFIG or {})]


def metaflow_settings(**overrides):
    """Settings from the environment, the Metaflow configuration and the overrides given
    (command-line options, by field name); an unusable value is a SettingsError naming
    its source."""
    from flowenv.settings import Settings

    profile, sources = {}, {}
    for where, values in profile_layers():
        profile.update(values)
        sources.update(dict.fromkeys(values, where))
    return Settings.load(os.environ, profile, overrides,
                         lambda key: sources.get(key, "Metaflow configuration"))


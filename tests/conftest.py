import os

import pytest

# Metaflow needs a user name and never accepts "root"; CI runs as root, maybe without USER.
if not os.environ.get("METAFLOW_USER") and os.environ.get("USER", "root") == "root":
    os.environ["METAFLOW_USER"] = "flowenv-tests"


# uv's variables that name indexes, find-links or credentials providers.
UV_INDEX_VARS = ("UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX",
                 "UV_FIND_LINKS", "UV_NO_INDEX", "UV_INSECURE_HOST", "UV_KEYRING_PROVIDER")


def _machine_index_setting(var: str) -> bool:
    return var.startswith("PIP_") and var != "PIP_CONFIG_FILE" or var in UV_INDEX_VARS


def isolated_from_machine(env: dict) -> dict:
    """env without this machine's pip and uv index settings: neither their variables nor
    their configuration files (pip.conf, uv.toml) reach flowenv."""
    env = {k: v for k, v in env.items() if not _machine_index_setting(k)}
    env.update(PIP_CONFIG_FILE=os.devnull, UV_NO_CONFIG="1")
    return env


def offline_uv(mp, cache_dir):
    """uv with its cache in cache_dir, no user or system config, never the network; no
    index settings of the machine's pip or uv reach flowenv."""
    mp.setenv("UV_CACHE_DIR", str(cache_dir))
    mp.setenv("UV_NO_CONFIG", "1")
    mp.setenv("UV_OFFLINE", "1")
    mp.setenv("PIP_CONFIG_FILE", os.devnull)
    for var in list(os.environ):
        if _machine_index_setting(var):
            mp.delenv(var, raising=False)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """This test's own flowenv cache (FLOWENV_CACHE_DIR)."""
    path = tmp_path / "cache"
    monkeypatch.setenv("FLOWENV_CACHE_DIR", str(path))
    return path


@pytest.fixture(scope="session", autouse=True)
def _no_machine_index_settings():
    """Every test sees none of this machine's pip or uv index settings (the suite must
    pass the same on a machine without them)."""
    with pytest.MonkeyPatch.context() as mp:
        for var, value in isolated_from_machine({}).items():
            mp.setenv(var, value)
        for var in list(os.environ):
            if _machine_index_setting(var):
                mp.delenv(var, raising=False)
        yield

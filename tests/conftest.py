import os

import pytest

# Metaflow needs a user name and never accepts "root"; CI runs as root, maybe without USER.
if not os.environ.get("METAFLOW_USER") and os.environ.get("USER", "root") == "root":
    os.environ["METAFLOW_USER"] = "flowenv-tests"


def offline_uv(mp, cache_dir):
    """uv with its cache in cache_dir, no user or system config, never the network; no
    index settings of the machine's pip or uv reach flowenv."""
    mp.setenv("UV_CACHE_DIR", str(cache_dir))
    mp.setenv("UV_NO_CONFIG", "1")
    mp.setenv("UV_OFFLINE", "1")
    mp.setenv("PIP_CONFIG_FILE", os.devnull)
    for var in list(os.environ):
        if var.startswith("PIP_") and var != "PIP_CONFIG_FILE" or var in (
                "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX",
                "UV_FIND_LINKS"):
            mp.delenv(var, raising=False)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """This test's own flowenv cache (FLOWENV_CACHE_DIR)."""
    path = tmp_path / "cache"
    monkeypatch.setenv("FLOWENV_CACHE_DIR", str(path))
    return path

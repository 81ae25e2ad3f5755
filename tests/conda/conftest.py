"""Fixtures for the conda suite: a real local conda channel (tests/condachannel.py), a
second channel reached through a channel alias, a local wheel index, a store and a cache.

Everything is offline: the channels are file:// URLs built at session start, uv sees an
empty file:// simple index plus a find-links folder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.condachannel import build_channel, python_module_package  # noqa: E402
from tests.conftest import offline_uv  # noqa: E402
from tests.wheelhouse import DEFAULT_PACKAGES, build_index  # noqa: E402

from flowenv.cache import LocalCache  # noqa: E402
from flowenv.environments import Environments  # noqa: E402
from flowenv.settings import Settings  # noqa: E402
from flowenv.store import Store  # noqa: E402

PYTHON_MINOR = "%d.%d" % sys.version_info[:2]
PYTHON_FULL = "%d.%d.%d" % sys.version_info[:3]

# PyPI packages for mixed envs; pypiuser needs condalib, which only the conda channel has.
WHEELS = tuple(DEFAULT_PACKAGES) + (("pypiuser", "1.0", ("condalib>=1",)),)


@pytest.fixture(scope="session")
def channels(tmp_path_factory) -> dict:
    """{'main': file:// URL, 'alias': file:// URL of a folder holding channel 'otherchan'}."""
    root = tmp_path_factory.mktemp("channels")
    main = build_channel(root / "main")
    build_channel(root / "alias" / "otherchan", [python_module_package("condalib", "3.0")])
    return {"main": main, "alias": (root / "alias").as_uri() + "/", "root": root}


@pytest.fixture(scope="session")
def wheel_index(tmp_path_factory) -> Path:
    return build_index(tmp_path_factory.mktemp("wheels"), WHEELS)


@pytest.fixture(scope="session")
def empty_index(tmp_path_factory) -> str:
    return tmp_path_factory.mktemp("empty-simple").as_uri()


@pytest.fixture(scope="session", autouse=True)
def _isolated_tools(tmp_path_factory):
    """uv's cache in a temp dir, no uv config, never the network."""
    with pytest.MonkeyPatch.context() as mp:
        offline_uv(mp, tmp_path_factory.mktemp("uv-cache"))
        yield


@pytest.fixture(autouse=True)
def conda_settings(channels, monkeypatch):
    monkeypatch.setenv("FLOWENV_CONDA_CHANNELS", channels["main"])
    monkeypatch.setenv("FLOWENV_CONDA_CHANNEL_ALIAS", channels["alias"])
    monkeypatch.delenv("FLOWENV_CONDA_VIRTUAL_PACKAGES", raising=False)


@pytest.fixture
def store(tmp_path) -> Store:
    return Store.open(str(tmp_path / "store"))


@pytest.fixture
def envs(store, cache_dir) -> Environments:
    """Settings from this test's environment, as an edge would read them."""
    return Environments(store, LocalCache(cache_dir), settings=Settings.load())


@pytest.fixture
def pypi_fields(wheel_index, empty_index) -> dict:
    """Spec fields that point uv at the local wheel index only."""
    return {"index_url": empty_index, "find_links": (str(wheel_index),)}


def run_python(prefix: Path, code: str) -> str:
    """Run code with the environment's own python; return its stdout."""
    proc = subprocess.run([str(Path(prefix) / "bin" / "python"), "-c", code],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def versions(prefix: Path, *modules: str) -> dict:
    code = ("import importlib, json; print(json.dumps({m: importlib.import_module(m).__version__ "
            "for m in %r}))" % (modules,))
    import json

    return json.loads(run_python(prefix, code))

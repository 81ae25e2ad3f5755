"""Fixtures for the core suite: a real local wheel index, a local store, a local cache.

Everything runs offline: uv sees an empty file:// simple index plus a find-links folder
of wheels built at test time (tests/wheelhouse.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.conftest import offline_uv  # noqa: E402
from tests.wheelhouse import build_index  # noqa: E402

from flowenv.cache import LocalCache  # noqa: E402
from flowenv.environments import Environments  # noqa: E402
from flowenv.settings import Settings  # noqa: E402
from flowenv.spec import Spec  # noqa: E402
from flowenv.store import Store  # noqa: E402

PYTHON_MINOR = "%d.%d" % sys.version_info[:2]
PYTHON_FULL = "%d.%d.%d" % sys.version_info[:3]


@pytest.fixture(scope="session", autouse=True)
def _isolated_uv(tmp_path_factory):
    """uv's cache in a temp dir; no user or system uv config; never the network."""
    with pytest.MonkeyPatch.context() as mp:
        offline_uv(mp, tmp_path_factory.mktemp("uv-cache"))
        yield


@pytest.fixture(scope="session")
def wheel_index(tmp_path_factory) -> Path:
    """A find-links folder of small, real wheels (see tests/wheelhouse.DEFAULT_PACKAGES)."""
    return build_index(tmp_path_factory.mktemp("wheels"))


@pytest.fixture(scope="session")
def empty_index(tmp_path_factory) -> str:
    """A file:// PEP 503 index with no projects: replaces PyPI so that nothing goes online."""
    return tmp_path_factory.mktemp("empty-simple").as_uri()


@pytest.fixture
def make_spec(wheel_index, empty_index):
    """Spec(pypi=...) resolved only against the local wheel index."""

    def make(*pypi, **fields):
        fields.setdefault("python", PYTHON_MINOR)
        fields.setdefault("index_url", empty_index)
        fields.setdefault("find_links", (str(wheel_index),))
        return Spec(pypi=tuple(pypi), **fields)

    return make


@pytest.fixture
def store_dir(tmp_path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(store_dir) -> Store:
    return Store.open(str(store_dir))


@pytest.fixture
def envs(store, cache_dir) -> Environments:
    """Settings from this test's environment, as an edge would read them."""
    return Environments(store, LocalCache(cache_dir), settings=Settings.load())

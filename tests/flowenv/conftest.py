"""Fixtures for the core's tests: a real local wheel index and conda channel built at
test time, a local store and a local cache.

Everything runs offline: uv sees an empty file:// simple index plus a find-links folder
of wheels built at test time (tests/wheelhouse.py); the conda channels are file:// URLs
(tests/condachannel.py).
"""

from __future__ import annotations

import json
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
from flowenv.spec import Spec  # noqa: E402
from flowenv.store import Store  # noqa: E402

PYTHON_MINOR = "%d.%d" % sys.version_info[:2]
PYTHON_FULL = "%d.%d.%d" % sys.version_info[:3]

# PyPI packages for mixed envs; pypiuser needs condalib, which only the conda channel has.
WHEELS = tuple(DEFAULT_PACKAGES) + (("pypiuser", "1.0", ("condalib>=1",)),)


@pytest.fixture(scope="session", autouse=True)
def _isolated_uv(tmp_path_factory):
    """uv's cache in a temp dir; no user or system uv config; never the network."""
    with pytest.MonkeyPatch.context() as mp:
        offline_uv(mp, tmp_path_factory.mktemp("uv-cache"))
        yield


@pytest.fixture(scope="session")
def wheel_index(tmp_path_factory) -> Path:
    """A find-links folder of small, real wheels (see tests/wheelhouse.DEFAULT_PACKAGES)."""
    return build_index(tmp_path_factory.mktemp("wheels"), WHEELS)


@pytest.fixture(scope="session")
def empty_index(tmp_path_factory) -> str:
    """A file:// PEP 503 index with no projects: replaces PyPI so that nothing goes online."""
    return tmp_path_factory.mktemp("empty-simple").as_uri()


@pytest.fixture(scope="session")
def channels(tmp_path_factory) -> dict:
    """{'main': file:// URL, 'alias': file:// URL of a folder holding channel 'otherchan'}."""
    root = tmp_path_factory.mktemp("channels")
    main = build_channel(root / "main")
    build_channel(root / "alias" / "otherchan", [python_module_package("condalib", "3.0")])
    return {"main": main, "alias": (root / "alias").as_uri() + "/", "root": root}


@pytest.fixture(autouse=True)
def conda_settings(channels, monkeypatch):
    monkeypatch.setenv("FLOWENV_CONDA_CHANNELS", channels["main"])
    monkeypatch.setenv("FLOWENV_CONDA_CHANNEL_ALIAS", channels["alias"])
    monkeypatch.delenv("FLOWENV_CONDA_VIRTUAL_PACKAGES", raising=False)


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
def pypi_fields(wheel_index, empty_index) -> dict:
    """Spec fields that point uv at the local wheel index only."""
    return {"index_url": empty_index, "find_links": (str(wheel_index),)}


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


def run_python(prefix: Path, code: str) -> str:
    """Run code with the environment's own python; return its stdout."""
    proc = subprocess.run([str(Path(prefix) / "bin" / "python"), "-c", code],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def versions(prefix: Path, *modules: str) -> dict:
    code = ("import importlib, json; print(json.dumps({m: importlib.import_module(m).__version__ "
            "for m in %r}))" % (modules,))
    return json.loads(run_python(prefix, code))


def uv_compile(path: Path, *options: str) -> dict:
    """What `uv pip compile` pins for a requirements file or pyproject.toml, run in the
    file's folder as a user would: {name: version} (None for a local folder, which uv
    does not version)."""
    import os
    import tempfile

    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    from flowenv.uv_runner import installed_uv

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp, "pylock.toml")
        proc = subprocess.run(
            [installed_uv(), "pip", "compile", str(path), "-o", str(out), "--format",
             "pylock.toml", "--quiet", "--no-config", "--python-version", PYTHON_FULL,
             "--no-python-downloads", *options],
            cwd=Path(path).parent, capture_output=True, text=True, env=dict(os.environ))
        assert proc.returncode == 0, proc.stderr
        packages = tomllib.loads(out.read_text()).get("packages", [])
    return {p["name"]: p.get("version") for p in packages}


def assert_same_pins(lock, uv_pins: dict) -> None:
    """The lock pins what uv pip compile pins for the same file."""
    pins = lock.pins()
    assert set(pins) == set(uv_pins), (pins, uv_pins)
    for name, version in uv_pins.items():
        if version is not None:
            assert pins[name] == version, (name, pins[name], version)

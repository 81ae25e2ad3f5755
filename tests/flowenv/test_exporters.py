"""Exported locks install elsewhere (pylock.toml and hashed requirements, as uv reads
them), and read back: export, then take the export in again gives the same environment
id, for PyPI, conda and mixed environments, in every format that can hold them."""

from __future__ import annotations

import subprocess

import pytest

from flowenv import exporters
from flowenv.errors import FlowenvError
from flowenv.lockfiles import read_lock_file
from flowenv.spec import Spec
from flowenv.uv_runner import installed_uv

from tests.flowenv.conftest import PYTHON_MINOR, run_python
from tests.wheelhouse import make_sdist, write_simple_index


def _install(pylock, venv, environ):
    uv = installed_uv()
    subprocess.run([uv, "venv", "--quiet", "--no-config", venv], check=True, env=environ)
    return subprocess.run([uv, "pip", "install", "--no-config", "--python", venv / "bin" / "python",
                           "-r", pylock], capture_output=True, text=True, env=environ)


def test_exported_pylock_installs_with_uv(envs, make_spec, tmp_path):
    import os

    lock = envs.resolve(make_spec("beta==1.0.0"))
    pylock = tmp_path / "pylock.toml"
    pylock.write_text(exporters.export(lock, "pylock"))
    proc = _install(pylock, tmp_path / "venv", dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    seen = run_python(tmp_path / "venv", "import alpha, beta; print(alpha.__version__, "
                      "beta.__version__)").split()
    assert seen == [lock.pins()["alpha"], lock.pins()["beta"]] == ["2.0.0", "1.0.0"]


def test_wheel_built_from_an_sdist_exports_its_source(envs, wheel_index, empty_index, tmp_path):
    """The wheel built on the resolving machine exists only in the store: the exported
    lock names the source distribution, with the source's hash, so that it installs."""
    import hashlib
    import os

    sdist = make_sdist(wheel_index, "builtpkg", "0.7.0", backend="in-tree")
    write_simple_index(wheel_index)
    lock = envs.resolve(Spec(pypi=("builtpkg",), python=PYTHON_MINOR, index_url=empty_index,
                             find_links=(str(wheel_index),)))
    (built,) = lock.files
    assert built.filename.endswith(".whl") and built.source_url.endswith(".tar.gz")
    text = exporters.export(lock, "pylock")
    assert "sdist = " in text and built.source_url in text
    assert hashlib.sha256(sdist.read_bytes()).hexdigest() in text
    assert built.sha256 not in text
    requirements = exporters.export(lock, "requirements")
    assert hashlib.sha256(sdist.read_bytes()).hexdigest() in requirements
    pylock = tmp_path / "pylock.toml"
    pylock.write_text(text)
    proc = _install(pylock, tmp_path / "venv", dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert run_python(tmp_path / "venv", "import builtpkg; print(builtpkg.__version__)") == "0.7.0"


def round_trip(envs, locks, fmt, tmp_path, name):
    path = tmp_path / name
    path.write_text(exporters.export(locks, fmt))
    lock_file = read_lock_file(path)
    return {lock.platform: envs.import_lock(lock_file, lock.platform).full_id for lock in locks}


@pytest.fixture
def pypi_lock(envs, make_spec):
    return envs.resolve(make_spec("beta==1.0.0", "delta"))


@pytest.fixture
def conda_lock(envs):
    return envs.resolve(Spec(conda=("condalib 2.0",), python=PYTHON_MINOR))


@pytest.fixture
def mixed_lock(envs, pypi_fields):
    return envs.resolve(Spec(conda=("condalib 1.0",), pypi=("gamma==0.2.0",),
                             python=PYTHON_MINOR, **pypi_fields))


def test_pypi_round_trips(envs, pypi_lock, tmp_path, monkeypatch, wheel_index, empty_index):
    want = {pypi_lock.platform: pypi_lock.full_id}
    assert round_trip(envs, [pypi_lock], "pylock", tmp_path, "pylock.toml") == want
    # a hashed requirements file names no URLs: its files are found on the index again
    monkeypatch.setenv("FLOWENV_INDEX_URL", empty_index)
    monkeypatch.setenv("FLOWENV_FIND_LINKS", str(wheel_index))
    from flowenv import Environments, Settings

    again = Environments(envs.store, envs.cache, settings=Settings.load())
    assert round_trip(again, [pypi_lock], "requirements", tmp_path, "requirements.txt") == want


def test_conda_round_trips(envs, conda_lock, tmp_path):
    want = {conda_lock.platform: conda_lock.full_id}
    assert all(f.md5 for f in conda_lock.files)
    assert round_trip(envs, [conda_lock], "explicit", tmp_path, "env.txt") == want
    assert round_trip(envs, [conda_lock], "conda-lock", tmp_path, "conda-lock.yml") == want


def test_mixed_round_trips(envs, mixed_lock, tmp_path):
    assert {f.kind for f in mixed_lock.files} == {"conda", "wheel"}
    want = {mixed_lock.platform: mixed_lock.full_id}
    assert round_trip(envs, [mixed_lock], "conda-lock", tmp_path, "conda-lock.yml") == want
    assert round_trip(envs, [mixed_lock], "explicit", tmp_path, "env.txt") == want
    with pytest.raises(FlowenvError, match="also has conda packages.*conda-lock"):
        exporters.export([mixed_lock], "pylock")


def test_conda_lock_export_is_valid_for_conda_lock_itself(envs, mixed_lock, tmp_path):
    pytest.importorskip("conda_lock")
    from conda_lock.lockfile import parse_conda_lock_file

    path = tmp_path / "conda-lock.yml"
    path.write_text(exporters.export([mixed_lock], "conda-lock"))
    parsed = parse_conda_lock_file(path)
    assert {(p.name, p.manager) for p in parsed.package} == {
        (f.name, "conda" if f.kind == "conda" else "pip") for f in mixed_lock.files}


def test_several_platforms_in_one_conda_lock(envs, tmp_path):
    spec = Spec(conda=("condalib 2.0",), python=PYTHON_MINOR)
    locks = [envs.resolve(spec, platform) for platform in ("linux-64", "osx-arm64")]
    got = round_trip(envs, locks, "conda-lock", tmp_path, "conda-lock.yml")
    assert got == {lock.platform: lock.full_id for lock in locks}
    with pytest.raises(FlowenvError, match="holds one platform"):
        exporters.export(locks, "explicit")

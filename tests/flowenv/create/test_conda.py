"""Conda and mixed environments created for real, then run with their own python."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from flowenv.cache import LocalCache
from flowenv.environments import Environments
from flowenv.errors import ResolveError
from flowenv.platforms import host_platform
from flowenv.spec import Spec

from tests.flowenv.conftest import PYTHON_FULL, run_python, versions


def test_conda_env_runs_its_python_with_conda_packages(envs, channels):
    lock = envs.resolve(Spec.from_conda_libraries({"condalib": ""}))
    prefix = envs.create(lock)
    assert versions(prefix, "condalib", "condadep") == {"condalib": "2.0", "condadep": "2.0"}
    info = json.loads(run_python(prefix, "import json, sys; print(json.dumps("
                                 "[sys.prefix, '%d.%d.%d' % sys.version_info[:3]]))"))
    assert Path(info[0]).resolve() == Path(prefix).resolve()
    assert info[1] == PYTHON_FULL
    # conda-meta tells where each package came from (the lock's URL, not the cache)
    meta = json.loads(next((Path(prefix) / "conda-meta").glob("condalib-2.0-*.json")).read_text())
    assert meta["url"] == [f.url for f in lock.files if f.name == "condalib"][0]
    assert meta["url"].startswith(channels["main"])


@pytest.mark.skipif(not host_platform().startswith("linux"), reason="linux test package")
def test_conda_env_has_platform_tools(envs):
    prefix = envs.create(envs.resolve(Spec.from_conda_libraries({"condatool": ""})))
    out = subprocess.run([str(Path(prefix) / "bin" / "condatool")], capture_output=True, text=True)
    assert out.stdout.strip() == "condatool 1.0"


def test_mixed_env_imports_both_kinds(envs, pypi_fields):
    spec = Spec(conda=("condalib 1.0",), pypi=("alpha==2.0.0", "pypiuser"), **pypi_fields)
    prefix = envs.create(envs.resolve(spec))
    assert versions(prefix, "condalib", "alpha", "pypiuser") == {
        "condalib": "1.0", "alpha": "2.0.0", "pypiuser": "1.0"}
    # the wheel went into the conda prefix's own site-packages
    where = run_python(prefix, "import alpha; print(alpha.__file__)")
    assert Path(where).resolve().is_relative_to(Path(prefix).resolve())


def test_creation_is_offline_from_the_store(envs, store, tmp_path, channels, pypi_fields):
    """A second machine (fresh cache) creates the env from the store alone: the channel
    and the wheel index may be gone."""
    lock = envs.resolve(Spec(conda=("condalib 1.0",), pypi=("gamma",), **pypi_fields))
    other = Environments(store, LocalCache(tmp_path / "other-cache"))
    hidden = channels["root"] / "main-hidden"
    os.rename(channels["root"] / "main", hidden)
    try:
        prefix = other.create(other.lookup(lock.full_id))
    finally:
        os.rename(hidden, channels["root"] / "main")
    assert versions(prefix, "condalib", "gamma") == {"condalib": "1.0", "gamma": "0.3.0"}
    # a second env from the same package cache is linked, not re-extracted
    prefix2 = other.create(other.lookup(lock.full_id), dest=tmp_path / "copy")
    assert versions(prefix2, "condalib") == {"condalib": "1.0"}


# -- extending a conda base -------------------------------------------------------------


@pytest.fixture
def conda_base(envs):
    return envs.resolve(Spec.from_conda_libraries({"condalib": "1.0"}, origin="base env"))


def test_extend_conda_base_with_conda_spec(envs, conda_base):
    ext = envs.resolve(Spec(conda=("condadep 1.0",), base=conda_base.full_id, origin="step x"))
    assert {f.name: f.version for f in ext.files} == {
        "python": PYTHON_FULL, "condalib": "1.0", "condadep": "1.0"}
    # every base file is kept, byte for byte
    assert {f.sha256 for f in conda_base.files} <= {f.sha256 for f in ext.files}
    assert ext.spec["conda"] == ["condadep 1.0", "condalib 1.0"]
    assert versions(envs.create(ext), "condalib", "condadep") == {"condalib": "1.0", "condadep": "1.0"}


def test_base_pins_win_over_newer_versions(envs, conda_base):
    # condalib 2.0 exists, but the base pins 1.0: an unversioned request keeps it
    ext = envs.resolve(Spec(conda=("condalib",), base=conda_base.full_id))
    assert {f.name: f.version for f in ext.files}["condalib"] == "1.0"


def test_extension_conflicting_with_a_base_pin_names_both(envs, conda_base):
    with pytest.raises(ResolveError) as err:
        envs.resolve(Spec(conda=("condalib 2.0",), base=conda_base.full_id, origin="step train"))
    message = str(err.value)
    assert "condalib 2.0" in message and "1.0" in message and conda_base.full_id in message
    assert "step train" in message


def test_transitive_conflict_with_a_base_pin(envs):
    base = envs.resolve(Spec.from_conda_libraries({"condalib": "2.0"}))  # condadep 2.0
    with pytest.raises(ResolveError) as err:
        envs.resolve(Spec(conda=("condaold",), base=base.full_id, origin="step old"))
    message = str(err.value)
    assert "condaold" in message and "condadep" in message and "step old" in message


def test_extend_conda_base_with_pypi_spec(envs, conda_base, pypi_fields):
    ext = envs.resolve(Spec(pypi=("alpha==1.0.0",), base=conda_base.full_id, **pypi_fields))
    assert {f.sha256 for f in conda_base.files} <= {f.sha256 for f in ext.files}
    assert {f.name: f.kind for f in ext.files}["alpha"] == "wheel"
    assert ext.python == conda_base.python
    assert versions(envs.create(ext), "condalib", "alpha") == {"condalib": "1.0", "alpha": "1.0.0"}


def test_extension_of_an_extension_keeps_everything(envs, conda_base, pypi_fields):
    first = envs.resolve(Spec(pypi=("beta==1.0.0",), base=conda_base.full_id, **pypi_fields))
    second = envs.resolve(Spec(conda=("condadep 1.0",), pypi=("gamma==0.1.0",),
                               base=first.full_id, **pypi_fields))
    found = {f.name: f.version for f in second.files}
    assert found["condalib"] == "1.0" and found["beta"] == "1.0.0"
    assert {f.sha256 for f in first.files} <= {f.sha256 for f in second.files}
    assert found["condadep"] == "1.0" and found["gamma"] == "0.1.0"
    assert second.spec["conda"] == ["condadep 1.0", "condalib 1.0"]
    assert second.spec["pypi"] == ["beta==1.0.0", "gamma==0.1.0"]
    assert versions(envs.create(second), "condalib", "beta", "gamma", "condadep") == {
        "condalib": "1.0", "beta": "1.0.0", "gamma": "0.1.0", "condadep": "1.0"}


def test_conda_spec_on_a_pypi_base_keeps_python_and_pins(envs, pypi_fields):
    base = envs.resolve(Spec(pypi=("alpha==1.0.0",), **pypi_fields))
    ext = envs.resolve(Spec(conda=("condalib 1.0",), base=base.full_id, **pypi_fields))
    assert ext.python == base.python
    assert {f.name: f.version for f in ext.files}["alpha"] == "1.0.0"
    assert versions(envs.create(ext), "condalib", "alpha") == {"condalib": "1.0", "alpha": "1.0.0"}


def test_channel_prefixed_spec_is_checked_against_base_pins(envs, conda_base):
    with pytest.raises(ResolveError) as err:
        envs.solve_only(Spec(conda=("otherchan::condalib 2.0",), base=conda_base.full_id,
                             origin="step x"))
    message = str(err.value)
    assert "otherchan::condalib 2.0" in message and "condalib 1.0" in message
    assert "step x" in message

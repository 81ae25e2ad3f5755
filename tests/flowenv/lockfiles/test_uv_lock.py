"""uv.lock written by `uv lock` itself, taken in with the index unreachable."""

from __future__ import annotations

import pytest

from flowenv.errors import FlowenvError
from flowenv.lockfiles import kind_of, read_lock_file
from tests.flowenv.conftest import PYTHON_MINOR, versions
from tests.lockmaker import uv_lock, uv_project
from tests.wheelhouse import make_wheel, write_simple_index


@pytest.fixture(scope="module")
def marker_wheels(wheel_index):
    # zeta2's dependencies differ by platform: the lock keeps both, the target picks.
    make_wheel(wheel_index, "zeta2", "1.0.0",
               ['alpha>=1; sys_platform == "linux"', 'gamma; sys_platform == "darwin"'])
    write_simple_index(wheel_index)
    return wheel_index


@pytest.fixture
def project(tmp_path, index, uv_cache, marker_wheels):
    folder = uv_project(tmp_path / "proj", ["beta==1.0.0", "zeta2"], python=PYTHON_MINOR,
                        extras={"more": ["delta"]}, groups={"dev": ["epsilon"]})
    uv_lock(folder, index.url + "/simple", uv_cache)
    return folder


def names(lock):
    return {f.name: f.version for f in lock.files}


def test_taken_in_per_platform_with_the_index_down(envs, project, index):
    lock_file = read_lock_file(project / "uv.lock")
    assert kind_of(project / "uv.lock") == "uv.lock" and lock_file.python == PYTHON_MINOR
    index.index_down()
    linux = envs.import_lock(lock_file, "linux-64")
    mac = envs.import_lock(lock_file, "osx-arm64")
    assert not index.index_requests
    # the dev group comes by default (as with uv sync); markers decide alpha vs gamma
    assert names(linux) == {"alpha": "2.0.0", "beta": "1.0.0", "zeta2": "1.0.0",
                            "epsilon": "1.0.0"}
    assert names(mac) == {"alpha": "2.0.0", "beta": "1.0.0", "zeta2": "1.0.0",
                          "epsilon": "1.0.0", "gamma": "0.3.0"}
    for f in linux.files:
        assert f.url.startswith(index.url) and len(f.sha256) == 64
    assert linux.python_minor == PYTHON_MINOR
    assert versions(envs.create(linux), "alpha", "beta") == {"alpha": "2.0.0", "beta": "1.0.0"}
    # the project itself is not installed; its name is recorded with the lock
    assert "lockproj" not in names(linux)
    assert linux.spec["lock_file"]["kind"] == "uv.lock"


def test_extras_and_groups_are_selectable(envs, project):
    chosen = read_lock_file(project / "uv.lock", extras=["more"], default_groups=False)
    assert names(envs.lock_from_file(chosen, "linux-64")) == {
        "alpha": "2.0.0", "beta": "1.0.0", "zeta2": "1.0.0", "delta": "3.0.0", "gamma": "0.3.0"}
    with pytest.raises(FlowenvError) as err:
        read_lock_file(project / "uv.lock", extras=["gpu"])
    assert "no extra gpu (it has: more)" in str(err.value) and "uv.lock" in str(err.value)


def test_markers_that_exclude_the_target_are_an_error(envs, project):
    path = project / "uv.lock"
    text = path.read_text()
    path.write_text(text.replace('requires-python = ">=3.8"\n', 'requires-python = ">=3.8"\n'
                                 "supported-markers = [\"sys_platform == 'darwin'\"]\n", 1))
    with pytest.raises(FlowenvError) as err:
        envs.lock_from_file(read_lock_file(path), "linux-64")
    assert "supported-markers" in str(err.value) and str(path) in str(err.value)
    assert envs.lock_from_file(read_lock_file(path), "osx-arm64").files


def test_a_source_without_a_file_hash_is_an_error_naming_the_package(envs, project):
    path = project / "uv.lock"
    text = path.read_text()
    start = text.index('[[package]]\nname = "gamma"')
    source = text.index("source = ", start)
    end = text.index("\n", source)
    path.write_text(text[:source] + 'source = { git = "https://example.invalid/gamma.git'
                    '?rev=v1#0123456789abcdef" }' + text[end:])
    with pytest.raises(FlowenvError) as err:
        envs.lock_from_file(read_lock_file(path), "osx-arm64")
    message = str(err.value)
    assert "package gamma 0.3.0" in message and "git source" in message and str(path) in message


def test_local_wheels_are_taken_by_path_and_a_missing_hash_is_an_error(
        envs, tmp_path, wheel_index, uv_cache):
    import re

    folder = uv_project(tmp_path / "local", ["gamma==0.1.0"], python=PYTHON_MINOR)
    uv_lock(folder, (wheel_index / "simple").as_uri(), uv_cache)
    (gamma,) = envs.lock_from_file(read_lock_file(folder / "uv.lock")).files
    assert gamma.url == (wheel_index / gamma.filename).as_uri()
    path = folder / "uv.lock"
    path.write_text(re.sub(r', hash = "sha256:[0-9a-f]+"', "", path.read_text()))
    with pytest.raises(FlowenvError) as err:
        envs.lock_from_file(read_lock_file(path))
    assert "has no sha256" in str(err.value) and "package gamma 0.1.0" in str(err.value)


def test_malformed_toml_names_the_file_and_stores_nothing(envs, project, store_dir):
    path = project / "uv.lock"
    path.write_text(path.read_text() + "\n[[package]\n")
    with pytest.raises(FlowenvError) as err:
        envs.import_lock(read_lock_file(path))
    assert "not valid TOML" in str(err.value) and str(path) in str(err.value)
    assert not list(store_dir.rglob("*.json"))

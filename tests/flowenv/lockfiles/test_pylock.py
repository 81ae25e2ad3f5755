"""PEP 751 pylock.toml from uv and from pip, and one written by hand for the markers
PEP 751 adds (extras and dependency groups)."""

from __future__ import annotations

import hashlib
import textwrap

import pytest

from flowenv.errors import FlowenvError
from flowenv.lockfiles import kind_of, read_lock_file
from tests.flowenv.conftest import PYTHON_MINOR, versions
from tests.lockmaker import pip_lock, uv_compile


def pins(lock):
    return {f.name: f.version for f in lock.files}


def test_uv_pylock_taken_in_with_the_index_down(envs, tmp_path, index, uv_cache):
    path = uv_compile(["beta==1.0.0", "delta"], tmp_path / "pylock.toml",
                      index.url + "/simple", uv_cache)
    assert kind_of(path) == "pylock"
    index.index_down()
    lock = envs.import_lock(read_lock_file(path))
    assert not index.index_requests
    assert pins(lock) == {"alpha": "2.0.0", "beta": "1.0.0", "delta": "3.0.0", "gamma": "0.3.0"}
    assert versions(envs.create(lock), "delta", "gamma") == {"delta": "3.0.0", "gamma": "0.3.0"}


def test_pip_lock_output_is_taken_in(envs, tmp_path, wheel_index):
    pytest.importorskip("pip", minversion="25.1")
    path = pip_lock(["beta==1.0.0"], tmp_path / "pylock.toml", wheel_index)
    lock = envs.import_lock(read_lock_file(path))
    assert pins(lock) == {"alpha": "2.0.0", "beta": "1.0.0"}
    assert all(f.url.startswith("file://") for f in lock.files)


def _wheel(wheel_index, filename):
    data = (wheel_index / filename).read_bytes()
    return ('wheels = [{ url = "%s", hashes = { sha256 = "%s" } }]'
            % ((wheel_index / filename).as_uri(), hashlib.sha256(data).hexdigest()))


def test_extras_groups_and_environments_markers(envs, tmp_path, wheel_index):
    path = tmp_path / "pylock.toml"
    path.write_text(textwrap.dedent('''\
        lock-version = "1.0"
        requires-python = ">=3.8"
        environments = ["sys_platform == 'linux'"]
        extras = ["more"]
        dependency-groups = ["dev", "docs"]
        default-groups = ["dev"]

        [[packages]]
        name = "gamma"
        version = "0.1.0"
        %s

        [[packages]]
        name = "delta"
        version = "3.0.0"
        marker = "'more' in extras"
        %s

        [[packages]]
        name = "epsilon"
        version = "1.0.0"
        marker = "'dev' in dependency_groups"
        %s

        [[packages]]
        name = "alpha"
        version = "1.0.0"
        marker = "'docs' in dependency_groups"
        %s
        ''') % tuple(_wheel(wheel_index, f) for f in (
        "gamma-0.1.0-py3-none-any.whl", "delta-3.0.0-py3-none-any.whl",
        "epsilon-1.0.0-py3-none-any.whl", "alpha-1.0.0-py3-none-any.whl")))
    assert set(pins(envs.lock_from_file(read_lock_file(path), "linux-64"))) == {"gamma", "epsilon"}
    chosen = read_lock_file(path, extras=["more"], groups=["docs"], default_groups=False)
    assert set(pins(envs.lock_from_file(chosen, "linux-64"))) == {"gamma", "delta", "alpha"}
    with pytest.raises(FlowenvError) as err:
        envs.lock_from_file(read_lock_file(path), "osx-arm64")
    assert "environments" in str(err.value) and str(path) in str(err.value)
    with pytest.raises(FlowenvError, match="no dependency group gpu"):
        read_lock_file(path, groups=["gpu"])


def test_a_wheel_without_sha256_names_the_package(envs, tmp_path, wheel_index):
    path = tmp_path / "pylock.toml"
    path.write_text('lock-version = "1.0"\n[[packages]]\nname = "gamma"\nversion = "0.1.0"\n'
                    'wheels = [{ url = "%s" }]\n'
                    % (wheel_index / "gamma-0.1.0-py3-none-any.whl").as_uri())
    with pytest.raises(FlowenvError) as err:
        envs.lock_from_file(read_lock_file(path))
    assert "package gamma 0.1.0" in str(err.value) and "no sha256" in str(err.value)


def test_flowenv_export_pins_the_python_series(tmp_path):
    path = tmp_path / "pylock.toml"
    path.write_text('lock-version = "1.0"\nrequires-python = "==%s.*"\npackages = []\n'
                    % PYTHON_MINOR)
    assert read_lock_file(path).python == PYTHON_MINOR

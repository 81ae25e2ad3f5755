"""conda-lock.yml written by conda-lock's own writer (the solve is py-rattler's: conda-lock
cannot solve without a conda binary here), and the @EXPLICIT file `conda-lock render`
makes of it; both taken in with the channel's repodata gone."""

from __future__ import annotations

import pytest

from flowenv.errors import FlowenvError
from flowenv.lockfiles import kind_of, read_lock_file
from flowenv.platforms import host_platform
from tests.condachannel import PY_MINOR
from tests.flowenv.conftest import versions
from tests.flowenv.lockfiles.conftest import drop_repodata
from tests.lockmaker import conda_lock_file, render_explicit, solve_conda

pytest.importorskip("conda_lock")
HOST = host_platform()


def _wheel(wheel_index, name, version):
    import hashlib

    path = wheel_index / ("%s-%s-py3-none-any.whl" % (name, version))
    return name, version, path.as_uri(), hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def conda_lock(tmp_path, channel_copy, wheel_index):
    url, folder = channel_copy
    solutions = {p: solve_conda(url, ["python %s.*" % PY_MINOR, "condalib ==2.0"], p)
                 for p in (HOST, "osx-arm64")}
    dev = {HOST: [r for r in solve_conda(url, ["condatool"], HOST)
                  if r.name.normalized == "condatool"]}
    wheels = {HOST: [_wheel(wheel_index, "gamma", "0.2.0")]}
    path = conda_lock_file(tmp_path / "conda-lock.yml", url, solutions, wheels, dev)
    drop_repodata(folder)  # the channel can no longer be solved against
    return path


def pins(lock):
    return {f.name: (f.version, f.kind) for f in lock.files}


def test_one_lock_per_platform_mixed_and_runnable(envs, conda_lock):
    lock_file = read_lock_file(conda_lock)
    assert kind_of(conda_lock) == "conda-lock"
    assert lock_file.platforms() == tuple(sorted((HOST, "osx-arm64")))
    here = envs.import_lock(lock_file, HOST)
    mac = envs.import_lock(lock_file, "osx-arm64")
    assert pins(here) == {"python": (pins(here)["python"][0], "conda"),
                          "condalib": ("2.0", "conda"), "condadep": ("2.0", "conda"),
                          "condatool": ("1.0", "conda"), "gamma": ("0.2.0", "wheel")}
    assert "gamma" not in pins(mac) and mac.platform == "osx-arm64"
    assert all(f.md5 for f in here.files if f.kind == "conda")
    assert versions(envs.create(here), "condalib", "gamma") == {"condalib": "2.0", "gamma": "0.2.0"}
    # the dev category comes by default, as with conda-lock install
    lean = read_lock_file(conda_lock, default_groups=False)
    assert "condatool" not in pins(envs.lock_from_file(lean, HOST))


def test_render_explicit_md5_only_is_taken_in(envs, conda_lock):
    explicit = render_explicit(conda_lock, HOST)
    text = explicit.read_text()
    # conda-lock writes md5s for conda files, and wheels as '# pip' comment lines
    assert "@EXPLICIT" in text and ".conda#sha256" not in text and "# pip gamma @" in text
    lock = envs.import_lock(read_lock_file(explicit))
    assert kind_of(explicit) == "explicit"
    assert lock.full_id == envs.lock_from_file(read_lock_file(conda_lock), HOST).full_id
    assert versions(envs.create(lock), "condalib", "gamma") == {"condalib": "2.0",
                                                                "gamma": "0.2.0"}


def test_a_missing_platform_names_the_file(envs, conda_lock):
    with pytest.raises(FlowenvError) as err:
        envs.import_lock(read_lock_file(conda_lock), "linux-aarch64")
    message = str(err.value)
    assert str(conda_lock) in message and "no lock for linux-aarch64" in message
    assert "it has" in message


def test_a_wrong_sha256_stores_nothing(envs, conda_lock, store_dir):
    text = conda_lock.read_text()
    import re

    first = re.search(r"sha256: ([0-9a-f]{64})", text).group(1)
    conda_lock.write_text(text.replace(first, "f" * 64))
    with pytest.raises(FlowenvError) as err:
        envs.import_lock(read_lock_file(conda_lock), HOST)
    assert "sha256" in str(err.value) and "f" * 64 in str(err.value)
    assert not [p for p in store_dir.rglob("*") if p.is_file()]


def test_malformed_yaml_and_entries_name_the_file(envs, tmp_path):
    path = tmp_path / "conda-lock.yml"
    path.write_text("version: 1\npackage: [\n")
    with pytest.raises(FlowenvError, match="not valid YAML") as err:
        read_lock_file(path)
    assert str(path) in str(err.value)
    path.write_text("version: 1\nmetadata: {platforms: [linux-64]}\npackage:\n"
                    "- {name: x, version: '1', manager: conda, platform: linux-64,\n"
                    "   url: 'https://h/c/linux-64/x-1-0.conda', hash: {}}\n")
    with pytest.raises(FlowenvError) as err:
        read_lock_file(path)
    assert "package x (linux-64, entry 1)" in str(err.value) and "no sha256" in str(err.value)


def test_explicit_without_hash_or_platform(tmp_path):
    path = tmp_path / "env.txt"
    path.write_text("# platform: linux-64\n@EXPLICIT\nhttps://h/c/linux-64/x-1-0.conda\n")
    with pytest.raises(FlowenvError) as err:
        read_lock_file(path)
    assert "env.txt, line 3" in str(err.value) and "no hash" in str(err.value)
    path.write_text("@EXPLICIT\nhttps://h/c/noarch/x-1-0.conda#%s\n" % ("a" * 32))
    with pytest.raises(FlowenvError, match="no '# platform:' line"):
        read_lock_file(path)

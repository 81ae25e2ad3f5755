"""A hashed requirements.txt from `uv pip compile --generate-hashes`, used as a lock:
its files are found on the index (it names no URLs), only those whose sha256 it lists."""

from __future__ import annotations

import re

import pytest

from flowenv.errors import FlowenvError
from flowenv.lockfiles import kind_of, read_lock_file
from tests.lockmaker import uv_compile


@pytest.fixture
def hashed(tmp_path, index, uv_cache, monkeypatch):
    monkeypatch.setenv("FLOWENV_INDEX_URL", index.url + "/simple")
    monkeypatch.delenv("UV_OFFLINE", raising=False)  # the index is on 127.0.0.1
    return uv_compile(["beta==1.0.0", "delta"], tmp_path / "requirements.txt",
                      index.url + "/simple", uv_cache, fmt="requirements")


@pytest.fixture
def index_envs(hashed, store, cache_dir):
    from flowenv import Environments, LocalCache, Settings

    return Environments(store, LocalCache(cache_dir), settings=Settings.load())


def test_the_same_files_as_the_pylock_of_the_same_pins(index_envs, hashed, tmp_path, index,
                                                      uv_cache):
    assert kind_of(hashed) == "requirements"
    lock = index_envs.import_lock(read_lock_file(hashed))
    pylock = uv_compile(["beta==1.0.0", "delta"], tmp_path / "pylock.toml",
                        index.url + "/simple", uv_cache)
    assert lock.full_id == index_envs.lock_from_file(read_lock_file(pylock)).full_id
    assert {f.name for f in lock.files} == {"alpha", "beta", "delta", "gamma"}


def test_a_line_without_pin_or_hash_names_the_line(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("gamma==0.1.0 --hash=sha256:%s\nalpha>=1 --hash=sha256:%s\n" % ("a" * 64, "b" * 64))
    with pytest.raises(FlowenvError) as err:
        read_lock_file(path, kind="requirements")
    assert "requirements.txt, line 2" in str(err.value) and "not pinned" in str(err.value)
    path.write_text("gamma==0.1.0\n")
    with pytest.raises(FlowenvError, match="line 1.*no --hash"):
        read_lock_file(path, kind="requirements")


def test_a_hash_the_index_does_not_have_is_an_integrity_error(index_envs, hashed, store_dir):
    text = hashed.read_text()
    gamma = re.search(r"gamma==0\.3\.0 \\\n\s+--hash=sha256:([0-9a-f]{64})", text).group(1)
    hashed.write_text(text.replace(gamma, "0" * 64))
    with pytest.raises(FlowenvError) as err:
        index_envs.import_lock(read_lock_file(hashed))
    message = str(err.value)
    assert "gamma" in message and "sha256 the file lists" in message and str(hashed) in message
    assert not list(store_dir.rglob("*.json"))


def test_a_file_missing_a_needed_package_is_an_error(index_envs, hashed):
    text = hashed.read_text()
    hashed.write_text(re.sub(r"gamma==0\.3\.0 \\\n\s+--hash=sha256:[0-9a-f]{64}\n", "", text))
    with pytest.raises(FlowenvError) as err:
        index_envs.import_lock(read_lock_file(hashed))
    assert "need gamma 0.3.0, which the file does not list" in str(err.value)

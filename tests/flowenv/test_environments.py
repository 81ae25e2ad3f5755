"""The public face: naming published environments and looking them up."""

from __future__ import annotations

import dataclasses

import pytest

from flowenv import Alias, Environments, FlowenvError
from flowenv.errors import AliasError, EnvNotFound
from flowenv.lock import Lock
from flowenv.platforms import host_platform


@pytest.fixture
def lock(envs, make_spec):
    return envs.resolve(make_spec("beta==1.0.0"))


def test_lookup_by_alias_and_full_id(envs, lock):
    assert envs.set_alias("team/base:v1", [lock], who="ann") is True
    assert envs.lookup("team/base:v1") == lock
    assert envs.lookup(lock.full_id) == lock
    assert envs.lookup_all("team/base:v1") == {host_platform(): lock}
    assert envs.lookup_all(lock.full_id) == {lock.platform: lock}
    record = envs.alias_record("team/base:v1")
    assert record.req_id == lock.req_id
    assert record.history[0]["by"] == "ann"


def test_default_tag_is_latest(envs, lock):
    envs.set_alias("team/base", [lock], who="ann")
    assert envs.lookup("team/base:latest") == lock
    assert envs.lookup("team/base") == lock


def test_set_alias_refuses_an_env_not_in_the_store(envs, lock):
    ghost = dataclasses.replace(lock, files=lock.files[:1])
    assert ghost.full_id != lock.full_id
    with pytest.raises(EnvNotFound) as err:
        envs.set_alias("team/ghost:v1", [ghost])
    assert ghost.full_id in str(err.value)
    assert envs.store.aliases.find(Alias.parse("team/ghost:v1")) is None


def test_set_alias_validates_the_name(envs, lock):
    with pytest.raises(AliasError, match="Invalid environment name"):
        envs.set_alias("Team/Base:v1", [lock])


def test_immutable_alias_through_environments(envs, lock, make_spec):
    other = envs.resolve(make_spec("beta==1.5.0"))
    envs.set_alias("team/base:v1", [lock])
    assert envs.set_alias("team/base:v1", [lock]) is False
    with pytest.raises(AliasError, match="already points to"):
        envs.set_alias("team/base:v1", [other])
    envs.set_alias("team/base:candidate", [lock])
    assert envs.set_alias("team/base:candidate", [other], who="bob") is True
    assert envs.lookup("team/base:candidate") == other
    assert envs.lookup("team/base:v1") == lock


def test_same_env_from_another_spec_can_be_named_again(envs, lock, make_spec):
    same = envs.resolve(make_spec("beta<1.5", "alpha"))
    assert same.req_id != lock.req_id and same.full_id == lock.full_id
    envs.set_alias("team/base:v1", [lock])
    assert envs.set_alias("team/base:v1", [same]) is False
    assert envs.lookup("team/base:v1").full_id == lock.full_id
    assert envs.alias_record("team/base:v1").req_id == lock.req_id


def test_unknown_references(envs, lock):
    with pytest.raises(EnvNotFound, match="team/none:v1"):
        envs.lookup("team/none:v1")
    with pytest.raises(EnvNotFound):
        envs.lookup("0" * 32)
    envs.set_alias("team/base:v1", [lock])
    with pytest.raises(FlowenvError, match="osx-arm64"):
        envs.lookup("team/base:v1", platform="osx-arm64")


def test_store_records_round_trip(envs, lock):
    again = Environments(envs.store, envs.cache)
    assert again.lookup(lock.full_id).to_dict() == lock.to_dict()
    assert Lock.from_json(lock.to_json()) == lock


def test_corrupt_env_record_is_detected(envs, lock, store_dir):
    (path,) = list(store_dir.rglob(lock.full_id + ".json"))
    path.write_text(path.read_text().replace(lock.files[0].sha256, "0" * 64))
    with pytest.raises(FlowenvError, match="corrupt"):
        envs.lookup(lock.full_id)


def test_a_lock_taken_in_twice_is_reused_whatever_its_layout(envs, lock, tmp_path, monkeypatch):
    from flowenv import exporters
    from flowenv.lockfiles import read_lock_file

    path = tmp_path / "pylock.toml"
    text = exporters.export([lock], "pylock")
    path.write_text(text)
    first = envs.import_lock(read_lock_file(path))
    assert first.full_id == lock.full_id and first.req_id != lock.req_id
    # the same pins, laid out and commented differently: the same requirements id, and the
    # stored environment is reused without reading a package again
    path.write_text("# a comment\n" + text.replace(" = ", "=").replace("\n\n", "\n\n\n"))
    monkeypatch.setattr(envs, "publish", lambda *a, **k: pytest.fail("published again"))
    again = envs.import_lock(read_lock_file(path))
    assert again.full_id == first.full_id
    assert envs._lock_request(read_lock_file(path), None)[0] == first.req_id
    # another Python for a lock that leaves it open is another request
    assert envs._lock_request(read_lock_file(path), "3.99")[0] != first.req_id

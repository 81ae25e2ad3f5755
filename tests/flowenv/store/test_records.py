"""Stored records are read by one checked reader: a damaged or foreign record is an
error that names it and its repair, never a traceback or a silent misreading."""

from __future__ import annotations

import json

import pytest

from flowenv.errors import DamagedRecord
from flowenv.refs import Alias
from flowenv.store.blobs import Key


def _write(store, path, data: bytes):
    store.blobs.put(Key(path), data)


@pytest.mark.parametrize("content", [b"", b"{not json", b"[]", b'{"schema": 2, "alias": "x"}',
                                     json.dumps({"schema": 1, "alias": "team/env:v1",
                                                 "req_id": "r", "envs": "linux-64"}).encode()])
def test_a_damaged_alias_record_is_named(store, content):
    _write(store, "v1/aliases/team/env/v1.json", content)
    with pytest.raises(DamagedRecord) as err:
        store.aliases.get(Alias.parse("team/env:v1"))
    assert err.value.record == "v1/aliases/team/env/v1.json"
    assert "--force" in str(err.value) and store.url in str(err.value)


def test_a_damaged_alias_does_not_hide_the_others(envs, make_spec):
    lock = envs.resolve(make_spec("gamma"))
    envs.set_alias("team/good:v1", [lock])
    _write(envs.store, "v1/aliases/team/bad/v1.json", b"\x00\x01")
    records, damaged = envs.aliases("team/")
    assert [r.alias for r in records] == ["team/good:v1"]
    assert len(damaged) == 1 and "team/bad:v1" in str(damaged[0])


def test_a_damaged_resolution_pointer_is_resolved_again(envs, make_spec):
    spec = make_spec("gamma")
    lock = envs.resolve(spec)
    request = envs.request(spec)
    _write(envs.store, "v1/resolutions/%s/%s.json" % (request.req_id, lock.platform), b"{\"schema\": 1}")
    assert envs.resolve(spec).full_id == lock.full_id
    assert envs.store.envs.resolution(request.req_id, lock.platform).full_id == lock.full_id


def test_a_damaged_env_record_is_named_and_force_repairs_it(envs, make_spec):
    spec = make_spec("gamma")
    lock = envs.resolve(spec)
    _write(envs.store, "v1/envs/%s.json" % lock.full_id, lock.to_json()[:40])
    with pytest.raises(DamagedRecord) as err:
        envs.lookup(lock.full_id)
    assert lock.full_id in str(err.value) and "--force" in str(err.value)
    envs.resolve(spec, force=True)
    assert envs.lookup(lock.full_id) == lock

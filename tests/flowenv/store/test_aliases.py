"""Aliases on the local-folder store: immutable tags set once, mutable tags moved with
history, and both safe under many processes racing."""

from __future__ import annotations

import json
import multiprocessing
import queue as queue_module
from datetime import datetime

import pytest

from flowenv.errors import AliasError, EnvNotFound
from flowenv.refs import Alias
from flowenv.store import Store

from tests.flowenv import _workers

RACERS = 16


def fid(n: int) -> str:
    return "%032x" % n


def test_immutable_tag_is_set_once(store):
    alias = Alias.parse("team/env:v1")
    assert store.aliases.set(alias, "r1", {"linux-64": fid(1)}, "ann") is True
    # The same env again changes nothing.
    assert store.aliases.set(alias, "r1", {"linux-64": fid(1)}, "bob") is False
    record = store.aliases.get(alias)
    assert record.envs == {"linux-64": fid(1)}
    assert len(record.history) == 1 and record.history[0]["by"] == "ann"
    with pytest.raises(AliasError) as err:
        store.aliases.set(alias, "r2", {"linux-64": fid(2)}, "bob")
    message = str(err.value)
    assert "already points to" in message
    assert fid(1) in message and fid(2) in message and "team/env:v1" in message
    assert store.aliases.get(alias).envs == {"linux-64": fid(1)}


def test_immutable_tag_refuses_same_req_id_with_other_env(store):
    alias = Alias.parse("team/env:v1")
    store.aliases.set(alias, "r1", {"linux-64": fid(1)}, "ann")
    with pytest.raises(AliasError, match="already points to"):
        store.aliases.set(alias, "r1", {"linux-64": fid(3)}, "ann")


def test_immutable_tag_set_again_to_the_same_env_from_another_spec_is_a_no_op(store):
    # Two specs (two req_ids) can resolve to the very same environment.
    alias = Alias.parse("team/env:v1")
    store.aliases.set(alias, "r1", {"linux-64": fid(1)}, "ann")
    assert store.aliases.set(alias, "r2", {"linux-64": fid(1)}, "bob") is False
    record = store.aliases.get(alias)
    assert record.req_id == "r1" and len(record.history) == 1


def test_immutable_tag_can_gain_a_platform_of_the_same_resolution(store):
    alias = Alias.parse("team/env:v1")
    store.aliases.set(alias, "r1", {"linux-64": fid(1)}, "ann")
    assert store.aliases.set(alias, "r1", {"osx-arm64": fid(2)}, "ann") is True
    assert store.aliases.get(alias).envs == {"linux-64": fid(1), "osx-arm64": fid(2)}


def test_mutable_tag_moves_with_history(store):
    alias = Alias.parse("team/env")  # :latest
    assert store.aliases.set(alias, "r1", {"linux-64": fid(1)}, "ann")
    assert store.aliases.set(alias, "r2", {"linux-64": fid(2)}, "bob")
    assert not store.aliases.set(alias, "r2", {"linux-64": fid(2)}, "bob")
    record = store.aliases.get(Alias.parse("team/env:latest"))
    assert record.alias == "team/env:latest"
    assert record.req_id == "r2" and record.envs == {"linux-64": fid(2)}
    first, second = record.history
    assert first["by"] == "ann" and first["previous"] is None
    assert first["envs"] == {"linux-64": fid(1)}
    assert second["by"] == "bob" and second["previous"] == {"linux-64": fid(1)}
    assert second["envs"] == {"linux-64": fid(2)} and second["req_id"] == "r2"
    for entry in record.history:
        assert datetime.fromisoformat(entry["at"]).tzinfo is not None


def test_new_resolution_replaces_every_platform_of_a_mutable_tag(store):
    alias = Alias.parse("team/env:stable")
    store.aliases.set(alias, "r1", {"linux-64": fid(1), "osx-arm64": fid(2)}, "ann")
    store.aliases.set(alias, "r2", {"linux-64": fid(3)}, "ann")
    assert store.aliases.get(alias).envs == {"linux-64": fid(3)}
    store.aliases.set(alias, "r2", {"osx-arm64": fid(4)}, "ann")
    assert store.aliases.get(alias).envs == {"linux-64": fid(3), "osx-arm64": fid(4)}


def test_unknown_alias(store):
    assert store.aliases.find(Alias.parse("team/none:v1")) is None
    with pytest.raises(EnvNotFound) as err:
        store.aliases.get(Alias.parse("team/none:v1"))
    assert "team/none:v1" in str(err.value)


def test_missing_platform_is_explained(store):
    alias = Alias.parse("team/env:v1")
    store.aliases.set(alias, "r1", {"linux-64": fid(1)}, "ann")
    with pytest.raises(AliasError) as err:
        store.aliases.get(alias).full_id_for("osx-arm64")
    assert "osx-arm64" in str(err.value) and "linux-64" in str(err.value)


def test_list_aliases(store):
    store.aliases.set(Alias.parse("team/a:v1"), "r1", {"linux-64": fid(1)}, "ann")
    store.aliases.set(Alias.parse("team/b"), "r2", {"linux-64": fid(2)}, "ann")
    store.aliases.set(Alias.parse("other/c:v2"), "r3", {"linux-64": fid(3)}, "ann")
    assert sorted(r.alias for r in store.aliases.scan()) == [
        "other/c:v2", "team/a:v1", "team/b:latest"]
    assert sorted(r.alias for r in store.aliases.scan("team")) == ["team/a:v1", "team/b:latest"]


def test_alias_record_is_stored_as_versioned_json(store, store_dir):
    store.aliases.set(Alias.parse("team/env:v1"), "r1", {"linux-64": fid(1)}, "ann")
    (path,) = [p for p in store_dir.rglob("*.json")]
    data = json.loads(path.read_text())
    assert data["schema"] == 1 and data["alias"] == "team/env:v1"


def _race(store_dir, alias, envs_for):
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(RACERS)
    results = ctx.Queue()
    procs = [ctx.Process(target=_workers.set_alias,
                         args=(str(store_dir), alias, "r%d" % i, envs_for(i), "user%d" % i,
                               barrier, results))
             for i in range(RACERS)]
    for p in procs:
        p.start()
    out = []
    try:
        for _ in procs:
            out.append(results.get(timeout=60))
    except queue_module.Empty:
        pytest.fail("only %d of %d racers reported: %r" % (len(out), RACERS, out))
    finally:
        for p in procs:
            p.join(timeout=30)
    assert all(p.exitcode == 0 for p in procs)
    return out


def test_racing_immutable_tag_has_one_winner(store_dir):
    out = _race(store_dir, "team/race:v1", lambda i: {"linux-64": fid(100 + i)})
    winners = [r for r in out if r[1] == "ok"]
    losers = [r for r in out if r[1] != "ok"]
    assert len(winners) == 1, out
    assert winners[0][2] is True
    assert len(losers) == RACERS - 1
    for who, kind, message in losers:
        assert kind == "AliasError" and "already points to" in message, (who, kind, message)
    winner = int(winners[0][0][len("user"):])
    record = Store.open(str(store_dir)).aliases.get(Alias.parse("team/race:v1"))
    assert record.envs == {"linux-64": fid(100 + winner)}
    assert record.req_id == "r%d" % winner
    assert [h["by"] for h in record.history] == ["user%d" % winner]


def test_racing_moves_of_latest_form_a_chain(store_dir):
    out = _race(store_dir, "team/race", lambda i: {"linux-64": fid(200 + i)})
    assert all(r[1] == "ok" and r[2] is True for r in out), out
    record = Store.open(str(store_dir)).aliases.get(Alias.parse("team/race:latest"))
    history = record.history
    assert len(history) == RACERS
    assert sorted(h["by"] for h in history) == sorted("user%d" % i for i in range(RACERS))
    assert history[0]["previous"] is None
    for before, after in zip(history, history[1:]):
        assert after["previous"] == before["envs"]
    assert record.envs == history[-1]["envs"]

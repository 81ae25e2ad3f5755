"""The logging BlobStore: one debug line per operation, behaviour unchanged."""

from flowenv.debuglog import DebugLog
from flowenv.store import Key, Store
from flowenv.store.local import LocalBlobStore
from flowenv.store.logged import LoggedBlobStore


def test_every_operation_is_logged_with_key_duration_and_outcome(tmp_path):
    lines = []
    blobs = LoggedBlobStore(LocalBlobStore(tmp_path / "store"), DebugLog(lines.append))
    key = Key("v1/envs/abc.json")
    assert blobs.get(key) is None
    assert blobs.put_if_absent(key, b"{}") is True
    assert blobs.put_if_absent(key, b"{}") is False
    etag = blobs.get(key)[1]
    assert blobs.compare_and_swap(key, b"{ }", etag) is True
    assert blobs.compare_and_swap(key, b"{}", etag) is False
    assert blobs.exists(key)
    assert [k.path for k in blobs.list(Key("v1"))] == ["v1/envs/abc.json"]
    assert blobs.size(key) == 3
    (tmp_path / "f").write_bytes(b"x" * 2000)
    blobs.put_file(Key("v1/packages/f"), str(tmp_path / "f"))
    assert blobs.get_file(Key("v1/packages/f"), str(tmp_path / "g"))
    where = str(tmp_path / "store") + "/v1/envs/abc.json"
    assert lines[0].startswith("store get %s: " % where) and lines[0].endswith("absent")
    assert lines[1].endswith("created") and lines[2].endswith("already there")
    assert lines[4].endswith("swapped") and lines[5].endswith("changed meanwhile")
    assert lines[6].endswith("present") and lines[7].endswith("1 keys")
    assert lines[8].startswith("store size ") and lines[8].endswith("3 bytes")
    assert lines[9].startswith("store put-file ") and lines[9].endswith("2.0 kB")
    assert lines[10].startswith("store get-file ") and lines[10].endswith("2.0 kB")
    assert all(" ms" in line or " s," in line for line in lines)


def test_store_logged_only_when_the_log_is_on(tmp_path):
    store = Store.open(str(tmp_path / "store"))
    assert store.logged(DebugLog()) is store
    logged = store.logged(DebugLog(print))
    assert isinstance(logged.blobs, LoggedBlobStore) and logged.url == store.url
    assert logged.logged(DebugLog(print)) is logged


def test_the_local_stores_lock_waits_are_logged(tmp_path):
    import fcntl
    import threading
    import time

    lines = []
    store = Store.open(str(tmp_path / "store"), log=DebugLog(lines.append))
    key = Key("v1/aliases/team/env/latest.json")
    store.blobs.put(key, b"{}")
    etag = store.blobs.get(key)[1]
    lock_path = tmp_path / "store" / (key.path + ".flowenv-cas-lock")
    held = open(lock_path, "a")
    fcntl.flock(held, fcntl.LOCK_EX)
    threading.Timer(0.3, held.close).start()  # another writer finishes
    start = time.monotonic()
    assert store.blobs.compare_and_swap(key, b"{ }", etag)
    assert time.monotonic() - start >= 0.25
    assert any(l.startswith("lock %s: waiting for another process updating" % lock_path)
               for l in lines)
    assert any(l.startswith("lock %s: acquired after " % lock_path) for l in lines)
    assert lines[-1].startswith("store compare-and-swap ") and lines[-1].endswith("swapped")

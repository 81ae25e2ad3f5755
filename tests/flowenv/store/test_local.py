"""The local folder store: its compare-and-swap lock waits a bounded time, and its files
are readable by teammates sharing the folder."""

from __future__ import annotations

import fcntl
import stat
import time

import pytest

from flowenv.errors import StoreError
from flowenv.refs import Alias
from flowenv.settings import Settings
from flowenv.store import Store
from flowenv.store.blobs import Key
from flowenv.store.local import LocalBlobStore

FULL_ID = "0123456789abcdef" * 2


def test_compare_and_swap_waits_a_bounded_time_and_names_the_knob(tmp_path):
    store = Store.open(str(tmp_path / "store"), Settings(lock_timeout=0.5))
    alias = Alias.parse("team/env:latest")
    store.aliases.set(alias, "r1", {"linux-64": FULL_ID}, "ann")
    key = store.aliases._key(alias)
    lock_file = tmp_path / "store" / (key.path + ".flowenv-cas-lock")
    with open(lock_file, "a") as held:  # another process stuck while holding the lock
        fcntl.flock(held, fcntl.LOCK_EX)
        start = time.monotonic()
        with pytest.raises(StoreError) as err:
            store.aliases.set(alias, "r2", {"linux-64": "f" * 32}, "bob")
        assert time.monotonic() - start < 5
    assert "FLOWENV_LOCK_TIMEOUT" in str(err.value)
    assert store.aliases.get(alias).envs == {"linux-64": FULL_ID}  # unchanged
    store.aliases.set(alias, "r2", {"linux-64": "f" * 32}, "bob")  # released: it moves


def test_store_files_are_readable_by_others(tmp_path):
    blobs = LocalBlobStore(tmp_path / "store")
    blobs.put(Key("a/b.json"), b"{}")
    blobs.put_if_absent(Key("a/c.json"), b"{}")
    source = tmp_path / "wheel.whl"
    source.write_bytes(b"x")
    source.chmod(0o600)
    blobs.put_file(Key("a/d"), str(source))
    for name in ("b.json", "c.json", "d"):
        mode = (tmp_path / "store" / "a" / name).stat().st_mode
        assert mode & stat.S_IRGRP and mode & stat.S_IROTH, name

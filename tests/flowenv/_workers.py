"""Functions run in child processes (multiprocessing spawn) by the core tests."""

from __future__ import annotations

import os
import time
from pathlib import Path


def set_alias(store_dir, alias, req_id, envs, who, barrier, results):
    from flowenv.errors import AliasError
    from flowenv.refs import Alias
    from flowenv.store import Store

    book = Store.open(store_dir).aliases
    barrier.wait()
    try:
        changed = book.set(Alias.parse(alias), req_id, envs, who)
        results.put((who, "ok", changed))
    except AliasError as exc:
        results.put((who, "AliasError", str(exc)))
    except Exception as exc:  # reported, so that the test shows it
        results.put((who, type(exc).__name__, str(exc)))


def hold_creation_lock(cache_dir, full_id, ready_file):
    """Take the lock create_env takes for full_id, say so, and sleep until killed."""
    from flowenv.cache import LocalCache
    from flowenv.filelock import file_lock

    cache = LocalCache(cache_dir)
    with file_lock(cache.env_lock(full_id), "test holder"):
        Path(ready_file).write_text("locked")
        time.sleep(600)


def create(store_dir, cache_dir, lock_json, builds_file, barrier, results):
    """Create the env from a lock, counting how many times this process really builds it."""
    import flowenv.create as creator
    from flowenv.cache import LocalCache
    from flowenv.environments import Environments
    from flowenv.lock import Lock
    from flowenv.store import Store

    real_build = creator.Creator._build

    def counting_build(*args, **kwargs):
        with open(builds_file, "a") as f:
            f.write("%d\n" % os.getpid())
        return real_build(*args, **kwargs)

    creator.Creator._build = counting_build
    envs = Environments(Store.open(store_dir), LocalCache(cache_dir))
    lock = Lock.from_json(lock_json)
    barrier.wait()
    try:
        results.put(("ok", str(envs.create(lock))))
    except Exception as exc:
        results.put((type(exc).__name__, str(exc)))

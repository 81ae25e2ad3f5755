"""Creating environments: from the store's verified copies, once, safely under
concurrency and after crashes."""

from __future__ import annotations

import json
import multiprocessing
import os
import queue as queue_module
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from flowenv.cache import LocalCache
from flowenv.create import COMPLETE_MARKER, env_python, is_complete
from flowenv.environments import Environments
from flowenv.errors import IntegrityError, LockTimeout
from flowenv.spec import Spec
from tests.wheelhouse import build_index

from tests.flowenv import _workers
from tests.flowenv.conftest import PYTHON_FULL, PYTHON_MINOR

PINS = {"alpha": "2.0.0", "beta": "1.0.0", "delta": "3.0.0", "gamma": "0.3.0"}

_REPORT = ("import json, sys, alpha, beta, gamma, delta; print(json.dumps({"
           "'python': '%d.%d.%d' % sys.version_info[:3], 'prefix': sys.prefix, "
           "'alpha': alpha.__version__, 'beta': beta.__version__, "
           "'gamma': gamma.__version__, 'delta': delta.__version__}))")


def report(prefix: Path) -> dict:
    out = subprocess.run([str(env_python(prefix)), "-I", "-c", _REPORT], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def assert_works(prefix: Path, lock):
    assert is_complete(prefix)
    seen = report(prefix)
    assert {k: seen[k] for k in PINS} == lock.pins() == PINS
    assert seen["python"].rsplit(".", 1)[0] == PYTHON_MINOR
    assert os.path.realpath(seen["prefix"]) == os.path.realpath(str(prefix))


@pytest.fixture
def lock(envs, make_spec):
    return envs.resolve(make_spec("beta==1.0.0", "delta"))


def fresh(envs, tmp_path, name="other-cache") -> Environments:
    """The same store seen from another machine: nothing cached locally."""
    return Environments(envs.store, LocalCache(tmp_path / name))


def test_create_builds_an_env_with_the_pinned_versions(envs, lock):
    prefix = envs.create(lock)
    assert prefix == envs.cache.env_prefix(lock.full_id)
    assert_works(prefix, lock)
    marker = json.loads((prefix / COMPLETE_MARKER).read_text())
    assert marker["full_id"] == lock.full_id


def test_second_create_is_a_no_op(envs, lock, monkeypatch):
    prefix = envs.create(lock)
    stamp = (prefix / COMPLETE_MARKER).stat().st_mtime_ns
    from flowenv.uv_runner import UvRunner

    monkeypatch.setattr(UvRunner, "run", lambda *a, **k: pytest.fail("uv was called"))
    start = time.monotonic()
    assert envs.create(lock) == prefix
    assert time.monotonic() - start < 0.1
    assert (prefix / COMPLETE_MARKER).stat().st_mtime_ns == stamp


def test_create_uses_only_the_store(envs, empty_index, tmp_path):
    """The wheels' original location is gone; the store's copies are enough."""
    index = build_index(tmp_path / "gone", [("gamma", "0.2.0", ())])
    lock = envs.resolve(Spec(pypi=("gamma",), python=PYTHON_MINOR, index_url=empty_index,
                             find_links=(str(index),)))
    shutil.rmtree(index)
    prefix = fresh(envs, tmp_path).create(lock)
    out = subprocess.run([str(env_python(prefix)), "-c", "import gamma; print(gamma.__version__)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0.2.0"


def test_create_into_a_chosen_folder(envs, lock, tmp_path):
    dest = tmp_path / "my-env"
    assert envs.create(lock, dest=dest) == dest
    assert_works(dest, lock)


def test_half_made_prefix_is_rebuilt(envs, lock):
    prefix = envs.cache.env_prefix(lock.full_id)
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "python").write_text("junk from a killed build")
    (prefix / "junk.txt").write_text("junk")
    assert not is_complete(prefix)
    assert envs.create(lock) == prefix
    assert not (prefix / "junk.txt").exists()
    assert_works(prefix, lock)


def _spawn(target, *args):
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=target, args=args)
    proc.start()
    return proc


def test_killed_lock_holder_does_not_block(envs, lock, tmp_path, monkeypatch):
    ready = tmp_path / "holder-ready"
    holder = _spawn(_workers.hold_creation_lock, str(envs.cache.root), lock.full_id, str(ready))
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert holder.is_alive() and time.monotonic() < deadline, "holder did not start"
            time.sleep(0.02)
        # While the holder lives, creation waits, then times out naming the knob.
        envs.creator.lock_timeout = 0.3
        with pytest.raises(LockTimeout) as err:
            envs.create(lock)
        assert "FLOWENV_LOCK_TIMEOUT" in str(err.value)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(timeout=10)
    assert holder.exitcode == -signal.SIGKILL
    envs.creator.lock_timeout = 20
    start = time.monotonic()
    prefix = envs.create(lock)
    assert time.monotonic() - start < 15
    assert_works(prefix, lock)


def test_concurrent_creates_build_once(envs, lock, tmp_path):
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    builds = tmp_path / "builds.txt"
    procs = [ctx.Process(target=_workers.create,
                         args=(str(envs.store.blobs.root), str(envs.cache.root),
                               lock.to_json(), str(builds), barrier, results))
             for _ in range(2)]
    for p in procs:
        p.start()
    try:
        out = [results.get(timeout=60) for _ in procs]
    except queue_module.Empty:
        pytest.fail("a creating process did not report")
    finally:
        for p in procs:
            p.join(timeout=30)
    assert [r[0] for r in out] == ["ok", "ok"], out
    prefixes = {r[1] for r in out}
    assert prefixes == {str(envs.cache.env_prefix(lock.full_id))}
    assert len(builds.read_text().split()) == 1  # one process built, the other reused
    assert_works(Path(prefixes.pop()), lock)


def _blob_path(store_dir: Path, sha256: str) -> Path:
    (path,) = [p for p in store_dir.rglob(sha256) if p.is_file()]
    return path


def test_tampered_package_in_store_is_refused(envs, lock, store_dir, tmp_path):
    alpha = next(f for f in lock.files if f.name == "alpha")
    blob = _blob_path(store_dir, alpha.sha256)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    other = fresh(envs, tmp_path)
    with pytest.raises(IntegrityError) as err:
        other.create(lock)
    message = str(err.value)
    assert "alpha" in message and alpha.filename in message and alpha.sha256 in message
    prefix = other.cache.env_prefix(lock.full_id)
    assert not is_complete(prefix) and not prefix.exists()
    assert not other.cache.package_path(alpha).exists()  # the bad copy is not cached


def test_missing_package_in_store_is_refused(envs, lock, store_dir, tmp_path):
    gamma = next(f for f in lock.files if f.name == "gamma")
    _blob_path(store_dir, gamma.sha256).unlink()
    with pytest.raises(IntegrityError) as err:
        fresh(envs, tmp_path).create(lock)
    assert "gamma" in str(err.value) and "missing" in str(err.value)


def test_env_python_is_the_locked_version(envs, lock):
    prefix = envs.create(lock)
    assert report(prefix)["python"] == lock.python == PYTHON_FULL

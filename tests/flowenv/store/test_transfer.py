"""Fetching package files from the store: parallel ranged reads, verified while streaming,
retried on transient errors, bounded in memory, on every backend."""

from __future__ import annotations

import hashlib
import os
import threading
import tracemalloc

import pytest

from flowenv.errors import IntegrityError, StoreError
from flowenv.lock import LockedFile
from flowenv.progress import Progress
from flowenv.store import Store
from flowenv.store.local import LocalBlobStore
from flowenv.store.transfer import Transfer
from flowenv.verify import is_intact

MB = 1 << 20


def locked(name: str, data: bytes, size=True) -> LockedFile:
    return LockedFile(name=name, version="1.0", kind="wheel",
                      filename="%s-1.0-py3-none-any.whl" % name, url="",
                      sha256=hashlib.sha256(data).hexdigest(),
                      size=len(data) if size else None)


def publish(store: Store, tmp_path, files: dict) -> dict:
    """name -> bytes into the store; name -> LockedFile."""
    out = {}
    for name, data in files.items():
        source = tmp_path / ("src-" + name)
        source.write_bytes(data)
        out[name] = locked(name, data)
        store.packages.upload(out[name], source)
    return out


def payload(size: int, seed: int) -> bytes:
    return (hashlib.sha256(b"%d" % seed).digest() * (size // 32 + 1))[:size]


def test_fetches_small_and_parted_files_verified_on_every_backend(blob_store, tmp_path):
    store = Store.over(blob_store)
    files = {"big": payload(3 * MB + 12345, 1), "small": payload(2000, 2), "empty": b""}
    locks = publish(store, tmp_path, files)
    locks["nosize"] = locked("small", files["small"], size=False)
    dest = tmp_path / "cache"
    items = [(f, dest / name / f.filename) for name, f in locks.items()]
    done = []
    with Transfer(store.packages, concurrency=3, part_size=MB).start(items) as fetching:
        while fetching.remaining:
            done += fetching.next_batch()
    assert sorted(d for _, d in done) == sorted(d for _, d in items)
    for (file, path), name in zip(items, locks):
        assert path.read_bytes() == files.get(name, files["small"])
        assert is_intact(path, file)
    assert not [p for p in dest.rglob("*") if p.name.startswith(".flowenv-tmp")]


class FlakyStore(LocalBlobStore):
    """A local store whose connection drops mid-part: every range fails `failures` times
    after half its bytes, then works."""

    def __init__(self, root, failures=1):
        super().__init__(root)
        self.failures = failures
        self.attempts = {}
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()

    def read_range(self, key, offset, length, out):
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            tries = self.attempts[(key, offset)] = self.attempts.get((key, offset), 0) + 1
        try:
            if tries <= self.failures:
                super().read_range(key, offset, length // 2, out)
                raise ConnectionResetError("connection reset by peer")
            return super().read_range(key, offset, length, out)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_transient_errors_are_retried_and_progress_stays_true(tmp_path, monkeypatch):
    import flowenv.store.transfer as transfer

    monkeypatch.setattr(transfer, "BACKOFF", 0.001)
    flaky = FlakyStore(tmp_path / "store", failures=2)
    store = Store.over(flaky)
    data = payload(5 * MB, 3)
    file = publish(store, tmp_path, {"big": data})["big"]
    dest = tmp_path / "cache" / file.filename
    seen = []
    progress = Progress(mode="quiet")
    original = progress.meter

    def meter(*args, **kwargs):
        context = original(*args, **kwargs)
        return _Spy(context, seen)

    progress.meter = meter
    Transfer(store.packages, concurrency=4, part_size=MB, progress=progress).fetch_all(
        [(file, dest)])
    assert dest.read_bytes() == data
    assert all(tries == 3 for tries in flaky.attempts.values())
    assert seen[0].bytes == len(data)  # failed attempts' bytes were taken back
    assert flaky.most_in_flight <= 4


class _Spy:
    def __init__(self, context, seen):
        self.context = context
        self.seen = seen

    def __enter__(self):
        meter = self.context.__enter__()
        self.seen.append(meter)
        return meter

    def __exit__(self, *exc):
        return self.context.__exit__(*exc)


def test_a_read_that_keeps_failing_names_the_package_and_the_store(tmp_path, monkeypatch):
    import flowenv.store.transfer as transfer

    monkeypatch.setattr(transfer, "BACKOFF", 0.001)
    store = Store.over(FlakyStore(tmp_path / "store", failures=99))
    file = publish(store, tmp_path, {"pkg": payload(3000, 4)})["pkg"]
    dest = tmp_path / "cache" / file.filename
    with pytest.raises(StoreError) as err:
        Transfer(store.packages, retries=2).fetch_all([(file, dest)])
    message = str(err.value)
    assert "pkg 1.0" in message and "after 3 tries" in message and "connection reset" in message
    assert not dest.exists() and not list(dest.parent.iterdir())


def test_missing_and_damaged_blobs_are_integrity_errors_and_leave_nothing(tmp_path):
    store = Store.open(str(tmp_path / "store"))
    files = publish(store, tmp_path, {"good": payload(4000, 5), "bad": payload(4000, 6)})
    store.blobs.put(store.packages.key(files["bad"].sha256), payload(4000, 7))
    gone = locked("gone", b"never stored")
    dest = tmp_path / "cache"
    with pytest.raises(IntegrityError) as err:
        Transfer(store.packages).fetch_all([(gone, dest / "gone.whl")])
    assert "missing from the store" in str(err.value) and "gone 1.0" in str(err.value)
    assert "resolve --force" in str(err.value)
    with pytest.raises(IntegrityError) as err:
        Transfer(store.packages).fetch_all([(files["bad"], dest / "bad.whl")])
    assert "sha256" in str(err.value) and "bad 1.0" in str(err.value)
    assert not dest.exists() or not list(dest.iterdir())


def test_memory_stays_far_below_the_file_size(tmp_path):
    store = Store.open(str(tmp_path / "store"))
    data = payload(48 * MB, 8)
    file = publish(store, tmp_path, {"huge": data})["huge"]
    del data
    dest = tmp_path / "cache" / file.filename
    tracemalloc.start()
    try:
        Transfer(store.packages, concurrency=4, part_size=8 * MB).fetch_all([(file, dest)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert is_intact(dest, file)
    assert peak < 12 * MB, "peak %.1f MB for a 48 MB file" % (peak / MB)
    assert os.path.getsize(dest) == 48 * MB


def test_what_counts_as_transient():
    from botocore.exceptions import ClientError, ReadTimeoutError

    from flowenv.store.s3 import S3BlobStore

    s3 = S3BlobStore("bucket", client=object())

    def answer(code, status):
        return ClientError({"Error": {"Code": code},
                            "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")

    assert s3.is_transient(ReadTimeoutError(endpoint_url="http://x"))
    assert s3.is_transient(ConnectionResetError())
    assert s3.is_transient(answer("SlowDown", 503)) and s3.is_transient(answer("InternalError", 500))
    assert not s3.is_transient(answer("AccessDenied", 403))
    assert not s3.is_transient(answer("NoSuchKey", 404))
    assert not LocalBlobStore("/nowhere").is_transient(PermissionError())

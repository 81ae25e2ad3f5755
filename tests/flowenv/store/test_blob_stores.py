"""One suite for every BlobStore backend: local folder, S3 (moto), GCS (fake-gcs-server)
and Azure Blob (Azurite), each on a real server on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from urllib.parse import urlparse

import pytest

from flowenv.errors import StoreError
from flowenv.store.blobs import Key

from tests import servers  # conftest.py has made sure the repo root is importable

RACERS = servers.RACERS


def test_get_missing_is_none(blob_store):
    assert blob_store.get(Key("no/such/object")) is None
    assert not blob_store.exists(Key("no/such/object"))


def test_put_get_roundtrip(blob_store):
    key = Key("a/b/blob.bin")
    data = bytes(range(256)) * 4
    blob_store.put(key, data)
    content, etag = blob_store.get(key)
    assert content == data
    assert isinstance(etag, str) and etag
    assert blob_store.exists(key)
    blob_store.put(key, b"second")
    assert blob_store.get(key)[0] == b"second"


def test_size_without_download(blob_store, tmp_path):
    assert blob_store.size(Key("no/such/object")) is None
    blob_store.put(Key("sized/a"), b"x" * 1000)
    assert blob_store.size(Key("sized/a")) == 1000
    source = tmp_path / "big.bin"
    source.write_bytes(b"y" * 300_000)
    blob_store.put_file(Key("sized/b"), str(source))
    assert blob_store.size(Key("sized/b")) == 300_000


def test_put_if_absent_once(blob_store):
    key = Key("tags/v1")
    assert blob_store.put_if_absent(key, b"first") is True
    assert blob_store.put_if_absent(key, b"second") is False
    assert blob_store.get(key)[0] == b"first"


def test_compare_and_swap(blob_store):
    key = Key("aliases/main.json")
    assert blob_store.compare_and_swap(key, b"v1", None) is True
    content, etag1 = blob_store.get(key)
    assert content == b"v1"

    assert blob_store.compare_and_swap(key, b"v2", etag1) is True
    content, etag2 = blob_store.get(key)
    assert content == b"v2"
    assert etag2 != etag1

    assert blob_store.compare_and_swap(key, b"stale", etag1) is False
    assert blob_store.compare_and_swap(key, b"not-new", None) is False
    assert blob_store.get(key) == (b"v2", etag2)


def test_compare_and_swap_on_missing_object_with_an_etag_fails(blob_store):
    key = Key("aliases/other.json")
    blob_store.put(Key("aliases/seed"), b"x")
    _, etag = blob_store.get(Key("aliases/seed"))
    assert blob_store.compare_and_swap(key, b"v1", etag) is False
    assert blob_store.get(key) is None


def test_list_is_recursive_and_stays_under_its_prefix(blob_store):
    for path in ("a/b/1", "a/b/c/2", "a/x", "ab/y", "b/z"):
        blob_store.put(Key(path), path.encode())
    assert sorted(k.path for k in blob_store.list(Key("a/b"))) == ["a/b/1", "a/b/c/2"]
    assert sorted(k.path for k in blob_store.list(Key("a"))) == ["a/b/1", "a/b/c/2", "a/x"]
    assert list(blob_store.list(Key("nothing/here"))) == []
    assert all(isinstance(k, Key) for k in blob_store.list(Key("a")))


def test_put_file_get_file(blob_store, tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"\x00payload\xff" * 1000)
    key = Key("pkgs/sha256/abc/file.whl")
    blob_store.put_file(key, str(source))
    assert blob_store.get(key)[0] == source.read_bytes()

    target = tmp_path / "target.bin"
    assert blob_store.get_file(key, str(target)) is True
    assert target.read_bytes() == source.read_bytes()

    missing = tmp_path / "missing.bin"
    assert blob_store.get_file(Key("pkgs/none"), str(missing)) is False
    assert not missing.exists()


@pytest.mark.parametrize("bad", ["../x", "/abs", "a//b", "a/../b", "", "a/", "./a", "a b"])
def test_key_refuses_unsafe_paths(bad):
    with pytest.raises(StoreError):
        Key(bad)


@pytest.mark.parametrize("missing_bucket_store", ["s3", "gcs", "azure"], indirect=True)
def test_missing_bucket_is_a_chained_store_error(missing_bucket_store):
    with pytest.raises(StoreError) as info:
        missing_bucket_store.put(Key("k"), b"x")
    assert missing_bucket_store.url in str(info.value)
    assert "put" in str(info.value)
    assert info.value.__cause__ is not None


def test_keys_live_under_the_store_prefix(blob_store, store_spec):
    if store_spec.kind == "local":
        pytest.skip("a local store is its folder; it has no prefix inside a bucket")
    blob_store.put(Key("a/b"), b"inside")
    parsed = urlparse(store_spec.url)
    root = servers.open_store(
        servers.StoreSpec(store_spec.kind, "%s://%s" % (parsed.scheme, parsed.netloc))
    )
    prefix = parsed.path.strip("/")
    assert root.get(Key.join(prefix, "a/b"))[0] == b"inside"
    assert [k.path for k in root.list(Key(prefix))] == [prefix + "/a/b"]


def test_missing_sdk_names_the_pip_extra():
    script = textwrap.dedent(
        """
        import sys
        for name in ("boto3", "google.cloud.storage", "azure.storage.blob"):
            sys.modules[name] = None
        from flowenv.errors import StoreError
        from flowenv.store.azure import AzureBlobStore
        from flowenv.store.gcs import GCSBlobStore
        from flowenv.store.s3 import S3BlobStore
        for cls, url in ((S3BlobStore, "s3://b/p"), (GCSBlobStore, "gs://b/p"),
                         (AzureBlobStore, "azure://c/p")):
            try:
                cls.from_url(url)
            except StoreError as exc:
                assert isinstance(exc.__cause__, ImportError), exc
                print(exc)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    for extra in ("flowenv[s3]", "flowenv[gcs]", "flowenv[azure]"):
        assert "pip install '%s'" % extra in out


def test_racing_put_if_absent_has_one_winner(blob_store, store_spec, racers):
    results = racers.run(servers.race_put_if_absent, store_spec, "race/tag")
    winners = [worker for worker, won in results if won]
    assert len(winners) == 1, results
    assert blob_store.get(Key("race/tag"))[0] == b"writer-%d" % winners[0]


def test_racing_compare_and_swap_loses_no_update(blob_store, store_spec, racers):
    attempts = racers.run(servers.race_append, store_spec, "race/list.json")
    items = json.loads(blob_store.get(Key("race/list.json"))[0])
    assert sorted(items) == list(range(RACERS))
    assert sum(attempts) >= RACERS

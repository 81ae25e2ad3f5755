"""A BlobStore in a Google Cloud Storage bucket, using generation preconditions.

The ETag is the object's generation, as a string; `if_generation_match=0` means "must
not exist". With STORAGE_EMULATOR_HOST set (a test server), the client is anonymous.
"""

from __future__ import annotations

import os
from typing import Iterator, Optional, Tuple
from urllib.parse import urlparse

from ..errors import StoreError
from .blobs import BlobStore, Key

EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
_EMULATOR_PROJECT = "flowenv-test"


def _storage():
    try:
        from google.cloud import storage
    except ImportError as exc:
        raise StoreError(
            "The GCS store needs google-cloud-storage: pip install 'flowenv[gcs]'"
        ) from exc
    return storage


def _make_client():
    storage = _storage()
    if os.environ.get(EMULATOR_ENV):
        from google.auth.credentials import AnonymousCredentials

        project = os.environ.get("GOOGLE_CLOUD_PROJECT") or _EMULATOR_PROJECT
        return storage.Client(project=project, credentials=AnonymousCredentials())
    return storage.Client()


def _exceptions():
    from google.api_core import exceptions

    return exceptions


class GCSBlobStore(BlobStore):
    def __init__(self, bucket: str, prefix: str = "", client=None):
        if not bucket:
            raise StoreError("A GCS store needs a bucket, as in gs://bucket/prefix")
        self.prefix = prefix.strip("/")
        self.url = "gs://%s/%s" % (bucket, self.prefix) if self.prefix else "gs://" + bucket
        if client is None:
            try:
                client = _make_client()
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(
                    "Cannot create a GCS client for %s: %s" % (self.url, exc)
                ) from exc
        self.client = client
        self.bucket = client.bucket(bucket)
        self._exc = _exceptions()

    @classmethod
    def from_url(cls, url: str, client=None) -> "GCSBlobStore":
        parsed = urlparse(url)
        if parsed.scheme != "gs" or not parsed.netloc:
            raise StoreError("Not a GCS URL: %r (expected gs://bucket/prefix)" % url)
        return cls(parsed.netloc, parsed.path, client=client)

    def _name(self, key: Key) -> str:
        return "%s/%s" % (self.prefix, key.path) if self.prefix else key.path

    def _fail(self, operation: str, key: Optional[Key], exc: Exception) -> StoreError:
        where = "%s/%s" % (self.url, key.path) if key is not None else self.url
        return StoreError("GCS %s of %s failed: %s" % (operation, where, exc))

    def get(self, key: Key) -> Optional[Tuple[bytes, str]]:
        blob = self.bucket.blob(self._name(key))
        try:
            data = blob.download_as_bytes()
        except self._exc.NotFound:
            return None
        except Exception as exc:
            raise self._fail("get", key, exc) from exc
        # The generation comes from the same response as the bytes.
        return data, str(blob.generation)

    def exists(self, key: Key) -> bool:
        try:
            return self.bucket.blob(self._name(key)).exists()
        except Exception as exc:
            raise self._fail("exists", key, exc) from exc

    def put(self, key: Key, data: bytes) -> None:
        try:
            self.bucket.blob(self._name(key)).upload_from_string(data)
        except Exception as exc:
            raise self._fail("put", key, exc) from exc

    def _conditional_put(self, operation: str, key: Key, data: bytes, generation: int) -> bool:
        try:
            self.bucket.blob(self._name(key)).upload_from_string(
                data, if_generation_match=generation
            )
            return True
        except self._exc.PreconditionFailed:
            return False
        except Exception as exc:
            raise self._fail(operation, key, exc) from exc

    def put_if_absent(self, key: Key, data: bytes) -> bool:
        return self._conditional_put("put_if_absent", key, data, 0)

    def compare_and_swap(self, key: Key, data: bytes, etag: Optional[str]) -> bool:
        if etag is None:
            return self._conditional_put("compare_and_swap", key, data, 0)
        try:
            generation = int(etag)
        except ValueError:
            return False  # not a generation this bucket ever gave: the object is not at it
        if generation <= 0:
            return False
        return self._conditional_put("compare_and_swap", key, data, generation)

    def list(self, prefix: Key) -> Iterator[Key]:
        start = self._name(prefix) + "/"
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            for blob in self.client.list_blobs(self.bucket, prefix=start):
                try:
                    yield Key(blob.name[strip:])
                except StoreError:
                    continue  # an object no flowenv key can name: not ours
        except StoreError:
            raise
        except Exception as exc:
            raise self._fail("list", prefix, exc) from exc

    def put_file(self, key: Key, path: str) -> None:
        try:
            self.bucket.blob(self._name(key)).upload_from_filename(path)
        except Exception as exc:
            raise self._fail("put_file", key, exc) from exc

    def get_file(self, key: Key, path: str) -> bool:
        partial = path + ".part"
        try:
            self.bucket.blob(self._name(key)).download_to_filename(partial)
        except self._exc.NotFound:
            _remove(partial)
            return False
        except Exception as exc:
            _remove(partial)
            raise self._fail("get_file", key, exc) from exc
        os.replace(partial, path)
        return True


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass

"""A BlobStore in a Google Cloud Storage bucket, using generation preconditions.

The ETag is the object's generation, as a string; `if_generation_match=0` means "must
not exist". With STORAGE_EMULATOR_HOST set (a test server), the client is anonymous.
"""

from __future__ import annotations

from typing import BinaryIO, Iterator, Optional, Tuple

from ..errors import StoreError
from ..settings import Settings
from .blobs import Key
from .cloud import CloudBlobStore, import_sdk

_EMULATOR_PROJECT = "flowenv-test"


def _storage():
    return import_sdk("google.cloud.storage", "GCS", "google-cloud-storage", "gcs")


def _make_client(settings: Settings):
    storage = _storage()
    if settings.gcs_emulator_host:
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project=settings.gcs_project or _EMULATOR_PROJECT,
                              credentials=AnonymousCredentials(),
                              client_options={"api_endpoint": settings.gcs_emulator_host})
    return storage.Client(project=settings.gcs_project)


class GCSBlobStore(CloudBlobStore):
    SCHEME, SERVICE, CONTAINER = "gs", "GCS", "bucket"

    def __init__(self, bucket: str, prefix: str = "", client=None, settings: Settings = None):
        super().__init__(bucket, prefix)
        if client is None:
            try:
                client = _make_client(settings or Settings())
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError("cannot create a GCS client for %s: %s" % (self.url, exc)) from exc
        from google.api_core import exceptions

        self.client = client
        self.bucket = client.bucket(bucket)
        self._exc = exceptions

    @classmethod
    def from_url(cls, url: str, client=None, settings: Settings = None) -> "GCSBlobStore":
        return cls(*cls.parse_url(url), client=client, settings=settings)

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

    def size(self, key: Key) -> Optional[int]:
        try:
            blob = self.bucket.get_blob(self._name(key))
        except Exception as exc:
            raise self._fail("size", key, exc) from exc
        return None if blob is None else blob.size

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

    def put_file(self, key: Key, path: str) -> None:
        try:
            self.bucket.blob(self._name(key)).upload_from_filename(path)
        except Exception as exc:
            raise self._fail("put_file", key, exc) from exc

    def _list_names(self, start: str) -> Iterator[str]:
        for blob in self.client.list_blobs(self.bucket, prefix=start):
            yield blob.name

    def read_range(self, key: Key, offset: int, length: int, out: BinaryIO) -> bool:
        if length <= 0:
            return self.size(key) is not None
        try:
            # Streamed into out; no checksum of a partial range (the caller hashes).
            self.bucket.blob(self._name(key)).download_to_file(
                out, start=offset, end=offset + length - 1, checksum=None)
            return True
        except self._exc.NotFound:
            return False
        except Exception as exc:
            if self.is_transient(exc):
                raise
            raise self._fail("read", key, exc) from exc

    def is_transient(self, exc: BaseException) -> bool:
        return super().is_transient(exc) or isinstance(
            exc, (self._exc.TooManyRequests, self._exc.ServerError))

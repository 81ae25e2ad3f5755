"""A BlobStore in an S3 bucket, using S3's own conditional writes (If-None-Match, If-Match).

The endpoint is the setting METAFLOW_S3_ENDPOINT_URL (Metaflow's own, from the environment
or the profile), so what points Metaflow at MinIO, R2 or a test server points flowenv
there too.
"""

from __future__ import annotations

import random
import time
from typing import BinaryIO, Iterator, Optional, Tuple

from ..errors import StoreError
from ..settings import Settings
from .blobs import CHUNK, Key
from .cloud import CloudBlobStore, import_sdk

# S3's answers that mean "try again".
_TRANSIENT_CODES = ("SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable",
                    "503", "500")

# S3 answers 409 ConditionalRequestConflict while another conditional write to the same
# key is in flight; the outcome of ours is then unknown, so it is asked again.
_CONFLICT_RETRIES = 8


def _boto3():
    return import_sdk("boto3", "S3", "boto3", "s3")


def _error_code(exc) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _status(exc) -> int:
    response = getattr(exc, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _is_missing(exc) -> bool:
    # Not the bare status: a missing bucket (NoSuchBucket) is a 404 too, and an error.
    return _error_code(exc) in ("NoSuchKey", "404", "NotFound")


def _is_precondition_failed(exc) -> bool:
    return _error_code(exc) in ("PreconditionFailed", "412") or _status(exc) == 412


def _is_conflict(exc) -> bool:
    return _error_code(exc) == "ConditionalRequestConflict" or _status(exc) == 409


class S3BlobStore(CloudBlobStore):
    SCHEME, SERVICE, CONTAINER = "s3", "S3", "bucket"

    def __init__(self, bucket: str, prefix: str = "", client=None, settings: Settings = None):
        super().__init__(bucket, prefix)
        self.bucket = bucket
        if client is None:
            boto3 = _boto3()
            endpoint = (settings or Settings()).s3_endpoint_url
            try:
                client = boto3.client("s3", endpoint_url=endpoint)
            except Exception as exc:
                raise StoreError("cannot create an S3 client for %s: %s" % (self.url, exc)) from exc
        self.client = client

    @classmethod
    def from_url(cls, url: str, client=None, settings: Settings = None) -> "S3BlobStore":
        return cls(*cls.parse_url(url), client=client, settings=settings)

    def get(self, key: Key) -> Optional[Tuple[bytes, str]]:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
            return response["Body"].read(), response["ETag"]
        except Exception as exc:
            if _is_missing(exc):
                return None
            raise self._fail("get", key, exc) from exc

    def size(self, key: Key) -> Optional[int]:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._name(key))["ContentLength"]
        except Exception as exc:
            if _is_missing(exc):
                return None
            raise self._fail("size", key, exc) from exc

    def put(self, key: Key, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)
        except Exception as exc:
            raise self._fail("put", key, exc) from exc

    def _conditional_put(self, operation: str, key: Key, data: bytes, **condition) -> bool:
        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                self.client.put_object(
                    Bucket=self.bucket, Key=self._name(key), Body=data, **condition
                )
                return True
            except Exception as exc:
                if _is_precondition_failed(exc):
                    return False
                if _is_missing(exc):
                    return False  # If-Match on an object that is gone: S3 says NoSuchKey
                if _is_conflict(exc) and attempt < _CONFLICT_RETRIES:
                    time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
                    continue
                if _is_conflict(exc):
                    return False  # still contended: the caller's retry loop decides
                raise self._fail(operation, key, exc) from exc
        return False

    def put_if_absent(self, key: Key, data: bytes) -> bool:
        return self._conditional_put("put_if_absent", key, data, IfNoneMatch="*")

    def compare_and_swap(self, key: Key, data: bytes, etag: Optional[str]) -> bool:
        if etag is None:
            return self._conditional_put("compare_and_swap", key, data, IfNoneMatch="*")
        return self._conditional_put("compare_and_swap", key, data, IfMatch=etag)

    def put_file(self, key: Key, path: str) -> None:
        try:
            self.client.upload_file(path, self.bucket, self._name(key))
        except Exception as exc:
            raise self._fail("put_file", key, exc) from exc

    def _list_names(self, start: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
            for item in page.get("Contents", ()):
                yield item["Key"]

    def read_range(self, key: Key, offset: int, length: int, out: BinaryIO) -> bool:
        if length <= 0:
            return self.size(key) is not None
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._name(key),
                Range="bytes=%d-%d" % (offset, offset + length - 1))
            for chunk in response["Body"].iter_chunks(CHUNK):
                out.write(chunk)
            return True
        except Exception as exc:
            if _is_missing(exc):
                return False
            if self.is_transient(exc):
                raise
            raise self._fail("read", key, exc) from exc

    def is_transient(self, exc: BaseException) -> bool:
        return (super().is_transient(exc) or _error_code(exc) in _TRANSIENT_CODES
                or _status(exc) >= 500)

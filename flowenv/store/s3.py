"""A BlobStore in an S3 bucket, using S3's own conditional writes (If-None-Match, If-Match).

The endpoint comes from METAFLOW_S3_ENDPOINT_URL (or Metaflow's configuration), so the
same setting that points Metaflow at MinIO, R2 or a test server points flowenv there too.
"""

from __future__ import annotations

import os
import random
import time
from typing import Iterator, Optional, Tuple
from urllib.parse import urlparse

from ..errors import StoreError
from .blobs import BlobStore, Key

ENDPOINT_ENV = "METAFLOW_S3_ENDPOINT_URL"

# S3 answers 409 ConditionalRequestConflict while another conditional write to the same
# key is in flight; the outcome of ours is then unknown, so it is asked again.
_CONFLICT_RETRIES = 8


def _boto3():
    try:
        import boto3
    except ImportError as exc:
        raise StoreError(
            "The S3 store needs boto3: pip install 'flowenv[s3]'"
        ) from exc
    return boto3


def _metaflow_setting(name: str) -> Optional[str]:
    """A Metaflow configuration value, read lazily; None when Metaflow is not importable."""
    try:
        from metaflow import metaflow_config
    except Exception:  # Metaflow absent or half-imported: the env var is then all we have
        return None
    return getattr(metaflow_config, name, None) or None


def endpoint_url() -> Optional[str]:
    return os.environ.get(ENDPOINT_ENV) or _metaflow_setting("S3_ENDPOINT_URL")


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


class S3BlobStore(BlobStore):
    def __init__(self, bucket: str, prefix: str = "", client=None):
        if not bucket:
            raise StoreError("An S3 store needs a bucket, as in s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = "s3://%s/%s" % (bucket, self.prefix) if self.prefix else "s3://" + bucket
        if client is None:
            boto3 = _boto3()
            try:
                client = boto3.client("s3", endpoint_url=endpoint_url())
            except Exception as exc:
                raise StoreError("Cannot create an S3 client for %s: %s" % (self.url, exc)) from exc
        self.client = client

    @classmethod
    def from_url(cls, url: str, client=None) -> "S3BlobStore":
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise StoreError("Not an S3 URL: %r (expected s3://bucket/prefix)" % url)
        return cls(parsed.netloc, parsed.path, client=client)

    def _name(self, key: Key) -> str:
        return "%s/%s" % (self.prefix, key.path) if self.prefix else key.path

    def _fail(self, operation: str, key: Optional[Key], exc: Exception) -> StoreError:
        where = "%s/%s" % (self.url, key.path) if key is not None else self.url
        return StoreError("S3 %s of %s failed: %s" % (operation, where, exc))

    def get(self, key: Key) -> Optional[Tuple[bytes, str]]:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
            return response["Body"].read(), response["ETag"]
        except Exception as exc:
            if _is_missing(exc):
                return None
            raise self._fail("get", key, exc) from exc

    def exists(self, key: Key) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
            return True
        except Exception as exc:
            if _is_missing(exc):
                return False
            raise self._fail("exists", key, exc) from exc

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

    def list(self, prefix: Key) -> Iterator[Key]:
        start = self._name(prefix) + "/"
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
                for item in page.get("Contents", ()):
                    try:
                        yield Key(item["Key"][strip:])
                    except StoreError:
                        continue  # an object no flowenv key can name: not ours
        except StoreError:
            raise
        except Exception as exc:
            raise self._fail("list", prefix, exc) from exc

    def put_file(self, key: Key, path: str) -> None:
        try:
            self.client.upload_file(path, self.bucket, self._name(key))
        except Exception as exc:
            raise self._fail("put_file", key, exc) from exc

    def get_file(self, key: Key, path: str) -> bool:
        # boto3 downloads to a temporary name and renames, so a failure leaves no file.
        try:
            self.client.download_file(self.bucket, self._name(key), path)
            return True
        except Exception as exc:
            if _is_missing(exc):
                return False
            raise self._fail("get_file", key, exc) from exc

"""A BlobStore in an Azure Blob Storage container, using If-None-Match and If-Match.

Connection, first found wins:
1. FLOWENV_AZURE_CONNECTION_STRING: a storage connection string (Azurite's dev account in
   tests, or an account key / SAS connection string);
2. METAFLOW_AZURE_STORAGE_BLOB_SERVICE_ENDPOINT (or Metaflow's configuration) with
   azure-identity's DefaultAzureCredential, as Metaflow itself does.
"""

from __future__ import annotations

import os
from typing import Iterator, Optional, Tuple
from urllib.parse import urlparse

from ..errors import StoreError
from .blobs import BlobStore, Key

CONNECTION_STRING_ENV = "FLOWENV_AZURE_CONNECTION_STRING"
ENDPOINT_ENV = "METAFLOW_AZURE_STORAGE_BLOB_SERVICE_ENDPOINT"


def _blob_sdk():
    try:
        import azure.storage.blob as blob_sdk
    except ImportError as exc:
        raise StoreError(
            "The Azure store needs azure-storage-blob: pip install 'flowenv[azure]'"
        ) from exc
    return blob_sdk


def _metaflow_setting(name: str) -> Optional[str]:
    try:
        from metaflow import metaflow_config
    except Exception:  # Metaflow absent or half-imported: the env var is then all we have
        return None
    return getattr(metaflow_config, name, None) or None


def _make_service_client(url: str):
    blob_sdk = _blob_sdk()
    connection_string = os.environ.get(CONNECTION_STRING_ENV)
    if connection_string:
        return blob_sdk.BlobServiceClient.from_connection_string(connection_string)
    endpoint = os.environ.get(ENDPOINT_ENV) or _metaflow_setting(
        "AZURE_STORAGE_BLOB_SERVICE_ENDPOINT"
    )
    if not endpoint:
        raise StoreError(
            "No Azure Blob endpoint for %s: set %s (with credentials from "
            "azure-identity) or %s" % (url, ENDPOINT_ENV, CONNECTION_STRING_ENV)
        )
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError as exc:
        raise StoreError(
            "The Azure store at %s uses %s and needs azure-identity for credentials: "
            "pip install azure-identity, or set %s"
            % (url, ENDPOINT_ENV, CONNECTION_STRING_ENV)
        ) from exc
    return blob_sdk.BlobServiceClient(
        account_url=endpoint,
        credential=DefaultAzureCredential(exclude_interactive_browser_credential=True),
    )


class AzureBlobStore(BlobStore):
    def __init__(self, container: str, prefix: str = "", client=None):
        """`client` is a BlobServiceClient; None builds one from the environment."""
        if not container:
            raise StoreError(
                "An Azure store needs a container, as in azure://container/prefix"
            )
        self.prefix = prefix.strip("/")
        self.url = (
            "azure://%s/%s" % (container, self.prefix) if self.prefix else "azure://" + container
        )
        _blob_sdk()
        if client is None:
            try:
                client = _make_service_client(self.url)
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(
                    "Cannot create an Azure Blob client for %s: %s" % (self.url, exc)
                ) from exc
        from azure.core import MatchConditions
        from azure.core import exceptions

        self.client = client
        self.container = client.get_container_client(container)
        self._exc = exceptions
        self._if_not_modified = MatchConditions.IfNotModified

    @classmethod
    def from_url(cls, url: str, client=None) -> "AzureBlobStore":
        parsed = urlparse(url)
        if parsed.scheme != "azure" or not parsed.netloc:
            raise StoreError(
                "Not an Azure URL: %r (expected azure://container/prefix)" % url
            )
        return cls(parsed.netloc, parsed.path, client=client)

    def _name(self, key: Key) -> str:
        return "%s/%s" % (self.prefix, key.path) if self.prefix else key.path

    def _blob(self, key: Key):
        return self.container.get_blob_client(self._name(key))

    def _fail(self, operation: str, key: Optional[Key], exc: Exception) -> StoreError:
        where = "%s/%s" % (self.url, key.path) if key is not None else self.url
        return StoreError("Azure %s of %s failed: %s" % (operation, where, exc))

    def get(self, key: Key) -> Optional[Tuple[bytes, str]]:
        try:
            downloader = self._blob(key).download_blob()
            # Later chunks of a large blob are read with If-Match on the first one's ETag.
            return downloader.readall(), downloader.properties.etag
        except self._exc.ResourceNotFoundError as exc:
            if _container_missing(exc):
                raise self._fail("get", key, exc) from exc
            return None
        except Exception as exc:
            raise self._fail("get", key, exc) from exc

    def exists(self, key: Key) -> bool:
        try:
            return self._blob(key).exists()
        except Exception as exc:
            raise self._fail("exists", key, exc) from exc

    def put(self, key: Key, data: bytes) -> None:
        try:
            self._blob(key).upload_blob(data, overwrite=True)
        except Exception as exc:
            raise self._fail("put", key, exc) from exc

    def _conditional_put(self, operation: str, key: Key, data: bytes, **condition) -> bool:
        try:
            self._blob(key).upload_blob(data, **condition)
            return True
        except (
            self._exc.ResourceExistsError,  # 409 BlobAlreadyExists (If-None-Match: *)
            self._exc.ResourceModifiedError,  # 412 ConditionNotMet (If-Match)
        ):
            return False
        except self._exc.ResourceNotFoundError as exc:  # If-Match on a blob that is gone
            if _container_missing(exc):
                raise self._fail(operation, key, exc) from exc
            return False
        except self._exc.HttpResponseError as exc:
            if exc.status_code in (409, 412):
                return False
            raise self._fail(operation, key, exc) from exc
        except Exception as exc:
            raise self._fail(operation, key, exc) from exc

    def put_if_absent(self, key: Key, data: bytes) -> bool:
        # overwrite=False makes the SDK send If-None-Match: * with a single-shot upload.
        return self._conditional_put("put_if_absent", key, data, overwrite=False)

    def compare_and_swap(self, key: Key, data: bytes, etag: Optional[str]) -> bool:
        if etag is None:
            return self._conditional_put("compare_and_swap", key, data, overwrite=False)
        return self._conditional_put(
            "compare_and_swap",
            key,
            data,
            overwrite=True,
            etag=etag,
            match_condition=self._if_not_modified,
        )

    def list(self, prefix: Key) -> Iterator[Key]:
        start = self._name(prefix) + "/"
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            for item in self.container.list_blobs(name_starts_with=start):
                try:
                    yield Key(item.name[strip:])
                except StoreError:
                    continue  # an object no flowenv key can name: not ours
        except StoreError:
            raise
        except Exception as exc:
            raise self._fail("list", prefix, exc) from exc

    def put_file(self, key: Key, path: str) -> None:
        with open(path, "rb") as f:
            try:
                self._blob(key).upload_blob(f, overwrite=True)
            except Exception as exc:
                raise self._fail("put_file", key, exc) from exc

    def get_file(self, key: Key, path: str) -> bool:
        partial = path + ".part"
        try:
            downloader = self._blob(key).download_blob()
            with open(partial, "wb") as f:
                downloader.readinto(f)
        except self._exc.ResourceNotFoundError as exc:
            _remove(partial)
            if _container_missing(exc):
                raise self._fail("get_file", key, exc) from exc
            return False
        except Exception as exc:
            _remove(partial)
            raise self._fail("get_file", key, exc) from exc
        os.replace(partial, path)
        return True


def _container_missing(exc) -> bool:
    return getattr(exc, "error_code", None) == "ContainerNotFound"


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass

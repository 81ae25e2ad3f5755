"""A BlobStore in an Azure Blob Storage container, using If-None-Match and If-Match.

Connection, first found wins:
1. the setting FLOWENV_AZURE_CONNECTION_STRING: a storage connection string (Azurite's dev
   account in tests, or an account key / SAS connection string);
2. the setting METAFLOW_AZURE_STORAGE_BLOB_SERVICE_ENDPOINT (Metaflow's own) with
   azure-identity's DefaultAzureCredential, as Metaflow itself does.
"""

from __future__ import annotations

from typing import BinaryIO, Iterator, Optional, Tuple

from ..errors import StoreError
from ..settings import Settings
from .blobs import Key
from .cloud import CloudBlobStore, import_sdk


def _blob_sdk():
    return import_sdk("azure.storage.blob", "Azure", "azure-storage-blob", "azure")


def _make_service_client(url: str, settings: Settings):
    blob_sdk = _blob_sdk()
    if settings.azure_connection_string:
        return blob_sdk.BlobServiceClient.from_connection_string(settings.azure_connection_string)
    if not settings.azure_endpoint:
        raise StoreError(
            "no Azure Blob endpoint for %s" % url,
            hint="Set METAFLOW_AZURE_STORAGE_BLOB_SERVICE_ENDPOINT (with credentials from "
                 "azure-identity) or FLOWENV_AZURE_CONNECTION_STRING.")
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError as exc:
        raise StoreError(
            "the Azure store at %s uses an endpoint and needs azure-identity for credentials"
            % url, hint="pip install azure-identity, or set FLOWENV_AZURE_CONNECTION_STRING."
        ) from exc
    return blob_sdk.BlobServiceClient(
        account_url=settings.azure_endpoint,
        credential=DefaultAzureCredential(exclude_interactive_browser_credential=True),
    )


class AzureBlobStore(CloudBlobStore):
    SCHEME, SERVICE, CONTAINER = "azure", "Azure", "container"

    def __init__(self, container: str, prefix: str = "", client=None, settings: Settings = None):
        """`client` is a BlobServiceClient; None builds one from the settings."""
        super().__init__(container, prefix)
        _blob_sdk()
        if client is None:
            try:
                client = _make_service_client(self.url, settings or Settings())
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError("cannot create an Azure Blob client for %s: %s"
                                 % (self.url, exc)) from exc
        from azure.core import MatchConditions
        from azure.core import exceptions

        self.client = client
        self.container = client.get_container_client(container)
        self._exc = exceptions
        self._if_not_modified = MatchConditions.IfNotModified

    @classmethod
    def from_url(cls, url: str, client=None, settings: Settings = None) -> "AzureBlobStore":
        return cls(*cls.parse_url(url), client=client, settings=settings)

    def _blob(self, key: Key):
        return self.container.get_blob_client(self._name(key))

    def _read(self, operation: str, key: Key, read):
        """read(downloader) of the blob, or None when it does not exist. Later chunks of a
        large blob are read with If-Match on the first one's ETag."""
        try:
            return read(self._blob(key).download_blob())
        except self._exc.ResourceNotFoundError as exc:
            if _container_missing(exc):
                raise self._fail(operation, key, exc) from exc
            return None
        except Exception as exc:
            raise self._fail(operation, key, exc) from exc

    def get(self, key: Key) -> Optional[Tuple[bytes, str]]:
        return self._read("get", key, lambda d: (d.readall(), d.properties.etag))

    def size(self, key: Key) -> Optional[int]:
        try:
            return self._blob(key).get_blob_properties().size
        except self._exc.ResourceNotFoundError as exc:
            if _container_missing(exc):
                raise self._fail("size", key, exc) from exc
            return None
        except Exception as exc:
            raise self._fail("size", key, exc) from exc

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
        return self._conditional_put("compare_and_swap", key, data, overwrite=True, etag=etag,
                                     match_condition=self._if_not_modified)

    def put_file(self, key: Key, path: str) -> None:
        with open(path, "rb") as f:
            try:
                self._blob(key).upload_blob(f, overwrite=True)
            except Exception as exc:
                raise self._fail("put_file", key, exc) from exc

    def _list_names(self, start: str) -> Iterator[str]:
        for item in self.container.list_blobs(name_starts_with=start):
            yield item.name

    def read_range(self, key: Key, offset: int, length: int, out: BinaryIO) -> bool:
        if length <= 0:
            return self.size(key) is not None
        try:
            for chunk in self._blob(key).download_blob(offset=offset, length=length).chunks():
                out.write(chunk)
            return True
        except self._exc.ResourceNotFoundError as exc:
            if _container_missing(exc):
                raise self._fail("read", key, exc) from exc
            return False
        except Exception as exc:
            if self.is_transient(exc):
                raise
            raise self._fail("read", key, exc) from exc

    def is_transient(self, exc: BaseException) -> bool:
        if super().is_transient(exc) or isinstance(exc, self._exc.ServiceRequestError):
            return True
        return isinstance(exc, self._exc.HttpResponseError) and (
            (exc.status_code or 0) >= 500 or exc.status_code == 429)


def _container_missing(exc) -> bool:
    return getattr(exc, "error_code", None) == "ContainerNotFound"

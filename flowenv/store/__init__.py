"""The store: package blobs, environment records and aliases over one BlobStore."""

from __future__ import annotations

from dataclasses import dataclass

from ..debuglog import SILENT, DebugLog
from ..errors import StoreError
from ..settings import Settings
from .aliases import AliasBook, AliasMove, AliasRecord
from .blobs import BlobStore, Key
from .bytecode import BytecodeStore
from .envs import EnvRecords
from .packages import PackageStore

STORE_LAYOUT = Key("v1")

__all__ = ["Store", "open_blob_store", "BlobStore", "Key", "AliasRecord", "AliasMove"]


def open_blob_store(url: str, settings: Settings = None, log: DebugLog = SILENT) -> BlobStore:
    """A BlobStore for a local folder, s3://, gs:// or azure:// URL (log: the local
    store's lock waits)."""
    settings = settings or Settings()
    if not isinstance(url, str) or not url.strip():
        raise StoreError("no store location given", setting="FLOWENV_STORE")
    scheme = url.split("://", 1)[0] if "://" in url else "file"
    if scheme == "file":
        from .local import LocalBlobStore

        return LocalBlobStore(url[len("file://"):] if url.startswith("file://") else url,
                              lock_timeout=settings.lock_timeout, log=log)
    if scheme == "s3":
        from .s3 import S3BlobStore

        return S3BlobStore.from_url(url, settings=settings)
    if scheme in ("gs", "gcs"):
        from .gcs import GCSBlobStore

        return GCSBlobStore.from_url("gs://" + url.split("://", 1)[1], settings=settings)
    if scheme in ("azure", "az"):
        from .azure import AzureBlobStore

        return AzureBlobStore.from_url("azure://" + url.split("://", 1)[1], settings=settings)
    raise StoreError("unsupported store URL %r" % url,
                     hint="Use a folder, s3://, gs:// or azure://.")


@dataclass
class Store:
    blobs: BlobStore
    packages: PackageStore
    envs: EnvRecords
    aliases: AliasBook
    bytecode: BytecodeStore

    @classmethod
    def open(cls, url: str, settings: Settings = None, log: DebugLog = SILENT) -> "Store":
        """The store at url; with log on, every operation writes a debug line."""
        return cls.over(open_blob_store(url, settings, log)).logged(log)

    @classmethod
    def over(cls, blobs: BlobStore) -> "Store":
        packages = PackageStore(blobs, STORE_LAYOUT.child("packages"))
        return cls(
            blobs=blobs,
            packages=packages,
            envs=EnvRecords(blobs, STORE_LAYOUT),
            aliases=AliasBook(blobs, STORE_LAYOUT.child("aliases")),
            bytecode=BytecodeStore(blobs, STORE_LAYOUT.child("bytecode"), packages),
        )

    @property
    def url(self) -> str:
        return self.blobs.url

    def logged(self, log: DebugLog) -> "Store":
        """This store with a debug line for every operation, when log is on."""
        from .logged import LoggedBlobStore

        if not log.enabled or isinstance(self.blobs, LoggedBlobStore):
            return self
        return Store.over(LoggedBlobStore(self.blobs, log))

"""What the object-store backends (S3, GCS, Azure) share: URLs of the form
scheme://container/prefix, object names under the prefix, listing that skips objects no
flowenv key can name, and errors that name the service, the operation and the object."""

from __future__ import annotations

import importlib
from typing import Iterator, Optional, Tuple
from urllib.parse import urlparse

from ..errors import StoreError
from .blobs import BlobStore, Key


def import_sdk(module: str, service: str, package: str, extra: str):
    """The service's SDK, or an error that says which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise StoreError("the %s store needs %s" % (service, package),
                         hint="pip install 'flowenv[%s]'" % extra) from exc


class CloudBlobStore(BlobStore):
    SCHEME = ""  # "s3"
    SERVICE = ""  # "S3", for messages
    CONTAINER = "bucket"  # what the service calls the URL's first part

    def __init__(self, container: str, prefix: str = ""):
        if not container:
            raise StoreError("a %s store needs a %s, as in %s://%s/prefix"
                             % (self.SERVICE, self.CONTAINER, self.SCHEME, self.CONTAINER))
        self.container_name = container
        self.prefix = prefix.strip("/")
        self.url = "%s://%s%s" % (self.SCHEME, container, "/" + self.prefix if self.prefix else "")

    @classmethod
    def parse_url(cls, url: str) -> Tuple[str, str]:
        parsed = urlparse(url)
        if parsed.scheme != cls.SCHEME or not parsed.netloc:
            raise StoreError("not a %s URL: %r (expected %s://%s/prefix)"
                             % (cls.SERVICE, url, cls.SCHEME, cls.CONTAINER))
        return parsed.netloc, parsed.path

    def _name(self, key: Key) -> str:
        return "%s/%s" % (self.prefix, key.path) if self.prefix else key.path

    def _fail(self, operation: str, key: Optional[Key], exc: Exception) -> StoreError:
        where = "%s/%s" % (self.url, key.path) if key is not None else self.url
        return StoreError("%s %s of %s failed: %s" % (self.SERVICE, operation, where, exc))

    # -- what each service implements --------------------------------------------------

    def _list_names(self, start: str) -> Iterator[str]:
        """Names of the objects whose name starts with `start`."""
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------

    def list(self, prefix: Key) -> Iterator[Key]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            for name in self._list_names(self._name(prefix) + "/"):
                try:
                    yield Key(name[strip:])
                except StoreError:
                    continue  # an object no flowenv key can name: not ours
        except StoreError:
            raise
        except Exception as exc:
            raise self._fail("list", prefix, exc) from exc

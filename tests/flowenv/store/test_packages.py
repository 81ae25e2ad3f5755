"""Package blobs: uploads checked after the fact, downloads verified."""

from __future__ import annotations

import hashlib

import pytest

from flowenv.errors import StoreError
from flowenv.lock import LockedFile
from flowenv.store.local import LocalBlobStore
from flowenv.store import Store


class TruncatingStore(LocalBlobStore):
    """A store that loses the end of what it is given (a quota, a broken proxy)."""

    def put_file(self, key, path):
        with open(path, "rb") as f:
            self.put(key, f.read()[:10])


def test_an_upload_the_store_did_not_keep_whole_is_an_error(tmp_path):
    wheel = tmp_path / "alpha-1.0.0-py3-none-any.whl"
    wheel.write_bytes(b"0123456789" * 50)
    data = wheel.read_bytes()
    locked = LockedFile("alpha", "1.0.0", "wheel", wheel.name, "", hashlib.sha256(data).hexdigest(),
                        len(data))
    store = Store.over(TruncatingStore(tmp_path / "store"))
    with pytest.raises(StoreError) as err:
        store.packages.upload(locked, wheel)
    message = str(err.value)
    assert "alpha 1.0.0" in message and "10 of its 500 bytes" in message
    Store.open(str(tmp_path / "good")).packages.upload(locked, wheel)  # a whole copy passes

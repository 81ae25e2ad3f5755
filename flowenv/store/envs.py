"""Environment records (a Lock by full_id) and the last resolution of each req_id."""

from __future__ import annotations

import json
from typing import Optional

from ..errors import EnvNotFound
from ..lock import Lock
from .blobs import BlobStore, Key


class EnvRecords:
    def __init__(self, blobs: BlobStore, prefix: Key):
        self.blobs = blobs
        self.prefix = prefix

    def _env_key(self, full_id: str) -> Key:
        return self.prefix.child("envs", full_id + ".json")

    def _resolution_key(self, req_id: str, platform: str) -> Key:
        return self.prefix.child("resolutions", req_id, platform + ".json")

    def put(self, lock: Lock) -> None:
        # A full_id names its files: the first record written stays, later ones add nothing.
        self.blobs.put_if_absent(self._env_key(lock.full_id), lock.to_json())

    def find(self, full_id: str) -> Optional[Lock]:
        try:
            key = self._env_key(full_id)
        except Exception:
            return None
        found = self.blobs.get(key)
        return Lock.from_json(found[0]) if found else None

    def get(self, full_id: str) -> Lock:
        lock = self.find(full_id)
        if lock is None:
            raise EnvNotFound("No environment %s in the store at %s" % (full_id, self.blobs.url))
        return lock

    def set_resolution(self, req_id: str, platform: str, full_id: str) -> None:
        # The newest resolution is the default for later runs; last writer wins.
        self.blobs.put(self._resolution_key(req_id, platform), json.dumps({"full_id": full_id}).encode())

    def resolution(self, req_id: str, platform: str) -> Optional[Lock]:
        found = self.blobs.get(self._resolution_key(req_id, platform))
        if not found:
            return None
        return self.find(json.loads(found[0])["full_id"])

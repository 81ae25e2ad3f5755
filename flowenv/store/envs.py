"""Environment records (a Lock by full_id) and the last resolution of each req_id."""

from __future__ import annotations

import json
import re
from typing import Optional

from ..errors import DamagedRecord, EnvNotFound
from ..lock import Lock
from .blobs import BlobStore, Key
from .records import parse_json, read_record

RESOLUTION_SCHEMA = 1
_ID = re.compile(r"^[0-9a-f]{32}$")
REPAIR = ("Resolve the same requirements again with --force (metaflow environment resolve "
          "... --force) to write a good copy.")


class EnvRecords:
    def __init__(self, blobs: BlobStore, prefix: Key):
        self.blobs = blobs
        self.prefix = prefix

    def _env_key(self, full_id: str) -> Key:
        return self.prefix.child("envs", full_id + ".json")

    def _resolution_key(self, req_id: str, platform: str) -> Key:
        return self.prefix.child("resolutions", req_id, platform + ".json")

    def put(self, lock: Lock, repair: bool = False) -> None:
        # A full_id names its files: the first record written stays, later ones add nothing,
        # unless the one there is damaged and this is a repair.
        key = self._env_key(lock.full_id)
        if self.blobs.put_if_absent(key, lock.to_json()) or not repair:
            return
        try:
            self.find(lock.full_id)
        except DamagedRecord:
            self.blobs.put(key, lock.to_json())

    def find(self, full_id: str) -> Optional[Lock]:
        if not isinstance(full_id, str) or not _ID.match(full_id):
            return None
        found = read_record(self.blobs, self._env_key(full_id), Lock.from_json,
                            "environment record", REPAIR)
        if found is None:
            return None
        if found[0].full_id != full_id:
            raise DamagedRecord("this environment record describes environment %s"
                                % found[0].full_id, record=self._env_key(full_id).path,
                                store=self.blobs.url, hint=REPAIR)
        return found[0]

    def get(self, full_id: str) -> Lock:
        lock = self.find(full_id)
        if lock is None:
            raise EnvNotFound("no environment %s in the store at %s" % (full_id, self.blobs.url))
        return lock

    def set_resolution(self, req_id: str, platform: str, full_id: str) -> None:
        # The newest resolution is the default for later runs; last writer wins.
        self.blobs.put(self._resolution_key(req_id, platform), json.dumps(
            {"schema": RESOLUTION_SCHEMA, "full_id": full_id}).encode())

    def resolution(self, req_id: str, platform: str) -> Optional[Lock]:
        def parse(blob):
            full_id = parse_json(blob, RESOLUTION_SCHEMA).get("full_id")
            if not isinstance(full_id, str) or not _ID.match(full_id):
                raise ValueError("it names no environment id")
            return full_id

        found = read_record(self.blobs, self._resolution_key(req_id, platform), parse,
                            "resolution pointer", REPAIR)
        return self.find(found[0]) if found else None

"""Alias records: immutable tags set once (put-if-absent), mutable tags moved by
compare-and-swap, each move kept in the record's own history."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Dict, Iterator, List, Optional, Tuple, Union

from ..errors import AliasError, DamagedRecord, EnvNotFound
from ..refs import MUTABLE_TAGS, Alias
from .blobs import BlobStore, Key
from .records import parse_json, read_record

ALIAS_SCHEMA = 1
_CAS_ATTEMPTS = 200


@dataclass(frozen=True)
class AliasMove:
    """One entry of an alias's history: who pointed it where, when, and from what."""

    at: str  # ISO 8601, UTC
    by: str
    envs: Dict[str, str]  # platform -> full_id, after the move
    previous: Optional[Dict[str, str]]  # before it; None when the alias was created
    req_id: Optional[str] = None

    @classmethod
    def from_entry(cls, entry: dict) -> "AliasMove":
        return cls(str(entry.get("at", "?")), str(entry.get("by", "?")),
                   dict(entry.get("envs") or {}), entry.get("previous") or None,
                   entry.get("req_id"))


@dataclass(frozen=True)
class AliasRecord:
    alias: str
    req_id: str
    envs: Dict[str, str]  # platform -> full_id
    history: List[dict]

    def to_json(self) -> bytes:
        return json.dumps({"schema": ALIAS_SCHEMA, "alias": self.alias, "req_id": self.req_id,
                           "envs": self.envs, "history": self.history}, indent=1).encode()

    @classmethod
    def from_json(cls, blob: bytes) -> "AliasRecord":
        data = parse_json(blob, ALIAS_SCHEMA)
        alias, req_id, envs, history = (data.get("alias"), data.get("req_id"), data.get("envs"),
                                        data.get("history", []))
        if not isinstance(alias, str) or not isinstance(req_id, str):
            raise ValueError("'alias' or 'req_id' is missing")
        if not isinstance(envs, dict) or not envs or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in envs.items()):
            raise ValueError("'envs' is not a mapping of platforms to environment ids")
        if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
            raise ValueError("'history' is not a list of moves")
        return cls(alias, req_id, envs, history)

    @property
    def moves(self) -> List[AliasMove]:
        return [AliasMove.from_entry(entry) for entry in self.history]

    def full_id_for(self, platform: str) -> str:
        if platform not in self.envs:
            raise AliasError(
                "it has no environment for %s (it has %s)" % (platform, ", ".join(sorted(self.envs))),
                alias=self.alias,
                hint="Add one with: metaflow environment resolve --from %s --arch %s --alias %s"
                     % (self.alias, platform, self.alias))
        return self.envs[platform]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _repair_hint(alias) -> str:
    return ("Point it at a good environment again with --force: metaflow environment alias "
            "SOURCE %s --force" % alias)


class AliasBook:
    def __init__(self, blobs: BlobStore, prefix: Key):
        self.blobs = blobs
        self.prefix = prefix

    def _key(self, alias: Alias) -> Key:
        return self.prefix.child(alias.name, alias.tag + ".json")

    def _read(self, alias: Alias) -> Optional[Tuple[AliasRecord, str]]:
        return read_record(self.blobs, self._key(alias), AliasRecord.from_json, "alias record",
                           _repair_hint(alias))

    def find(self, alias: Alias) -> Optional[AliasRecord]:
        found = self._read(alias)
        return found[0] if found else None

    def get(self, alias: Alias) -> AliasRecord:
        record = self.find(alias)
        if record is None:
            raise EnvNotFound(
                "this named environment does not exist in the store at %s" % self.blobs.url,
                alias=str(alias),
                hint="Create it with: metaflow environment resolve -r requirements.txt "
                     "--alias %s" % alias)
        return record

    def set(self, alias: Alias, req_id: str, envs: Dict[str, str], who: str,
            replace: bool = False, repair: bool = False) -> bool:
        """Point alias at envs; True if the record changed. A mutable alias keeps its other
        platforms when req_id is unchanged, unless replace is set. With repair, a damaged
        record is overwritten (its history is lost with it)."""
        key = self._key(alias)
        for attempt in range(_CAS_ATTEMPTS):
            try:
                found = self._read(alias)
                current, etag = found if found else (None, None)
            except DamagedRecord:
                if not repair:
                    raise
                raw = self.blobs.get(key)
                current, etag = None, raw[1] if raw else None
            if current is None:
                merged = dict(envs)
            elif alias.mutable:
                # A new resolution replaces every platform; same req_id adds platforms.
                same = current.req_id == req_id and not replace
                merged = {**current.envs, **envs} if same else dict(envs)
            else:
                clash = {p: f for p, f in envs.items() if current.envs.get(p, f) != f}
                # The very same envs again (even from another spec) change nothing.
                same = all(current.envs.get(p) == f for p, f in envs.items())
                if clash or (current.req_id != req_id and not same):
                    platform, full_id = next(iter((clash or envs).items()))
                    raise AliasError(
                        "this tag already points to environment %s (%s); tag %r is immutable, "
                        "so it cannot point to %s" % (current.envs.get(platform) or current.req_id,
                                                      platform, alias.tag, full_id),
                        alias=str(alias),
                        hint="Use a new tag, or a mutable one (%s)." % ", ".join(MUTABLE_TAGS))
                merged = {**current.envs, **envs}
            if current is not None and merged == current.envs:
                return False
            entry = {"at": _now(), "by": who, "req_id": req_id, "envs": merged,
                     "previous": current.envs if current else None}
            history = (current.history if current else []) + [entry]
            record = AliasRecord(str(alias), req_id, merged, history)
            if etag is None:
                ok = self.blobs.put_if_absent(key, record.to_json())
            else:
                ok = self.blobs.compare_and_swap(key, record.to_json(), etag)
            if ok:
                return True
            time.sleep(random.uniform(0, 0.02 * min(attempt + 1, 10)))
        raise AliasError("too many concurrent writers", alias=str(alias), hint="Try again.")

    def scan(self, under: str = "") -> Iterator[Union[AliasRecord, DamagedRecord]]:
        """Every alias record under a prefix; a damaged one is yielded as its error, so
        one bad record does not hide the others."""
        prefix = self.prefix.child(under) if under else self.prefix
        for key in self.blobs.list(prefix):
            if not key.path.endswith(".json"):
                continue
            name, _, tag = key.path[len(self.prefix.path) + 1:-len(".json")].rpartition("/")
            try:
                found = read_record(self.blobs, key, AliasRecord.from_json, "alias record",
                                    _repair_hint("%s:%s" % (name, tag)))
            except DamagedRecord as exc:
                yield exc
                continue
            if found:
                yield found[0]

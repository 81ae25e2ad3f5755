"""The one checked reader of stored JSON records: a record that cannot be read is a
DamagedRecord naming it, where it lives and the command that repairs it."""

from __future__ import annotations

import json
from typing import Callable, Optional, Tuple, TypeVar

from ..errors import DamagedRecord, FlowenvError
from .blobs import BlobStore, Key

T = TypeVar("T")


def parse_json(blob: bytes, schema: int) -> dict:
    """A JSON object carrying the expected schema number; ValueError otherwise."""
    try:
        data = json.loads(blob)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("not valid JSON (%s)" % exc) from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if data.get("schema") != schema:
        raise ValueError("schema %r; this flowenv reads schema %d (a newer flowenv wrote it: "
                         "upgrade flowenv)" % (data.get("schema"), schema))
    return data


def read_record(blobs: BlobStore, key: Key, parse: Callable[[bytes], T], kind: str,
                repair: str) -> Optional[Tuple[T, str]]:
    """(parsed record, etag), or None when there is none."""
    found = blobs.get(key)
    if found is None:
        return None
    try:
        return parse(found[0]), found[1]
    except (ValueError, KeyError, TypeError, AttributeError, FlowenvError) as exc:
        # A record's own format errors carry no location: their text is the whole story.
        detail = exc.what if isinstance(exc, FlowenvError) and not exc.where else exc
        raise DamagedRecord("this %s is damaged: %s" % (kind, detail), record=key.path,
                            store=blobs.url, hint=repair) from None

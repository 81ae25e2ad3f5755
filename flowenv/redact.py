"""Credentials never reach a record, a log line or a message: every URL shown or stored
goes through here first."""

from __future__ import annotations

from typing import Iterable
from urllib.parse import urlsplit, urlunsplit


def redact_url(url: str) -> str:
    """Drop user:password from a URL so that it can be stored and shown."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def redact_text(text: str, urls: Iterable[str]) -> str:
    """text with each of urls (as given, credentials included) replaced by its redacted form."""
    for url in urls:
        if url and redact_url(url) != url:
            text = text.replace(url, redact_url(url))
    return text

"""Credentials never reach a record, a log line or a message: every URL shown or stored
goes through here first."""

from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import urlsplit, urlunsplit

# scheme://userinfo@ anywhere in a text (a URL inside a requirement, a uv or git message).
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/\s@'\"`<>]+)@")


def _keeps(scheme: str, userinfo: str) -> bool:
    """A plain ssh user name ('git@host') is not a secret, and the repository needs it."""
    return scheme.rstrip(":/").split("+")[-1] == "ssh" and ":" not in userinfo


def redact_url(url: str) -> str:
    """Drop user:password (or a token given as user name) from a URL so that it can be
    stored and shown."""
    prefix, rest = "", url
    if "+" in url.split("://", 1)[0]:  # git+https://...
        prefix, rest = url.split("+", 1)[0] + "+", url.split("+", 1)[1]
    parts = urlsplit(rest)
    if "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    if _keeps(parts.scheme, userinfo):
        return url
    return prefix + urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def redact_text(text: str, urls: Iterable[str] = ()) -> str:
    """text with each of urls (as given, credentials included) replaced by its redacted
    form, and any other user:password@ of a URL in it removed."""
    for url in urls:
        if url and redact_url(url) != url:
            text = text.replace(url, redact_url(url))

    def scrub(match):
        if _keeps(match.group("scheme"), match.group("userinfo")):
            return match.group(0)
        return match.group("scheme")

    return _USERINFO.sub(scrub, text)

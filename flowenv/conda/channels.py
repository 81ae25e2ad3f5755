"""Conda channels: names under a channel alias (a mirror), or URLs used as they are."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

DEFAULT_CHANNEL_ALIAS = "https://conda.anaconda.org/"


def channel_url(channel: str, alias: Optional[str] = None) -> str:
    """A channel name or URL as a URL (names go under the alias)."""
    if "://" in channel:
        return channel.rstrip("/")
    if channel.startswith("/"):
        return Path(channel).as_uri()
    return (alias or DEFAULT_CHANNEL_ALIAS).rstrip("/") + "/" + channel.strip("/")


def channel_of(url: str) -> str:
    """https://host/chan/linux-64/pkg.conda -> https://host/chan"""
    return url.rsplit("/", 2)[0] if url.count("/") >= 4 else url

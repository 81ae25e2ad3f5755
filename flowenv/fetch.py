"""Download a locked file from its URL, verified by sha256: used only when resolving."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path
from typing import Iterable, Optional
from urllib.parse import unquote, urlsplit

from .errors import FlowenvError, IntegrityError
from .lock import LockedFile


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verified_move(tmp: str, dest: Path, file: LockedFile, source: str):
    actual = sha256_of(tmp)
    if actual != file.sha256:
        os.unlink(tmp)
        raise IntegrityError(
            "%s (%s %s) from %s has sha256 %s, but the lock says %s: the file was changed "
            "or corrupted. Re-resolve with --force if the package was legitimately re-uploaded."
            % (file.filename, file.name, file.version, source, actual, file.sha256)
        )
    os.replace(tmp, dest)


def _credentials_for(url: str, index_urls: Iterable[str]) -> Optional[str]:
    host = urlsplit(url).hostname
    for index in index_urls:
        parts = urlsplit(index)
        if parts.hostname == host and parts.username:
            token = "%s:%s" % (unquote(parts.username), unquote(parts.password or ""))
            return "Basic " + base64.b64encode(token.encode()).decode()
    return None


def download(file: LockedFile, dest: Path, index_urls: Iterable[str] = ()) -> None:
    """Fetch file.url to dest (temp file, verify, rename). Credentials come from the
    spec's index URLs at call time; they are never stored in the lock."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out:
            if file.url.startswith("file://"):
                with open(unquote(urlsplit(file.url).path), "rb") as src:
                    shutil.copyfileobj(src, out)
            else:
                request = urllib.request.Request(file.url)
                auth = _credentials_for(file.url, index_urls)
                if auth:
                    request.add_header("Authorization", auth)
                with urllib.request.urlopen(request, timeout=120) as response:
                    shutil.copyfileobj(response, out)
    except OSError as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise FlowenvError("Cannot download %s from %s: %s" % (file.filename, file.url, exc)) from exc
    verified_move(tmp, dest, file, file.url)

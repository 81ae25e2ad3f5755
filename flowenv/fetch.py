"""Download a locked file from its URL, verified by sha256: used only when resolving."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterable, Optional, Tuple
from urllib.parse import unquote, urlsplit

from .atomic import temporary_file
from .errors import FlowenvError, IntegrityError
from .lock import LockedFile
from .redact import redact_url
from .verify import verified_move


def _credentials_for(url: str, index_urls: Iterable[str]) -> Optional[str]:
    host = urlsplit(url).hostname
    for index in index_urls:
        parts = urlsplit(index)
        if parts.hostname == host and parts.username:
            token = "%s:%s" % (unquote(parts.username), unquote(parts.password or ""))
            return "Basic " + base64.b64encode(token.encode()).decode()
    return None


def download_locked(file: LockedFile, dest: Path, index_urls: Iterable[str] = ()) -> None:
    """A locked file from where the resolver found it."""
    what = "%s %s (%s)" % (file.name, file.version, file.filename)
    if not file.url:
        raise FlowenvError(
            "this wheel was built on the machine that resolved it and is not in this "
            "machine's cache", package=what,
            hint="Resolve again with --force on a machine that can build it.")
    download(file.url, dest, file.sha256, what, index_urls)


def download(url: str, dest: Path, sha256: str, what: str, index_urls: Iterable[str] = ()
             ) -> None:
    """Fetch url to dest (temporary file, verify, rename). Credentials come from the
    index URLs at call time; they are never stored in the lock."""
    dest = Path(dest)
    with temporary_file(dest) as tmp:
        _fetch(url, tmp, what, index_urls)
        verified_move(tmp, dest, sha256, what, redact_url(url))


def download_by_md5(url: str, md5: str, what: str, staging: Path,
                    dest_for: Callable[[str, int], Path], index_urls: Iterable[str] = ()
                    ) -> Tuple[str, int]:
    """Fetch a file a lock names by md5 only (conda's `list --explicit --md5`): checked
    against the md5, then moved, verified, to dest_for(its sha256, its size), a path on
    the same file system as the staging folder. Returns (sha256, size)."""
    with temporary_file(Path(staging) / "md5-download") as tmp:
        _fetch(url, tmp, what, index_urls)
        digest, sha = hashlib.md5(), hashlib.sha256()
        with open(tmp, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
                sha.update(chunk)
        if digest.hexdigest() != md5:
            raise IntegrityError(
                "the copy from %s has md5 %s, but the lock says %s: the file was changed or "
                "corrupted" % (redact_url(url), digest.hexdigest(), md5), package=what)
        size = os.path.getsize(tmp)
        dest = Path(dest_for(sha.hexdigest(), size))
        dest.parent.mkdir(parents=True, exist_ok=True)
        verified_move(tmp, dest, sha.hexdigest(), what, redact_url(url))
    return sha.hexdigest(), size


def _fetch(url: str, path: Path, what: str, index_urls: Iterable[str]) -> None:
    try:
        with open(path, "wb") as out:
            if url.startswith("file://"):
                with open(unquote(urlsplit(url).path), "rb") as src:
                    shutil.copyfileobj(src, out)
            else:
                request = urllib.request.Request(url)
                auth = _credentials_for(url, index_urls)
                if auth:
                    request.add_header("Authorization", auth)
                with urllib.request.urlopen(request, timeout=120) as response:
                    shutil.copyfileobj(response, out, 1 << 20)
    except urllib.error.HTTPError as exc:
        raise FlowenvError("HTTP %d from %s" % (exc.code, redact_url(url)), package=what,
                           hint="Check the index's credentials (401/403) or address (404).") from exc
    except (OSError, ValueError) as exc:
        raise FlowenvError("cannot download it from %s: %s" % (redact_url(url), exc),
                           package=what) from exc

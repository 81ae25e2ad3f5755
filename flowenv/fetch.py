"""Download a locked file from its URL, verified by sha256: used only when resolving."""

from __future__ import annotations

import base64
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterable, Optional
from urllib.parse import unquote, urlsplit

from .atomic import temporary_file
from .errors import FlowenvError
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
        try:
            with open(tmp, "wb") as out:
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
        verified_move(tmp, dest, sha256, what, redact_url(url))

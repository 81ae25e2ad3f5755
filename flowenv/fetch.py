"""Download a file a lock or an index names, verified: used only when resolving (or
taking a lock file in), never when creating an environment."""

from __future__ import annotations

import hashlib
import os
import ssl
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Optional, Tuple
from urllib.parse import unquote, urlsplit

from .atomic import os_error, temporary_file
from .credentials import IndexAccess
from .errors import FlowenvError, IntegrityError
from .lock import LockedFile
from .redact import redact_url
from .verify import sha256_of, verified_move

_NO_ACCESS = IndexAccess()


def download_locked(file: LockedFile, dest: Path, access: IndexAccess = None) -> None:
    """A locked file from where the resolver found it."""
    what = "%s %s (%s)" % (file.name, file.version, file.filename)
    if not file.url:
        raise FlowenvError(
            "this wheel was built on the machine that resolved it and is not in this "
            "machine's cache", package=what,
            hint="Resolve again with --force on a machine that can build it.")
    download(file.url, dest, file.sha256, what, access)


def download(url: str, dest: Path, sha256: Optional[str], what: str,
             access: IndexAccess = None) -> str:
    """Fetch url to dest (temporary file, verify, rename); its sha256. Credentials come
    from `access` at call time; they are never stored. Without an expected sha256 the
    file is taken as it comes (a direct URL that publishes none)."""
    dest = Path(dest)
    with _writing(what, dest.parent), temporary_file(dest) as tmp:
        _fetch(url, tmp, what, access)
        sha256 = sha256 or sha256_of(tmp)
        verified_move(tmp, dest, sha256, what, redact_url(url))
    return sha256


def download_by_md5(url: str, md5: str, what: str, staging: Path,
                    dest_for: Callable[[str, int], Path], access: IndexAccess = None
                    ) -> Tuple[str, int]:
    """Fetch a file a lock names by md5 only (conda's `list --explicit --md5`): checked
    against the md5, then moved, verified, to dest_for(its sha256, its size), a path on
    the same file system as the staging folder. Returns (sha256, size)."""
    with _writing(what, staging), temporary_file(Path(staging) / "md5-download") as tmp:
        _fetch(url, tmp, what, access)
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


@contextmanager
def _writing(what: str, folder):
    """This machine's side of a download: its OSErrors say what to do (the source's
    failures are FlowenvErrors already)."""
    try:
        yield
    except OSError as exc:
        raise os_error(exc, "write %s to" % what, folder) from exc


def _fetch(url: str, path: Path, what: str, access: Optional[IndexAccess]) -> None:
    """Copy url's content to path: the source's failures are FlowenvErrors, the local
    file's stay OSErrors."""
    access = access or _NO_ACCESS
    with open(path, "wb") as out:
        try:
            if url.startswith("file://"):
                source = open(unquote(urlsplit(url).path), "rb")
            else:
                request = urllib.request.Request(redact_url(url))
                auth = access.authorization(url)
                if auth:
                    request.add_header("Authorization", auth)
                context = ssl._create_unverified_context() if access.is_trusted(url) else None
                source = urllib.request.urlopen(request, timeout=120, context=context)
        except urllib.error.HTTPError as exc:
            raise FlowenvError("HTTP %d (%s) from %s" % (exc.code, exc.reason, redact_url(url)),
                               package=what,
                               hint="Check the index's credentials (401/403) or address (404).") from exc
        except (OSError, ValueError) as exc:
            raise _unreachable(url, what, exc) from exc
        with source:
            while True:
                try:
                    chunk = source.read(1 << 20)
                except (OSError, ValueError) as exc:
                    raise _unreachable(url, what, exc) from exc
                if not chunk:
                    return
                out.write(chunk)


def _unreachable(url: str, what: str, exc: Exception) -> FlowenvError:
    return FlowenvError("cannot download it from %s: %s" % (redact_url(url), exc), package=what)

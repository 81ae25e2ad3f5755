"""Direct references: requirements that say where their files are instead of asking an
index for a version: a git repository at a ref, an archive or wheel URL, a local folder
or file. Pure text rules; nothing here touches the disk or the network.

Canonical forms (what a Spec keeps, and hashes into its requirements id):
- named: `name[extras] @ LOCATION[ ; marker]`; unnamed: `LOCATION[ ; marker]` (uv finds
  the name when it resolves);
- LOCATION is a URL (`git+https://host/repo@v1`, `https://host/x-1.0.tar.gz`,
  `file:///abs/dir`) or a relative path kept as written, in posix form and starting
  with `./` or `../`. A relative path is relative to the spec's `root` (the folder of the
  file it came from), so that the id does not depend on where a checkout lives.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from typing import Optional
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from .errors import SpecError
from .redact import redact_text

VCS_SCHEMES = ("git+",)
# pip knows these too; uv (and so flowenv) builds only git.
UNSUPPORTED_VCS = ("hg+", "svn+", "bzr+")
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._\-]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class DirectRef:
    """A parsed direct reference. `name` is canonical, or None when the line names none."""

    name: Optional[str]
    location: str
    extras: tuple = ()
    marker: Optional[str] = None

    @property
    def kind(self) -> str:
        """'git', 'url' (remote archive or wheel) or 'path' (a local folder or file)."""
        if self.location.startswith(VCS_SCHEMES):
            return "git"
        if is_local(self.location):
            return "path"
        return "url"

    @property
    def is_relative(self) -> bool:
        return self.location.startswith(("./", "../"))

    def text(self, location: Optional[str] = None) -> str:
        """The canonical requirement, or the same one at another location."""
        location = location or self.location
        if self.name:
            out = self.name
            if self.extras:
                out += "[%s]" % ",".join(self.extras)
            out += " @ " + location
        else:
            out = location
        if self.marker:
            out += " ; " + self.marker
        return out


def is_local(location: str) -> bool:
    return location.startswith(("./", "../", "file:")) and not location.startswith(VCS_SCHEMES)


def looks_like_location(text: str) -> bool:
    """Whether a requirement line is a bare URL or path rather than `name[...]...`."""
    text = text.strip()
    return bool(text.startswith(VCS_SCHEMES + UNSUPPORTED_VCS + (".", "/", "~", "file:"))
                or _SCHEME.match(text) or "/" in text.split(";", 1)[0].split("[", 1)[0]
                or text.split(";", 1)[0].strip().endswith(ARCHIVE_SUFFIXES))


def portable_path(path: str) -> str:
    """A relative path in canonical form: posix, normalised, './' or '../' first."""
    path = posixpath.normpath(path.replace(os.sep, "/"))
    if path == ".":
        return "./"
    if path == ".." or path.startswith("../"):
        return path
    return "./" + path


def relative_to(location: str, from_folder: str, root: Optional[str]) -> str:
    """A path written in a file in from_folder, made relative to root (the spec's)."""
    if root is None or os.path.abspath(from_folder) == os.path.abspath(root):
        return portable_path(location)
    absolute = os.path.join(from_folder, location)
    return portable_path(os.path.relpath(absolute, root))


def canonical_location(location: str, where: Optional[str] = None) -> str:
    """A URL or path as a Spec keeps it."""
    text = location.strip()
    if text.startswith(UNSUPPORTED_VCS):
        raise SpecError("%s is a %s reference; flowenv builds git references only"
                        % (redact_text(text), text.split("+", 1)[0]), entry=where,
                        hint="Point to a git repository, an archive URL or a wheel.")
    if text.startswith("file:") and not text.startswith("file://"):
        text = text[len("file:"):]  # pip's 'file:../dir'
    if text.startswith("file://"):
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            raise SpecError("%s: a file: URL names a folder on this machine, not on host %r"
                            % (redact_text(text), parts.netloc), entry=where)
        return urlunsplit(("file", "", quote(posixpath.normpath(unquote(parts.path))) or "/",
                           "", parts.fragment))
    if text.startswith(VCS_SCHEMES) or _SCHEME.match(text):
        if any(c.isspace() for c in text):
            raise SpecError("%r: a URL cannot contain spaces" % redact_text(text), entry=where)
        return text
    if text.startswith("~"):
        raise SpecError("%r: write the path relative to the file, or as an absolute path "
                        "(flowenv does not expand ~)" % text, entry=where)
    if os.path.isabs(text):
        return "file://" + quote(posixpath.normpath(text.replace(os.sep, "/")))
    return portable_path(text)


def parse_direct(text: str, where: Optional[str] = None) -> Optional[DirectRef]:
    """The DirectRef a requirement line is, or None for an index requirement.

    `name @ LOCATION` and bare locations are direct; `#egg=name` and wheel file names
    give a bare location its name."""
    from packaging.requirements import InvalidRequirement, Requirement

    body, _, marker = text.partition(";")
    body, marker = body.strip(), marker.strip() or None
    if "@" in body and not looks_like_location(body.split("@", 1)[0] or "/"):
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise SpecError("%r is not a valid requirement (%s)" % (redact_text(text), exc),
                            entry=where) from None
        if not req.url:
            return None
        location = canonical_location(req.url, where)
        return _named(canonicalize_name(req.name), location, req.extras,
                      str(req.marker) if req.marker else None)
    if not looks_like_location(body):
        return None
    extras = ()
    match = re.match(r"^(.*?)\[([A-Za-z0-9_.,\s\-]*)\]$", body)
    if match and not body.startswith(VCS_SCHEMES) and not _SCHEME.match(body):
        body, extras = match.group(1), tuple(e.strip() for e in match.group(2).split(",")
                                             if e.strip())
    location = canonical_location(body, where)
    name = None
    fragment = urlsplit(location).fragment if "#" in location else ""
    egg = re.search(r"(?:^|&)egg=([^&]+)", fragment)
    if egg:
        name = egg.group(1).split("[", 1)[0]
        rest = "&".join(p for p in fragment.split("&") if not p.startswith("egg="))
        location = location.split("#", 1)[0] + ("#" + rest if rest else "")
    elif location.split("#", 1)[0].endswith(".whl"):
        try:
            name = parse_wheel_filename(unquote(location.split("#", 1)[0].rsplit("/", 1)[-1]))[0]
        except InvalidWheelFilename as exc:
            raise SpecError("%s: %s" % (location, exc), entry=where) from None
    if name is not None and not _NAME.match(name):
        raise SpecError("%r: %r is not a package name" % (redact_text(text), name), entry=where)
    return _named(canonicalize_name(name) if name else None, location, extras, marker)


def _named(name, location, extras, marker) -> DirectRef:
    extras = tuple(sorted(canonicalize_name(e) for e in extras))
    return DirectRef(name, location, extras, marker)


def git_repository(location: str) -> str:
    """The repository URL of a git location `git+URL[@ref][#fragment]`."""
    url = location[4:] if location.startswith(VCS_SCHEMES) else location
    url = url.split("#", 1)[0]
    at = url.rfind("@")
    return url[:at] if at > url.find("/", url.find("://") + 3) else url


def absolute_location(location: str, root: Optional[str], where: Optional[str] = None) -> str:
    """The location as uv reads it on this machine: relative paths joined to root."""
    if not location.startswith(("./", "../")):
        return location
    if root is None:
        raise SpecError(
            "%s is a path relative to the file it came from, and that file is not known "
            "here" % location, entry=where,
            hint="Resolve from the requirements file itself (or give an absolute path).")
    return "file://" + quote(os.path.normpath(os.path.join(root, location)))


def local_path(location: str, root: Optional[str], where: Optional[str] = None) -> str:
    """The folder or file a local location names on this machine."""
    url = absolute_location(location, root, where)
    return unquote(urlsplit(url.split("#", 1)[0]).path)

"""A local source folder as flowenv sees it: which files it holds, a sha256 of their
content (part of the requirements id, so an edit means a new resolution, and two
checkouts of the same tree in different places agree), and a clean copy to build from
(a build never writes into the user's folder).

Inside a git work tree the files are git's (tracked, plus untracked ones not ignored);
elsewhere every file except the usual clutter (VCS folders, caches, virtualenvs, build
output)."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import List, Mapping

from .atomic import os_error
from .errors import SpecError

_SKIPPED_FOLDERS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".tox", ".nox",
                    ".mypy_cache", ".pytest_cache", ".ruff_cache", "node_modules", ".eggs",
                    ".ipynb_checkpoints"}
_SKIPPED_TOP = {"build", "dist"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".egg-info")
PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def _skipped(rel: str) -> bool:
    parts = rel.split("/")
    if parts[0] in _SKIPPED_TOP and len(parts) > 1:
        return True
    return any(p in _SKIPPED_FOLDERS or p.endswith(_SKIPPED_SUFFIXES) for p in parts)


def _git_files(folder: Path, environ: Mapping[str, str]):
    """git's view of the folder's files, or None outside a work tree (or without git)."""
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=folder, capture_output=True, env={**environ, "GIT_TERMINAL_PROMPT": "0"},
            timeout=120, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    names = [n for n in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
    # Deleted but still in the index: not part of the tree.
    return [n for n in names if os.path.lexists(folder / n)] or None


def _walked_files(folder: Path) -> List[str]:
    out = []
    for current, dirs, files in os.walk(folder):
        rel_dir = os.path.relpath(current, folder).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        dirs[:] = sorted(d for d in dirs if not _skipped(prefix + d + "/x"))
        out += [prefix + f for f in files]
    return out


def source_files(folder, environ: Mapping[str, str]) -> List[str]:
    """The folder's files, as sorted posix paths relative to it (environ: the one git
    runs with)."""
    folder = Path(folder)
    names = _git_files(folder, environ)
    if names is None:
        names = _walked_files(folder)
    return sorted(n for n in set(names) if not _skipped(n))


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def content_digest(path, what: str, environ: Mapping[str, str]) -> str:
    """sha256 of a local file, or of a folder's files (names, executable bits, content;
    a symbolic link by its target, as git does). `what` names it in errors."""
    path = Path(path)
    try:
        if not path.is_dir():
            return _file_digest(path)
        lines = []
        for rel in source_files(path, environ):
            full = path / rel
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                content = "link:" + os.readlink(full)
            elif stat.S_ISREG(st.st_mode):
                content = _file_digest(full)
            else:
                continue
            lines.append("%s\0%d\0%s\n" % (rel, bool(st.st_mode & 0o111), content))
        return hashlib.sha256("".join(lines).encode("utf-8", "surrogateescape")).hexdigest()
    except OSError as exc:
        raise os_error(exc, "read", what) from exc


def check_source(path, what: str) -> None:
    """A local requirement must be a Python project folder or an archive or wheel file."""
    path = Path(path)
    if not path.exists():
        raise SpecError("%s does not exist" % what,
                        hint="Check the path; a relative path is relative to the file that "
                             "names it.")
    if path.is_dir():
        if not any((path / name).is_file() for name in PROJECT_FILES):
            raise SpecError("%s is not a Python project: it has no %s" % (
                what, ", ".join(PROJECT_FILES[:-1]) + " or " + PROJECT_FILES[-1]),
                hint="Point to the folder that holds the project's pyproject.toml.")
    elif not path.is_file():
        raise SpecError("%s is neither a folder nor a file" % what)


def copy_source(folder, dest, environ: Mapping[str, str]) -> None:
    """A copy of the folder's source files at dest (which must not exist)."""
    folder, dest = Path(folder), Path(dest)
    dest.mkdir(parents=True)
    for rel in source_files(folder, environ):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        source = folder / rel
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        elif source.is_file():
            shutil.copy2(source, target)


def local_contents(spec, environ: Mapping[str, str]) -> tuple:
    """(location as written, sha256 of its content) of every local folder or file the
    spec's requirements name; a SpecError when one is missing or not a Python project."""
    from .direct_refs import local_path

    out = []
    for location in spec.local_locations():
        path = local_path(location, spec.root, spec.origin or None)
        what = "%s (%s)" % (location, path) if location.startswith(("./", "../")) else location
        try:
            check_source(path, what)
        except SpecError as exc:
            raise exc.within(entry=spec.origin or None) from None
        out.append((location, content_digest(path, what, environ)))
    return tuple(out)

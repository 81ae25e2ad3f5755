"""Lock files -> LockFile: uv.lock, PEP 751 pylock.toml, hashed requirements.txt,
conda-lock.yml and conda @EXPLICIT files, each taken in as it is (URLs and sha256s from
the file; no resolver chooses a version). One entry point, `read_lock_file`, recognises
the kind from the file's name, then its content.

A LockFile's `digest` hashes its normalised content (what it pins: entries, hashes,
markers; not comments, layout or time stamps) and the selection of extras and groups;
`flowenv.environments.Environments.import_lock` makes it the requirements id, so that
taking the same lock in twice reuses the stored environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Optional

from ..errors import SpecError
from ..parsers.source import read_text
from .base import Fetcher, LockFile, Selection

KINDS = ("uv.lock", "pylock", "requirements", "conda-lock", "explicit")

__all__ = ["read_lock_file", "kind_of", "lock_beside", "KINDS", "LockFile", "Selection",
           "Fetcher"]


def kind_of(path) -> str:
    """The kind of lock file at path, from its name, else its content."""
    path = Path(path)
    name = path.name.lower()
    if name == "uv.lock":
        return "uv.lock"
    if name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml")):
        return "pylock"
    if name.endswith(("conda-lock.yml", "conda-lock.yaml")):
        return "conda-lock"
    if name == "pyproject.toml":
        raise SpecError("a pyproject.toml is a list of requirements, not a lock", file=str(path),
                        hint="Pass it with -p (the uv.lock beside it is then used).")
    text = read_text(path, "lock file")
    if name.endswith((".yml", ".yaml")):
        return "conda-lock"
    if name.endswith(".toml"):
        return "pylock" if "lock-version" in text else "uv.lock"
    from .explicit import is_explicit
    from .requirements import is_hashed_requirements

    if is_explicit(text):
        return "explicit"
    if is_hashed_requirements(text):
        return "requirements"
    raise SpecError("cannot tell what kind of lock file this is", file=str(path),
                    hint="flowenv reads uv.lock, pylock.toml, conda-lock.yml, @EXPLICIT files "
                         "and requirements files with --hash for every package.")


def read_lock_file(path, kind: Optional[str] = None, extras: Iterable[str] = (),
                   groups: Iterable[str] = (), default_groups: bool = True,
                   environ: Mapping[str, str] = None) -> LockFile:
    """The lock file at path, read and checked; errors name the file and the entry."""
    path = Path(path)
    read_text(path, "lock file")  # exists, is a readable text file: or a clear error
    kind = kind or kind_of(path)
    selection = Selection.of(extras, groups, default_groups)
    if kind == "uv.lock":
        from .uv_lock import read_uv_lock

        return read_uv_lock(path, selection)
    if kind == "pylock":
        from .pylock import read_pylock

        return read_pylock(path, selection)
    if kind == "requirements":
        from .requirements import read_hashed_requirements

        return read_hashed_requirements(path, selection, environ)
    if kind == "conda-lock":
        from .conda_lock import read_conda_lock

        return read_conda_lock(path, selection)
    if kind == "explicit":
        from .explicit import read_explicit

        return read_explicit(path, selection)
    raise SpecError("unknown kind of lock file %r (expected %s)" % (kind, ", ".join(KINDS)))


def lock_beside(pyproject) -> Optional[Path]:
    """The uv.lock beside a pyproject.toml, if there is one."""
    candidate = Path(pyproject).parent / "uv.lock"
    return candidate if candidate.is_file() else None

"""Reading a requirements, environment or project file: a regular text file of sane size,
or a clear error that names it."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Mapping

from ..errors import SpecError

MAX_BYTES = 8 * 1024 * 1024  # no real requirements file is this big
_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def read_text(path, what: str = "requirements file") -> str:
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise SpecError("this %s does not exist" % what, file=str(path)) from None
    except OSError as exc:
        raise SpecError("cannot read this %s: %s" % (what, exc.strerror), file=str(path)) from exc
    if stat.S_ISDIR(st.st_mode):
        raise SpecError("this is a folder, not a %s" % what, file=str(path))
    if not stat.S_ISREG(st.st_mode):
        raise SpecError("this is not a regular file (a device or a pipe?)", file=str(path),
                        hint="Give the path of a %s." % what)
    if st.st_size > MAX_BYTES:
        raise SpecError("this %s is %.1f MB; flowenv reads files of at most %d MB"
                        % (what, st.st_size / 1e6, MAX_BYTES // 1024 // 1024), file=str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError("cannot read this %s: %s" % (what, exc.strerror), file=str(path)) from exc
    if b"\0" in data:
        raise SpecError("this is a binary file, not a %s" % what, file=str(path))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError("this %s is not UTF-8 text (byte %d)" % (what, exc.start),
                        file=str(path), hint="Save it as UTF-8.") from None


def read_toml(path, what: str) -> dict:
    """A TOML file's tables, or a SpecError naming the file and what is wrong."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib

    try:
        return tomllib.loads(read_text(path, what))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError("this is not valid TOML: %s" % exc, file=str(path)) from None


def expand_env(value: str, environ: Mapping[str, str]) -> str:
    """${VAR} replaced from environ, as pip does; an unset variable is a SpecError."""

    def sub(match):
        name = match.group(1)
        if name not in environ:
            raise SpecError("environment variable %s is not set" % name,
                            hint="Set it, or write the value in the file.")
        return environ[name]

    return _ENV_VAR.sub(sub, value)


class SpecWarning(UserWarning):
    """Something in a requirements file that flowenv ignores (and says so)."""


def warn_user(message: str) -> None:
    """The default way a parser reports what it ignores: a Python warning (the CLI passes
    its own `warn`, which prints)."""
    import warnings

    warnings.warn(message, SpecWarning, stacklevel=3)

"""References to environments: aliases `ns/name[:tag]`, full ids, and @{VAR} expansion."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from .errors import AliasError, SpecError

MUTABLE_TAGS = ("latest", "candidate", "stable")
DEFAULT_TAG = "latest"

_SEGMENT = r"[a-z0-9][a-z0-9_.\-]*"
_NAME = re.compile(r"^%s(/%s)*$" % (_SEGMENT, _SEGMENT))
_TAG = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,127}$")
_FULL_ID = re.compile(r"^[0-9a-f]{32}$")
_VAR = re.compile(r"@\{([^}]*)\}")


def expand_vars(text: str, what: str, environ: Mapping[str, str]) -> str:
    """Replace each @{VAR} with the value of variable VAR in environ."""
    if not isinstance(text, str):
        raise SpecError("expected a string, not %r" % (text,), entry=what)

    def sub(match):
        name = match.group(1)
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            raise SpecError("@{%s} is not a valid environment variable reference" % name,
                            entry=what)
        if name not in environ:
            raise SpecError("%r uses @{%s}, but environment variable %s is not set"
                            % (text, name, name), entry=what,
                            hint="Set it, e.g. %s=... python flow.py ..." % name)
        return environ[name]

    return _VAR.sub(sub, text)


def is_full_id(text: str) -> bool:
    return bool(_FULL_ID.match(text))


@dataclass(frozen=True)
class Alias:
    name: str
    tag: str

    @classmethod
    def parse(cls, text: str) -> "Alias":
        if not isinstance(text, str):
            raise AliasError("an environment name must be a string like team/ml-env:v1, "
                             "not %r" % (text,))
        text = text.strip()
        name, _, tag = text.partition(":")
        tag = tag or DEFAULT_TAG
        if not _NAME.match(name) or ".." in name:
            raise AliasError(
                "invalid environment name %r" % text,
                hint="Use lowercase letters, digits, '-', '_', '.' in '/'-separated parts, "
                     "like team/ml-env:v1.")
        if not _TAG.match(tag) or ".." in tag:
            raise AliasError(
                "invalid tag %r in %r" % (tag, text),
                hint="Use lowercase letters, digits, '-', '_', '.' (at most 128), like v1 "
                     "or 2024.06.01.")
        return cls(name, tag)

    @property
    def mutable(self) -> bool:
        return self.tag in MUTABLE_TAGS

    def __str__(self):
        return "%s:%s" % (self.name, self.tag)

"""Spec: what the user asked for, canonical at construction, hashed into a req_id.

A Spec never depends on the machine that builds it: the same decorator gives the same
req_id on a laptop and in CI.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from .errors import SpecError

SPEC_SCHEMA = 1
_BARE_VERSION = re.compile(r"^\d+(\.\d+)*(\.\*)?$")
_CONDA_NAME = re.compile(r"^(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)$")


def python_specifier(constraint: str) -> SpecifierSet:
    """'3.11' means any 3.11.x; '3.11.7' exactly that; otherwise a PEP 440 specifier set."""
    text = constraint.strip()
    if _BARE_VERSION.match(text):
        # '3' and '3.11' mean any release in that series; '3.*' and '3.11.*' already do.
        text = "==" + text + (".*" if text.count(".") <= 1 and not text.endswith(".*") else "")
    try:
        return SpecifierSet(text)
    except InvalidSpecifier as exc:
        raise SpecError(
            "Python constraint %r is not valid: write '3.11', '3.11.7' or '>=3.10,<3.12'"
            % constraint
        ) from exc


def canonical_requirement(text: str, where: str) -> str:
    """One PEP 508 requirement, rendered with its PEP 503 name, sorted extras, no spaces."""
    try:
        req = Requirement(text.strip())
    except InvalidRequirement as exc:
        raise SpecError("%s: %r is not a valid requirement (%s)" % (where, text, exc)) from exc
    out = canonicalize_name(req.name)
    if req.extras:
        out += "[%s]" % ",".join(sorted(canonicalize_name(e) for e in req.extras))
    if req.url:
        out += " @ " + req.url
    else:
        out += ",".join(sorted(str(s) for s in req.specifier))
    if req.marker:
        out += "; " + str(req.marker)
    return out


def requirement_name(text: str) -> str:
    return canonicalize_name(Requirement(text).name)


def pypi_requirement(name: str, version: str, where: str) -> str:
    """A decorator entry {name: version}: a bare version means '==', '' means any."""
    version = (version or "").strip()
    if version and (_BARE_VERSION.match(version) or version[0].isalnum()):
        version = "==" + version
    return canonical_requirement(name.strip() + version, where)


def conda_requirement(name: str, version: str, where: str) -> str:
    """A conda match spec 'channel::name version' from a decorator entry."""
    match = _CONDA_NAME.match(name.strip())
    if not match:
        raise SpecError("%s: %r is not a conda package name" % (where, name))
    version = (version or "").strip()
    if any(c.isspace() for c in version):
        raise SpecError("%s: version %r of %s contains spaces" % (where, version, name))
    channel, pkg = match.group("channel"), match.group("name").lower()
    return ("%s::" % channel if channel else "") + pkg + (" " + version if version else "")


def conda_name(spec: str) -> str:
    return spec.split(" ", 1)[0].split("::")[-1]


def redact_url(url: str) -> str:
    """Drop user:password from a URL so that it can be stored and shown."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _sorted_unique(items: Iterable[str]) -> Tuple[str, ...]:
    return tuple(sorted(set(items)))


@dataclass(frozen=True)
class Spec:
    """Requested packages and where to find them. Build with the from_* helpers."""

    python: Optional[str] = None
    pypi: Tuple[str, ...] = ()
    conda: Tuple[str, ...] = ()
    channels: Tuple[str, ...] = ()
    constraints: Tuple[str, ...] = ()
    index_url: Optional[str] = None
    extra_index_urls: Tuple[str, ...] = ()
    find_links: Tuple[str, ...] = ()
    pre: bool = False
    # full_id of an environment this one extends: its pins are kept.
    base: Optional[str] = None
    # Where the spec came from, for error messages; not part of the identity.
    origin: str = field(default="", compare=False)

    def __post_init__(self):
        if self.python is not None:
            python_specifier(self.python)
        where = self.origin or "requirements"
        # Canonical at construction: 'Foo_Bar==1' and 'foo-bar==1' are one requirement.
        pypi = tuple(canonical_requirement(r, where) for r in self.pypi)
        constraints = tuple(canonical_requirement(r, where) for r in self.constraints)
        object.__setattr__(self, "pypi", self._unique_by_name(pypi, requirement_name))
        object.__setattr__(self, "conda", self._unique_by_name(self.conda, conda_name))
        object.__setattr__(self, "constraints", _sorted_unique(constraints))
        object.__setattr__(self, "extra_index_urls", tuple(dict.fromkeys(self.extra_index_urls)))
        object.__setattr__(self, "find_links", tuple(dict.fromkeys(self.find_links)))
        object.__setattr__(self, "channels", tuple(dict.fromkeys(self.channels)))

    def _unique_by_name(self, reqs, name_of) -> Tuple[str, ...]:
        by_name = {}
        for req in reqs:
            name = name_of(req)
            if name in by_name and by_name[name] != req:
                raise SpecError(
                    "%s: %r and %r both ask for %s: keep one"
                    % (self.origin or "requirements", by_name[name], req, name)
                )
            by_name[name] = req
        return tuple(by_name[n] for n in sorted(by_name))

    # -- construction -------------------------------------------------------------

    @classmethod
    def from_pypi_packages(
        cls, packages: Mapping[str, str], python=None, extra_indices=(), origin=""
    ) -> "Spec":
        if not isinstance(packages, Mapping):
            raise SpecError("%s: packages must be a dict {name: version}" % origin)
        reqs = [pypi_requirement(k, str(v or ""), origin) for k, v in packages.items()]
        return cls(
            python=_python_arg(python, origin),
            pypi=tuple(reqs),
            extra_index_urls=tuple(extra_indices or ()),
            origin=origin,
        )

    @classmethod
    def from_conda_libraries(
        cls, libraries: Mapping[str, str], channels=(), python=None, origin=""
    ) -> "Spec":
        if not isinstance(libraries, Mapping):
            raise SpecError("%s: libraries must be a dict {name: version}" % origin)
        libraries = dict(libraries)
        # A `python` entry is the Python constraint, as in an environment.yml.
        python = python or libraries.pop("python", None)
        reqs = [conda_requirement(k, str(v or ""), origin) for k, v in libraries.items()]
        return cls(
            python=_python_arg(python, origin),
            conda=tuple(reqs),
            channels=tuple(channels or ()),
            origin=origin,
        )

    # -- combination --------------------------------------------------------------

    def overridden_by(self, other: "Spec") -> "Spec":
        """This spec with `other` on top: same-named packages and python come from other."""
        pypi = {requirement_name(r): r for r in self.pypi}
        pypi.update({requirement_name(r): r for r in other.pypi})
        conda = {conda_name(r): r for r in self.conda}
        conda.update({conda_name(r): r for r in other.conda})
        return Spec(
            python=other.python or self.python,
            pypi=tuple(pypi.values()),
            conda=tuple(conda.values()),
            channels=self.channels + other.channels,
            constraints=self.constraints + other.constraints,
            index_url=other.index_url or self.index_url,
            extra_index_urls=self.extra_index_urls + other.extra_index_urls,
            find_links=self.find_links + other.find_links,
            pre=self.pre or other.pre,
            base=other.base or self.base,
            origin=" + ".join(o for o in (self.origin, other.origin) if o),
        )

    def replace(self, **changes) -> "Spec":
        return dataclasses.replace(self, **changes)

    # -- identity -----------------------------------------------------------------

    def identity(self) -> dict:
        """The normalised, credential-free content that defines req_id."""
        return {
            "schema": SPEC_SCHEMA,
            "python": self.python,
            "pypi": list(self.pypi),
            "conda": list(self.conda),
            "channels": [redact_url(c) for c in self.channels],
            "constraints": list(self.constraints),
            "index_url": redact_url(self.index_url) if self.index_url else None,
            "extra_index_urls": [redact_url(u) for u in self.extra_index_urls],
            "find_links": [redact_url(u) for u in self.find_links],
            "pre": self.pre,
            "base": self.base,
        }

    @property
    def req_id(self) -> str:
        blob = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    @classmethod
    def from_identity(cls, data: dict, origin: str = "") -> "Spec":
        fields = {k: v for k, v in data.items() if k != "schema"}
        for key in ("pypi", "conda", "channels", "constraints", "extra_index_urls", "find_links"):
            fields[key] = tuple(fields.get(key) or ())
        return cls(origin=origin, **fields)

    @property
    def index_urls(self):
        """Every index the spec names, primary first (credentials included: in memory only)."""
        return ([self.index_url] if self.index_url else []) + list(self.extra_index_urls)

    @property
    def is_empty(self) -> bool:
        return not (self.pypi or self.conda or self.base)

    def describe(self) -> str:
        parts = list(self.conda) + list(self.pypi)
        if self.python:
            parts.insert(0, "python " + self.python)
        return ", ".join(parts) or "(no packages)"


def _python_arg(python, origin) -> Optional[str]:
    if python is None or python == "":
        return None
    if not isinstance(python, str):
        python = str(python)
    try:
        python_specifier(python)
    except SpecError as exc:
        raise SpecError("%s: %s" % (origin, exc)) from None
    return python.replace(" ", "")

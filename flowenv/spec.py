"""Spec: what the user asked for, canonical at construction, hashed into a req_id.

A Spec never depends on the machine that builds it: the same decorator gives the same
req_id on a laptop and in CI.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .direct_refs import DirectRef, parse_direct, portable_path
from .errors import SpecError
from .platforms import parse_glibc
from .redact import redact_text, redact_url

SPEC_SCHEMA = 2
_BARE_VERSION = re.compile(r"^\d+(\.\d+)*(\.\*)?$")
_CONDA_PACKAGE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_VIRTUAL = re.compile(r"^(__[a-z0-9_]+)(?:\s*==?\s*|\s+)([^=\s<>!~]*)(?:=([^=\s]+))?$")
_INDEX_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


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


# The oldest Python an environment may have (uv's and Metaflow's floor, and flowenv's tests').
MIN_PYTHON = Version("3.8")


def check_supported_python(constraint: str, where: Optional[str] = None) -> None:
    """A SpecError when every Python the constraint admits is older than MIN_PYTHON."""
    allowed = python_specifier(constraint)
    # If the constraint admits a supported version, it admits the oldest one or one at
    # (or just above) one of its own bounds.
    candidates = {MIN_PYTHON}
    for specifier in allowed:
        try:
            bound = Version(specifier.version.rstrip(".*"))
        except InvalidVersion:
            continue
        bumped = bound.release[:-1] + (bound.release[-1] + 1,)
        candidates |= {bound, Version(".".join(map(str, bumped)))}
    if not any(v >= MIN_PYTHON and v in allowed for v in candidates):
        raise SpecError("Python %s is older than flowenv supports: environments need Python "
                        "%s or later" % (constraint, MIN_PYTHON), entry=where,
                        hint="Ask for a newer Python, e.g. --python 3.11.")


def canonical_requirement(text: str, where: Optional[str] = None) -> str:
    """One PEP 508 requirement, rendered with its PEP 503 name, sorted extras, no spaces;
    a direct reference (git, URL, path) in the form direct_refs describes."""
    direct = parse_direct(text.strip(), where)
    if direct is not None:
        return direct.text()
    try:
        req = Requirement(text.strip())
    except InvalidRequirement as exc:
        raise SpecError("%r is not a valid requirement (%s)" % (redact_text(text), exc),
                        entry=where) from None
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
    """The package a canonical requirement asks for; for an unnamed direct reference,
    its location (which no package name can equal)."""
    direct = parse_direct(text)
    if direct is not None:
        return direct.name or direct.location
    return canonicalize_name(Requirement(text).name)


def is_direct(text: str) -> bool:
    return parse_direct(text) is not None


def pypi_requirement(name: str, version: str, where: Optional[str] = None) -> str:
    """A decorator entry {name: version}: a bare version means '==', '' means any; a
    version that is a location ('git+https://...', '@ https://...', './libs/x') is a
    direct reference, as OSS Metaflow reads it."""
    version = (version or "").strip()
    if version.startswith("@"):
        return canonical_requirement("%s @ %s" % (name.strip(), version[1:].strip()), where)
    if version and parse_direct(version, where) is not None:
        return canonical_requirement("%s @ %s" % (name.strip(), version), where)
    if version and (_BARE_VERSION.match(version) or version[0].isalnum()):
        version = "==" + version
    return canonical_requirement(name.strip() + version, where)


def split_channel(name: str) -> Tuple[Optional[str], str]:
    """'channel::pkg' -> (channel, pkg); the channel may be a name or a URL
    ('https://host/chan::pkg', 'file:///srv/chan::pkg')."""
    channel, sep, pkg = name.rpartition("::")
    return (channel if sep else None), pkg


def conda_requirement(name: str, version: str, where: Optional[str] = None) -> str:
    """A conda match spec 'channel::name version' from a decorator entry."""
    channel, pkg = split_channel(name.strip())
    if not _CONDA_PACKAGE.match(pkg) or (channel is not None and (
            not channel or any(c.isspace() for c in channel))):
        raise SpecError("%r is not a conda package name (write 'name' or 'channel::name')"
                        % name, entry=where)
    version = (version or "").strip()
    if any(c.isspace() for c in version):
        raise SpecError("version %r of %s contains spaces" % (version, name), entry=where)
    return ("%s::" % channel if channel else "") + pkg.lower() + (" " + version if version else "")


def conda_name(spec: str) -> str:
    return split_channel(spec.split(" ", 1)[0])[1]


def virtual_package(entry: str, where: Optional[str] = None) -> str:
    """'__cuda=12.2' (or '__cuda==12.2', '__cuda 12.2') -> '__cuda=12.2=0';
    '__cuda=12.2=1' keeps its build; '__cuda=' (remove it) stays as is."""
    match = _VIRTUAL.match(entry.strip())
    if not match:
        raise SpecError("%r is not a virtual package: write __name=version[=build], such as "
                        "__cuda=12.2 or __glibc=2.28" % entry, entry=where)
    name, version, build = match.groups()
    if name == "__glibc" and version:
        try:
            parse_glibc(version)
        except SpecError as exc:
            raise exc.within(entry=where) from None
    return "%s=%s=%s" % (name, version, build or "0") if version else name + "="


def _sorted_unique(items: Iterable[str]) -> Tuple[str, ...]:
    return tuple(sorted(set(items)))


def text_list(value, what: str) -> Tuple[str, ...]:
    """A list of strings from a decorator argument or a file: a single string is a list of
    one (never split into letters); anything else is a SpecError naming `what`."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise SpecError("%s must be a string or a list of strings, not %r" % (what, value))
    return tuple(v.strip() for v in value if v.strip())


def named_entry(entry: str) -> Tuple[str, str]:
    """'name=value' -> (name, value), as uv writes named indexes ('internal=https://...')
    and flowenv writes index pins ('torch=https://download.pytorch.org/whl/cpu')."""
    name, sep, value = entry.partition("=")
    if not sep or not _INDEX_NAME.match(name) or not value:
        raise SpecError("%r is not name=URL" % redact_text(entry))
    return name, value


def _canonical_link(link: str) -> str:
    """A find-links entry: URLs and absolute folders as given, relative ones portable."""
    if "://" in link or os.path.isabs(link):
        return link
    return portable_path(link)


@dataclass(frozen=True)
class Spec:
    """Requested packages and where to find them. Build with the from_* helpers."""

    python: Optional[str] = None
    pypi: Tuple[str, ...] = ()
    conda: Tuple[str, ...] = ()
    channels: Tuple[str, ...] = ()
    # Where channel names live (a mirror); None: the default, conda.anaconda.org.
    channel_alias: Optional[str] = None
    # Virtual packages for conda solves: '__cuda=12.2=0', or '__cuda=' to remove one.
    virtual_packages: Tuple[str, ...] = ()
    constraints: Tuple[str, ...] = ()
    index_url: Optional[str] = None
    extra_index_urls: Tuple[str, ...] = ()
    find_links: Tuple[str, ...] = ()
    pre: bool = False
    # Only find-links, no index at all (pip's --no-index).
    no_index: bool = False
    # Indexes with a name ('name=URL'): per-index credentials (UV_INDEX_<NAME>_USERNAME).
    index_names: Tuple[str, ...] = ()
    # Packages taken from one index only ('package=URL'): uv's explicit indexes with
    # [tool.uv.sources], Poetry's explicit sources.
    index_pins: Tuple[str, ...] = ()
    # Hosts whose TLS certificate is not checked (pip's --trusted-host): how to reach an
    # index, not what it gives, so not part of the identity.
    trusted_hosts: Tuple[str, ...] = field(default=(), compare=False)
    # sha256 of the content of each local folder or file a requirement names, by its
    # location as written: filled in when the spec is resolved (Environments.request).
    local_contents: Tuple[Tuple[str, str], ...] = ()
    # full_id of an environment this one extends: its pins are kept.
    base: Optional[str] = None
    # Where the spec came from, for error messages; not part of the identity.
    origin: str = field(default="", compare=False)
    # The folder relative paths are relative to (the requirements file's); where the
    # checkout lives is not part of the identity.
    root: Optional[str] = field(default=None, compare=False)

    def __post_init__(self):
        where = self.origin or None
        if self.python is not None:
            python_specifier(self.python)
        # Canonical at construction: 'Foo_Bar==1' and 'foo-bar==1' are one requirement.
        # A package may appear more than once ('black' and 'black[jupyter]', or one line
        # per marker): the resolver merges them, as pip and uv do.
        pypi = tuple(canonical_requirement(r, where) for r in self.pypi)
        constraints = tuple(canonical_requirement(r, where) for r in self.constraints)
        object.__setattr__(self, "pypi", _sorted_unique(pypi))
        object.__setattr__(self, "conda", self._unique_by_name(self.conda, conda_name))
        object.__setattr__(self, "constraints", _sorted_unique(constraints))
        object.__setattr__(self, "virtual_packages", self._unique_by_name(
            (virtual_package(v, where) for v in self.virtual_packages),
            lambda v: v.split("=", 1)[0]))
        object.__setattr__(self, "extra_index_urls", tuple(dict.fromkeys(self.extra_index_urls)))
        object.__setattr__(self, "find_links", tuple(dict.fromkeys(
            _canonical_link(link) for link in self.find_links)))
        object.__setattr__(self, "channels", tuple(dict.fromkeys(self.channels)))
        names = dict(named_entry(e) for e in self.index_names)
        object.__setattr__(self, "index_names", tuple("%s=%s" % kv for kv in sorted(names.items())))
        pins = {}
        for entry in self.index_pins:
            package, url = named_entry(entry)
            package = canonicalize_name(package)
            if pins.get(package, url) != url:
                raise SpecError("%s is pinned to two indexes, %s and %s: keep one"
                                % (package, redact_url(pins[package]), redact_url(url)),
                                entry=where)
            pins[package] = url
        object.__setattr__(self, "index_pins", tuple("%s=%s" % kv for kv in sorted(pins.items())))
        object.__setattr__(self, "trusted_hosts", tuple(dict.fromkeys(self.trusted_hosts)))
        object.__setattr__(self, "local_contents", tuple(sorted(dict(self.local_contents).items())))

    def _unique_by_name(self, reqs, name_of) -> Tuple[str, ...]:
        by_name = {}
        for req in reqs:
            name = name_of(req)
            if name in by_name and by_name[name] != req:
                raise SpecError("%r and %r both ask for %s: keep one" % (by_name[name], req, name),
                                entry=self.origin or None)
            by_name[name] = req
        return tuple(by_name[n] for n in sorted(by_name))

    # -- construction -------------------------------------------------------------

    @classmethod
    def from_pypi_packages(
        cls, packages: Mapping[str, str], python=None, extra_indices=(), origin="", root=None
    ) -> "Spec":
        """A decorator's packages; relative paths in them are relative to root (the
        flow file's folder)."""
        reqs = [pypi_requirement(k, v, origin) for k, v in _package_items(packages, origin)]
        return cls(
            python=_python_arg(python, origin),
            pypi=tuple(reqs),
            extra_index_urls=text_list(extra_indices, "%s: extra_indices" % origin),
            origin=origin,
            root=root,
        )

    @classmethod
    def from_conda_libraries(
        cls, libraries: Mapping[str, str], channels=(), python=None, origin=""
    ) -> "Spec":
        libraries = dict(_package_items(libraries, origin))
        # A `python` entry is the Python constraint, as in an environment.yml.
        python = python or libraries.pop("python", None)
        reqs = [conda_requirement(k, v, origin) for k, v in libraries.items()]
        return cls(
            python=_python_arg(python, origin),
            conda=tuple(reqs),
            channels=text_list(channels, "%s: channels" % origin),
            origin=origin,
        )

    # -- combination --------------------------------------------------------------

    def overridden_by(self, other: "Spec") -> "Spec":
        """This spec with `other` on top: same-named packages and python come from other."""
        root = self.root or other.root
        other = other.rebased(root)
        mine = self.rebased(root)
        theirs = {requirement_name(r) for r in other.pypi}
        pypi = [r for r in mine.pypi if requirement_name(r) not in theirs] + list(other.pypi)
        conda = {conda_name(r): r for r in self.conda}
        conda.update({conda_name(r): r for r in other.conda})
        virtual = {v.split("=", 1)[0]: v for v in self.virtual_packages}
        virtual.update({v.split("=", 1)[0]: v for v in other.virtual_packages})
        pins = dict(named_entry(e) for e in self.index_pins)
        pins.update(named_entry(e) for e in other.index_pins)
        return Spec(
            python=other.python or self.python,
            pypi=tuple(pypi),
            conda=tuple(conda.values()),
            channels=self.channels + other.channels,
            channel_alias=other.channel_alias or self.channel_alias,
            virtual_packages=tuple(virtual.values()),
            constraints=mine.constraints + other.constraints,
            index_url=other.index_url or self.index_url,
            extra_index_urls=self.extra_index_urls + other.extra_index_urls,
            find_links=mine.find_links + other.find_links,
            pre=self.pre or other.pre,
            no_index=self.no_index or other.no_index,
            index_names=self.index_names + other.index_names,
            index_pins=tuple("%s=%s" % kv for kv in pins.items()),
            trusted_hosts=self.trusted_hosts + other.trusted_hosts,
            local_contents=mine.local_contents + other.local_contents,
            base=other.base or self.base,
            origin=" + ".join(o for o in (self.origin, other.origin) if o),
            root=root,
        )

    def rebased(self, root: Optional[str]) -> "Spec":
        """The same spec with its relative paths made relative to another folder."""
        if root is None or self.root is None or os.path.abspath(root) == os.path.abspath(
                self.root):
            return self

        def move(location: str) -> str:
            if not location.startswith(("./", "../")):
                return location
            return portable_path(os.path.relpath(os.path.join(self.root, location), root))

        def move_requirement(text: str) -> str:
            direct = parse_direct(text)
            return direct.text(move(direct.location)) if direct is not None else text

        return self.replace(
            pypi=tuple(move_requirement(r) for r in self.pypi),
            constraints=tuple(move_requirement(r) for r in self.constraints),
            find_links=tuple(move(link) for link in self.find_links),
            local_contents=tuple((move(k), v) for k, v in self.local_contents),
            root=root)

    def with_defaults(self, *, channels=(), channel_alias=None, virtual_packages=(),
                      index_url=None, extra_index_urls=(), find_links=(), index_names=(),
                      no_index=False, trusted_hosts=()) -> "Spec":
        """The spec as it will be resolved: the machine's or team's settings fill in what
        the spec leaves open, so that they are part of its requirements id. Channels apply
        to specs with conda packages, indexes to specs with PyPI packages; index_names
        ('name=URL') name some of those indexes."""
        changes = {}
        if self.conda:
            if not self.channels and channels:
                changes["channels"] = tuple(channels)
            if not self.channel_alias and channel_alias:
                changes["channel_alias"] = channel_alias
        # A conda solve reads every virtual package; PyPI wheels only __glibc (the
        # manylinux level).
        wanted = tuple(v for v in virtual_packages if self.conda or (
            (self.pypi or self.base) and v.startswith("__glibc=")))
        own = {v.split("=", 1)[0] for v in self.virtual_packages}
        if any(v.split("=", 1)[0] not in own for v in wanted):
            changes["virtual_packages"] = self.virtual_packages + tuple(
                v for v in wanted if v.split("=", 1)[0] not in own)
        if self.pypi or self.base:
            if not self.index_url and index_url:
                changes["index_url"] = index_url
            changes["extra_index_urls"] = self.extra_index_urls + tuple(extra_index_urls)
            changes["find_links"] = self.find_links + tuple(find_links)
            changes["index_names"] = self.index_names + tuple(index_names)
            changes["no_index"] = self.no_index or bool(no_index)
            changes["trusted_hosts"] = self.trusted_hosts + tuple(trusted_hosts)
        return self.replace(**changes) if changes else self

    def replace(self, **changes) -> "Spec":
        return dataclasses.replace(self, **changes)

    # -- identity -----------------------------------------------------------------

    def identity(self) -> dict:
        """The normalised, credential-free content that defines req_id. Fields added
        since schema 2 appear only when set, so that older requests keep their ids."""
        identity = {
            "schema": SPEC_SCHEMA,
            "python": self.python,
            "pypi": [redact_text(r) for r in self.pypi],
            "conda": list(self.conda),
            "channels": [redact_url(c) for c in self.channels],
            "channel_alias": redact_url(self.channel_alias) if self.channel_alias else None,
            "virtual_packages": list(self.virtual_packages),
            "constraints": [redact_text(r) for r in self.constraints],
            "index_url": redact_url(self.index_url) if self.index_url else None,
            "extra_index_urls": [redact_url(u) for u in self.extra_index_urls],
            "find_links": [redact_url(u) for u in self.find_links],
            "pre": self.pre,
            "base": self.base,
        }
        if self.no_index:
            identity["no_index"] = True
        if self.index_names:
            identity["index_names"] = [redact_text(e) for e in self.index_names]
        if self.index_pins:
            identity["index_pins"] = [redact_text(e) for e in self.index_pins]
        if self.local_contents:
            identity["local_contents"] = dict(self.local_contents)
        return identity

    @property
    def req_id(self) -> str:
        blob = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    @classmethod
    def from_identity(cls, data: dict, origin: str = "") -> "Spec":
        if not isinstance(data, dict):
            raise SpecError("the recorded requirements are not a mapping", entry=origin or None)
        fields = {k: v for k, v in data.items() if k in _IDENTITY_FIELDS}
        for key in ("pypi", "conda", "channels", "constraints", "extra_index_urls",
                    "find_links", "virtual_packages", "index_names", "index_pins"):
            fields[key] = tuple(fields.get(key) or ())
        fields["local_contents"] = tuple(sorted((fields.get("local_contents") or {}).items()))
        return cls(origin=origin, **fields)

    @property
    def index_urls(self):
        """Every index the spec names, primary first (credentials included: in memory only)."""
        pinned = [named_entry(e)[1] for e in self.index_pins]
        return list(dict.fromkeys(([self.index_url] if self.index_url else [])
                                  + list(self.extra_index_urls) + pinned))

    @property
    def named_indexes(self) -> Dict[str, str]:
        """Index URL -> its name, for those that have one."""
        return {url: name for name, url in (named_entry(e) for e in self.index_names)}

    def direct_references(self) -> List[DirectRef]:
        """The direct references among the requirements and constraints."""
        found = (parse_direct(r) for r in self.pypi + self.constraints)
        return [d for d in found if d is not None]

    def local_locations(self) -> List[str]:
        """Local folders and files the requirements name, as written."""
        return sorted({d.location for d in self.direct_references() if d.kind == "path"})

    @property
    def glibc(self) -> Optional[Tuple[int, int]]:
        """The glibc the spec resolves for (__glibc), if it names one."""
        for entry in self.virtual_packages:
            name, version = entry.split("=")[:2]
            if name == "__glibc" and version:
                return parse_glibc(version)
        return None

    @property
    def is_empty(self) -> bool:
        return not (self.pypi or self.conda or self.base)

    def describe(self) -> str:
        parts = list(self.conda) + [redact_text(r) for r in self.pypi]
        if self.python:
            parts.insert(0, "python " + self.python)
        return ", ".join(parts) or "(no packages)"


_IDENTITY_FIELDS = ("python", "pypi", "conda", "channels", "channel_alias", "virtual_packages",
                    "constraints", "index_url", "extra_index_urls", "find_links", "pre", "base",
                    "no_index", "index_names", "index_pins", "local_contents")


def _package_items(packages, origin):
    """(name, version text) of a decorator's {name: version} argument, checked."""
    if packages is None:
        return []
    if not isinstance(packages, Mapping):
        raise SpecError("packages must be a dict {name: version}, not %r" % (packages,),
                        entry=origin or None)
    items = []
    for name, version in packages.items():
        if not isinstance(name, str) or not name.strip():
            raise SpecError("package name %r is not a string" % (name,), entry=origin or None)
        if version is not None and not isinstance(version, (str, int, float)):
            raise SpecError("the version of %s must be a string such as '1.2' or '>=1,<2', "
                            "not %r" % (name, version), entry=origin or None)
        items.append((name, "" if version is None else str(version)))
    return items


def _python_arg(python, origin) -> Optional[str]:
    if python is None or python == "":
        return None
    if not isinstance(python, (str, int, float)) or isinstance(python, bool):
        raise SpecError("python must be a version string such as '3.11', not %r" % (python,),
                        entry=origin or None)
    python = str(python)
    try:
        python_specifier(python)
    except SpecError as exc:
        raise exc.within(entry=origin or None) from None
    return python.replace(" ", "")

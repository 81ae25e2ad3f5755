"""PyPI resolution with uv: a Spec and a Target in, the wheels of a Lock out."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence

from packaging.requirements import Requirement

from ..credentials import IndexAccess
from ..direct_refs import absolute_location, git_repository, local_path, parse_direct
from ..errors import IntegrityError, ResolveError
from ..lock import Lock, LockedFile
from ..platforms import Target, uv_python_platform
from ..redact import redact_url
from ..spec import Spec, is_direct, named_entry, requirement_name
from ..uv_runner import UvRunner
from .wheels import pick_wheel, tag_priority

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

# Turns a pylock package entry that has no wheel for the target into a locked wheel
# (see build.SourceBuilder): (entry, package name, folder of the pylock) -> LockedFile.
Builder = Callable[[dict, str, Path], LockedFile]


@dataclass
class PypiTools:
    """What PyPI resolution needs besides uv: how to reach the spec's indexes, how to turn
    a package without a wheel into one for a target (None: wheels only), and local copies
    of the wheels a base environment built."""

    access: Optional[IndexAccess] = None
    make_builder: Optional[Callable[[Target], Builder]] = None
    base_wheels: Sequence[Path] = ()

    def builder_for(self, target: Target) -> Optional[Builder]:
        return self.make_builder(target) if self.make_builder else None


def check_against_pins(requirements: Iterable[str], pins: Dict[str, str], base_name: str):
    """A requested package that the base pins to another version is a conflict we name."""
    for text in requirements:
        if is_direct(text):
            continue
        req = Requirement(text)
        name = requirement_name(text)
        if name in pins and req.specifier and pins[name] not in req.specifier:
            raise ResolveError(
                "%r conflicts with %s, which pins %s==%s" % (text, base_name, name, pins[name]),
                package=name,
                hint="Ask for a version the base environment has, or use a different base.")


def _index(option: str, url: str, names: Dict[str, str]) -> List[str]:
    name = names.get(url)
    return [option, "%s=%s" % (name, url) if name else url]


def index_arguments(spec: Spec) -> List[str]:
    """uv's options for the spec's indexes, find-links and pre-releases (local paths made
    absolute from the spec's root)."""
    args: List[str] = []
    names = spec.named_indexes
    if spec.no_index:
        args += ["--no-index"]
    else:
        if spec.index_url:
            args += _index("--default-index", spec.index_url, names)
        for url in spec.extra_index_urls:
            args += _index("--index", url, names)
    for link in spec.find_links:
        if link.startswith(("./", "../")):
            link = local_path(link, spec.root, spec.origin or None)
        args += ["--find-links", link]
    if spec.pre:
        args += ["--prerelease", "allow"]
    return args


def resolve_pypi(
    spec: Spec,
    target: Target,
    uv: UvRunner,
    base: Optional[Lock] = None,
    installed: Dict[str, str] = None,
    builder: Optional[Builder] = None,
    access: IndexAccess = None,
    base_wheels: Sequence[Path] = (),
    allowed: Optional[Dict[str, set]] = None,
    ceilings=None,
) -> List[LockedFile]:
    """Pin spec.pypi (plus the base's requirements, constrained to its pins) for target.

    `installed` are Python packages already provided (by conda), name -> version, kept as
    constraints and left out of the result. Wheels are preferred; with `builder`, a
    resolution that needs source distributions is allowed, and each package without a
    wheel (an sdist, a git repository, a local folder, an archive) is turned into one.
    `base_wheels` are local copies of the wheels the base environment built, offered to
    uv again (their sources are not re-fetched).

    `allowed` (a hashed requirements file taken as a lock): name -> the sha256s that may
    be installed; a package not in it, or none of whose files has one of them, is an error.

    `ceilings` ((kind, name) -> version): wheels held back to at most that version.
    """
    installed = installed or {}
    access = access or IndexAccess.for_spec(spec)
    requirements = list(spec.pypi)
    constraints = list(spec.constraints)
    built_by_base: Dict[str, LockedFile] = {}
    if base is not None:
        pins = base.pins()
        check_against_pins(spec.pypi, pins, "the base environment")
        own = {requirement_name(x) for x in spec.pypi}
        # The base's direct references are asked for by the version it built.
        built_by_base = {f.sha256: f for f in base.by_kind("wheel") if not f.url}
        requirements += [r for r in base.spec.get("pypi", [])
                         if requirement_name(r) not in own and not is_direct(r)]
        requirements += ["%s==%s" % (f.name, f.version) for f in built_by_base.values()
                         if f.name not in own]
        constraints += ["%s==%s" % (n, v) for n, v in sorted(pins.items())]
    constraints += ["%s==%s" % (n, v) for n, v in sorted(installed.items())]
    constraints += ["%s<=%s" % (name, version) for (kind, name), version
                    in sorted((ceilings or {}).items()) if kind == "wheel"]
    if not requirements:
        return []
    if base_wheels:
        spec = spec.replace(find_links=spec.find_links + tuple(
            sorted({str(Path(p).parent) for p in base_wheels})))
    try:
        pylock, lock_dir = _compile(spec, target, uv, requirements, constraints, access,
                                    wheels_only=True)
    except ResolveError:
        if builder is None:
            raise
        pylock, lock_dir = _compile(spec, target, uv, requirements, constraints, access,
                                    wheels_only=False)
    priority = tag_priority(target)
    files = []
    for package in pylock.get("packages", []):
        name = requirement_name(package["name"])
        if name in installed:
            continue
        if allowed is not None:
            package = _only_allowed(package, name, allowed)
        if package.get("wheels"):
            file = pick_wheel(package, name, target, priority)
            files.append(built_by_base.get(file.sha256, file))
        elif builder is not None:
            files.append(builder(package, name, lock_dir))
        else:
            files.append(pick_wheel(package, name, target, priority))  # names the problem
    return files


def _only_allowed(package: dict, name: str, allowed: Dict[str, set]) -> dict:
    """The package's files whose sha256 the lock lists."""
    version = str(package.get("version"))
    if name not in allowed:
        raise ResolveError("the pinned packages need %s %s, which the file does not list"
                           % (name, version), package=name,
                           hint="Compile the file again (pip-compile --generate-hashes): it "
                                "must list every package with its hashes.")

    def listed(entry):
        return isinstance(entry, dict) and (entry.get("hashes") or {}).get("sha256") in allowed[name]

    kept = dict(package, wheels=[w for w in package.get("wheels") or [] if listed(w)])
    if not listed(package.get("sdist")):
        kept.pop("sdist", None)
    if not kept["wheels"] and "sdist" not in kept:
        raise IntegrityError(
            "none of the files of %s %s on the index has a sha256 the file lists (the index "
            "has %s)" % (name, version, ", ".join(sorted(
                (w.get("hashes") or {}).get("sha256", "?")[:16] + "..."
                for w in (package.get("wheels") or []) + [package.get("sdist") or {}]
                if w)) or "no files"),
            package=name, hint="A file was replaced on the index, or the hashes are wrong: "
                               "compile the file again, or find out who changed the package.")
    return kept


def _pinned_project(spec: Spec, requirements: Sequence[str]) -> Optional[str]:
    """A pyproject.toml giving uv the packages taken from one index only (uv reads such
    pins from [tool.uv.sources] alone), or None when there are none."""
    pins = dict(named_entry(e) for e in spec.index_pins)
    pinned = [r for r in requirements if requirement_name(r) in pins]
    if not pinned:
        return None
    names = spec.named_indexes
    index_of = {}
    for url in dict.fromkeys(pins[requirement_name(r)] for r in pinned):
        index_of[url] = names.get(url) or "pinned-%d" % (len(index_of) + 1)

    def q(text):
        return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')

    lines = ['[project]', 'name = "flowenv-pinned-indexes"', 'version = "0"',
             "dependencies = [%s]" % ", ".join(q(r) for r in pinned), "",
             "[tool.uv.sources]"]
    lines += ["%s = { index = %s }" % (q(requirement_name(r)), q(index_of[pins[requirement_name(r)]]))
              for r in dict.fromkeys(pinned)]
    for url, name in index_of.items():
        lines += ["", "[[tool.uv.index]]", "name = %s" % q(name), "url = %s" % q(url),
                  "explicit = true"]
    return "\n".join(lines) + "\n"


def _input_line(text: str, spec: Spec) -> str:
    """A requirement as uv reads it on this machine (relative paths made absolute)."""
    direct = parse_direct(text)
    if direct is None or direct.kind != "path":
        return text
    location = absolute_location(direct.location, spec.root, spec.origin or None)
    if direct.name is None:
        location = local_path(location, None)
    return direct.text(location)


def _compile(spec: Spec, target: Target, uv: UvRunner, requirements: Sequence[str],
             constraints: Sequence[str], access: IndexAccess, wheels_only: bool):
    """uv pip compile to a PEP 751 pylock for the target; its parsed content and folder."""
    with tempfile.TemporaryDirectory(prefix="flowenv-resolve-") as tmp:
        project = _pinned_project(spec, requirements)
        pinned = set()
        inputs = []
        if project is not None:
            Path(tmp, "pinned").mkdir()
            Path(tmp, "pinned", "pyproject.toml").write_text(project)
            pins = dict(named_entry(e) for e in spec.index_pins)
            pinned = {r for r in requirements if requirement_name(r) in pins}
            inputs.append(Path(tmp, "pinned", "pyproject.toml"))
        rest = [_input_line(r, spec) for r in requirements if r not in pinned]
        if rest or not inputs:
            Path(tmp, "requirements.in").write_text("\n".join(rest) + "\n")
            inputs.insert(0, Path(tmp, "requirements.in"))
        out = Path(tmp, "pylock.toml")
        args = [
            "pip", "compile", *inputs, "-o", out, "--format", "pylock.toml", "--no-header",
            "--quiet", "--no-config", "--python-version", target.python_version,
            "--python-platform", uv_python_platform(target.platform, target.glibc),
            "--no-python-downloads",
        ]
        if wheels_only:
            args += ["--only-binary", ":all:"]
        if constraints:
            con_file = Path(tmp, "constraints.txt")
            con_file.write_text("\n".join(_input_line(c, spec) for c in constraints) + "\n")
            args += ["--constraint", con_file]
        args += index_arguments(spec) + access.uv_arguments()
        proc = uv.run(args, secrets=access.secrets + list(spec.find_links),
                      env=access.uv_environment())
        if proc.returncode != 0:
            raise _failure(spec, target, proc.stderr.strip())
        return tomllib.loads(out.read_text()), Path(tmp)


# How uv reports an index that refused (its hints, and reqwest's status errors), and one
# it could not reach.
_REFUSED = (
    re.compile(r"An index(?: URL)? \((?P<url>[^)\s]+)\) could not be queried due to a lack "
               r"of valid authentication credentials \((?P<code>\d{3})(?: (?P<reason>[^)]+))?\)"),
    re.compile(r"An index(?: URL)? \((?P<url>[^)\s]+)\) returned an? (?P<code>\d{3})"
               r"(?: (?P<reason>[A-Za-z ]+?))? error"),
    re.compile(r"HTTP status (?:client|server) error \((?P<code>\d{3})(?: (?P<reason>[^)]+))?\)"
               r" for url \((?P<url>[^)\s]+)\)"),
)
_UNREACHABLE = re.compile(r"Failed to fetch: `?(?P<url>[^`\s]+)`?")
_NETWORK = ("Connection refused", "error sending request", "dns error", "timed out",
            "Could not connect")
_GIT_SOURCE = re.compile(r"Failed to (?:download and build|fetch|resolve) `(?:[^`@]+ @ )?(git\+[^`]+)`")
_GIT_REF = re.compile(r"failed to (?:fetch|find) (?:branch or tag|commit|branch, tag, or commit) "
                      r"`([^`]+)`", re.IGNORECASE)
_GIT_NO_REF = ("couldn't find remote ref", "not our ref", "failed to find branch")
_GIT_NO_REPO = ("does not appear to be a git repository", "Repository not found",
                "Could not read from remote repository", "Authentication failed",
                "could not read Username")


def _failure(spec: Spec, target: Target, stderr: str) -> ResolveError:
    """uv's failure as an error that says what went wrong where: an index that refused or
    could not be reached (named, redacted, with the HTTP status), a git repository or
    ref that does not exist; else uv's own words."""
    where = "cannot resolve %s for %s, Python %s" % (
        spec.origin or "the requirements", target.platform, target.python_version)
    git_source = _GIT_SOURCE.search(stderr)
    if git_source:
        repository = redact_url(git_repository(git_source.group(1)))
        ref = _GIT_REF.search(stderr)
        if ref and any(s in stderr for s in _GIT_NO_REF):
            return ResolveError(
                "%s: the git repository %s has no branch, tag or commit %s:\n%s"
                % (where, repository, ref.group(1), stderr),
                hint="Check the ref after '@' in the requirement.")
        if any(s in stderr for s in _GIT_NO_REPO):
            return ResolveError(
                "%s: the git repository %s cannot be read:\n%s" % (where, repository, stderr),
                hint="Check its URL, and that this machine can clone it (git credentials, "
                     "ssh keys).")
    for pattern in _REFUSED:
        refused = pattern.search(stderr)
        if refused:
            code, reason = refused.group("code"), (refused.group("reason") or "").strip()
            hint = ("Give credentials for it: in the URL, in ~/.netrc, as "
                    "UV_INDEX_<NAME>_USERNAME and _PASSWORD for a named index, or through "
                    "keyring." if code in ("401", "403") else "Check the index URL.")
            return ResolveError("%s: the index %s answered HTTP %s%s:\n%s" % (
                where, _index_of(refused.group("url"), spec), code,
                " " + reason if reason else "", stderr), hint=hint)
    unreachable = _UNREACHABLE.search(stderr)
    if unreachable and any(s in stderr for s in _NETWORK):
        return ResolveError("%s: the index %s cannot be reached:\n%s"
                            % (where, _index_of(unreachable.group("url"), spec), stderr),
                            hint="Check the index URL and the network.")
    return ResolveError("%s:\n%s" % (where, stderr))


def _index_of(url: str, spec: Spec) -> str:
    """The spec's index a fetched URL belongs to (redacted), or the URL itself."""
    for index in sorted(spec.index_urls, key=len, reverse=True):
        if redact_url(url).startswith(redact_url(index).rstrip("/")):
            return redact_url(index)
    return redact_url(url)

"""PyPI resolution with uv: a Spec and a Target in, the wheels of a Lock out."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence

from packaging.requirements import Requirement

from ..errors import IntegrityError, ResolveError
from ..lock import Lock, LockedFile
from ..platforms import Target, uv_python_platform
from ..spec import Spec, requirement_name
from ..uv_runner import UvRunner
from .wheels import pick_wheel, tag_priority

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib


def check_against_pins(requirements: Iterable[str], pins: Dict[str, str], base_name: str):
    """A requested package that the base pins to another version is a conflict we name."""
    for text in requirements:
        req = Requirement(text)
        name = requirement_name(text)
        if name in pins and req.specifier and pins[name] not in req.specifier:
            raise ResolveError(
                "%r conflicts with %s, which pins %s==%s" % (text, base_name, name, pins[name]),
                package=name,
                hint="Ask for a version the base environment has, or use a different base.")


def index_arguments(spec: Spec) -> List[str]:
    args: List[str] = []
    if spec.index_url:
        args += ["--index-url", spec.index_url]
    for url in spec.extra_index_urls:
        args += ["--extra-index-url", url]
    for link in spec.find_links:
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
    build_sdist: Optional[Callable[[dict, str], LockedFile]] = None,
    allowed: Optional[Dict[str, set]] = None,
) -> List[LockedFile]:
    """Pin spec.pypi (plus the base's requirements, constrained to its pins) for target.

    `installed` are Python packages already provided (by conda), name -> version, kept as
    constraints and left out of the result. Wheels are preferred; with `build_sdist`
    (host platform only), a resolution that needs source distributions is allowed, and
    each one is turned into a wheel by that callable.

    `allowed` (a hashed requirements file taken as a lock): name -> the sha256s that may
    be installed; a package not in it, or none of whose files has one of them, is an error.
    """
    installed = installed or {}
    requirements = list(spec.pypi)
    constraints = list(spec.constraints)
    if base is not None:
        pins = base.pins()
        check_against_pins(spec.pypi, pins, "the base environment")
        own = {requirement_name(x) for x in spec.pypi}
        requirements += [r for r in base.spec.get("pypi", []) if requirement_name(r) not in own]
        constraints += ["%s==%s" % (n, v) for n, v in sorted(pins.items())]
    constraints += ["%s==%s" % (n, v) for n, v in sorted(installed.items())]
    if not requirements:
        return []
    try:
        pylock = _compile(spec, target, uv, requirements, constraints, wheels_only=True)
    except ResolveError:
        if build_sdist is None:
            raise
        pylock = _compile(spec, target, uv, requirements, constraints, wheels_only=False)
    priority = tag_priority(target)
    files = []
    for package in pylock.get("packages", []):
        name = requirement_name(package["name"])
        if name in installed:
            continue
        if allowed is not None:
            package = _only_allowed(package, name, allowed)
        if not package.get("wheels") and build_sdist is not None:
            files.append(build_sdist(package, name))
        else:
            files.append(pick_wheel(package, name, target, priority))
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


def _compile(spec: Spec, target: Target, uv: UvRunner, requirements: Sequence[str],
             constraints: Sequence[str], wheels_only: bool) -> dict:
    """uv pip compile to a PEP 751 pylock for the target; its parsed content."""
    with tempfile.TemporaryDirectory(prefix="flowenv-resolve-") as tmp:
        req_file = Path(tmp, "requirements.in")
        req_file.write_text("\n".join(requirements) + "\n")
        out = Path(tmp, "pylock.toml")
        args = [
            "pip", "compile", req_file, "-o", out, "--format", "pylock.toml", "--no-header",
            "--quiet", "--no-config", "--python-version", target.python_version,
            "--python-platform", uv_python_platform(target.platform), "--no-python-downloads",
        ]
        if wheels_only:
            args += ["--only-binary", ":all:"]
        if constraints:
            con_file = Path(tmp, "constraints.txt")
            con_file.write_text("\n".join(constraints) + "\n")
            args += ["--constraint", con_file]
        args += index_arguments(spec)
        proc = uv.run(args, secrets=spec.index_urls + list(spec.find_links))
        if proc.returncode != 0:
            raise ResolveError(
                "cannot resolve %s for %s, Python %s:\n%s"
                % (spec.origin or "the requirements", target.platform, target.python_version,
                   proc.stderr.strip()))
        return tomllib.loads(out.read_text())

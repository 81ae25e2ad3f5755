"""PyPI resolution with uv: a Spec and a Target in, a Lock of wheels out."""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence

from packaging.requirements import Requirement

from ..errors import ResolveError
from ..lock import Lock, LockedFile
from ..platforms import Target, uv_python_platform, wheel_tag_priority
from ..spec import Spec, redact_url, requirement_name

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib


_UV_LOCK = threading.Lock()


def uv_binary() -> str:
    # Set by the bootstrap on machines where uv came from the store, not from pip.
    configured = os.environ.get("FLOWENV_UV_BIN")
    if configured:
        return configured
    with _UV_LOCK:  # find_uv_bin reads sysconfig, whose first use is not thread-safe
        return _installed_uv()


@functools.lru_cache(maxsize=None)
def _installed_uv() -> str:
    from uv import find_uv_bin

    return find_uv_bin()


def uv_env() -> Dict[str, str]:
    env = dict(os.environ)
    # Teams configure pip's index through the environment; uv has its own names.
    for pip_var, uv_var in (("PIP_INDEX_URL", "UV_INDEX_URL"),
                            ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL")):
        if env.get(pip_var) and not env.get(uv_var):
            env[uv_var] = env[pip_var]
    # uv must never try to download a CPython: it loses seconds when it cannot.
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.setdefault("UV_NO_PROGRESS", "1")
    return env


def check_against_pins(requirements: Iterable[str], pins: Dict[str, str], base_name: str):
    """A requested package that the base pins to another version is a conflict we name."""
    for text in requirements:
        req = Requirement(text)
        name = requirement_name(text)
        if name in pins and req.specifier and pins[name] not in req.specifier:
            raise ResolveError(
                "%r conflicts with %s, which pins %s==%s. Ask for a version the base "
                "environment has, or use a different base." % (text, base_name, name, pins[name])
            )


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
    base: Optional[Lock] = None,
    installed: Sequence[LockedFile] = (),
    build_sdist: Optional[Callable[[dict, str], LockedFile]] = None,
) -> List[LockedFile]:
    """Pin spec.pypi (plus the base's requirements, constrained to its pins) for target.

    `installed` are Python packages already provided (by conda), kept as constraints and
    left out of the result. Wheels are preferred; with `build_sdist` (host platform
    only), a resolution that needs source distributions is allowed, and each one is
    turned into a wheel by that callable.
    """
    requirements = list(spec.pypi)
    constraints = list(spec.constraints)
    if base is not None:
        pins = base.pins()
        check_against_pins(spec.pypi, pins, "the base environment")
        requirements += [r for r in base.spec.get("pypi", []) if requirement_name(r) not in
                         {requirement_name(x) for x in spec.pypi}]
        constraints += ["%s==%s" % (n, v) for n, v in sorted(pins.items())]
    constraints += ["%s==%s" % (f.name, f.version) for f in installed]
    if not requirements:
        return []
    try:
        pylock = _compile(spec, target, requirements, constraints, wheels_only=True)
    except ResolveError:
        if build_sdist is None:
            raise
        pylock = _compile(spec, target, requirements, constraints, wheels_only=False)
    provided = {f.name for f in installed}
    priority = {tag: i for i, tag in enumerate(wheel_tag_priority(target))}
    files = []
    for package in pylock.get("packages", []):
        name = requirement_name(package["name"])
        if name in provided:
            continue
        if not package.get("wheels") and build_sdist is not None:
            files.append(build_sdist(package, name))
        else:
            files.append(_pick_wheel(package, name, target, priority))
    return files


def _compile(spec: Spec, target: Target, requirements, constraints, wheels_only: bool) -> dict:
    """uv pip compile to a PEP 751 pylock for the target; its parsed content."""
    with tempfile.TemporaryDirectory(prefix="flowenv-resolve-") as tmp:
        req_file = Path(tmp, "requirements.in")
        req_file.write_text("\n".join(requirements) + "\n")
        out = Path(tmp, "pylock.toml")
        cmd = [
            uv_binary(), "pip", "compile", str(req_file), "-o", str(out),
            "--format", "pylock.toml", "--no-header", "--quiet",
            "--python-version", target.python_version,
            "--python-platform", uv_python_platform(target.platform),
            "--no-python-downloads",
        ]
        if wheels_only:
            cmd += ["--only-binary", ":all:"]
        if constraints:
            con_file = Path(tmp, "constraints.txt")
            con_file.write_text("\n".join(constraints) + "\n")
            cmd += ["--constraint", str(con_file)]
        cmd += index_arguments(spec)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=uv_env())
        if proc.returncode != 0:
            raise ResolveError(
                "Cannot resolve %s for %s, Python %s:\n%s"
                % (spec.origin or "the requirements", target.platform, target.python_version,
                   _redact_text(proc.stderr.strip(), spec))
            )
        return tomllib.loads(out.read_text())


def _redact_text(text: str, spec: Spec) -> str:
    for url in [spec.index_url, *spec.extra_index_urls, *spec.find_links]:
        if url:
            text = text.replace(url, redact_url(url))
    return text


def _wheel_rank(filename: str, priority: Dict[str, int]) -> int:
    stem = filename[: -len(".whl")]
    pythons, abis, platforms = stem.split("-")[-3:]
    ranks = [
        priority.get("%s-%s-%s" % (py, abi, plat), len(priority))
        for py in pythons.split(".")
        for abi in abis.split(".")
        for plat in platforms.split(".")
    ]
    return min(ranks)


def _pick_wheel(package: dict, name: str, target: Target, priority: Dict[str, int]) -> LockedFile:
    wheels = package.get("wheels") or []
    if not wheels:
        raise ResolveError(
            "%s %s has no wheel for %s, Python %s (only a source distribution), and source "
            "distributions are built only for the resolving machine's own platform. Pin a "
            "version that ships wheels, or resolve on a %s machine." % (
                name, package.get("version"), target.platform, target.python_version,
                target.platform)
        )
    for wheel in wheels:
        wheel["filename"] = wheel.get("name") or wheel["url"].rsplit("/", 1)[-1].split("#")[0]
    best = min(wheels, key=lambda w: _wheel_rank(w["filename"], priority))
    sha = (best.get("hashes") or {}).get("sha256")
    if not sha:
        raise ResolveError("%s %s: the index gave no sha256 for %s" % (name, package["version"],
                                                                       best["filename"]))
    return LockedFile(
        name=name,
        version=str(package["version"]),
        kind="wheel",
        filename=best["filename"],
        url=redact_url(best["url"]),
        sha256=sha,
        size=best.get("size"),
    )

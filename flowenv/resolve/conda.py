"""Conda resolution with py-rattler: a Spec in, a Lock of conda files (and wheels) out.

Mixed specs are solved conda first; the PyPI part is then resolved by uv for the conda
Python, with the Python packages conda installs kept as constraints.

Settings (environment variables, none of them part of a spec's req_id):

- FLOWENV_CONDA_CHANNELS: comma-separated default channels when a spec names none
  (default: conda-forge).
- FLOWENV_CONDA_CHANNEL_ALIAS: where channel *names* live (default
  https://conda.anaconda.org/), e.g. a company mirror; URLs are used as they are.
- FLOWENV_CONDA_VIRTUAL_PACKAGES: comma-separated `__name=version[=build]` entries that
  replace (or, with an empty version, remove) the virtual packages of the target. For
  this machine's platform they are detected by rattler; for another platform they are
  the documented defaults below.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..cache import cache_root
from ..errors import ResolveError, SpecError
from ..lock import Lock, LockedFile
from ..platforms import (DEFAULT_LINUX_GLIBC, DEFAULT_MACOS, Target, check_platform,
                         host_platform)
from ..spec import Spec, conda_name, python_specifier, redact_url
from .pypi import resolve_pypi

__all__ = ["solve_conda", "python_match_spec", "virtual_packages", "default_channels",
           "run_sync", "conda_python_packages"]

CHANNELS_ENV = "FLOWENV_CONDA_CHANNELS"
CHANNEL_ALIAS_ENV = "FLOWENV_CONDA_CHANNEL_ALIAS"
VIRTUAL_PACKAGES_ENV = "FLOWENV_CONDA_VIRTUAL_PACKAGES"
DEFAULT_CHANNEL_ALIAS = "https://conda.anaconda.org/"
REPODATA_CACHE = "conda-repodata-v1"

# Virtual packages assumed for a platform other than this machine's (documented in the
# README): the oldest systems conda-forge still targets by default.
_FOREIGN_ARCHSPEC = {"linux-64": "x86_64", "linux-aarch64": "aarch64", "osx-64": "x86_64",
                     "osx-arm64": "arm64"}
DEFAULT_LINUX_KERNEL = "4.18"


def _rattler():
    try:
        import rattler
    except ImportError as exc:  # a broken install: py-rattler is a dependency
        raise ResolveError(
            "Conda packages need py-rattler, which is missing: pip install py-rattler") from exc
    return rattler


def run_sync(make_coro: Callable):
    """Run a py-rattler coroutine from synchronous code, also when an event loop already
    runs in this thread (a notebook). The short pause at the end lets rattler's worker
    threads drop their Python references before the interpreter may exit: without it a
    process exiting right after a solve crashes now and then (py-rattler 0.28)."""

    async def wrapper():
        try:
            return await make_coro()
        finally:
            await asyncio.sleep(0.01)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wrapper())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, wrapper()).result()


# -- what to solve ------------------------------------------------------------------


def default_channels() -> Tuple[str, ...]:
    text = os.environ.get(CHANNELS_ENV, "").strip()
    channels = tuple(c.strip() for c in text.split(",") if c.strip())
    return channels or ("conda-forge",)


def channel_url(channel: str) -> str:
    """A channel name or URL as a URL (names go under FLOWENV_CONDA_CHANNEL_ALIAS)."""
    if "://" in channel:
        return channel.rstrip("/")
    if channel.startswith("/"):
        return Path(channel).as_uri()
    alias = os.environ.get(CHANNEL_ALIAS_ENV, "").strip() or DEFAULT_CHANNEL_ALIAS
    return alias.rstrip("/") + "/" + channel.strip("/")


def python_match_spec(constraint: str) -> str:
    """'3.11' -> 'python 3.11.*'; a PEP 440 specifier set -> the same conda version spec."""
    parts = []
    for spec in sorted(python_specifier(constraint), key=str):
        op, version = spec.operator, spec.version
        if op == "===":
            op = "=="
        if op == "==" and version.endswith(".*"):
            parts.append(version)
        else:
            parts.append(op + version)
    return "python " + ",".join(parts) if parts else "python"


def _split_filename(filename: str) -> Tuple[str, str, str]:
    """name, version, build of 'name-version-build.conda' (or .tar.bz2)."""
    stem = filename
    for ext in (".conda", ".tar.bz2"):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
    name, version, build = stem.rsplit("-", 2)
    return name, version, build


def _pin_spec(file: LockedFile) -> str:
    _, version, build = _split_filename(file.filename)
    return "%s ==%s %s" % (file.name, version, build)


def _match_spec(text: str, origin: str):
    rattler = _rattler()
    name, _, rest = text.partition(" ")
    if "::" in name:  # a channel given by name: resolve it through the channel alias
        channel, _, pkg = name.rpartition("::")
        text = "%s::%s%s" % (channel_url(channel), pkg, " " + rest if rest else "")
    try:
        return rattler.MatchSpec(text, strict=False)
    except Exception as exc:
        raise SpecError("%s: %r is not a valid conda match spec (%s)"
                        % (origin or "The spec", text, exc)) from exc


def _check_against_base(specs: Sequence[str], base_files: Sequence[LockedFile], origin: str,
                        base_id: str):
    """A new spec that the base pins to a non-matching build is a conflict we name."""
    rattler = _rattler()
    pinned = {f.name: f for f in base_files}
    for text in specs:
        name = conda_name(text)
        if name not in pinned:
            continue
        file = pinned[name]
        _, version, build = _split_filename(file.filename)
        tail = build.rsplit("_", 1)[-1]
        record = rattler.PackageRecord(
            name=name, version=version, build=rattler.BuildString(build),
            build_number=int(tail) if tail.isdigit() else 0, subdir="noarch")
        name_part, _, rest = text.partition(" ")
        unchanneled = name_part.rpartition("::")[2] + (" " + rest if rest else "")
        if not _match_spec(unchanneled, origin).matches(record):
            raise ResolveError(
                "%s: %r conflicts with the base environment %s, which pins %s %s (build %s). "
                "Ask for a version the base environment has, or use a different base."
                % (origin or "The spec", text, base_id, name, version, build))


def _parse_virtual_overrides() -> Dict[str, Optional[Tuple[str, str]]]:
    text = os.environ.get(VIRTUAL_PACKAGES_ENV, "").strip()
    overrides: Dict[str, Optional[Tuple[str, str]]] = {}
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        name, _, rest = entry.partition("=")
        version, _, build = rest.partition("=")
        if not name.startswith("__"):
            raise SpecError("%s: %r is not a virtual package (write __name=version[=build], "
                            "e.g. __glibc=2.17 or __cuda=12.2)" % (VIRTUAL_PACKAGES_ENV, entry))
        overrides[name] = (version, build or "0") if version else None
    return overrides


def _foreign_virtual_packages(platform: str) -> Dict[str, Tuple[str, str]]:
    found = {"__unix": ("0", "0"), "__archspec": ("1", _FOREIGN_ARCHSPEC[platform])}
    if platform.startswith("linux"):
        found["__glibc"] = ("%d.%d" % DEFAULT_LINUX_GLIBC, "0")
        found["__linux"] = (DEFAULT_LINUX_KERNEL, "0")
    else:
        found["__osx"] = ("%d.%d" % DEFAULT_MACOS[platform], "0")
    return found


def virtual_packages(platform: str) -> list:
    """GenericVirtualPackages for the target: detected on this machine's platform,
    documented defaults for another, both overridable by FLOWENV_CONDA_VIRTUAL_PACKAGES."""
    rattler = _rattler()
    if platform == host_platform():
        found = {}
        for vp in rattler.VirtualPackage.detect():
            generic = vp.into_generic()
            found[generic.name.normalized] = (str(generic.version), str(generic.build_string))
    else:
        found = _foreign_virtual_packages(platform)
    for name, value in _parse_virtual_overrides().items():
        if value is None:
            found.pop(name, None)
        else:
            found[name] = value
    out = []
    for name, (version, build) in sorted(found.items()):
        try:
            out.append(rattler.GenericVirtualPackage(
                rattler.PackageName(name), rattler.Version(version), rattler.BuildString(build)))
        except Exception as exc:
            raise SpecError("Virtual package %s=%s=%s is not valid (%s); check %s"
                            % (name, version, build, exc, VIRTUAL_PACKAGES_ENV)) from exc
    return out


# -- solving ------------------------------------------------------------------------


def _solve_records(channels: Sequence[str], specs: Sequence[str], platform: str, origin: str):
    rattler = _rattler()
    match_specs = [_match_spec(s, origin) for s in specs]
    sources = list(dict.fromkeys(channel_url(c) for c in channels))
    for spec in match_specs:  # a channel named in a spec must also be searched
        if spec.channel is not None:
            url = str(spec.channel.base_url).rstrip("/")
            if url not in sources:
                sources.append(url)
    gateway = rattler.Gateway(cache_dir=cache_root() / REPODATA_CACHE)
    vpkgs = virtual_packages(platform)

    async def solve():
        return await rattler.solve(sources, match_specs, gateway=gateway,
                                   platforms=[platform, "noarch"], virtual_packages=vpkgs)

    try:
        return run_sync(solve)
    except Exception as exc:
        if isinstance(exc, (ResolveError, SpecError)):
            raise
        raise ResolveError(
            "Cannot resolve the conda packages of %s (%s) for %s from channels %s:\n%s"
            % (origin or "the spec", ", ".join(specs), platform,
               ", ".join(redact_url(s) for s in sources), str(exc).strip())) from exc


def _is_python_package(record) -> bool:
    if record.name.normalized == "python":
        return False
    if record.noarch is not None and record.noarch.python:
        return True
    return any(dep.split(" ", 1)[0] in ("python", "python_abi") for dep in record.depends)


def conda_python_packages(records) -> List[LockedFile]:
    """The conda records that install a Python distribution, as PyPI-named pins (names
    taken to be the same on both sides, as they are for the great majority)."""
    out = []
    for record in records:
        if not _is_python_package(record):
            continue
        try:
            version = str(Version(str(record.version)))
        except InvalidVersion:
            continue  # not a PEP 440 version: uv could not use it as a constraint
        out.append(LockedFile(name=canonicalize_name(record.name.normalized), version=version,
                              kind="conda", filename=record.file_name, url="", sha256=""))
    return out


def _stub_wheels(folder: Path, installed: Sequence[LockedFile]) -> None:
    """Tiny wheels standing for the conda-installed Python packages, so that a PyPI
    package depending on one (maybe absent from the index) resolves against it. They
    are left out of the lock (resolve_pypi drops `installed` names)."""
    for pkg in installed:
        module = pkg.name.replace("-", "_")
        dist = "%s-%s" % (module, pkg.version)
        with zipfile.ZipFile(folder / ("%s-py3-none-any.whl" % dist), "w") as zf:
            zf.writestr("%s.dist-info/METADATA" % dist, "Metadata-Version: 2.1\nName: %s\n"
                        "Version: %s\n" % (pkg.name, pkg.version))
            zf.writestr("%s.dist-info/WHEEL" % dist, "Wheel-Version: 1.0\nGenerator: flowenv\n"
                        "Root-Is-Purelib: true\nTag: py3-none-any\n")
            zf.writestr("%s.dist-info/RECORD" % dist, "")


def _locked(record) -> LockedFile:
    if record.sha256 is None:
        raise ResolveError(
            "%s %s (%s) has no sha256 in its channel's repodata: flowenv verifies every file "
            "by sha256. Re-index the channel with a current tool (rattler-index, conda-index)."
            % (record.name.normalized, record.version, record.url))
    return LockedFile(
        name=record.name.normalized, version=str(record.version), kind="conda",
        filename=record.file_name, url=redact_url(record.url), sha256=record.sha256.hex(),
        size=record.size)


def _effective_identity(spec: Spec, base: Optional[Lock], channels: Sequence[str],
                        python: Optional[str]) -> dict:
    from . import effective_identity

    identity = effective_identity(spec, base)
    own = {conda_name(r) for r in spec.conda}
    base_conda = list(base.spec.get("conda", [])) if base is not None else []
    identity["conda"] = sorted(list(spec.conda) + [r for r in base_conda if conda_name(r) not in own])
    identity["channels"] = [redact_url(c) for c in channels]
    if identity.get("python") is None:
        identity["python"] = python
    return identity


def solve_conda(spec: Spec, platform: str, base: Optional[Lock]) -> Lock:
    """Solve spec.conda (plus python, plus the base's conda pins) with py-rattler, then
    the PyPI part on top. Errors are ResolveErrors quoting the solver and naming the
    spec's origin."""
    check_platform(platform)
    origin = spec.origin or "the spec"
    base_conda = base.by_kind("conda") if base is not None else ()
    base_id = base.full_id if base is not None else ""
    if base is not None and base.platform != platform:
        raise ResolveError("Cannot extend environment %s (built for %s) for platform %s"
                           % (base.full_id, base.platform, platform))

    # Channels: the spec's, then the base's, else the defaults.
    channels = list(spec.channels)
    if base is not None:
        channels += [c for c in base.spec.get("channels", []) if c not in channels]
    channels = channels or list(default_channels())

    specs = list(spec.conda)
    python_requested = any(conda_name(s) == "python" for s in specs)
    python_constraint = spec.python
    if spec.python:
        specs.append(python_match_spec(spec.python))
    elif base is not None:
        if not any(f.name == "python" for f in base_conda):
            specs.append("python ==%s" % base.python)  # a PyPI-only base: keep its Python
    elif not python_requested:
        import sys

        python_constraint = "%d.%d" % sys.version_info[:2]
        specs.append(python_match_spec(python_constraint))
    if base_conda:
        _check_against_base(spec.conda, base_conda, origin, base_id)
        specs += [_pin_spec(f) for f in base_conda]

    records = _solve_records(channels, specs, platform, origin)
    by_name = {r.name.normalized: r for r in records}
    if "python" not in by_name:
        raise ResolveError("%s: the conda solution for %s has no python package; add python "
                           "to the conda packages" % (origin, platform))
    python_version = str(by_name["python"].version)
    files = sorted((_locked(r) for r in records), key=lambda f: f.name)

    wants_pypi = bool(spec.pypi) or (base is not None and bool(base.by_kind("wheel") or base.spec.get("pypi")))
    if wants_pypi:
        installed = conda_python_packages(records)
        target = Target(platform, python_version)
        with tempfile.TemporaryDirectory(prefix="flowenv-conda-provided-") as stubs:
            _stub_wheels(Path(stubs), installed)
            pypi_spec = spec.replace(find_links=spec.find_links + (stubs,))
            files += resolve_pypi(pypi_spec, target, base, installed=installed)
    identity = _effective_identity(spec, base, channels, python_constraint)
    return Lock(spec.req_id, platform, python_version, tuple(files), identity)

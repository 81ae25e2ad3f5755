"""Conda resolution with py-rattler: a Spec in, a Lock of conda files (and wheels) out.

Mixed specs are solved conda first; the PyPI part is then resolved by uv for the conda
Python, with the Python packages conda installs kept as constraints (see mixed.py). The
channels, channel alias and virtual packages come from the spec, where the settings'
defaults were folded in (so they are part of its requirements id).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from ..async_bridge import run_sync
from ..cache import LocalCache
from ..conda.channels import channel_url
from ..conda.loader import load_rattler
from ..conda.match_specs import exact_spec, parse_match_spec, python_match_spec, record_for
from ..conda.virtual_packages import virtual_packages
from ..debuglog import SILENT, DebugLog
from ..errors import FlowenvError, ResolveError
from ..lock import Lock, LockedFile
from ..platforms import Target, check_platform
from ..redact import redact_url, redact_text
from ..spec import Spec, conda_name, split_channel
from ..uv_runner import UvRunner
from .identity import recorded_identity
from .mixed import conda_python_packages, write_stand_in_wheels
from .pypi import PypiTools, resolve_pypi

__all__ = ["solve_conda"]


def _check_against_base(spec: Spec, base: Lock, origin: str):
    """A new spec that the base pins to a non-matching build is a conflict we name."""
    pinned = {f.name: f for f in base.by_kind("conda")}
    for text in spec.conda:
        name = conda_name(text)
        if name not in pinned:
            continue
        file = pinned[name]
        name_part, _, rest = text.partition(" ")
        unchanneled = split_channel(name_part)[1] + (" " + rest if rest else "")
        if not parse_match_spec(unchanneled, where=origin).matches(record_for(name, file.filename)):
            raise ResolveError(
                "%r conflicts with the base environment %s, which pins %s %s (%s)"
                % (text, base.full_id, name, file.version, file.filename), package=name,
                entry=origin,
                hint="Ask for a version the base environment has, or use a different base.")


def _solve_records(spec: Spec, channels: Sequence[str], specs: Sequence[str], platform: str,
                   cache: LocalCache, log: DebugLog = SILENT,
                   constraints: Sequence[str] = ()):
    rattler = load_rattler()
    origin = spec.origin or "the spec"
    match_specs = [parse_match_spec(s, spec.channel_alias, origin) for s in specs]
    sources = list(dict.fromkeys(channel_url(c, spec.channel_alias) for c in channels))
    for match in match_specs:  # a channel named in a spec must also be searched
        if match.channel is not None:
            url = str(match.channel.base_url).rstrip("/")
            if url not in sources:
                sources.append(url)
    gateway = rattler.Gateway(cache_dir=cache.conda_repodata_dir)
    vpkgs = virtual_packages(platform, spec.virtual_packages)

    held = [rattler.MatchSpec(c, strict=False) for c in constraints] or None

    async def solve():
        return await rattler.solve(sources, match_specs, gateway=gateway,
                                   platforms=[platform, "noarch"], virtual_packages=vpkgs,
                                   constraints=held)

    try:
        with log.timed(redact_text("rattler solve: %s for %s from %s (virtual packages: %s)" % (
                ", ".join(specs), platform, ", ".join(sources),
                ", ".join(str(v) for v in vpkgs) or "none")), announce=True) as timing:
            records = run_sync(solve)
            timing.detail = "%d packages" % len(records)
        return records
    except FlowenvError:
        raise
    except Exception as exc:
        raise ResolveError(
            "cannot resolve the conda packages of %s (%s) for %s from channels %s:\n%s"
            % (origin, ", ".join(specs), platform, ", ".join(redact_url(s) for s in sources),
               str(exc).strip())) from exc


def _locked(record) -> LockedFile:
    if record.sha256 is None:
        raise ResolveError(
            "%s %s (%s) has no sha256 in its channel's repodata" % (
                record.name.normalized, record.version, redact_url(record.url)),
            package=record.name.normalized,
            hint="flowenv verifies every file by sha256: re-index the channel with a current "
                 "tool (rattler-index, conda-index).")
    return LockedFile(
        name=record.name.normalized, version=str(record.version), kind="conda",
        filename=record.file_name, url=redact_url(record.url), sha256=record.sha256.hex(),
        size=record.size, md5=record.md5.hex() if record.md5 is not None else None)


def solve_conda(spec: Spec, platform: str, base: Optional[Lock], uv: UvRunner,
                cache: LocalCache, pypi: PypiTools = None, log: DebugLog = SILENT,
                ceilings=None) -> Lock:
    """Solve spec.conda (plus python, plus the base's conda pins) with py-rattler, then
    the PyPI part on top. Errors are ResolveErrors quoting the solver and naming the
    spec's origin. ceilings ((kind, name) -> version) hold packages back (co-resolution)."""
    check_platform(platform)
    origin = spec.origin or "the spec"
    base_conda = base.by_kind("conda") if base is not None else ()
    if base is not None and base.platform != platform:
        raise ResolveError("cannot extend environment %s (built for %s) for platform %s"
                           % (base.full_id, base.platform, platform))

    # Channels: the spec's, then the base's.
    channels = list(spec.channels)
    if base is not None:
        channels += [c for c in base.spec.get("channels", []) if c not in channels]
    if not channels:
        raise ResolveError("no conda channel to search", entry=origin,
                           hint="Name one (channels=[...]) or set FLOWENV_CONDA_CHANNELS.")

    specs = list(spec.conda)
    python_requested = any(conda_name(s) == "python" for s in specs)
    python_constraint = spec.python
    if spec.python:
        specs.append(python_match_spec(spec.python))
    elif base is not None:
        if not any(f.name == "python" for f in base_conda):
            specs.append("python ==%s" % base.python)  # a PyPI-only base: keep its Python
    elif not python_requested:
        python_constraint = "%d.%d" % sys.version_info[:2]
        specs.append(python_match_spec(python_constraint))
    if base_conda:
        _check_against_base(spec, base, origin)
        specs += [exact_spec(f.name, f.filename) for f in base_conda]

    held = ["%s <=%s" % (name, version) for (kind, name), version
            in sorted((ceilings or {}).items()) if kind == "conda"]
    records = _solve_records(spec, channels, specs, platform, cache, log, held)
    by_name = {r.name.normalized: r for r in records}
    if "python" not in by_name:
        raise ResolveError("the conda solution for %s has no python package" % platform,
                           entry=origin, hint="Add python to the conda packages.")
    python_version = str(by_name["python"].version)
    files = sorted((_locked(r) for r in records), key=lambda f: f.name)

    wants_pypi = bool(spec.pypi) or (base is not None and bool(base.by_kind("wheel")
                                                                 or base.spec.get("pypi")))
    if wants_pypi:
        installed = conda_python_packages(records)
        target = Target(platform, python_version, spec.glibc)
        with tempfile.TemporaryDirectory(prefix="flowenv-conda-provided-") as stand_ins:
            write_stand_in_wheels(Path(stand_ins), installed)
            pypi_spec = spec.replace(find_links=spec.find_links + (stand_ins,))
            pypi = pypi or PypiTools()
            files += resolve_pypi(pypi_spec, target, uv, base, installed=installed,
                                  builder=pypi.builder_for(target), access=pypi.access,
                                  base_wheels=pypi.base_wheels, ceilings=ceilings)
    identity = recorded_identity(spec, base, channels=channels, python=python_constraint)
    return Lock(spec.req_id, platform, python_version, tuple(files), identity)

"""environment.yml -> Spec: channels, conda dependencies, and a `- pip:` list.

Conda's command-line forms are translated into match specs the solver reads the same
way conda does: `numpy=1.26` means any 1.26.x (`numpy 1.26.*`), `numpy=1.26=py311_0`
adds a build string, `numpy==1.26` is exact, `numpy>=1.2,<2` and `conda-forge::numpy`
pass through. `python` entries become the spec's Python constraint (PEP 440), which
`--python` (the `python` argument) overrides. The `pip:` list takes requirements and
the requirements.txt options (-r, -c, --index-url, --extra-index-url, --find-links,
--pre); relative paths are relative to the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Mapping, Optional, Tuple

from ..errors import SpecError
from ..spec import Spec, canonical_requirement, python_specifier
from .requirements_txt import PipOptions, apply_option
from .source import expand_env, read_text

__all__ = ["parse_environment_file", "conda_match_spec"]

_ENTRY = re.compile(
    r"^(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*(?P<rest>.*)$")
_OPERATORS = ("==", ">=", "<=", "!=", "~=", ">", "<")
# conda's own "defaults" channel, spelled out (rattler has no implicit defaults).
DEFAULTS_CHANNELS = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")
_IGNORED_KEYS = ("name", "prefix")


def conda_match_spec(entry: str, where: str) -> Tuple[Optional[str], str, str, str]:
    """(channel, name, version, build) of a dependency line; version and build may be ''."""
    text = entry.strip()
    if "[" in text or "]" in text:
        raise SpecError("%s: bracket match specs (%r) are not supported; write "
                        "'name=1.2' or 'name>=1.2,<2'" % (where, entry))
    match = _ENTRY.match(text)
    if not match:
        raise SpecError("%s: %r is not a conda package specification" % (where, entry))
    channel, name, rest = match.group("channel"), match.group("name").lower(), match.group("rest")
    rest = rest.strip()
    version = build = ""
    if rest.startswith("=") and not rest.startswith("=="):
        # conda's one-equals forms: =1.26 (fuzzy: 1.26.*) and =1.26=build
        parts = rest[1:].split("=")
        if len(parts) > 2 or not parts[0].strip():
            raise SpecError("%s: cannot read %r: write name=version or name=version=build"
                            % (where, entry))
        version = parts[0].strip()
        build = parts[1].strip() if len(parts) == 2 else ""
        if not any(op in version for op in ("*", ",", "|", "<", ">", "!", "~")):
            version += ".*"
    elif rest:
        tokens = rest.split()
        # "numpy >= 1.2" : an operator written apart from its version
        while len(tokens) > 1 and tokens[0] in _OPERATORS:
            tokens[0:2] = [tokens[0] + tokens[1]]
        version = tokens[0].replace(" ", "")
        if len(tokens) == 2:
            build = tokens[1]
        elif len(tokens) > 2:
            raise SpecError("%s: cannot read %r: write 'name version [build]'" % (where, entry))
        if version.startswith("==") and "=" in version[2:]:  # "numpy==1.2=build"
            version, build = version.split("=")[2], version.split("=", 3)[3]
            version = "==" + version
    if any(c.isspace() for c in version + build):
        raise SpecError("%s: cannot read %r" % (where, entry))
    return channel, name, version, build


def _python_constraint(version: str, where: str, entry: str) -> Optional[str]:
    """A conda version spec for python as a PEP 440 constraint flowenv understands."""
    if not version:
        return None
    text = version
    if text.endswith(".*") and re.match(r"^\d+(\.\d+)*\.\*$", text):
        text = text[:-2]
    elif re.match(r"^\d+(\.\d+)*$", text):
        pass  # '3.11' or '3.11.7': python_specifier reads these
    try:
        python_specifier(text)
    except SpecError:
        raise SpecError("%s: python version %r in %r is not understood: write python=3.11 or "
                        "python>=3.10,<3.12" % (where, version, entry)) from None
    return text


def _read(path: Path):
    import yaml

    text = read_text(path, "environment file")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError("this is not valid YAML: %s" % exc, file=str(path)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError("an environment file is a mapping with 'channels' and 'dependencies'",
                        file=str(path))
    return data


def parse_environment_file(path, python: Optional[str] = None,
                           environ: Mapping[str, str] = None) -> Spec:
    environ = environ or {}
    path = Path(path)
    data = _read(path)
    unknown = sorted(set(data) - {"channels", "dependencies", *_IGNORED_KEYS})
    if unknown:
        raise SpecError("%s: key %r is not supported in environment files read by flowenv "
                        "(supported: name, channels, dependencies)" % (path, unknown[0]))

    channels: List[str] = []
    raw_channels = data.get("channels") or []
    if not isinstance(raw_channels, list):
        raise SpecError("'channels' must be a list", file=str(path))
    for channel in raw_channels:
        where = "%s, channel %r" % (path, channel)
        if not isinstance(channel, str) or not channel.strip() or any(c.isspace() for c in channel.strip()):
            raise SpecError("%s: a channel is a name or a URL" % where)
        try:
            channel = expand_env(channel.strip(), environ)
        except SpecError as exc:
            raise exc.within(entry=where) from None
        if channel == "nodefaults":
            continue
        if channel == "defaults":
            channels += list(DEFAULTS_CHANNELS)
        else:
            channels.append(channel)

    conda: List[str] = []
    python_constraint: Optional[str] = None
    python_entry: Optional[str] = None
    pip = PipOptions(environ)
    dependencies = data.get("dependencies") or []
    if not isinstance(dependencies, list):
        raise SpecError("'dependencies' must be a list", file=str(path))
    for entry in dependencies:
        if isinstance(entry, dict):
            if set(entry) != {"pip"}:
                raise SpecError("%s, dependency %r: only a 'pip:' list may appear as a mapping"
                                % (path, entry))
            _pip_section(entry["pip"], path, pip)
            continue
        if isinstance(entry, (int, float)) or not isinstance(entry, str) or not entry.strip():
            raise SpecError("%s, dependency %r: expected a package specification such as "
                            "'numpy=1.26'" % (path, entry))
        where = "%s, dependency %r" % (path, entry)
        channel, name, version, build = conda_match_spec(entry, where)
        if name == "pip" and not channel:
            continue  # pip itself: flowenv installs wheels with uv
        if name == "python" and not channel and not build:
            if python_entry is not None:
                raise SpecError("python is given twice (%r and %r): keep one"
                                % (python_entry, entry), file=str(path))
            python_entry = entry
            python_constraint = _python_constraint(version, where, entry)
            continue
        conda.append(("%s::" % channel if channel else "") + name
                     + (" " + version if version else "") + (" " + build if build else ""))

    if python is not None and str(python).strip():
        python_constraint = str(python).strip().replace(" ", "")
        try:
            python_specifier(python_constraint)
        except SpecError as exc:
            raise SpecError("%s (--python): %s" % (path, exc)) from None
    try:
        return Spec(
            python=python_constraint,
            conda=tuple(conda),
            channels=tuple(channels),
            origin=str(path),
            **pip.spec_fields(),
        )
    except SpecError as exc:
        message = str(exc)
        raise SpecError(message if str(path) in message else "%s: %s" % (path, message)) from None


def _pip_section(lines, path: Path, out: PipOptions) -> None:
    if not isinstance(lines, list):
        raise SpecError("%s, dependency 'pip': expected a list of requirements" % path)
    for line in lines:
        where = "%s, pip entry %r" % (path, line)
        if not isinstance(line, str) or not line.strip():
            raise SpecError("%s: expected a requirement such as 'requests>=2'" % where)
        line = line.strip()
        try:
            if line.startswith("-"):
                apply_option(line, path, out, seen={path.resolve()})
            else:
                out.pypi.append(canonical_requirement(expand_env(line, out.environ)))
        except SpecError as exc:
            raise exc.within(entry=where) from None

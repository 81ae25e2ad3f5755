"""environment.yml -> Spec: channels, conda dependencies, and a `- pip:` list.

Conda's command-line forms are translated into match specs the solver reads the same
way conda does: `numpy=1.26` means any 1.26.x (`numpy 1.26.*`), `numpy=1.26=py311_0`
adds a build string, `numpy==1.26` is exact, `numpy=>=1.2` is `numpy >=1.2` (the `=`
before an operator is conda's separator), `numpy>=1.2,<2` and `conda-forge::numpy` pass
through, and `defaults::numpy` means Anaconda's main channel, as for conda. `python`
entries become the spec's Python constraint (PEP 440), given once; `--python` (the
`python` argument) overrides it.

The `pip:` list takes requirements (also written `name = version`, as the reference
extension accepts), direct references and the requirements.txt options (-r, -c,
--index-url, --extra-index-url, --find-links, --trusted-host, --pre, -e); relative paths
are relative to the file. A top-level `pypi-indices:` list adds extra PyPI indexes (the
reference extension's spelling), and a `sys:` list (under `dependencies`, as the
reference writes it, or at the top level) gives virtual packages (`__cuda=12.2`). Other
top-level keys (`variables`, ...) are ignored with a warning, as conda does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, List, Mapping, Optional, Tuple

from ..errors import SpecError
from ..spec import Spec, pypi_requirement, python_specifier, virtual_package
from .requirements_txt import PipOptions, apply_option
from .source import expand_env, read_text, warn_user

__all__ = ["parse_environment_file", "conda_match_spec"]

_ENTRY = re.compile(
    r"^(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*(?P<rest>.*)$")
_OPERATORS = ("==", ">=", "<=", "!=", "~=", ">", "<")
# `name = version` in a pip list (the reference extension's spelling).
_PIP_ASSIGNMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._\-\[\],]*)\s*=\s*(?P<version>[^=].*)$")
# conda's own "defaults" channel, spelled out (rattler has no implicit defaults).
DEFAULTS_CHANNELS = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")
_KNOWN_KEYS = ("name", "prefix", "channels", "dependencies", "pypi-indices", "sys")


def conda_match_spec(entry: str) -> Tuple[Optional[str], str, str, str]:
    """(channel, name, version, build) of a dependency line; version and build may be ''.
    Errors are SpecErrors; the caller adds the file and entry."""
    text = entry.strip()
    if "[" in text or "]" in text:
        raise SpecError("bracket match specs are not supported; write 'name=1.2' or "
                        "'name>=1.2,<2'")
    match = _ENTRY.match(text)
    if not match:
        raise SpecError("this is not a conda package specification")
    channel, name, rest = match.group("channel"), match.group("name").lower(), match.group("rest")
    if channel == "defaults":
        channel = DEFAULTS_CHANNELS[0]
    rest = rest.strip()
    version = build = ""
    if rest.startswith("=") and rest[1:2] in ("<", ">", "!", "~"):
        rest = rest[1:]  # 'numpy=>=1.2': conda's '=' separator before an operator
    if rest.startswith("=") and not rest.startswith("=="):
        # conda's one-equals forms: =1.26 (fuzzy: 1.26.*) and =1.26=build
        parts = rest[1:].split("=")
        if len(parts) > 2 or not parts[0].strip():
            raise SpecError("cannot read it: write name=version or name=version=build")
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
            raise SpecError("cannot read it: write 'name version [build]'")
        if version.startswith("==") and "=" in version[2:]:  # "numpy==1.2=build"
            version, build = version.split("=")[2], version.split("=", 3)[3]
            version = "==" + version
    if any(c.isspace() for c in version + build):
        raise SpecError("cannot read it")
    return channel, name, version, build


def _python_constraint(version: str) -> Optional[str]:
    """A conda version spec for python as a PEP 440 constraint flowenv understands."""
    if not version:
        return None
    text = version
    if text.endswith(".*") and re.match(r"^\d+(\.\d+)*\.\*$", text):
        text = text[:-2]
    try:
        python_specifier(text)
    except SpecError:
        raise SpecError("python version %r is not understood: write python=3.11 or "
                        "python>=3.10,<3.12" % version) from None
    return text


def _read(path: Path) -> dict:
    import yaml

    text = read_text(path, "environment file")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError("this is not valid YAML: %s" % exc, file=str(path)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError("an environment file is a mapping with 'channels' and "
                        "'dependencies'", file=str(path))
    return data


def _url_list(value, key: str) -> List[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
            isinstance(v, str) and v.strip() and not any(c.isspace() for c in v.strip())
            for v in value):
        raise SpecError("'%s' must be a list of names or URLs" % key, entry=key)
    return [v.strip() for v in value]


def parse_environment_file(path, python: Optional[str] = None,
                           environ: Mapping[str, str] = None,
                           warn: Callable[[str], None] = None) -> Spec:
    path = Path(path)
    try:
        return _parse(path, python, environ or {}, warn or warn_user)
    except SpecError as exc:
        raise exc.within(file=str(path)) from None


def _parse(path: Path, python: Optional[str], environ, warn) -> Spec:
    data = _read(path)
    for key in sorted(set(data) - set(_KNOWN_KEYS), key=str):
        warn("%s: the key %r is not used by flowenv; it is ignored (flowenv reads %s)"
             % (path, key, ", ".join(_KNOWN_KEYS)))

    channels: List[str] = []
    for channel in _url_list(data.get("channels"), "channels"):
        try:
            channel = expand_env(channel, environ)
        except SpecError as exc:
            raise exc.within(entry="channel %r" % channel) from None
        if channel == "nodefaults":
            continue
        channels += list(DEFAULTS_CHANNELS) if channel == "defaults" else [channel]

    pip = PipOptions(environ, path.parent)
    pip.extra_index_urls += [expand_env(u, environ)
                             for u in _url_list(data.get("pypi-indices"), "pypi-indices")]
    conda: List[str] = []
    python_constraint: Optional[str] = None
    python_entry: Optional[str] = None
    dependencies = data.get("dependencies") or []
    if not isinstance(dependencies, list):
        raise SpecError("'dependencies' must be a list", entry="dependencies")
    virtual = _sys_section(data.get("sys"))
    for entry in dependencies:
        if isinstance(entry, dict):
            if set(entry) == {"sys"}:
                virtual += _sys_section(entry["sys"])
                continue
            if set(entry) != {"pip"}:
                raise SpecError("only a 'pip:' or 'sys:' list may appear as a mapping in "
                                "dependencies", entry="dependency %r" % (entry,))
            _pip_section(entry["pip"], path, pip)
            continue
        where = "dependency %r" % (entry,)
        if not isinstance(entry, str) or not entry.strip():
            raise SpecError("expected a package specification such as 'numpy=1.26'",
                            entry=where)
        try:
            channel, name, version, build = conda_match_spec(entry)
            if name == "pip" and not channel:
                continue  # pip itself: flowenv installs wheels with uv
            if name == "python" and not channel and not build:
                if python_entry is not None:
                    raise SpecError("python is given twice (%r and %r): keep one"
                                    % (python_entry, entry))
                python_entry = entry
                python_constraint = _python_constraint(version)
                continue
        except SpecError as exc:
            raise exc.within(entry=where) from None
        conda.append(("%s::" % channel if channel else "") + name
                     + (" " + version if version else "") + (" " + build if build else ""))

    if python is not None and str(python).strip():
        python_constraint = str(python).strip().replace(" ", "")
        try:
            python_specifier(python_constraint)
        except SpecError as exc:
            raise exc.within(entry="--python") from None
    return Spec(python=python_constraint, conda=tuple(conda), channels=tuple(channels),
                virtual_packages=tuple(virtual), origin=str(path), **pip.spec_fields())


def _sys_section(lines) -> List[str]:
    """The reference extension's `sys:` list: virtual packages (__glibc=2.27, __cuda=12.2)."""
    if lines is None:
        return []
    if not isinstance(lines, list):
        raise SpecError("'sys' must be a list such as [__cuda=12.2]", entry="sys")
    out = []
    for line in lines:
        if not isinstance(line, str):
            raise SpecError("write __name=version, such as __cuda=12.2",
                            entry="sys entry %r" % (line,))
        try:
            out.append(virtual_package(line))
        except SpecError as exc:
            raise exc.within(entry="sys entry %r" % (line,)) from None
    return out


def _pip_section(lines, path: Path, out: PipOptions) -> None:
    if not isinstance(lines, list):
        raise SpecError("expected a list of requirements", entry="dependency 'pip'")
    for line in lines:
        where = "pip entry %r" % (line,)
        if not isinstance(line, str) or not line.strip():
            raise SpecError("expected a requirement such as 'requests>=2'", entry=where)
        line = line.strip()
        try:
            if line.startswith("-"):
                apply_option(line, path, out, seen={path.resolve()})
                continue
            assignment = _PIP_ASSIGNMENT.match(line)
            if assignment and "@" not in line and ";" not in line:
                line = pypi_requirement(assignment.group("name"),
                                        expand_env(assignment.group("version"), out.environ))
            out.add(line, path)
        except SpecError as exc:
            raise exc.within(entry=where) from None

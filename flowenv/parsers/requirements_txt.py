"""requirements.txt -> Spec, with the pip options teams actually use.

Lines are what pip and uv take: named requirements, direct references (`name @ URL`,
bare `git+https://...@tag`, wheel or archive URLs, local folders and files), `-e PATH`
(installed as a plain package: an environment is shared, never editable). A relative
path is relative to the file that names it, and is kept relative (to the top file's
folder, the spec's root) so that the requirements id does not depend on where the
checkout lives.

The reference extension's own lines are read too: `--conda-pkg NAME[==VERSION]` (a conda
package, such as ffmpeg: the environment becomes a mixed one), `--conda-channel CHANNEL`,
`--sys-pkg __cuda==12.2` (a virtual package) and `python==3.11` (the Python constraint)."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import List, Mapping, Optional

from ..direct_refs import parse_direct, relative_to
from ..errors import SpecError
from ..spec import (Spec, canonical_requirement, conda_requirement, requirement_name,
                    virtual_package)
from .source import expand_env, read_text

_COMMENT = re.compile(r"(^|\s+)#.*$")


class PipOptions:
    """What a pip requirements list collects: requirements, constraints, index options."""

    def __init__(self, environ: Mapping[str, str], root: Path):
        self.environ = environ
        self.root = str(Path(root).resolve())
        self.pypi: List[str] = []
        self.constraints: List[str] = []
        self.index_url: Optional[str] = None
        self.extra_index_urls: List[str] = []
        self.find_links: List[str] = []
        self.trusted_hosts: List[str] = []
        self.index_names: List[str] = []
        self.index_pins: List[str] = []
        self.pre = False
        self.no_index = False
        # The reference extension's lines (_EXTENSION_OPTIONS) and `python` requirement.
        self.python: Optional[str] = None
        self.conda: List[str] = []
        self.channels: List[str] = []
        self.virtual_packages: List[str] = []

    def spec_fields(self) -> dict:
        return {"pypi": tuple(self.pypi), "constraints": tuple(self.constraints),
                "index_url": self.index_url, "extra_index_urls": tuple(self.extra_index_urls),
                "find_links": tuple(self.find_links), "pre": self.pre,
                "no_index": self.no_index, "trusted_hosts": tuple(self.trusted_hosts),
                "index_names": tuple(self.index_names), "index_pins": tuple(self.index_pins),
                "root": self.root}

    def extension_fields(self) -> dict:
        return {"conda": tuple(self.conda), "channels": tuple(self.channels),
                "virtual_packages": tuple(self.virtual_packages)}

    def requirement(self, text: str, path: Path) -> str:
        """A requirement line of the file at path, canonical, relative paths rebased."""
        text = canonical_requirement(expand_env(text, self.environ))
        direct = parse_direct(text)
        if direct is not None and direct.is_relative:
            text = direct.text(relative_to(direct.location, str(path.parent.resolve()), self.root))
        return text

    def add(self, text: str, path: Path, as_constraint: bool = False) -> None:
        (self.constraints if as_constraint else self.pypi).append(self.requirement(text, path))


def parse_requirements_file(path, python: Optional[str] = None,
                            environ: Mapping[str, str] = None, warn=None) -> Spec:
    path = Path(path)
    collected = PipOptions(environ or {}, path.parent)
    _parse_into(path, collected, seen=set(), as_constraint=False)
    try:
        return Spec(python=python or collected.python, origin=str(path),
                    **collected.spec_fields(), **collected.extension_fields())
    except SpecError as exc:
        raise exc.within(file=str(path)) from None


def pip_options_spec(options, folder, environ: Mapping[str, str], origin: str) -> Spec:
    """The Spec of pip options written without their dashes (the reference extension's
    `@pypi(extras=["pre"])`), read as the same lines of a requirements file in folder."""
    collected = PipOptions(environ, Path(folder))
    for option in options:
        line = "--" + option.strip().lstrip("-")
        try:
            apply_option(line, Path(folder) / "extras", collected, seen=set())
        except SpecError as exc:
            raise exc.within(entry="extras=[%r]" % option) from None
    return Spec(origin=origin, **collected.spec_fields())


def logical_lines(text: str):
    """Yield (line_number, line) with comments removed and continuations joined."""
    buffer, start = "", None
    for number, raw in enumerate(text.splitlines(), 1):
        line = _COMMENT.sub("", raw) if not raw.lstrip().startswith("#") else ""
        if start is None:
            start = number
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            yield start, buffer.strip()
        buffer, start = "", None
    if buffer.strip():
        yield start, buffer.strip()


def _parse_into(path: Path, out: PipOptions, seen: set, as_constraint: bool):
    real = path.resolve()
    if real in seen:
        return
    seen.add(real)
    text = read_text(path)
    for number, line in logical_lines(text):
        try:
            # pip-compile --generate-hashes output: flowenv pins its own sha256s.
            line = re.sub(r"\s--hash[= ]\S+", "", line).strip()
            if line.startswith("-"):
                apply_option(line, path, out, seen, as_constraint)
            elif not _python_line(line, out):
                out.add(line, path, as_constraint)
        except SpecError as exc:
            raise exc.within(file=str(path), line=number) from None


def _python_line(line: str, out: PipOptions) -> bool:
    """`python==3.11` (any 3.11.x, as for the reference extension) or `python>=3.10`: the
    Python constraint, not a package."""
    text = canonical_requirement(expand_env(line, out.environ))
    if requirement_name(text) != "python":
        return False
    constraint = text[len("python"):]
    if re.match(r"^==\d+(\.\d+)*$", constraint):
        constraint = constraint[2:]
    if not constraint or ";" in constraint:
        raise SpecError("a python line gives the Python version, such as python==3.11 or "
                        "python>=3.10,<3.12 (without markers)")
    if out.python not in (None, constraint):
        raise SpecError("python is given twice (%s and %s): keep one" % (out.python, constraint))
    out.python = constraint
    return True


def _conda_package(text: str, out: PipOptions):
    match = re.match(r"^([^~<=>!\s]+)\s*([~<=>!].*)?$", text)
    if not match:
        raise SpecError("cannot read the conda package %r: write --conda-pkg NAME[==VERSION]"
                        % text)
    name, version = match.group(1), (match.group(2) or "").replace(" ", "")
    out.conda.append(conda_requirement(name, version[2:] if version.startswith("==") else version))


def _virtual_package(text: str, out: PipOptions):
    out.virtual_packages.append(virtual_package(text))


# The reference extension's options: flag -> what reads the rest of the line.
_EXTENSION_OPTIONS = {
    "--conda-pkg": _conda_package,
    "--conda-channel": lambda text, out: out.channels.append(text),
    "--sys-pkg": _virtual_package,
}


def apply_option(line: str, path: Path, out: PipOptions, seen: set, as_constraint=False):
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise SpecError("cannot parse %r (%s)" % (line, exc)) from exc
    flag, rest = words[0], words[1:]
    if "=" in flag and flag.startswith("--"):
        flag, value = flag.split("=", 1)
        rest = [value] + rest
    elif len(flag) > 2 and flag[1] != "-" and flag[:2] in ("-r", "-c", "-i", "-f", "-e"):
        flag, rest = flag[:2], [flag[2:]] + rest

    def value() -> str:
        if len(rest) != 1:
            raise SpecError("%s takes exactly one value" % flag)
        return expand_env(rest[0], out.environ)

    if flag in ("-r", "--requirement", "-c", "--constraint"):
        included = path.parent / value()
        if not included.exists():
            raise SpecError("%s %s: %s does not exist" % (flag, rest[0], included))
        _parse_into(included, out, seen, as_constraint=flag in ("-c", "--constraint"))
    elif flag in ("-i", "--index-url"):
        out.index_url = value()
    elif flag == "--extra-index-url":
        out.extra_index_urls.append(value())
    elif flag in ("-f", "--find-links"):
        link = value()
        if "://" not in link and not os.path.isabs(link):
            link = relative_to(link, str(path.parent.resolve()), out.root)
        out.find_links.append(link)
    elif flag == "--pre":
        out.pre = True
    elif flag == "--no-index":
        out.no_index = True
    elif flag == "--trusted-host":
        out.trusted_hosts.append(value())
    elif flag in ("--only-binary", "--prefer-binary", "--no-cache-dir"):
        pass  # flowenv always installs wheels; these change nothing for it
    elif flag in _EXTENSION_OPTIONS:
        text = expand_env(" ".join(rest), out.environ).strip()
        if not text:
            raise SpecError("%s takes a value" % flag)
        _EXTENSION_OPTIONS[flag](text, out)
    elif flag in ("-e", "--editable"):
        # An environment is shared and rebuilt elsewhere: the project is installed as a
        # plain package, built from the folder as it is now (as pip without -e would).
        location = value()
        if parse_direct(location) is None:
            location = "./" + location if not location.startswith(("/", ".")) else location
        out.add(location, path, as_constraint)
    else:
        raise SpecError(
            "option %s is not supported in requirements files read by flowenv" % flag,
            hint="Supported: -r, -c, -i/--index-url, --extra-index-url, -f/--find-links, "
                 "--no-index, --trusted-host, --pre, -e; the reference extension's "
                 "--conda-pkg, --conda-channel, --sys-pkg.")

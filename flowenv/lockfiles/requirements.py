"""A fully pinned, hashed requirements.txt (`pip-compile --generate-hashes`, `uv pip
compile --generate-hashes`) used as a lock: every requirement `name==version` with its
`--hash=sha256:` values.

Such a file names no URLs, so the files are found on the package index: flowenv asks for
exactly those versions (every version fixed; nothing is chosen) and keeps, for each
package, the best file for the target among those whose sha256 the file lists. A package
the pins need but the file does not list is an error, as in pip's --require-hashes mode.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Dict, List, Optional

from packaging.requirements import InvalidRequirement, Requirement

from ..errors import SpecError
from ..lock import LockedFile
from ..parsers.requirements_txt import PipOptions, apply_option, logical_lines
from ..parsers.source import read_text
from ..platforms import Target
from ..redact import redact_url
from ..spec import canonical_requirement, requirement_name
from .base import Fetcher, LockFile, Selection

_HASH = re.compile(r"\s--hash[= ](\S+)")
_PYTHON = re.compile(r"(?:with Python |--python-version[= ])(\d+\.\d+)")


def is_hashed_requirements(text: str) -> bool:
    return "--hash" in text


def read_hashed_requirements(path: Path, selection: Selection,
                             environ=None) -> "HashedRequirements":
    origin = str(path)
    text = read_text(path)
    if selection.extras or selection.groups:
        raise SpecError("a requirements file has no extras or groups to select", file=origin)
    options = PipOptions(environ or {}, path.parent)
    pins: Dict[str, tuple] = {}
    for number, line in logical_lines(text):
        try:
            if line.startswith("-"):
                flag = shlex.split(line)[0].split("=", 1)[0]
                if flag in ("-r", "--requirement", "-c", "--constraint", "-e", "--editable"):
                    raise SpecError("%s has no place in a lock: list every package in this "
                                    "one file, with its hashes" % flag)
                apply_option(line, path, options, seen=set())
                continue
            hashes = sorted({h.split(":", 1)[1].lower() for h in _HASH.findall(" " + line)
                             if h.lower().startswith("sha256:")})
            requirement = _HASH.sub("", " " + line).strip()
            req = _pinned(requirement)
            if not hashes:
                raise SpecError("%s has no --hash=sha256:... value" % req.name, hint=_HINT)
            name = requirement_name(requirement)
            if name in pins and pins[name][0] != canonical_requirement(requirement):
                raise SpecError("%s is listed twice" % name)
            pins[name] = (canonical_requirement(requirement), hashes)
        except SpecError as exc:
            raise exc.within(file=origin, line=number) from None
    if not pins:
        raise SpecError("it lists no package", file=origin)
    python = None
    for line in text.splitlines():
        found = _PYTHON.search(line) if line.lstrip().startswith("#") else None
        if found:
            python = found.group(1)
            break
    return HashedRequirements(path, pins, options, selection, python)


_HINT = ("A requirements file used as a lock pins every package with == and --hash "
         "(pip-compile --generate-hashes, uv pip compile --generate-hashes); to resolve it "
         "instead, pass it with -r.")


def _pinned(text: str) -> Requirement:
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise SpecError("%r is not a valid requirement (%s)" % (text, exc)) from None
    specs = list(req.specifier)
    if req.url or len(specs) != 1 or specs[0].operator not in ("==", "===") or (
            specs[0].version.endswith(".*")):
        raise SpecError("%r is not pinned to one version with ==" % text, hint=_HINT)
    return req


class HashedRequirements(LockFile):
    kind = "requirements"
    uses_index = True

    def __init__(self, path: Path, pins: Dict[str, tuple], options: PipOptions,
                 selection: Selection, python: Optional[str]):
        self.pins = pins
        self.index = options.spec_fields()
        del self.index["pypi"], self.index["constraints"]
        content = {"pins": {n: [r, h] for n, (r, h) in sorted(pins.items())},
                   "index": {"index_url": redact_url(self.index["index_url"] or ""),
                             "extra_index_urls": [redact_url(u) for u in
                                                  self.index["extra_index_urls"]],
                             "find_links": [redact_url(u) for u in self.index["find_links"]],
                             "pre": self.index["pre"]}}
        super().__init__(path, content, selection, python=python)

    def files_for(self, target: Target, fetcher: Fetcher) -> List[LockedFile]:
        allowed = {name: set(hashes) for name, (_, hashes) in self.pins.items()}
        requirements = [req for req, _ in self.pins.values()]
        return fetcher.pinned_files(requirements, self.index, target, allowed, self.origin)

"""Find real Python interpreters on this machine (never a pyenv shim) for a constraint."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

from packaging.version import Version

from .atomic import write_text
from .errors import InterpreterNotFound
from .spec import python_specifier

_PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.implementation.name)"


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: str

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


def _is_binary(path: str) -> bool:
    """pyenv and asdf shims are shell scripts; real interpreters are not."""
    try:
        with open(path, "rb") as f:
            return f.read(2) != b"#!"
    except OSError:
        return False


def _candidate_paths(extra: Sequence[str], environ: Mapping[str, str]) -> List[str]:
    found = [os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)]
    patterns = list(extra)
    pyenv_root = environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    patterns.append(os.path.join(pyenv_root, "versions", "*", "bin", "python3"))
    patterns.append(os.path.expanduser("~/.local/share/uv/python/*/bin/python3"))
    for folder in environ.get("PATH", "").split(os.pathsep) + ["/usr/bin", "/usr/local/bin"]:
        if folder:
            patterns += [os.path.join(folder, "python3"), os.path.join(folder, "python3.[0-9]*")]
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            if os.path.isfile(path) and os.access(path, os.X_OK) and _is_binary(path):
                found.append(os.path.realpath(path))
    return list(dict.fromkeys(found))


class InterpreterFinder:
    """Lists interpreters once per process; probe results are cached on disk by mtime."""

    def __init__(self, cache_file: Optional[Path] = None, extra: Sequence[str] = (),
                 environ: Mapping[str, str] = None):
        """extra: paths or globs of interpreters to consider (FLOWENV_PYTHONS); environ
        gives PATH and PYENV_ROOT."""
        self._cache_file = cache_file
        self._extra = tuple(extra)
        self._environ = dict(environ or {})
        self._found: Optional[List[Interpreter]] = None
        # Resolvers run in threads (resolve_many, a flow's steps): one probes, others wait.
        self._lock = threading.Lock()

    def _load_cache(self) -> Dict[str, dict]:
        if self._cache_file and self._cache_file.is_file():
            try:
                return json.loads(self._cache_file.read_text())
            except ValueError:
                pass
        return {}

    def _save_cache(self, cache: Dict[str, dict]):
        if not self._cache_file:
            return
        try:
            write_text(self._cache_file, json.dumps(cache))
        except OSError:
            pass  # a cache of probe results: losing it only costs a probe next time

    def all(self) -> List[Interpreter]:
        with self._lock:
            return self._all()

    def _all(self) -> List[Interpreter]:
        if self._found is not None:
            return self._found
        cache = self._load_cache()
        paths = _candidate_paths(self._extra, self._environ)

        def probe(path):
            stamp = os.stat(path).st_mtime
            hit = cache.get(path)
            if hit and hit["mtime"] == stamp:
                return path, hit
            try:
                out = subprocess.run([path, "-I", "-c", _PROBE], capture_output=True,
                                     text=True, timeout=20)
                version, impl = out.stdout.split()
            except (OSError, ValueError, subprocess.TimeoutExpired):
                return path, None
            return path, {"mtime": stamp, "version": version, "impl": impl}

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(probe, paths))
        fresh = {p: r for p, r in results if r}
        if fresh != {p: cache.get(p) for p in fresh}:
            self._save_cache({**cache, **fresh})
        self._found = [
            Interpreter(p, r["version"]) for p, r in results if r and r["impl"] == "cpython"
        ]
        return self._found

    def find(self, constraint: Optional[str], prefer: Optional[str] = None) -> Interpreter:
        """The best interpreter for the constraint: `prefer` (a full version) if present,
        else the launching interpreter if it matches, else the newest match."""
        found = self.all()
        if constraint is None:
            constraint = "%d.%d" % sys.version_info[:2]
        spec = python_specifier(constraint)
        matching = [i for i in found if Version(i.version) in spec]
        if not matching:
            listing = ", ".join(sorted({"%s (%s)" % (i.version, i.path) for i in found})) or "none"
            raise InterpreterNotFound(
                "no Python interpreter on this machine satisfies %r. Found: %s" % (constraint, listing),
                hint="Install a matching CPython, or list its path in FLOWENV_PYTHONS.")
        if prefer:
            exact = [i for i in matching if i.version == prefer]
            if exact:
                return exact[0]
        own = "%d.%d.%d" % sys.version_info[:3]
        for interp in matching:
            if interp.version == own:
                return interp
        return max(matching, key=lambda i: Version(i.version))

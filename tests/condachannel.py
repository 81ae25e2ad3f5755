"""Build a small, real conda channel at test time and index it with py-rattler.

Nothing is downloaded: every package is made here with conda-package-handling, then
`rattler.index.index_fs` writes the repodata, and the channel is used through a
`file://` URL exactly like a remote one.

The `python` package is this machine's own CPython, repackaged so that a conda prefix
really runs it, laid out like conda-forge's python (not a virtualenv):

- `bin/python3.X` is a *copy* of the interpreter binary (a few kB when libpython is
  shared; its RUNPATH still finds the original libpython), `bin/python` and
  `bin/python3` are relative symlinks to it;
- `lib/python3.X/<entry>` is a symlink to each entry of the real standard library
  (`os.py`, `lib-dynload`, `json/`, ...), except `site-packages`, which is a real
  folder of the package;
- `lib/libpython*` symlink to the real shared library, in case the binary looks there.

CPython finds its prefix by looking for `lib/python3.X/os.py` next to the *real* (not
symlink-resolved) executable, so `sys.prefix` is the conda prefix and its
`lib/python3.X/site-packages` is on `sys.path`: noarch-python packages linked there
import, and uv installs wheels there, as in a real conda env. Where the host's Python
uses a patched layout (Debian's `posix_local` scheme) or is not Linux, the package falls
back to a venv-style layout (`pyvenv.cfg` with `home = <real bin dir>` and a
`bin/python` symlink), which CPython also honours.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

PY_MINOR = "%d.%d" % sys.version_info[:2]
PY_VERSION = "%d.%d.%d" % sys.version_info[:3]
HOST_SUBDIR = "linux-64" if sys.platform.startswith("linux") else (
    "osx-arm64" if os.uname().machine == "arm64" else "osx-64")


def _real_python() -> Path:
    return Path(os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable))


def _stdlib() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def _prefix_scheme() -> str:
    """The install scheme of a plain (non-venv) prefix, asked of the base interpreter
    itself (inside a venv sysconfig answers 'venv'); Debian patches it to posix_local."""
    code = ("import sysconfig; f = getattr(sysconfig, 'get_preferred_scheme', None); "
            "print(f('prefix') if f else 'posix_prefix')")
    proc = subprocess.run([str(_real_python()), "-I", "-c", code], capture_output=True, text=True)
    return proc.stdout.strip()


class Package:
    """One conda package to build: files (path -> bytes, or ('symlink', target))."""

    def __init__(self, name: str, version: str, subdir: str = "noarch", build: str = "0",
                 depends: Sequence[str] = (), noarch: Optional[str] = None,
                 files: Optional[Dict[str, object]] = None, build_number: int = 0):
        self.name, self.version, self.subdir, self.build = name, version, subdir, build
        self.depends, self.noarch, self.build_number = list(depends), noarch, build_number
        self.files: Dict[str, object] = dict(files or {})

    @property
    def filename(self) -> str:
        return "%s-%s-%s.conda" % (self.name, self.version, self.build)


def python_module_package(name: str, version: str, depends: Sequence[str] = (),
                          build: str = "pyh0", code: str = "") -> Package:
    """A noarch: python package whose module `name` exposes __version__."""
    return Package(
        name, version, "noarch", build, depends=["python >=3.8"] + list(depends), noarch="python",
        files={"site-packages/%s/__init__.py" % name:
               ("__version__ = %r\n%s" % (version, code)).encode()},
    )


def python_package(subdir: str = HOST_SUBDIR, version: str = PY_VERSION) -> Package:
    """`python` made from the running interpreter (only for the host subdir and version)."""
    if subdir != HOST_SUBDIR or version != PY_VERSION:
        return fake_python_package(subdir, version)
    minor = ".".join(version.split(".")[:2])
    real = _real_python()
    files: Dict[str, object] = {}
    layout = "prefix" if sys.platform.startswith("linux") and _prefix_scheme() == "posix_prefix" else "venv"
    if layout == "prefix":
        files["bin/python%s" % minor] = real.read_bytes()
        files["bin/python3"] = ("symlink", "python%s" % minor)
        files["bin/python"] = ("symlink", "python%s" % minor)
        stdlib = _stdlib()
        for entry in sorted(os.listdir(stdlib)):
            if entry != "site-packages":
                files["lib/python%s/%s" % (minor, entry)] = ("symlink", str(stdlib / entry))
        libdir = sysconfig.get_config_var("LIBDIR")
        ldlibrary = sysconfig.get_config_var("LDLIBRARY") or ""
        if libdir and ldlibrary.endswith(".so"):
            for lib in sorted(Path(libdir).glob(ldlibrary + "*")):
                files["lib/" + lib.name] = ("symlink", str(lib))
    else:
        files["pyvenv.cfg"] = ("home = %s\ninclude-system-site-packages = false\nversion = %s\n"
                               % (real.parent, version)).encode()
        files["bin/python"] = ("symlink", str(real))
        files["bin/python3"] = ("symlink", "python")
        files["bin/python%s" % minor] = ("symlink", "python")
    files["lib/python%s/site-packages/README.txt" % minor] = b"conda test python\n"
    return Package("python", version, subdir, "h0_cpython", files=files)


def fake_python_package(subdir: str, version: str) -> Package:
    """A `python` that only exists to be solved for (another platform or version)."""
    minor = ".".join(version.split(".")[:2])
    script = b"#!/bin/sh\necho 'fake test python: not runnable' >&2\nexit 1\n"
    return Package("python", version, subdir, "h0_cpython", files={
        "bin/python%s" % minor: script,
        "lib/python%s/site-packages/README.txt" % minor: b"fake\n",
    })


def script_package(name: str, version: str, subdir: str, depends: Sequence[str] = ()) -> Package:
    """A platform package shipping `bin/<name>`, a shell script printing its version."""
    return Package(name, version, subdir, "h0", depends=depends, files={
        "bin/" + name: ("#!/bin/sh\necho %s %s\n" % (name, version)).encode(),
    })


def default_packages() -> List[Package]:
    """The default test channel: enough versions and dependencies to tell envs apart."""
    return [
        python_package(),
        fake_python_package(HOST_SUBDIR, "3.99.0"),
        fake_python_package("osx-arm64", PY_VERSION),
        fake_python_package("osx-64", PY_VERSION),
        python_module_package("condadep", "1.0"),
        python_module_package("condadep", "2.0"),
        python_module_package("condalib", "1.0"),
        python_module_package("condalib", "2.0", depends=["condadep >=2"]),
        python_module_package("condaold", "1.0", depends=["condadep <2"]),
        script_package("condatool", "1.0", HOST_SUBDIR, depends=["__glibc >=2.17"]
                       if HOST_SUBDIR.startswith("linux") else []),
        script_package("condatool", "1.0", "osx-arm64", depends=["__osx >=11.0"]),
        script_package("needsnewglibc", "1.0", "linux-64", depends=["__glibc >=99"]),
    ]


def _write_package(pkg: Package, channel: Path, work: Path) -> Path:
    import conda_package_handling.api as cph

    stage = work / pkg.subdir / pkg.filename
    stage.mkdir(parents=True)
    paths = []
    for rel, content in sorted(pkg.files.items()):
        target = stage / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, tuple):
            os.symlink(content[1], target)
            paths.append({"_path": rel, "path_type": "softlink"})
        else:
            target.write_bytes(content)
            if rel.startswith("bin/"):
                target.chmod(0o755)
            import hashlib

            paths.append({"_path": rel, "path_type": "hardlink",
                          "sha256": hashlib.sha256(content).hexdigest(),
                          "size_in_bytes": len(content)})
    index = {
        "name": pkg.name, "version": pkg.version, "build": pkg.build,
        "build_number": pkg.build_number, "depends": pkg.depends, "subdir": pkg.subdir,
        "license": "BSD-3-Clause", "timestamp": 1700000000000,
    }
    if pkg.subdir != "noarch":
        index["platform"], index["arch"] = pkg.subdir.split("-")[0], pkg.subdir.split("-")[1]
    if pkg.noarch:
        index["noarch"] = pkg.noarch
    info = stage / "info"
    info.mkdir()
    (info / "index.json").write_text(json.dumps(index, indent=1))
    (info / "paths.json").write_text(json.dumps({"paths": paths, "paths_version": 1}, indent=1))
    (info / "files").write_text("".join(p["_path"] + "\n" for p in paths))
    out_dir = channel / pkg.subdir
    out_dir.mkdir(parents=True, exist_ok=True)
    file_list = [p["_path"] for p in paths] + ["info/index.json", "info/paths.json", "info/files"]
    cph.create(str(stage), file_list, pkg.filename, out_folder=str(out_dir))
    return out_dir / pkg.filename


def index_channel(channel: Path) -> None:
    from rattler.index import index_fs

    (channel / "noarch").mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(channel, write_zst=False, write_shards=False, force=True))


def build_channel(folder: Path, packages: Optional[Iterable[Package]] = None) -> str:
    """Write and index a channel in `folder`; return its file:// URL."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="condachannel-") as work:
        for pkg in (default_packages() if packages is None else packages):
            _write_package(pkg, folder, Path(work))
    index_channel(folder)
    return folder.resolve().as_uri()


if __name__ == "__main__":  # python tests/condachannel.py DIR: build a channel by hand
    print(build_channel(Path(sys.argv[1])))

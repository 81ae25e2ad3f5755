"""Build small, real wheels at test time and serve them as a local find-links index."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path
from typing import Dict, Iterable, Sequence


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(folder: Path, name: str, version: str, requires: Sequence[str] = (),
               tag: str = "py3-none-any", module_code: str = None,
               data_files: Dict[str, bytes] = None, extras: Sequence[str] = ()) -> Path:
    """A pure-Python wheel whose module `name` exposes __version__ (and module_code), plus
    data_files (path in the wheel -> bytes), stored uncompressed; `extras` are the extras
    it provides (their requirements carry `extra == ...`)."""
    module = name.replace("-", "_")
    dist = "%s-%s" % (module, version)
    files = {
        "%s/__init__.py" % module: "__version__ = %r\n%s" % (version, module_code or ""),
        "%s.dist-info/METADATA" % dist: "Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s%s"
        % (name, version, "".join("Provides-Extra: %s\n" % e for e in extras),
           "".join("Requires-Dist: %s\n" % r for r in requires)),
        "%s.dist-info/WHEEL" % dist: "Wheel-Version: 1.0\nGenerator: flowenv-tests\n"
        "Root-Is-Purelib: true\nTag: %s\n" % tag,
    }
    files = {p: c.encode() for p, c in files.items()}
    files.update(data_files or {})
    record = "%s.dist-info/RECORD" % dist
    lines = ["%s,%s,%d" % (p, _record_hash(c), len(c)) for p, c in files.items()]
    files[record] = ("\n".join(lines + ["%s,," % record]) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ("%s-%s.whl" % (dist, tag))
    with zipfile.ZipFile(path, "w") as zf:
        for p, content in files.items():
            zf.writestr(p, content)
    return path


# The default test index: versions and dependencies enough to tell envs apart.
DEFAULT_PACKAGES: Iterable[tuple] = (
    ("alpha", "1.0.0", ()),
    ("alpha", "2.0.0", ()),
    ("beta", "1.0.0", ("alpha>=1",)),
    ("beta", "1.5.0", ("alpha>=2",)),
    ("gamma", "0.1.0", ()),
    ("gamma", "0.2.0", ()),
    ("gamma", "0.3.0", ()),
    ("delta", "3.0.0", ("gamma",)),
    ("epsilon", "1.0.0", ()),
)


def build_index(folder: Path, packages: Iterable[tuple] = DEFAULT_PACKAGES) -> Path:
    """Wheels in `folder` (usable with --find-links) plus a PEP 503 index in folder/simple."""
    for name, version, requires in packages:
        make_wheel(folder, name, version, requires)
    write_simple_index(folder)
    return folder


# A PEP 517 build backend of a few lines that lives in the source tree itself
# (backend-path), so that a source distribution builds offline, with no build dependency.
IN_TREE_BACKEND = """
import base64, hashlib, os, re, zipfile

def _meta():
    with open("pyproject.toml") as f:
        text = f.read()
    return tuple(re.search(r'^%s = "(.*)"$' % key, text, re.M).group(1)
                 for key in ("name", "version"))

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version = _meta()
    module = name.replace("-", "_")
    dist = "%s-%s" % (module, version)
    files = {}
    for folder, _dirs, names in os.walk(module):
        for n in names:
            path = os.path.join(folder, n)
            with open(path, "rb") as f:
                files[path.replace(os.sep, "/")] = f.read()
    files[dist + ".dist-info/METADATA"] = (
        "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (name, version)).encode()
    files[dist + ".dist-info/WHEEL"] = (
        b"Wheel-Version: 1.0\\nGenerator: in-tree\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
    record = dist + ".dist-info/RECORD"
    lines = ["%s,sha256=%s,%d" % (p, base64.urlsafe_b64encode(hashlib.sha256(d).digest())
                                   .rstrip(b"=").decode(), len(d)) for p, d in files.items()]
    files[record] = ("\\n".join(lines + [record + ",,"]) + "\\n").encode()
    filename = dist + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for p, d in sorted(files.items()):
            zf.writestr(zipfile.ZipInfo(p, (2020, 1, 1, 0, 0, 0)), d)
    return filename
"""


def source_tree_files(name: str, version: str, backend: str = "setuptools") -> dict:
    """The files of a project whose module `name` has __version__: built by setuptools
    (fetched from an index) or by an in-tree backend (no build dependency at all)."""
    module = name.replace("-", "_")
    project = '[project]\nname = "%s"\nversion = "%s"\n' % (name, version)
    if backend == "in-tree":
        build = ('[build-system]\nrequires = []\nbuild-backend = "in_tree_backend"\n'
                 'backend-path = ["."]\n\n')
        extra = {"in_tree_backend.py": IN_TREE_BACKEND}
    else:
        build = ('[build-system]\nrequires = ["setuptools>=61"]\n'
                 'build-backend = "setuptools.build_meta"\n\n')
        project += '\n[tool.setuptools]\npackages = ["%s"]\n' % module
        extra = {}
    return {"pyproject.toml": build + project,
            "PKG-INFO": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version),
            "%s/__init__.py" % module: "__version__ = %r\n" % version, **extra}


def make_sdist(folder: Path, name: str, version: str, backend: str = "setuptools") -> Path:
    """A source distribution (no wheel) whose module `name` has __version__."""
    import io
    import tarfile

    module = name.replace("-", "_")
    root = "%s-%s" % (module, version)
    files = source_tree_files(name, version, backend)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ("%s.tar.gz" % root)
    with tarfile.open(path, "w:gz") as tar:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo("%s/%s" % (root, rel))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def write_simple_index(folder: Path) -> Path:
    simple = folder / "simple"
    by_project = {}
    for wheel in sorted(list(folder.glob("*.whl")) + list(folder.glob("*.tar.gz"))):
        by_project.setdefault(wheel.name.split("-")[0].replace("_", "-").lower(), []).append(wheel)
    for project, wheels in by_project.items():
        page = simple / project
        page.mkdir(parents=True, exist_ok=True)
        # With their sha256, as real indexes give them (uv then records it in uv.lock).
        links = "".join('<a href="../../%s#sha256=%s">%s</a>\n' % (
            w.name, hashlib.sha256(w.read_bytes()).hexdigest(), w.name) for w in wheels)
        (page / "index.html").write_text("<html><body>%s</body></html>\n" % links)
    return simple


def simple_index_url(folder: Path) -> str:
    return (folder / "simple").resolve().as_uri()


# An in-tree PEP 517 backend (no build requirement, so it builds offline): it packs the
# folder's package into a wheel, with the name, version, dependencies and tag it is given.
_BACKEND = '''\
import base64, hashlib, io, os, tarfile, zipfile

NAME, VERSION, REQUIRES, TAG = %(name)r, %(version)r, %(requires)r, %(tag)r
MODULE = NAME.replace("-", "_")
DIST = "%%s-%%s" %% (MODULE, VERSION)


def _metadata():
    return "Metadata-Version: 2.1\\nName: %%s\\nVersion: %%s\\n%%s" %% (
        NAME, VERSION, "".join("Requires-Dist: %%s\\n" %% r for r in REQUIRES))


def _sources():
    for folder, _, names in sorted(os.walk(MODULE)):
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, "rb") as f:
                    yield path.replace(os.sep, "/"), f.read()


def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_sdist = get_requires_for_build_wheel


def prepare_metadata_for_build_wheel(directory, config_settings=None):
    info = os.path.join(directory, DIST + ".dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write(_metadata())
    return DIST + ".dist-info"


def build_wheel(directory, config_settings=None, metadata_directory=None):
    files = dict(_sources())
    files[DIST + ".dist-info/METADATA"] = _metadata().encode()
    files[DIST + ".dist-info/WHEEL"] = ("Wheel-Version: 1.0\\nGenerator: test-backend\\n"
                                        "Root-Is-Purelib: %%s\\nTag: %%s\\n" %% (
                                            TAG == "py3-none-any", TAG)).encode()
    record = []
    name = "%%s-%%s.whl" %% (DIST, TAG)
    # As real backends do: entry times from SOURCE_DATE_EPOCH when set, else now.
    import time
    stamp = int(os.environ.get("SOURCE_DATE_EPOCH") or time.time())
    when = time.gmtime(max(stamp, 315532800))[:6]
    with zipfile.ZipFile(os.path.join(directory, name), "w") as zf:
        for path, data in files.items():
            zf.writestr(zipfile.ZipInfo(path, when), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append("%%s,sha256=%%s,%%d" %% (path, digest.decode(), len(data)))
        zf.writestr(zipfile.ZipInfo(DIST + ".dist-info/RECORD", when),
                    "\\n".join(record + [DIST + ".dist-info/RECORD,,"]) + "\\n")
    return name


def build_sdist(directory, config_settings=None):
    name = DIST + ".tar.gz"
    with tarfile.open(os.path.join(directory, name), "w:gz") as tar:
        for path in ["pyproject.toml", "test_backend.py"] + [p for p, _ in _sources()]:
            tar.add(path, DIST + "/" + path)
        data = _metadata().encode()
        info = tarfile.TarInfo(DIST + "/PKG-INFO")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return name
'''


def make_project(folder: Path, name: str, version: str, requires: Sequence[str] = (),
                 tag: str = "py3-none-any", module_code: str = None) -> Path:
    """A buildable source folder (pyproject.toml with an in-tree backend, needing nothing
    from an index) whose module `name` exposes __version__ (and module_code)."""
    module = name.replace("-", "_")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / module).mkdir(exist_ok=True)
    (folder / module / "__init__.py").write_text("__version__ = %r\n%s" % (version, module_code or ""))
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "test_backend"\nbackend-path = ["."]\n\n'
        '[project]\nname = "%s"\nversion = "%s"\ndependencies = [%s]\n'
        % (name, version, ", ".join('"%s"' % r for r in requires)))
    (folder / "test_backend.py").write_text(_BACKEND % {
        "name": name, "version": version, "requires": list(requires), "tag": tag})
    return folder


def git(folder: Path, *args: str) -> str:
    import subprocess

    proc = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
                               "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(folder),
                               "PATH": __import__("os").environ["PATH"]})
    if proc.returncode != 0:
        raise RuntimeError("git %s failed: %s" % (" ".join(args), proc.stderr))
    return proc.stdout.strip()


def make_git_repo(folder: Path, name: str, versions: Sequence[str], requires: Sequence[str] = ()
                  ) -> Path:
    """A git repository of project `name` with one commit tagged v<version> per version,
    in order (the last is the branch's head)."""
    folder.mkdir(parents=True, exist_ok=True)
    git(folder, "init", "--quiet", "--initial-branch", "main")
    for version in versions:
        make_project(folder, name, version, requires)
        git(folder, "add", "--all")
        git(folder, "commit", "--quiet", "-m", "release %s" % version)
        git(folder, "tag", "v%s" % version)
    return folder

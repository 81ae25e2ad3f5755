"""Locks in standard formats, each readable again by flowenv.lockfiles (same environment
id): PEP 751 pylock.toml and hashed requirements (PyPI environments), conda @EXPLICIT
(conda environments; a mixed one's wheels as `# pip` lines, as conda-lock renders them),
conda-lock.yml (any environment, mixed ones included, every platform of an alias in one
file)."""

from __future__ import annotations

from typing import Callable, Optional, Sequence, Union
from urllib.parse import unquote

from .direct_refs import ARCHIVE_SUFFIXES, git_repository
from .errors import FlowenvError
from .lock import Lock, LockedFile

# The md5 of a conda file a stored lock lacks (conda-lock requires it): computed by the
# caller from a verified copy.
Md5Of = Callable[[LockedFile], str]


def _one(locks: Sequence[Lock], fmt: str) -> Lock:
    if len(locks) != 1:
        raise FlowenvError("the %s format holds one platform; this environment has %s"
                           % (fmt, ", ".join(l.platform for l in locks)),
                           hint="Choose one with --arch, or export as conda-lock.")
    return locks[0]


def _only(lock: Lock, kind: str, fmt: str) -> None:
    other = [f for f in lock.files if f.kind != kind]
    if other:
        raise FlowenvError(
            "environment %s also has %s packages (%s), which %s cannot hold"
            % (lock.full_id, other[0].kind, ", ".join(f.name for f in other[:5]), fmt),
            hint="Export it as conda-lock, which holds conda packages and wheels together.")


def to_requirements(lock: Lock) -> str:
    _only(lock, "wheel", "a requirements file")
    lines = ["# flowenv environment %s (%s, Python %s)" % (lock.full_id, lock.platform, lock.python)]
    for f in lock.by_kind("wheel"):
        # A wheel built on the resolving machine is installed elsewhere from its source:
        # a commit or a folder by its location, an sdist by its hash.
        if f.source_url and _source_kind(f) in ("git", "directory"):
            lines.append("%s @ %s" % (f.name, f.source_url))
            continue
        sha = f.source_sha256 if f.source_url else f.sha256
        lines.append("%s==%s \\\n    --hash=sha256:%s" % (f.name, f.version, sha))
    return "\n".join(lines) + "\n"


def _source_kind(file: LockedFile) -> str:
    """What a wheel built on the resolving machine was built from: 'git', 'directory'
    (a local folder), 'file' (a local archive or wheel, by a relative path) or 'url' (an
    sdist or archive URL)."""
    source = file.source_url or ""
    if source.startswith("git+"):
        return "git"
    if source.split("#", 1)[0].endswith(ARCHIVE_SUFFIXES):
        return "file" if source.startswith(("./", "../")) else "url"
    return "directory"


def _q(text) -> str:
    return '"%s"' % str(text).replace("\\", "\\\\").replace('"', '\\"')


def to_pylock(lock: Lock) -> str:
    _only(lock, "wheel", "pylock.toml")
    lines = ['lock-version = "1.0"', 'created-by = "flowenv"',
             "requires-python = %s" % _q("==" + lock.python_minor + ".*"), ""]
    for f in lock.by_kind("wheel"):
        lines += ["[[packages]]", "name = %s" % _q(f.name), "version = %s" % _q(f.version)]
        kind = _source_kind(f) if f.source_url else None
        # Built here: the wheel exists only in the store, so the exported lock names the
        # source it can be built from (a commit, a folder, an archive with its hash).
        if kind == "git":
            url, _, fragment = f.source_url[len("git+"):].partition("#")
            repository = git_repository(url)
            subdirectory = fragment.split("subdirectory=", 1)[1] if "subdirectory=" in fragment \
                else None
            lines.append("vcs = { type = \"git\", url = %s, commit-id = %s%s }" % (
                _q(repository), _q(url[len(repository) + 1:]),
                ", subdirectory = %s" % _q(subdirectory) if subdirectory else ""))
        elif kind == "directory":
            path = f.source_url[len("file://"):] if f.source_url.startswith("file://") \
                else f.source_url
            lines.append("directory = { path = %s }" % _q(unquote(path)))
        elif kind == "file":
            lines.append("archive = { path = %s, hashes = { sha256 = %s } }"
                         % (_q(f.source_url), _q(f.source_sha256 or "")))
        elif kind == "url":
            lines.append("sdist = { name = %s, url = %s, hashes = { sha256 = %s } }"
                         % (_q(f.source_url.rsplit("/", 1)[-1]), _q(f.source_url),
                            _q(f.source_sha256 or "")))
        else:
            size = ", size = %d" % f.size if f.size else ""
            lines.append("wheels = [{ name = %s, url = %s%s, hashes = { sha256 = %s } }]"
                         % (_q(f.filename), _q(f.url), size, _q(f.sha256)))
        lines.append("")
    return "\n".join(lines)


def to_explicit(lock: Lock) -> str:
    conda = lock.by_kind("conda")
    if not conda:
        raise FlowenvError("environment %s has no conda packages to export as @EXPLICIT"
                           % lock.full_id, hint="Export it as pylock or requirements.")
    lines = ["# flowenv environment %s (Python %s)" % (lock.full_id, lock.python),
             "# platform: %s" % lock.platform, "@EXPLICIT"]
    # conda reads '#sha256:<hex>' (and '#<md5>') after each URL.
    lines += ["%s#sha256:%s" % (f.url, f.sha256) for f in conda]
    # Wheels as conda-lock renders them: comments to conda, installed by conda-lock.
    lines += ["# pip %s @ %s#sha256=%s" % (f.name, _url_of(f, lock), f.sha256)
              for f in lock.by_kind("wheel")]
    return "\n".join(lines) + "\n"


def _url_of(f: LockedFile, lock: Lock) -> str:
    if not f.url:
        raise FlowenvError(
            "%s %s was built from source on the machine that resolved environment %s: it "
            "has no URL a conda lock can name" % (f.name, f.version, lock.full_id),
            hint="Export it as pylock, which names its source.")
    return f.url


def to_conda_lock(locks: Sequence[Lock], md5_of: Optional[Md5Of] = None) -> str:
    """conda-lock's unified format, version 1: conda packages and pip wheels of every
    platform given."""
    import yaml

    from .conda.channels import channel_of
    from .conda.match_specs import split_filename

    packages, channels = [], []
    for lock in sorted(locks, key=lambda l: l.platform):
        for f in lock.files:
            entry = {"name": f.name, "version": f.version,
                     "manager": "conda" if f.kind == "conda" else "pip",
                     "platform": lock.platform, "dependencies": {}, "url": _url_of(f, lock)}
            if f.kind == "conda":
                md5 = f.md5 or (md5_of(f) if md5_of else None)
                if not md5:
                    raise FlowenvError("conda-lock needs the md5 of %s" % f.filename)
                entry["hash"] = {"md5": md5, "sha256": f.sha256}
                entry["build"] = split_filename(f.filename)[2]
                channel = channel_of(f.url)
                if channel not in channels:
                    channels.append(channel)
            else:
                entry["hash"] = {"sha256": f.sha256}
            entry.update({"category": "main", "optional": False})
            packages.append(entry)
    document = {
        "version": 1,
        "metadata": {
            "content_hash": {l.platform: l.full_id for l in locks},
            "channels": [{"url": c, "used_env_vars": []} for c in channels],
            "platforms": sorted(l.platform for l in locks),
            "sources": [],
        },
        "package": packages,
    }
    header = ("# conda-lock file written by flowenv (environments %s)\n"
              % ", ".join("%s: %s" % (l.platform, l.full_id) for l in locks))
    return header + yaml.safe_dump(document, sort_keys=False)


FORMATS = ("requirements", "pylock", "explicit", "conda-lock")
_SINGLE = {"requirements": to_requirements, "pylock": to_pylock, "explicit": to_explicit}


def export(locks: Union[Lock, Sequence[Lock]], fmt: str, md5_of: Optional[Md5Of] = None
           ) -> str:
    """A lock, or locks (one per platform), in format fmt; single-platform formats take one."""
    if isinstance(locks, Lock):
        locks = [locks]
    if fmt == "conda-lock":
        return to_conda_lock(locks, md5_of)
    if fmt not in _SINGLE:
        raise FlowenvError("unknown export format %r (expected %s)" % (fmt, ", ".join(FORMATS)))
    return _SINGLE[fmt](_one(locks, fmt))

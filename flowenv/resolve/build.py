"""Wheels for what has none, built on the resolving machine: a source distribution from an
index, a git repository at a commit, a local folder, an archive URL or file. The built
wheel is the locked file: its sha256 is what every other machine verifies, and the store
keeps it, so no other machine ever clones or builds. The lock records the source it was
built from (`source_url`: an sdist or archive URL, `git+URL@<commit>`, a local path as
written) and that source's sha256 when it has one.

Builds are reproducible (SOURCE_DATE_EPOCH is fixed), so two machines building the same
source get the same wheel and the same environment id. A pure-Python wheel serves every
target; a platform-specific one only a target its tags fit, else a clear error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, Mapping, Optional

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from ..cache import LocalCache
from ..credentials import IndexAccess
from ..direct_refs import git_repository, local_path
from ..errors import ResolveError
from ..fetch import download
from ..local_tree import content_digest, copy_source
from ..lock import LockedFile
from ..platforms import Target
from ..redact import redact_text, redact_url
from ..spec import Spec
from ..uv_runner import UvRunner
from ..verify import mark_verified, sha256_of
from .pypi import index_arguments
from .wheels import tag_priority, wheel_rank

# 1980-01-01, the earliest time a zip entry can carry.
SOURCE_DATE_EPOCH = "315532800"


class SourceBuilder:
    def __init__(self, spec: Spec, target: Target, interpreter: str, cache: LocalCache,
                 uv: UvRunner, access: IndexAccess, environ: Mapping[str, str]):
        self.spec = spec
        self.target = target
        self.interpreter = interpreter
        self.cache = cache
        self.uv = uv
        self.access = access
        self.environ = environ  # the edge's (Settings.environ): git runs with it
        self.priority = tag_priority(target)
        # Locations as uv echoes them back -> as the spec writes them (credentials and
        # relative paths kept).
        self._written: Dict[str, str] = {}
        for ref in spec.direct_references():
            if ref.kind == "path":
                self._written[os.path.normpath(local_path(ref.location, spec.root))] = ref.location
            elif ref.kind == "git":
                self._written[redact_url(git_repository(ref.location))] = ref.location
            else:
                self._written[redact_url(ref.location.split("#", 1)[0])] = ref.location

    def __call__(self, package: dict, name: str, lock_dir: Path) -> LockedFile:
        """The locked wheel of a pylock package entry that needs building or copying."""
        with tempfile.TemporaryDirectory(prefix="build-", dir=self._builds_dir()) as tmp:
            tmp = Path(tmp)
            if package.get("vcs"):
                return self._from_git(package, name, tmp)
            if package.get("directory"):
                folder = self._local(package["directory"]["path"], lock_dir)
                written = self._written.get(folder, folder)
                what = "%s (%s)" % (name, written)
                copy_source(folder, tmp / "src", self.environ)
                return self._build(tmp / "src", name, tmp, source_url=written,
                                   source_sha256=content_digest(tmp / "src", what, self.environ))
            if package.get("archive"):
                return self._from_archive(package, name, lock_dir, tmp)
            return self._from_sdist(package, name, tmp)

    # -- the kinds of sources ---------------------------------------------------------

    def _builds_dir(self) -> Path:
        self.cache.builds_dir.mkdir(parents=True, exist_ok=True)
        return self.cache.builds_dir

    def _local(self, path: str, lock_dir: Path) -> str:
        return os.path.normpath(os.path.join(lock_dir, path))

    def _from_sdist(self, package: dict, name: str, tmp: Path) -> LockedFile:
        sdist = package.get("sdist") or {}
        url, sha = sdist.get("url"), (sdist.get("hashes") or {}).get("sha256")
        version = str(package.get("version"))
        if not url or not sha:
            raise ResolveError("%s %s has neither a wheel nor a hashed source distribution"
                               % (name, version), package=name)
        filename = sdist.get("name") or url.rsplit("/", 1)[-1].split("#")[0]
        archive = tmp / filename
        download(url, archive, sha, "%s %s (%s)" % (name, version, filename), self.access)
        return self._build(archive, name, tmp, source_url=redact_url(url), source_sha256=sha)

    def _from_archive(self, package: dict, name: str, lock_dir: Path, tmp: Path) -> LockedFile:
        archive = package["archive"]
        sha = (archive.get("hashes") or {}).get("sha256")
        if archive.get("path"):
            source = self._local(archive["path"], lock_dir)
            written = self._written.get(source, "file://" + source)
            filename = os.path.basename(source)
            url = "file://" + source
        else:
            url = self._written.get(redact_url(archive["url"].split("#", 1)[0]), archive["url"])
            written = redact_url(url)
            filename = url.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        what = "%s (%s)" % (name, written)
        local = tmp / filename
        sha = download(url, local, sha, what, self.access)
        if filename.endswith(".whl"):
            if not archive.get("path"):
                # A wheel on a server: locked by its URL, like an index's.
                self._check_tags(filename, name, written)
                return self._keep(local, self._locked(local, name, url=written))
            return self._keep_built(local, name, source_url=written, source_sha256=sha)
        return self._build(local, name, tmp, source_url=written, source_sha256=sha)

    def _from_git(self, package: dict, name: str, tmp: Path) -> LockedFile:
        vcs = package["vcs"]
        commit = vcs.get("commit-id")
        url = vcs.get("url", "")
        # The URL as the spec wrote it carries its credentials; uv's may not.
        written = self._written.get(redact_url(url))
        clone_url = git_repository(written) if written else url
        shown = redact_url(url)
        if not commit:
            raise ResolveError("uv did not pin %s to a commit" % shown, package=name)
        checkout = tmp / "src"
        env = {**self.environ, "GIT_TERMINAL_PROMPT": "0"}
        for args in (["git", "clone", "--quiet", "--no-checkout", clone_url, str(checkout)],
                     ["git", "-C", str(checkout), "checkout", "--quiet", commit],
                     ["git", "-C", str(checkout), "submodule", "update", "--init",
                      "--recursive", "--quiet"]):
            try:
                proc = subprocess.run(args, capture_output=True, text=True, env=env,
                                      stdin=subprocess.DEVNULL, timeout=1800)
            except (OSError, subprocess.SubprocessError) as exc:
                raise ResolveError("cannot run git to fetch %s: %s" % (shown, exc),
                                   package=name, hint="Install git on the resolving machine.") from None
            if proc.returncode != 0:
                raise ResolveError("git could not fetch %s at %s:\n%s" % (
                    shown, commit, redact_text(proc.stderr.strip(), [clone_url])[-2000:]),
                    package=name)
        source = checkout / vcs["subdirectory"] if vcs.get("subdirectory") else checkout
        source_url = "git+%s@%s" % (shown, commit)
        if vcs.get("subdirectory"):
            source_url += "#subdirectory=" + vcs["subdirectory"]
        return self._build(source, name, tmp, source_url=source_url, source_sha256=None)

    # -- building ---------------------------------------------------------------------

    def _build(self, source: Path, name: str, tmp: Path, source_url: str,
               source_sha256: Optional[str]) -> LockedFile:
        out = tmp / "out"
        proc = self.uv.run(
            ["build", "--wheel", "--quiet", "--out-dir", out, "--python", self.interpreter,
             "--no-python-downloads", "--no-config", *index_arguments(self.spec),
             *self.access.uv_arguments(), source],
            cwd=tmp, secrets=self.access.secrets,
            env={"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, **self.access.uv_environment()})
        wheels = list(out.glob("*.whl")) if out.is_dir() else []
        if proc.returncode != 0 or len(wheels) != 1:
            raise ResolveError("it has no wheel, and building one from %s failed:\n%s"
                               % (source_url, proc.stderr.strip()[-3000:]), package=name)
        return self._keep_built(wheels[0], name, source_url, source_sha256)

    def _keep_built(self, wheel: Path, name: str, source_url: str,
                    source_sha256: Optional[str]) -> LockedFile:
        self._check_tags(wheel.name, name, source_url)
        built = self._locked(wheel, name, url="", source_url=source_url,
                             source_sha256=source_sha256)
        return self._keep(wheel, built)

    def _keep(self, wheel: Path, locked: LockedFile) -> LockedFile:
        """The wheel moved into this machine's package cache, verified."""
        dest = self.cache.package_path(locked)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(wheel), str(dest))
        mark_verified(dest)
        return locked

    def _locked(self, wheel: Path, name: str, **fields) -> LockedFile:
        try:
            _, version, _, _ = parse_wheel_filename(wheel.name)
        except InvalidWheelFilename as exc:
            raise ResolveError("%s is not a valid wheel file name: %s" % (wheel.name, exc),
                               package=name) from None
        return LockedFile(name, str(version), "wheel", wheel.name, sha256=sha256_of(wheel),
                          size=os.path.getsize(wheel), **fields)

    def _check_tags(self, filename: str, name: str, source: str) -> None:
        if wheel_rank(filename, self.priority) < len(self.priority):
            return
        raise ResolveError(
            "%s gives the wheel %s, which does not install on %s, Python %s: a "
            "platform-specific build serves only the platform it was built on"
            % (source, filename, self.target.platform, self.target.python_version),
            package=name,
            hint="Resolve for this platform on a machine of that platform, or publish "
                 "wheels for it.")

"""Wheels built from source distributions, for the resolving machine's own platform only
(a foreign platform cannot be built for here). The built wheel is the locked file: its
sha256 is what every other machine verifies, and the store keeps it. The lock records the
source it was built from, so that an exported lock can still be installed elsewhere."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..cache import LocalCache
from ..errors import ResolveError
from ..fetch import download
from ..lock import LockedFile
from ..redact import redact_url
from ..spec import Spec
from ..uv_runner import UvRunner
from ..verify import mark_verified, sha256_of
from .pypi import index_arguments


class SdistBuilder:
    def __init__(self, spec: Spec, interpreter: str, cache: LocalCache, uv: UvRunner):
        self.spec = spec
        self.interpreter = interpreter
        self.cache = cache
        self.uv = uv

    def __call__(self, package: dict, name: str) -> LockedFile:
        sdist = package.get("sdist") or {}
        url, sha = sdist.get("url"), (sdist.get("hashes") or {}).get("sha256")
        version = str(package.get("version"))
        if not url or not sha:
            raise ResolveError("%s %s has neither a wheel nor a hashed source distribution"
                               % (name, version), package=name)
        filename = sdist.get("name") or url.rsplit("/", 1)[-1].split("#")[0]
        self.cache.builds_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="build-", dir=self.cache.builds_dir) as tmp:
            archive = Path(tmp, filename)
            download(url, archive, sha, "%s %s (%s)" % (name, version, filename),
                     self.spec.index_urls)
            out = Path(tmp, "out")
            proc = self.uv.run(
                ["build", "--wheel", "--quiet", "--out-dir", out, "--python", self.interpreter,
                 "--no-python-downloads", "--no-config", *index_arguments(self.spec), archive],
                cwd=tmp, secrets=self.spec.index_urls)
            wheels = list(out.glob("*.whl")) if out.is_dir() else []
            if proc.returncode != 0 or len(wheels) != 1:
                raise ResolveError("%s %s has no wheel, and building one from %s failed:\n%s"
                                   % (name, version, filename, proc.stderr.strip()[-3000:]),
                                   package=name)
            wheel = wheels[0]
            built = LockedFile(name, version, "wheel", wheel.name, "", sha256_of(wheel),
                               os.path.getsize(wheel), source_url=redact_url(url),
                               source_sha256=sha)
            dest = self.cache.package_path(built)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(wheel), str(dest))
            mark_verified(dest)
        return built


"""Wheels built from source distributions, for the resolving machine's own platform only
(a foreign platform cannot be built for here). The built wheel is the locked file: its
sha256 is what every other machine verifies, and the store keeps it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..cache import LocalCache
from ..errors import ResolveError
from ..fetch import download, sha256_of
from ..lock import LockedFile
from ..spec import Spec, redact_url


class SdistBuilder:
    def __init__(self, spec: Spec, interpreter: str, cache: LocalCache):
        self.spec = spec
        self.interpreter = interpreter
        self.cache = cache

    def __call__(self, package: dict, name: str) -> LockedFile:
        from .pypi import index_arguments, uv_binary, uv_env

        sdist = package.get("sdist") or {}
        url, sha = sdist.get("url"), (sdist.get("hashes") or {}).get("sha256")
        if not url or not sha:
            raise ResolveError("%s %s has neither a wheel nor a hashed source distribution"
                               % (name, package.get("version")))
        filename = sdist.get("name") or url.rsplit("/", 1)[-1].split("#")[0]
        source = LockedFile(name, str(package["version"]), "sdist", filename, redact_url(url), sha)
        with tempfile.TemporaryDirectory(prefix="flowenv-build-") as tmp:
            archive = Path(tmp, filename)
            download(source, archive, self.spec.index_urls)
            out = Path(tmp, "out")
            proc = subprocess.run(
                [uv_binary(), "build", "--wheel", "--quiet", "--out-dir", str(out),
                 "--python", self.interpreter, "--no-python-downloads", "--no-config",
                 *index_arguments(self.spec), str(archive)],
                capture_output=True, text=True, env=uv_env(), cwd=tmp)
            wheels = list(out.glob("*.whl")) if out.is_dir() else []
            if proc.returncode != 0 or len(wheels) != 1:
                raise ResolveError("%s %s has no wheel, and building one from %s failed:\n%s"
                                   % (name, source.version, filename, proc.stderr.strip()[-3000:]))
            wheel = wheels[0]
            built = LockedFile(name, source.version, "wheel", wheel.name, source.url,
                               sha256_of(wheel), os.path.getsize(wheel))
            dest = self.cache.package_path(built)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(wheel), str(dest))
        return built

"""This machine's flowenv cache: the one owner of every local folder flowenv writes.

Each kind of entry lives in a folder whose name carries its layout version (as uv's
`wheels-v6`), so a new layout never reads an old one's files.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .atomic import os_error, temporary_file
from .debuglog import SILENT, DebugLog
from .errors import FlowenvError
from .filelock import DEFAULT_TIMEOUT, file_lock
from .lock import LockedFile

_ID = re.compile(r"^[0-9a-f]{16,64}$")


def _checked_id(value: str) -> str:
    # Ids become path segments: only what flowenv itself produces may pass.
    if not isinstance(value, str) or not _ID.match(value):
        raise FlowenvError("%r is not an environment id" % (value,))
    return value


class LocalCache:
    PACKAGES = "pkgs-v1"
    ENVS = "envs-v1"
    TOOLS = "tools-v1"
    CONDA_PACKAGES = "conda-pkgs-v1"
    CONDA_REPODATA = "conda-repodata-v1"
    CODE = "metaflow-code-v1"
    RUNTIME_SUPPORT = "metaflow-support-v1"
    BUILDS = "builds-v1"
    LOCKS = "locks-v1"
    UV = "uv-v1"
    BYTECODE = "bytecode-v1"
    INTERPRETERS = "interpreters-v1.json"
    # Held shared while entries are read or written; `gc` takes it exclusively.
    MAINTENANCE_LOCK = "cache-v1.lock"

    def __init__(self, root):
        self.root = Path(root)

    def ensure(self) -> "LocalCache":
        """Create the root, or say clearly why it cannot be used (before any work is done)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with temporary_file(self.root / "probe") as probe:
                probe.touch()
        except OSError as exc:
            raise os_error(exc, "write to the cache folder", self.root).within(
                setting="FLOWENV_CACHE_DIR") from exc
        return self

    def using(self, timeout: float = DEFAULT_TIMEOUT, log: DebugLog = SILENT):
        """Hold the cache (shared) while reading or writing its packages: a `gc` waits
        until no one does."""
        return file_lock(self.maintenance_lock, "cleaning up the cache at %s" % self.root,
                         timeout, shared=True, log=log)

    @property
    def maintenance_lock(self) -> Path:
        return self.root / self.MAINTENANCE_LOCK

    @property
    def packages_dir(self) -> Path:
        return self.root / self.PACKAGES

    def package_path(self, file: LockedFile) -> Path:
        # The filename is kept: installers read name, version and tags from it. LockedFile
        # has checked that it is a plain file name and the sha256 a hex digest.
        return self.blob_path(file.sha256, file.filename)

    def blob_path(self, sha256: str, filename: str) -> Path:
        """A verified copy of a blob of the store's package area (a package file, a
        bytecode archive)."""
        if not re.match(r"^[0-9a-f]{64}$", sha256) or "/" in filename or filename in ("", ".", ".."):
            raise FlowenvError("%r / %r is not a blob's sha256 and file name" % (sha256, filename))
        return self.packages_dir / sha256[:2] / sha256 / filename

    def bytecode_record(self, package_sha256: str, python_key: str) -> Path:
        """Where this machine keeps the record of a package's shared bytecode archive."""
        self.blob_path(package_sha256, python_key)  # checks both as path segments
        return (self.root / self.BYTECODE / package_sha256[:2] / package_sha256
                / (python_key + ".json"))

    @property
    def envs_dir(self) -> Path:
        return self.root / self.ENVS

    def env_prefix(self, full_id: str) -> Path:
        return self.envs_dir / _checked_id(full_id)

    def env_lock(self, full_id: str) -> Path:
        return self.envs_dir / (_checked_id(full_id) + ".lock")

    @property
    def tools_root(self) -> Path:
        return self.root / self.TOOLS

    def folder_lock(self, folder: Path) -> Path:
        """The lock of a folder outside the cache (create --into-dir): kept here, keyed by
        the folder's path, so nothing is left beside the user's folder."""
        key = hashlib.sha256(str(Path(folder).resolve()).encode()).hexdigest()[:32]
        return self.root / self.LOCKS / (key + ".lock")

    def tools_dir(self, full_id: str) -> Path:
        return self.tools_root / _checked_id(full_id)

    @property
    def runtime_support_root(self) -> Path:
        return self.root / self.RUNTIME_SUPPORT

    def runtime_support_dir(self, key: str) -> Path:
        return self.runtime_support_root / key

    @property
    def conda_packages_dir(self) -> Path:
        return self.root / self.CONDA_PACKAGES

    @property
    def conda_repodata_dir(self) -> Path:
        return self.root / self.CONDA_REPODATA

    @property
    def code_dir(self) -> Path:
        return self.root / self.CODE

    @property
    def uv_dir(self) -> Path:
        """uv's cache for creating environments: unpacked wheels, hard-linked into them."""
        return self.root / self.UV

    @property
    def builds_dir(self) -> Path:
        return self.root / self.BUILDS

    @property
    def interpreters_file(self) -> Path:
        return self.root / self.INTERPRETERS

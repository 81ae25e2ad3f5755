"""This machine's flowenv cache: package files, created environments, probe results."""

from __future__ import annotations

import os
from pathlib import Path

from .lock import LockedFile

CACHE_LAYOUT = "v1"


def cache_root() -> Path:
    configured = os.environ.get("FLOWENV_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "flowenv"


class LocalCache:
    def __init__(self, root: Path = None):
        self.root = Path(root) if root else cache_root()

    def package_path(self, file: LockedFile) -> Path:
        # The filename is kept: installers read name, version and tags from it.
        return self.root / ("pkgs-" + CACHE_LAYOUT) / file.sha256[:2] / file.sha256 / file.filename

    def env_prefix(self, full_id: str) -> Path:
        return self.root / ("envs-" + CACHE_LAYOUT) / full_id

    def env_lock(self, full_id: str) -> Path:
        return self.root / ("envs-" + CACHE_LAYOUT) / (full_id + ".lock")

    @property
    def interpreters_file(self) -> Path:
        return self.root / "interpreters.json"

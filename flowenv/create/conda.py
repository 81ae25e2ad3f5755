"""The conda half of creation: verified local package files linked into a prefix by
py-rattler, offline.

The records rattler installs are built from the archives themselves (their
info/index.json), so creation needs neither repodata nor the network: rattler reads each
archive from its verified local copy into its package cache (under the flowenv cache),
then hard-links the files into the prefix. The conda-meta records are then pointed back
at the lock's URLs, so that the environment tells where its packages came from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from ..async_bridge import run_sync
from ..atomic import write_text
from ..cache import LocalCache
from ..debuglog import SILENT, DebugLog
from ..conda.channels import channel_of
from ..conda.loader import load_rattler
from ..errors import CreateError
from ..lock import Lock, LockedFile

__all__ = ["install_conda"]


def install_conda(lock: Lock, paths: Sequence[Path], prefix: Path, cache: LocalCache,
                  log: DebugLog = SILENT) -> None:
    rattler = load_rattler()
    files = lock.by_kind("conda")
    prefix = Path(prefix)

    async def install():
        records = []
        for file, path in zip(files, paths):
            record = await rattler.RepoDataRecord.from_package_archive(Path(path))
            if record.sha256 is not None and record.sha256.hex() != file.sha256:
                raise CreateError("the local copy %s does not hash to the lock's sha256" % path,
                                  package=file.filename)
            record.url = Path(path).resolve().as_uri()  # read the verified local copy
            record.channel = channel_of(file.url)
            records.append(record)
        await rattler.install(
            records, target_prefix=prefix, cache_dir=cache.conda_packages_dir,
            execute_link_scripts=False, show_progress=False)

    try:
        with log.timed("rattler install: %d conda packages into %s (package cache %s)"
                       % (len(files), prefix, cache.conda_packages_dir), announce=True):
            run_sync(install)
    except CreateError:
        raise
    except Exception as exc:
        raise CreateError("linking %d conda packages of environment %s into %s failed: %s"
                          % (len(files), lock.full_id, prefix, str(exc).strip())) from exc
    _record_origins(prefix, files)


def _record_origins(prefix: Path, files: Sequence[LockedFile]) -> None:
    """conda-meta/<name>-<version>-<build>.json: the lock's URL, not the cache path."""
    by_filename = {f.filename: f for f in files}
    for record_path in sorted((prefix / "conda-meta").glob("*.json")):
        try:
            data = json.loads(record_path.read_text())
        except ValueError:
            continue
        file = by_filename.get(data.get("fn", ""))
        if file is None:
            continue
        data["url"] = file.url
        data["channel"] = channel_of(file.url)
        write_text(record_path, json.dumps(data, indent=2, sort_keys=True))

"""Creator: a Lock plus the store become a ready prefix on this machine, from the
store's copies only, verified, built aside and marked complete last."""

from __future__ import annotations

import json
import os
import shutil
import time
import traceback
from pathlib import Path

from ..cache import LocalCache
from ..errors import CreateError, FlowenvError
from ..filelock import file_lock
from ..interpreters import InterpreterFinder
from ..lock import Lock
from ..progress import SILENT, Progress
from ..store import Store
from .pypi import install_wheels, make_venv

COMPLETE_MARKER = ".flowenv-complete"
# Appends FLOWENV_SITE_APPEND's folders to sys.path *after* site-packages, so a host
# (Metaflow) can provide its own runtime needs without shadowing the env's packages.
SITE_HOOK = (  # one line, no comprehension: site.py execs it in a bare namespace
    "import os, site; list(map(site.addsitedir, filter(None, "
    "os.environ.get('FLOWENV_SITE_APPEND', '').split(os.pathsep))))\n"
)

__all__ = ["create_env", "env_python", "is_complete", "COMPLETE_MARKER"]


def env_python(prefix: Path) -> Path:
    return Path(prefix) / "bin" / "python"


def is_complete(prefix: Path) -> bool:
    return (Path(prefix) / COMPLETE_MARKER).is_file()


def fetch_from_store(files, store: Store, cache: LocalCache) -> list:
    """Local, verified copies of the files, taken from the store when not cached yet."""
    paths = []
    for file in files:
        path = cache.package_path(file)
        if not path.is_file():
            store.packages.download(file, path)
        paths.append(path)
    return paths


def create_env(
    lock: Lock,
    store: Store,
    cache: LocalCache,
    finder: InterpreterFinder,
    dest: Path = None,
    progress: Progress = SILENT,
) -> Path:
    """The prefix of lock's environment, created if needed. Safe to call from many
    processes at once: one builds, the others wait and reuse."""
    prefix = Path(dest) if dest else cache.env_prefix(lock.full_id)
    if is_complete(prefix):
        return prefix
    lock_path = cache.env_lock(lock.full_id) if dest is None else prefix.with_name(prefix.name + ".lock")
    with file_lock(lock_path, "creating environment %s" % lock.full_id,
                   on_wait=lambda: progress.say("Waiting for another process creating %s" % lock.full_id)):
        if is_complete(prefix):
            return prefix
        if prefix.exists():
            shutil.rmtree(prefix)  # a half-made env from a killed process
        start = time.monotonic()
        try:
            with progress.task("Creating environment %s (%d packages)" % (lock.full_id[:12], len(lock.files))):
                _build(lock, store, cache, finder, prefix)
        except FlowenvError:
            shutil.rmtree(prefix, ignore_errors=True)
            raise
        except Exception as exc:
            shutil.rmtree(prefix, ignore_errors=True)
            where = traceback.extract_tb(exc.__traceback__)[-1]
            raise CreateError("Creating environment %s failed: %s: %s (%s:%d)" % (
                lock.full_id, type(exc).__name__, exc, os.path.basename(where.filename),
                where.lineno)) from exc
        marker = {"full_id": lock.full_id, "seconds": round(time.monotonic() - start, 3)}
        tmp = prefix / (COMPLETE_MARKER + ".tmp")
        tmp.write_text(json.dumps(marker))
        os.replace(tmp, prefix / COMPLETE_MARKER)
    return prefix


def _build(lock: Lock, store: Store, cache: LocalCache, finder: InterpreterFinder, prefix: Path):
    conda_files = lock.by_kind("conda")
    wheels = lock.by_kind("wheel")
    if conda_files:
        from .conda import install_conda

        install_conda(lock, fetch_from_store(conda_files, store, cache), prefix, cache)
        python = env_python(prefix)
    else:
        interpreter = finder.find(lock.python_minor, prefer=lock.python)
        make_venv(interpreter.path, prefix)
        python = env_python(prefix)
    if wheels:
        install_wheels(python, fetch_from_store(wheels, store, cache))
    for site_packages in prefix.glob("lib/python*/site-packages"):
        (site_packages / "zz_flowenv_site_append.pth").write_text(SITE_HOOK)

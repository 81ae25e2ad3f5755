"""Create a step's environment on a fresh machine from the store alone, then point a
stable path at it:

    python -m flowenv.bootstrap --store URL --env REF --tools ID --link DIR

REF is an environment id or an alias (with @{VAR} expanded here, at execution time).
Runs on a bare interpreter: the tools (uv, packaging, py-rattler) come from the store.
This is an edge of the core: it reads the settings from the container's environment.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _main(args) -> None:
    start = time.monotonic()
    from .cache import LocalCache
    from .progress import PLAIN, Progress
    from .debuglog import debug_log
    from .refs import expand_vars, is_full_id
    from .settings import Settings
    from .store import Store
    from .store.transfer import Transfer
    from .tools import unpack_wheels
    from .verify import is_intact

    # Until the tools are unpacked, only the standard library (and the store's SDK) is here.
    settings = Settings.load()
    if args.cache:
        settings = settings.replace(cache_dir=Path(args.cache).resolve())
    log = debug_log(settings.debug)
    store = Store.open(args.store, settings, log)
    cache = LocalCache(settings.cache_dir)
    # A task log: one line per phase, with its duration.
    progress = Progress(mode=PLAIN, echo=_log, announce=False)
    tools = store.envs.get(args.tools)
    wheels = [cache.package_path(file) for file in tools.files]
    Transfer(store.packages, settings.fetch_concurrency, progress).fetch_all(
        [(f, p) for f, p in zip(tools.files, wheels) if not is_intact(p, f)], "tool files")
    site = unpack_wheels(wheels, cache.tools_dir(tools.full_id))
    sys.path.insert(0, str(site))
    settings = settings.replace(uv_bin=str(site / "bin" / "uv"))

    from .environments import Environments
    from .platforms import host_platform

    envs = Environments(store, cache, progress=progress, settings=settings, log=log)
    ref = expand_vars(args.env, "--env", settings.environ)
    lock = envs.store.envs.get(ref) if is_full_id(ref) else envs.lookup(ref, host_platform())
    prefix = envs.create(lock)
    link = Path(args.link)
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(Path(prefix).resolve(), target_is_directory=True)
    Path(str(link) + ".id").write_text(lock.full_id)
    _log("environment %s ready (%d packages) in %.1f s"
         % (lock.full_id, len(lock.files), time.monotonic() - start))


def _log(message: str) -> None:
    print("flowenv: %s" % message, file=sys.stderr, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flowenv.bootstrap", description=__doc__)
    parser.add_argument("--store", required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--tools", required=True)
    parser.add_argument("--link", required=True)
    parser.add_argument("--cache", default=None)
    args = parser.parse_args(argv)
    from .errors import FlowenvError

    try:
        _main(args)
    except FlowenvError as exc:
        print("flowenv: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

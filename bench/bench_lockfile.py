"""Taking a 30-package lock in, against resolving the same requirements.

Offline: 30 small wheels (with dependencies between them, several versions each) are built
at start and served by a local HTTP index on 127.0.0.1 (tests/httpindex.py); `uv lock`
writes the project's uv.lock against it. Each figure is the median of --runs runs, each
with an empty store, flowenv cache and uv cache:

- resolve: `Environments.resolve` of the project's requirements (uv resolves, then the
  30 files are fetched, verified and stored), the baseline;
- lock: `Environments.import_lock` of the uv.lock (no resolver; the same 30 files fetched,
  verified and stored), with the index pages unreachable;
- and the same two without storing anything (`solve_only`, `lock_from_file`).

    .venv/bin/python bench/bench_lockfile.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.httpindex import serve  # noqa: E402
from tests.lockmaker import uv_lock, uv_project  # noqa: E402
from tests.wheelhouse import make_wheel, write_simple_index  # noqa: E402

from flowenv.cache import LocalCache  # noqa: E402
from flowenv.environments import Environments  # noqa: E402
from flowenv.lockfiles import read_lock_file  # noqa: E402
from flowenv.settings import Settings  # noqa: E402
from flowenv.spec import Spec  # noqa: E402
from flowenv.store import Store  # noqa: E402

COUNT = 30
PYTHON = "%d.%d" % sys.version_info[:2]


def build_wheels(folder: Path) -> list:
    """pkg01..pkg30, versions 1.0, 1.1 and 2.0; pkgN needs pkgN+10 and pkgN+20 (>=1.1):
    ten top-level requirements whose closure is all thirty."""
    for n in range(1, COUNT + 1):
        needs = ["pkg%02d>=1.1" % m for m in (n + 10, n + 20) if m <= COUNT]
        for version in ("1.0", "1.1", "2.0"):
            make_wheel(folder, "pkg%02d" % n, version, needs,
                       module_code="DATA = %r\n" % ("x" * 20000))
    write_simple_index(folder)
    return ["pkg%02d<2" % n for n in range(1, 11)]


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def fresh(root: Path) -> Environments:
    os.environ["UV_CACHE_DIR"] = str(root / "uv-cache")
    return Environments(Store.open(str(root / "store")), LocalCache(root / "cache"),
                        settings=Settings.load())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for var in [v for v in os.environ if v.startswith(("UV_", "PIP_"))]:
        del os.environ[var]
    os.environ["UV_NO_CONFIG"] = "1"
    os.environ["PIP_CONFIG_FILE"] = os.devnull
    with tempfile.TemporaryDirectory(prefix="flowenv-bench-lock-") as tmp:
        work = Path(tmp)
        requirements = build_wheels(work / "wheels")
        with serve(work / "wheels") as server:
            index = server.url + "/simple"
            project = uv_project(work / "project", requirements, python=PYTHON)
            lock_path = uv_lock(project, index, work / "uv-lock-cache")
            spec = Spec(pypi=tuple(requirements), python=PYTHON, index_url=index,
                        origin="the project's requirements")
            figures = {k: [] for k in ("resolve", "lock", "resolve, nothing stored",
                                       "lock, nothing stored")}
            for i in range(args.runs):
                root = work / ("run%d" % i)
                server.index_back()
                seconds, resolved = timed(lambda: fresh(root / "r").resolve(spec))
                figures["resolve"].append(seconds)
                figures["resolve, nothing stored"].append(
                    timed(lambda: fresh(root / "rd").solve_only(spec))[0])
                server.index_down()
                seconds, taken = timed(lambda: fresh(root / "l").import_lock(
                    read_lock_file(lock_path)))
                figures["lock"].append(seconds)
                figures["lock, nothing stored"].append(timed(
                    lambda: fresh(root / "ld").lock_from_file(read_lock_file(lock_path)))[0])
                assert not server.index_requests, server.index_requests
                assert len(taken.files) == COUNT and taken.full_id == resolved.full_id
    medians = {k: statistics.median(v) for k, v in figures.items()}
    print("%d packages, median of %d runs, empty caches and store each run" % (COUNT, args.runs))
    print("%-26s %9s %10s" % ("", "seconds", "vs resolve"))
    for label, baseline in (("resolve", "resolve"), ("lock", "resolve"),
                            ("resolve, nothing stored", "resolve, nothing stored"),
                            ("lock, nothing stored", "resolve, nothing stored")):
        print("%-26s %9.3f %9.2fx" % (label, medians[label], medians[label] / medians[baseline]))


if __name__ == "__main__":
    main()

"""Co-resolution: `resolve --arch linux-64 --arch osx-arm64` resolved together (one version
of each shared package) against each platform on its own (--per-platform).

Runs offline against a local wheel index built at start: 24 packages with three versions
each, for both platforms; in the "held back" case the newest version of a quarter of them
has Linux wheels only, so the platforms first disagree and are resolved again. Nothing is
stored (a dry run). Each figure is the median of --runs runs, warm uv cache.

    .venv/bin/python bench/bench_together.py [--runs 5]
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

from tests.wheelhouse import make_wheel, write_simple_index  # noqa: E402

from flowenv.cache import LocalCache  # noqa: E402
from flowenv.environments import Environments  # noqa: E402
from flowenv.settings import Settings  # noqa: E402
from flowenv.spec import Spec  # noqa: E402
from flowenv.store import Store  # noqa: E402

PLATFORMS = ("linux-64", "osx-arm64")
TAGS = {"linux-64": "py3-none-manylinux_2_17_x86_64", "osx-arm64": "py3-none-macosx_11_0_arm64"}
COUNT = 24


def build(folder: Path, held_back: bool) -> None:
    for i in range(COUNT):
        name = "pkg%02d" % i
        requires = ["pkg%02d" % (i + 1)] if i + 1 < COUNT and i % 3 == 0 else []
        for version in ("1.0", "2.0", "3.0"):
            linux_only = held_back and version == "3.0" and i % 4 == 0
            for platform in PLATFORMS:
                if linux_only and platform != "linux-64":
                    continue
                make_wheel(folder, name, version, requires, tag=TAGS[platform])
    write_simple_index(folder)


def median_seconds(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-together-") as work:
        work = Path(work)
        os.environ["UV_CACHE_DIR"] = str(work / "uv-cache")
        envs = Environments(Store.open(str(work / "store")), LocalCache(work / "cache"),
                            settings=Settings.load())
        python = "%d.%d" % sys.version_info[:2]
        for case, held_back in (("all agree", False), ("held back", True)):
            folder = work / case.replace(" ", "-")
            build(folder, held_back)
            spec = Spec(pypi=tuple("pkg%02d" % i for i in range(COUNT)), python=python,
                        index_url=(work / "empty").as_uri(), find_links=(str(folder),))
            (work / "empty").mkdir(exist_ok=True)
            each = lambda: [envs.solve_only(spec, p) for p in PLATFORMS]  # noqa: E731
            together = lambda: envs.resolve_together(spec, PLATFORMS, store=False)  # noqa: E731
            each(), together()  # warm uv's cache
            alone = median_seconds(each, args.runs)
            joint = median_seconds(together, args.runs)
            versions = {f.name: f.version for f in together()[1].files}
            print("%-10s per platform %.2f s, together %.2f s (%.2fx); pkg00 %s"
                  % (case, alone, joint, joint / alone, versions["pkg00"]))


if __name__ == "__main__":
    main()

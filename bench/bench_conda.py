"""Conda and mixed environments: solve and create times, cold and warm.

Runs offline against a local conda channel and wheel index built at start
(tests/condachannel.py, tests/wheelhouse.py). Each figure is the median of --runs runs;
ratios are to baselines measured in the same run: warm vs cold, and creation vs
`python -m venv --without-pip` (the cheapest way to get *any* environment here).

    .venv/bin/python bench/bench_conda.py [--runs 5]

cold = empty flowenv cache (repodata, package cache, uv cache) and an empty store;
warm = the same caches a second time (create: a second prefix of the same lock).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.condachannel import build_channel  # noqa: E402
from tests.wheelhouse import DEFAULT_PACKAGES, build_index  # noqa: E402

from flowenv.cache import LocalCache  # noqa: E402
from flowenv.settings import Settings  # noqa: E402
from flowenv.environments import Environments  # noqa: E402
from flowenv.spec import Spec  # noqa: E402
from flowenv.store import Store  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def check(prefix: Path, modules):
    code = "import %s" % ", ".join(modules)
    subprocess.run([str(prefix / "bin" / "python"), "-c", code], check=True)


def measure(spec: Spec, modules, work: Path, runs: int) -> dict:
    figures = {"solve cold": [], "solve warm": [], "create cold": [], "create warm": []}
    for i in range(runs):
        root = work / str(i)
        os.environ["FLOWENV_CACHE_DIR"] = str(root / "cache")
        os.environ["UV_CACHE_DIR"] = str(root / "uv-cache")
        envs = Environments(Store.open(str(root / "store")), LocalCache(root / "cache"),
                            settings=Settings.load())
        seconds, lock = timed(lambda: envs.solve_only(spec))
        figures["solve cold"].append(seconds)
        figures["solve warm"].append(timed(lambda: envs.solve_only(spec))[0])
        envs.publish(lock, spec)  # the store's copies: what creation reads
        seconds, prefix = timed(lambda: envs.create(lock))
        figures["create cold"].append(seconds)
        seconds, second = timed(lambda: envs.create(lock, dest=root / "second"))
        figures["create warm"].append(seconds)
        if i == 0:
            check(prefix, modules)
            check(second, modules)
    return {k: statistics.median(v) for k, v in figures.items()}


def venv_baseline(work: Path, runs: int) -> float:
    times = []
    for i in range(runs):
        times.append(timed(lambda: subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(work / ("venv%d" % i))],
            check=True))[0])
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("UV_OFFLINE", "1")
    os.environ["UV_NO_CONFIG"] = "1"
    with tempfile.TemporaryDirectory(prefix="flowenv-bench-conda-") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        channel = build_channel(work / "channel")
        wheels = build_index(work / "wheels", tuple(DEFAULT_PACKAGES) + (("pypiuser", "1.0", ("condalib>=1",)),))
        (work / "empty-index").mkdir()
        print("setup (channel + wheels): %.2f s" % (time.perf_counter() - start))
        os.environ["FLOWENV_CONDA_CHANNELS"] = channel
        python = "%d.%d" % sys.version_info[:2]
        cases = {
            "conda": (Spec(conda=("condalib",), python=python), ["condalib", "condadep"]),
            "mixed": (Spec(conda=("condalib 1.0",), pypi=("beta", "delta", "pypiuser"),
                           python=python, index_url=(work / "empty-index").as_uri(),
                           find_links=(str(wheels),)),
                      ["condalib", "beta", "alpha", "delta", "gamma", "pypiuser"]),
        }
        baseline = venv_baseline(work / "venvs", args.runs)
        print("baseline: python -m venv --without-pip: %.3f s (median of %d)\n" % (baseline, args.runs))
        print("%-6s %-12s %9s %14s %16s" % ("env", "step", "seconds", "vs cold", "vs python -m venv"))
        for name, (spec, modules) in cases.items():
            figures = measure(spec, modules, work / name, args.runs)
            for step in ("solve", "create"):
                cold, warm = figures[step + " cold"], figures[step + " warm"]
                for label, value in (("cold", cold), ("warm", warm)):
                    print("%-6s %-12s %9.3f %13.2fx %15.2fx" % (
                        name, "%s %s" % (step, label), value, value / cold, value / baseline))
        print("\ntotal: %.1f s" % (time.perf_counter() - start))


if __name__ == "__main__":
    main()

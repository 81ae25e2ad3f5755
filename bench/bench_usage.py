"""What recording use costs, and what a gc scan costs.

Every Python started in a flowenv environment runs its start-up hook (it holds the env in
use and stamps its last use: one open, one flock, one utime); every use by a launcher adds
the same. Figures are medians of --runs runs, with ratios to baselines measured in the
same run:

- interpreter start (`python -c pass`) in an environment with the hook, against the same
  environment with the hook's .pth removed (CPU time of the child, which the machine's
  load disturbs less than wall time, and wall time);
- `Environments.create` of an existing environment (hold + stamp), against the check it
  did before (its completion marker read);
- `gc --dry-run` over N environments, against listing their folders.

    .venv/bin/python bench/bench_usage.py [--runs 30] [--envs 12]

Offline: a local wheel index built at start (tests/wheelhouse.py).
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.wheelhouse import build_index  # noqa: E402

from flowenv.cache import LocalCache  # noqa: E402
from flowenv.cleanup import collect  # noqa: E402
from flowenv.create import completed_id, env_python  # noqa: E402
from flowenv.create.hook import PTH  # noqa: E402
from flowenv.environments import Environments  # noqa: E402
from flowenv.settings import Settings  # noqa: E402
from flowenv.spec import Spec  # noqa: E402
from flowenv.store import Store  # noqa: E402


def median_time(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--envs", type=int, default=12, help="at most 12")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-usage-") as tmp:
        tmp = Path(tmp)
        index = build_index(tmp / "wheels")
        settings = Settings.load({**os.environ, "UV_CACHE_DIR": str(tmp / "uv"),
                                  "FLOWENV_COMPILE_BYTECODE": "no"})
        envs = Environments(Store.open(str(tmp / "store")), LocalCache(tmp / "cache"),
                            settings=settings)
        spec = Spec(pypi=("alpha==1.0.0",), python="%d.%d" % sys.version_info[:2],
                    index_url=(tmp / "empty").as_uri(), find_links=(str(index),))
        (tmp / "empty").mkdir()
        lock = envs.resolve(spec)
        prefix = envs.create(lock)
        python = str(env_python(prefix))

        pth = next(prefix.glob("lib/python*/site-packages")) / PTH
        saved = pth.read_text()
        wall = {True: [], False: []}
        cpu = {True: [], False: []}
        for run in range(2 * args.runs):  # interleaved: the machine's load hits both alike
            hooked = run % 2 == 0
            if hooked:
                pth.write_text(saved)
            else:
                pth.unlink()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([python, "-c", "pass"], check=True)
            wall[hooked].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[hooked].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        pth.write_text(saved)
        for name, times in (("CPU time", cpu), ("wall time", wall)):
            hooked, plain = (statistics.median(times[h]) for h in (True, False))
            print("interpreter start in an env, %s: %.1f ms with the hook, %.1f ms without "
                  "(%.2fx)" % (name, hooked * 1e3, plain * 1e3, hooked / plain))

        reuse = median_time(lambda: envs.create(lock), args.runs * 10)
        marker = median_time(lambda: completed_id(prefix) == lock.full_id, args.runs * 10)
        print("create() of an existing env: %.3f ms (hold + stamp), marker check alone "
              "%.3f ms (%.2fx)" % (reuse * 1e3, marker * 1e3, reuse / marker))

        combos = list(itertools.product(("alpha==1.0.0", "alpha==2.0.0"),
                                        ("gamma==0.1.0", "gamma==0.2.0", "gamma==0.3.0"),
                                        ("epsilon==1.0.0", None)))
        for pins in combos[:args.envs]:
            envs.create(envs.resolve(spec.replace(pypi=tuple(p for p in pins if p))))
        envs.holds.release_all()
        count = len([p for p in envs.cache.envs_dir.iterdir() if p.is_dir()])
        scan = median_time(lambda: collect(envs.cache, 0, dry_run=True), 5)
        listing = median_time(lambda: [p.stat() for p in envs.cache.envs_dir.iterdir()], 5)
        print("gc --dry-run over %d environments (and their packages): %.1f ms (listing "
              "the environments: %.2f ms, %.0fx)"
              % (count, scan * 1e3, listing * 1e3, scan / listing))


if __name__ == "__main__":
    main()

"""Environment creation from the store: cold, warm and fully warm, against two baselines
measured in the same run.

    .venv/bin/python bench/bench_store.py            # pandas, scikit-learn, requests from PyPI
    .venv/bin/python bench/bench_store.py --offline  # small local wheel index, no network

The store is a local folder, populated once by a resolve (not timed against anything).
- cold: empty FLOWENV_CACHE_DIR and UV_CACHE_DIR; packages come from the store.
- warm: the package cache is populated; the env is deleted, so it is re-created.
- fully warm: the env is already there (what every task after the first one pays).
Baselines: `python -m venv` + `pip install --no-deps` of the same pinned wheel files from a
local folder; and `uv venv` + `uv pip install` of the same pins from the index (PyPI, or
the local index with --offline) with an empty uv cache.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

REALISTIC = ("pandas==2.2.3", "scikit-learn==1.5.2", "requests==2.32.3")
OFFLINE = ("alpha==1.0.0", "beta==1.0.0", "delta==3.0.0")


def run(cmd, env=None):
    proc = subprocess.run([str(c) for c in cmd], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("%s failed:\n%s\n%s" % (" ".join(map(str, cmd)), proc.stdout[-3000:], proc.stderr[-3000:]))


def clock(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offline", action="store_true", help="use a local wheel index (tests/wheelhouse)")
    parser.add_argument("--runs", type=int, default=3, help="repeats for flowenv's figures (median)")
    parser.add_argument("--baseline-runs", type=int, default=1,
                        help="repeats for the baselines (median; pip's takes ~20 s a run)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()

    from flowenv import Environments, Settings, Spec, Store
    from flowenv.cache import LocalCache
    from flowenv.uv_runner import installed_uv as uv_binary

    root = Path(tempfile.mkdtemp(prefix="flowenv-bench-store-"))
    requirements = OFFLINE if args.offline else REALISTIC
    for var in ("UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS", "UV_OFFLINE", "FLOWENV_STORE"):
        os.environ.pop(var, None)
    if args.offline:
        from tests.wheelhouse import build_index, simple_index_url

        os.environ["UV_INDEX_URL"] = simple_index_url(build_index(root / "index"))
    base_env = dict(os.environ, PIP_FIND_LINKS="", PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1")

    try:
        print("flowenv store benchmark (%s), work dir %s" % ("local index" if args.offline else "PyPI", root))
        print("requirements: %s" % ", ".join(requirements))

        # -- populate the store (a resolve on "another machine": its own caches) -----------
        store = Store.open(str(root / "store"))
        os.environ["UV_CACHE_DIR"] = str(root / "uv-resolve")
        publisher = Environments(store, LocalCache(root / "cache-resolve"), settings=Settings.load())
        spec = Spec(pypi=requirements, origin="bench")
        resolve_s = clock(lambda: publisher.resolve(spec))
        lock = publisher.resolve(spec)
        wheels = root / "wheels"  # the same pinned files, flat, for the pip baseline
        wheels.mkdir()
        for f in lock.files:
            shutil.copy(publisher.cache.package_path(f), wheels / f.filename)
        size = sum(f.size or 0 for f in lock.files) / 1e6
        print("resolved %d files (%.1f MB) into the store in %.2f s; Python %s"
              % (len(lock.files), size, resolve_s, lock.python))

        # -- baselines -------------------------------------------------------------------
        def pip_baseline(n):
            venv = root / ("pip-venv-%d" % n)
            run([sys.executable, "-m", "venv", venv], base_env)
            run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-deps",
                 "--no-index", "--no-cache-dir", *sorted(wheels.glob("*.whl"))], base_env)

        pins = root / "pins.txt"
        pins.write_text("".join("%s==%s\n" % (f.name, f.version) for f in lock.files))

        def uv_baseline(n):
            venv = root / ("uv-venv-%d" % n)
            env = dict(base_env, UV_CACHE_DIR=str(root / ("uv-empty-%d" % n)), UV_PYTHON_DOWNLOADS="never")
            run([uv_binary(), "venv", "--quiet", "--no-config", "--python", sys.executable, venv], env)
            run([uv_binary(), "pip", "install", "--quiet", "--no-config", "--python",
                 venv / "bin" / "python", "-r", pins], env)

        pip_s = statistics.median(clock(lambda n=n: pip_baseline(n)) for n in range(args.baseline_runs))
        uv_s = statistics.median(clock(lambda n=n: uv_baseline(n)) for n in range(args.baseline_runs))

        # -- flowenv: cold, warm, fully warm ----------------------------------------------
        def cold(n):
            os.environ["UV_CACHE_DIR"] = str(root / ("uv-cold-%d" % n))
            envs = Environments(store, LocalCache(root / ("cache-cold-%d" % n)), settings=Settings.load())
            return clock(lambda: envs.create(lock))

        cold_s = statistics.median(cold(n) for n in range(args.runs))
        fetch_s = clock(lambda: Environments(store, LocalCache(root / "cache-fetch"),
                                             settings=Settings.load()).local_copies(lock.files))

        os.environ["UV_CACHE_DIR"] = str(root / "uv-warm")
        warm_cache = LocalCache(root / "cache-warm")
        Environments(store, warm_cache, settings=Settings.load()).create(lock)  # populates the package cache

        def warm():
            shutil.rmtree(warm_cache.env_prefix(lock.full_id))
            envs = Environments(store, warm_cache, settings=Settings.load())  # a new process would start like this
            return clock(lambda: envs.create(lock))

        warm_s = statistics.median(warm() for _ in range(args.runs))
        ready_s = statistics.median(clock(lambda: Environments(store, warm_cache, settings=Settings.load()).create(lock))
                                    for _ in range(max(args.runs, 5)))

        print("\n== creating the environment (median of %d runs; baselines %d)"
              % (args.runs, args.baseline_runs))
        rows = [
            ("venv + pip install --no-deps (baseline)", pip_s),
            ("uv venv + uv pip install, empty cache, %s" % ("local index" if args.offline else "PyPI"), uv_s),
            ("flowenv from the store, cold", cold_s),
            ("flowenv, warm cache, env re-created", warm_s),
            ("flowenv, fully warm (env exists)", ready_s),
        ]
        for label, seconds in rows:
            print("%-52s %9.4f s   ratio to baseline %7.4fx" % (label, seconds, seconds / pip_s))
        print("  (of the cold figure: %.2f s copying and verifying %d files from the store)"
              % (fetch_s, len(lock.files)))
    finally:
        if args.keep:
            print("kept %s" % root)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

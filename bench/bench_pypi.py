"""PyPI environments: resolve time cold and warm (baseline: pip's resolver on the same
requirements), and a 3-step flow on one named env (baseline: --environment=local).

    .venv/bin/python bench/bench_pypi.py            # realistic set from PyPI
    .venv/bin/python bench/bench_pypi.py --offline  # small local wheel index
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

REALISTIC = "pandas==2.2.3\nscikit-learn==1.5.2\nrequests==2.32.3\n"
OFFLINE = "alpha==1.0.0\nbeta==1.0.0\ndelta==3.0.0\n"

FLOW = '''
from metaflow import FlowSpec, step, named_env_base

@named_env_base(name="bench/env:v1")
class BenchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.middle)

    @step
    def middle(self):
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    BenchFlow()
'''


def timed(cmd, cwd, env):
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit("%s failed:\n%s\n%s" % (" ".join(cmd), proc.stdout[-3000:], proc.stderr[-3000:]))
    return elapsed


def timed_cpu(cmd, cwd, env):
    """(wall seconds, CPU seconds of the command's whole process tree)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed(cmd, cwd, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offline", action="store_true", help="use a local wheel index")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="flowenv-bench-"))
    work = root / "flow"  # Metaflow packages the flow's folder: keep caches out of it
    work.mkdir()
    env = dict(os.environ)
    env.update({"UV_CACHE_DIR": str(root / "uv"), "FLOWENV_CACHE_DIR": str(root / "cache"),
                "METAFLOW_DEFAULT_DATASTORE": "local", "METAFLOW_DEFAULT_METADATA": "local"})
    if not env.get("METAFLOW_USER") and env.get("USER", "root") == "root":
        env["METAFLOW_USER"] = "bench"
    requirements = REALISTIC
    if args.offline:
        from tests.wheelhouse import build_index, simple_index_url

        index = build_index(root / "wheels")
        env["UV_INDEX_URL"] = simple_index_url(index)
        requirements = OFFLINE
    (work / ".metaflow").mkdir()
    (work / "requirements.txt").write_text(requirements)
    (work / "flow.py").write_text(textwrap.dedent(FLOW))
    # The baseline is the same flow without flowenv's decorator.
    (work / "flow_local.py").write_text(textwrap.dedent(FLOW).replace('@named_env_base(name="bench/env:v1")\n', ""))
    metaflow = [sys.executable, "-m", "metaflow.cmd.main_cli", "environment"]
    print("flowenv PyPI benchmark (%s), work dir %s" % ("local index" if args.offline else "PyPI", work))
    print("requirements: %s" % requirements.strip().replace("\n", ", "))

    # pip's resolver as the baseline: same requirements, its own cold cache.
    pip_cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
               "--no-cache-dir", "--only-binary", ":all:", "-r", "requirements.txt"]
    if args.offline:
        pip_cmd += ["--index-url", env["UV_INDEX_URL"]]
    pip_env = dict(env, PIP_CONSTRAINT="", PIP_FIND_LINKS="")
    pip_s = timed(pip_cmd, work, pip_env)

    resolve = metaflow + ["resolve", "-r", "requirements.txt", "--alias", "bench/env:v1"]
    cold = timed(resolve, work, env)  # empty uv cache, empty store: resolve + cache packages
    warm = statistics.median(timed(resolve, work, env) for _ in range(args.runs))
    print("\n== resolve")
    print("pip resolver (baseline, cold)       %7.2f s" % pip_s)
    print("flowenv resolve, cold (+store)      %7.2f s   ratio to pip %.2fx" % (cold, cold / pip_s))
    print("flowenv resolve, warm (cached)      %7.2f s   ratio to pip %.2fx  (%.0fx faster than cold)"
          % (warm, warm / pip_s, cold / warm))

    flow_env = [sys.executable, "flow.py", "--environment=conda", "run"]
    flow_local = [sys.executable, "flow_local.py", "--environment=local", "run"]
    first = timed(flow_env, work, env)  # creates the env once
    # Alternated, so that whatever else the machine does weighs on both alike; CPU time
    # (of the whole process tree) is the figure the machine's load moves least.
    pairs = []
    for _ in range(args.runs):
        pairs.append((timed_cpu(flow_env, work, env), timed_cpu(flow_local, work, env)))
    named = statistics.median(n[0] for n, _ in pairs)
    local_s = statistics.median(l[0] for _, l in pairs)
    named_cpu = statistics.median(n[1] for n, _ in pairs)
    local_cpu = statistics.median(l[1] for _, l in pairs)
    ratio = statistics.median(n[0] / l[0] for n, l in pairs)
    print("\n== 3-step flow (median of %d, alternated)" % args.runs)
    print("--environment=local (baseline)      %7.2f s   CPU %5.2f s" % (local_s, local_cpu))
    print("named env, first run (creates env)  %7.2f s   ratio %.2fx" % (first, first / local_s))
    print("named env, warm                     %7.2f s   CPU %5.2f s   ratio %.2fx (median of "
          "the pairs' ratios), CPU ratio %.2fx" % (named, named_cpu, ratio, named_cpu / local_cpu))


if __name__ == "__main__":
    main()

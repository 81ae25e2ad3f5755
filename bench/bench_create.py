"""Creating big environments, against the disk's floor, uv and boto3, every ratio measured
in the same run.

    .venv/bin/python bench/bench_create.py            # network: torch==2.5.1, pandas, scikit-learn
                                                      # (linux-64, Python 3.11: 2.9 GB of wheels,
                                                      # 5.4 GB installed; needs ~30 GB free disk)
    .venv/bin/python bench/bench_create.py --offline  # synthetic wheels (~200 MB), no network:
                                                      # what CI could run

Figures (each creation runs in a process of its own, as a user's would, with empty caches
unless said otherwise; bytecode as the machine's settings say: compiled when
PYTHONDONTWRITEBYTECODE is set, as on these machines):
- the disk: `cp -a` of the finished prefix (the floor) and its speed;
- uv: `uv venv` + `uv pip install` of the same pins from the index, empty cache, the same
  bytecode policy;
- flowenv from a local store: the first machine (compiles, shares the bytecode) and any
  later machine (unpacks it); peak memory, next to the largest wheel;
- a new environment sharing all but one package with one already created, against uv's
  warm-cache install of the same pins;
- from S3 (a moto server on loopback): a simulated pod (fresh folder and HOME, nothing
  but the store: `python -m flowenv.bootstrap`, tools included), against boto3's parallel
  download of the same bytes plus the local figure.
"""

import argparse
import base64
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TORCH = ("torch==2.5.1", "pandas==2.2.3", "scikit-learn==1.5.2")
TORCH_EXTRA = "tqdm==4.66.5"
SYNTHETIC = ("bulk-%02d==1.0" % i for i in range(12))
GB = 1e9

# Runs in a process of its own: one creation, its time and peak memory.
CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from flowenv import Environments, Settings, Store
from flowenv.cache import LocalCache
from flowenv.lock import Lock
from flowenv.progress import PLAIN, Progress
lock = Lock.from_json(Path(sys.argv[3]).read_bytes())
envs = Environments(Store.open(sys.argv[1], Settings.load()), LocalCache(sys.argv[2]),
                    settings=Settings.load(), progress=Progress(mode=PLAIN, announce=False))
start = time.perf_counter()
prefix = envs.create(lock)
seconds = time.perf_counter() - start
usage = lambda who: resource.getrusage(who).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "prefix": str(prefix),
                  "rss": usage(resource.RUSAGE_SELF), "child_rss": usage(resource.RUSAGE_CHILDREN)}))
"""


def clean_environ():
    """No pip or uv configuration of this machine reaches any measured command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "FLOWENV_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INPUT="1", UV_NO_CONFIG="1",
               UV_PYTHON_DOWNLOADS="never")
    return env


def run(cmd, env, cwd=None):
    proc = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("%s failed:\n%s\n%s" % (" ".join(map(str, cmd)), proc.stdout[-3000:],
                                         proc.stderr[-3000:]))
    return proc


def cpu_seconds() -> float:
    """CPU time of every finished child process so far: unlike wall time, barely moved by
    what else the machine is doing."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd, env, cwd=None):
    start = time.perf_counter()
    proc = run(cmd, env, cwd)
    return time.perf_counter() - start, proc


class Clock:
    """Wall and CPU time of what runs inside it (CPU: of child processes)."""

    def __enter__(self):
        settle()
        self.wall, self.cpu = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = cpu_seconds() - self.cpu

    def __str__(self):
        return "%7.2f s  (CPU %5.1f s)" % (self.wall, self.cpu)


def settle():
    """Start each figure with the disk idle: what the previous one wrote is flushed first."""
    subprocess.run(["sync"])


def create_in_child(store_url, cache, lock_file, env):
    with Clock() as clock:
        _, proc = timed([sys.executable, "-c", CHILD, store_url, cache, lock_file], env)
    figure = json.loads(proc.stdout.strip().splitlines()[-1])
    figure["cpu"] = clock.cpu
    figure["phases"] = proc.stderr.strip().splitlines()  # one line per phase, with its time
    return figure


def show_phases(figure):
    for line in figure["phases"]:
        print("      " + line)


def dir_size(path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


# -- synthetic wheels for the offline run -------------------------------------------------


def bulky_wheel(folder: Path, index: int) -> Path:
    """A wheel with 400 modules and an 8 MB half-compressible data file."""
    name = "bulk_%02d" % index
    dist = "%s-1.0" % name
    files = {}
    for m in range(400):
        body = "".join("def f%d(x):\n    return x * %d + %d\n\n" % (i, i, m) for i in range(40))
        files["%s/m%03d.py" % (name, m)] = body.encode()
    files["%s/__init__.py" % name] = b"__version__ = '1.0'\n"
    seed = hashlib.sha256(name.encode()).digest()
    files["%s/data.bin" % name] = (os.urandom(4 << 20) + seed * ((4 << 20) // 32))
    files["%s.dist-info/METADATA" % dist] = (
        "Metadata-Version: 2.1\nName: bulk-%02d\nVersion: 1.0\n" % index).encode()
    files["%s.dist-info/WHEEL" % dist] = (b"Wheel-Version: 1.0\nGenerator: bench\n"
                                          b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    record = "%s.dist-info/RECORD" % dist
    lines = ["%s,sha256=%s,%d" % (p, base64.urlsafe_b64encode(hashlib.sha256(c).digest())
                                  .rstrip(b"=").decode(), len(c)) for p, c in files.items()]
    files[record] = ("\n".join(lines + [record + ",,"]) + "\n").encode()
    path = folder / ("%s-py3-none-any.whl" % dist)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for p, content in files.items():
            zf.writestr(p, content)
    return path


def synthetic_index(folder: Path) -> str:
    from tests.wheelhouse import make_wheel, simple_index_url, write_simple_index

    folder.mkdir(parents=True)
    for i in range(12):
        bulky_wheel(folder, i)
    make_wheel(folder, "extra", "1.0")
    write_simple_index(folder)
    return simple_index_url(folder)


# -- the benchmark -------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offline", action="store_true", help="synthetic wheels, no network")
    parser.add_argument("--no-s3", action="store_true", help="skip the S3 / pod figures")
    parser.add_argument("--workdir", default=None, help="where to work (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--bytecode", choices=("auto", "yes", "no"), default="auto",
                        help="FLOWENV_COMPILE_BYTECODE for flowenv, and --compile-bytecode "
                             "for uv when yes (auto: yes when PYTHONDONTWRITEBYTECODE is set)")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="flowenv-bench-create-", dir=args.workdir))
    free = shutil.disk_usage(root).free
    if not args.offline and free < 30 * GB:
        sys.exit("%s has %.0f GB free; the PyTorch run needs about 30 GB" % (root, free / GB))
    env = clean_environ()
    if args.offline:
        env["UV_INDEX_URL"] = synthetic_index(root / "index")
        requirements, extra = tuple(SYNTHETIC), "extra==1.0"
        python, platform = "%d.%d" % sys.version_info[:2], None
    else:
        requirements, extra, python, platform = TORCH, TORCH_EXTRA, "3.11", "linux-64"
    env["FLOWENV_COMPILE_BYTECODE"] = args.bytecode
    os.environ.clear()
    os.environ.update(env)
    compiling = {"yes": True, "no": False}.get(args.bytecode,
                                               bool(env.get("PYTHONDONTWRITEBYTECODE")))

    from flowenv import Environments, Settings, Spec, Store
    from flowenv.cache import LocalCache
    from flowenv.uv_runner import installed_uv

    try:
        print("flowenv creation benchmark (%s), work dir %s; bytecode %s"
              % ("synthetic wheels, offline" if args.offline else "PyPI", root,
                 "compiled (by flowenv and uv)" if compiling else "not compiled"))
        # -- the store, as a resolving machine leaves it (not timed against anything) -----
        store_dir = root / "store"
        publisher = Environments(Store.open(str(store_dir)), LocalCache(root / "cache-resolve"),
                                 settings=Settings.load())
        start = time.perf_counter()
        lock = publisher.resolve(Spec(pypi=requirements, python=python, origin="bench"), platform)
        lock2 = publisher.resolve(Spec(pypi=requirements + (extra,), python=python,
                                       origin="bench"), platform)
        sizes = {f.sha256: publisher.store.blobs.size(publisher.store.packages.key(f.sha256))
                 for f in lock.files}
        wheels_size = sum(sizes.values())
        print("resolved and stored %d files (%.2f GB) in %.1f s; Python %s"
              % (len(lock.files), wheels_size / GB, time.perf_counter() - start, lock.python))
        changed = {f.filename for f in lock2.files} - {f.filename for f in lock.files}
        print("second environment: the same plus %s" % ", ".join(sorted(changed)))
        lock_file, lock2_file = root / "lock.json", root / "lock2.json"
        lock_file.write_bytes(lock.to_json())
        lock2_file.write_bytes(lock2.to_json())
        largest = max(sizes.values())
        interpreter = publisher.finder.find(lock.python_minor, prefer=lock.python).path

        # -- uv from the index, empty cache, same bytecode policy ------------------------
        def uv_install(venv, pins, cache):
            uv_env = dict(env, UV_CACHE_DIR=str(cache))
            run([installed_uv(), "venv", "--quiet", "--python", interpreter, venv], uv_env)
            return timed([installed_uv(), "pip", "install", "--quiet", "--no-deps",
                          "--python", Path(venv) / "bin" / "python", "-r", pins]
                         + (["--compile-bytecode"] if compiling else []), uv_env)[0]

        pins, pins2 = root / "pins.txt", root / "pins2.txt"
        pins.write_text("".join("%s==%s\n" % (f.name, f.version) for f in lock.files))
        pins2.write_text("".join("%s==%s\n" % (f.name, f.version) for f in lock2.files))
        with Clock() as uv_cold:
            uv_install(root / "uv-venv", pins, root / "uv-cache")
        shutil.rmtree(root / "uv-venv")

        # -- flowenv from the local store --------------------------------------------------
        first = create_in_child(str(store_dir), root / "cache-first", lock_file, env)
        shutil.rmtree(root / "cache-first")
        later = create_in_child(str(store_dir), root / "cache-later", lock_file, env)
        prefix = Path(later["prefix"])
        installed = dir_size(prefix)

        # -- the disk's floor: copy the finished prefix ----------------------------------
        with Clock() as copy:
            run(["cp", "-a", prefix, root / "prefix-copy"], env)
        shutil.rmtree(root / "prefix-copy")

        # -- all but one package: flowenv on the warm machine, uv with its warm cache -----
        but_one = create_in_child(str(store_dir), root / "cache-later", lock2_file, env)
        with Clock() as uv_warm:
            uv_install(root / "uv-venv2", pins2, root / "uv-cache")
        shutil.rmtree(root / "uv-venv2")
        shutil.rmtree(root / "cache-later")

        print("\n== creating the environment: %d files, %.2f GB of wheels, %.2f GB installed"
              % (len(lock.files), wheels_size / GB, installed / GB))
        print("disk: cp -a of the finished prefix   %s   %.0f MB/s"
              % (copy, installed / copy.wall / 1e6))
        print("uv venv + uv pip install, empty cache %s" % uv_cold)
        for label, figure in (("flowenv, first machine (compiles)", first),
                              ("flowenv, any later machine", later)):
            print("%-37s%7.2f s  (CPU %5.1f s)   %.2fx the copy, %.2fx uv" % (
                label, figure["seconds"], figure["cpu"], figure["seconds"] / copy.wall,
                figure["seconds"] / uv_cold.wall))
            show_phases(figure)
        print("peak memory of a creation: flowenv %.0f MB, its largest child %.0f MB; "
              "largest wheel %.0f MB" % (later["rss"] / 1e6, later["child_rss"] / 1e6,
                                         largest / 1e6))
        print("\n== a new environment sharing all but one package with one already created")
        print("uv venv + uv pip install, warm cache  %s" % uv_warm)
        print("flowenv                              %7.2f s  (CPU %5.1f s)   %.2fx uv"
              % (but_one["seconds"], but_one["cpu"], but_one["seconds"] / uv_warm.wall))
        show_phases(but_one)

        if not args.no_s3:
            s3_figures(root, store_dir, lock, lock_file, later["seconds"], env, args.offline,
                       python, platform)
        print("\n(wall time, and in brackets the CPU time of the processes measured: on an "
              "idle machine with %d cores a figure cannot go below CPU / %d)"
              % (os.cpu_count(), os.cpu_count()))
    finally:
        if args.keep:
            print("kept %s" % root)
        else:
            shutil.rmtree(root, ignore_errors=True)


def s3_figures(root, store_dir, lock, lock_file, local_s, env, offline, python, platform):
    import boto3
    from boto3.s3.transfer import TransferConfig

    from tests.servers import moto_server

    with moto_server() as server:
        s3_env = dict(env, **server.env)
        os.environ.update(server.env)
        client = boto3.client("s3", endpoint_url=server.endpoint)
        client.create_bucket(Bucket="bench")
        url = "s3://bench/flowenv"
        # The same store in S3 (packages, records, shared bytecode), uploaded in parallel.
        from concurrent.futures import ThreadPoolExecutor

        files = [p for p in store_dir.rglob("*") if p.is_file() and ".flowenv" not in p.name]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda p: client.upload_file(
                str(p), "bench", "flowenv/" + p.relative_to(store_dir).as_posix()), files))
        from flowenv import Environments, Settings, Spec, Store
        from flowenv.cache import LocalCache
        from flowenv.tools import tools_requirements

        settings = Settings.load()
        store = Store.open(url, settings)
        # What a pod fetches: the env's files and their shared bytecode.
        keys = [store.packages.key(f.sha256).path for f in lock.files]
        for f in lock.by_kind("wheel"):
            record = store.bytecode.get(f.sha256, "cpython-%s" % lock.python_minor)
            if record:
                keys.append(store.packages.key(record["sha256"]).path)
        size = sum(client.head_object(Bucket="bench", Key="flowenv/" + k)["ContentLength"]
                   for k in keys)
        target = root / "boto3"
        target.mkdir()
        config = TransferConfig()  # boto3's defaults: 10 threads, 8 MB parts

        def download(key):
            client.download_file("bench", "flowenv/" + key, str(target / key.replace("/", "_")),
                                 Config=config)

        settle()
        start = time.perf_counter()
        with ThreadPoolExecutor(config.max_request_concurrency) as pool:
            list(pool.map(download, keys))
        boto3_s = time.perf_counter() - start
        shutil.rmtree(target)

        print("\n== from S3 (moto on loopback): %d objects, %.2f GB" % (len(keys), size / GB))
        print("boto3 parallel download of those bytes  %7.2f s   (%.0f MB/s)"
              % (boto3_s, size / boto3_s / 1e6))
        print("  + the local figure                     %7.2f s" % (boto3_s + local_s))
        in_process = create_in_child(url, root / "cache-s3", lock_file, s3_env)
        shutil.rmtree(root / "cache-s3")
        print("flowenv from S3, a later machine     %7.2f s  (CPU %5.1f s)   %.2fx (boto3 + local)"
              % (in_process["seconds"], in_process["cpu"],
                 in_process["seconds"] / (boto3_s + local_s)))
        show_phases(in_process)
        if offline:
            print("(the simulated pod needs flowenv's tools from PyPI: skipped offline)")
            return
        tools = Environments(store, LocalCache(root / "cache-resolve"), settings=settings).resolve(
            Spec(pypi=tuple(tools_requirements(False)), python=python, origin="bench tools"),
            platform)
        pod = root / "pod"
        (pod / "home").mkdir(parents=True)
        pod_env = dict(s3_env, HOME=str(pod / "home"), PYTHONPATH=str(REPO))
        with Clock() as pod_clock:
            _, proc = timed([sys.executable, "-m", "flowenv.bootstrap", "--store", url,
                             "--env", lock.full_id, "--tools", tools.full_id,
                             "--link", pod / "step-env", "--cache", pod / "cache"],
                            pod_env, cwd=pod)
        print("simulated pod, bootstrap and tools %s   %.2fx (boto3 + local)"
              % (pod_clock, pod_clock.wall / (boto3_s + local_s)))
        for line in proc.stderr.splitlines():
            if line.startswith("flowenv:"):
                print("  " + line)
        shutil.rmtree(pod, ignore_errors=True)


if __name__ == "__main__":
    main()

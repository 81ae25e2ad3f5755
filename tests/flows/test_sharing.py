"""Team-wide sharing on S3 (a moto server on loopback), run for real through the CLI.

Machine A resolves and names an environment in the S3 datastore. Machine B (its own HOME,
empty caches, no package index at all) runs a flow on that name: its steps are built from
the store's copies only. A tampered blob in the store stops B with a clear message and
leaves nothing half-made behind. Concurrent CLI processes racing for one alias see S3's
own preconditions: one wins an immutable tag, every move of a mutable tag is kept.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests import servers
from tests.conftest import isolated_from_machine
from tests.flows.conftest import FlowRunner
from tests.flows.test_seed_flows import CHECK
from tests.wheelhouse import simple_index_url

pytestmark = pytest.mark.timeout(180)

SHARED = "team/shared-env:v1"
PINS = "alpha==1.0.0\ngamma==0.2.0\n"
PREFIX = "metaflow"  # the datastore root inside the bucket

FLOW = CHECK + '''
from metaflow import FlowSpec, step, named_env_base

@named_env_base(name="team/shared-env:v1")
class SharedFlow(FlowSpec):
    @step
    def start(self):
        assert versions("alpha", "gamma", "beta") == {"alpha": "1.0.0", "gamma": "0.2.0", "beta": None}
        # Metaflow's own S3 needs come from the launcher, after the env's packages.
        import alpha, boto3
        assert "envs-v1" in alpha.__file__ and "metaflow-support-v1" in boto3.__file__, (alpha.__file__, boto3.__file__)
        assert sys.path.index(os.path.dirname(os.path.dirname(alpha.__file__))) < sys.path.index(
            os.path.dirname(os.path.dirname(boto3.__file__)))
        self.exe = sys.executable
        self.next(self.end)

    @step
    def end(self):
        assert versions("alpha", "gamma") == {"alpha": "1.0.0", "gamma": "0.2.0"}
        assert self.exe == sys.executable

if __name__ == "__main__":
    SharedFlow()
'''


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto():
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(servers.moto_server())
        except servers.ServerUnavailable as exc:
            pytest.skip("S3 sharing tests need moto: %s" % exc)
        yield server


@pytest.fixture
def bucket(moto):
    """A fresh bucket: (name, boto3 client)."""
    import boto3

    name = "flowenv-share-%s" % uuid.uuid4().hex[:12]
    client = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1",
    ).client("s3", endpoint_url=moto.endpoint)
    client.create_bucket(Bucket=name)
    return name, client


def _store(bucket):
    from flowenv import Store
    from flowenv.store.s3 import S3BlobStore

    name, client = bucket
    return Store.over(S3BlobStore(name, PREFIX + "/flowenv", client=client))


@pytest.fixture
def machine(tmp_path, moto, bucket):
    """machine(name, index_url, **env) -> a FlowRunner with its own HOME and caches,
    pointed at the S3 datastore in `bucket`."""

    def make(name, index_url, **extra):
        root = tmp_path / name
        (root / "home").mkdir(parents=True)
        env = isolated_from_machine(dict(os.environ))
        for var in ("FLOWENV_STORE", "METAFLOW_DATASTORE_SYSROOT_LOCAL", "UV_OFFLINE"):
            env.pop(var, None)
        env.update(moto.env)
        env.update({
            "HOME": str(root / "home"),
            "FLOWENV_CACHE_DIR": str(root / "flowenv-cache"),
            "UV_CACHE_DIR": str(root / "uv-cache"),
            "UV_INDEX_URL": index_url,
            "METAFLOW_DATASTORE_SYSROOT_S3": "s3://%s/%s" % (bucket[0], PREFIX),
            "METAFLOW_DEFAULT_METADATA": "local",
            "METAFLOW_DEFAULT_DATASTORE": "local",  # every command says --datastore=s3
        })
        env.update(extra)
        work = root / "work"
        work.mkdir()
        return FlowRunner(work, env)

    return make


@pytest.fixture
def machine_a(tmp_path, wheel_index, machine):
    """Machine A, with a private copy of the wheel index (removed with `forget_index`)."""
    copy = tmp_path / "A-wheels"
    shutil.copytree(wheel_index, copy)
    runner = machine("A", simple_index_url(copy))
    runner.forget_index = lambda: shutil.rmtree(copy)
    return runner


@pytest.fixture
def machine_b(tmp_path, machine):
    """Machine B: empty caches, and no index it could reach (uv offline, index missing)."""
    return machine("B", (tmp_path / "no-such-index" / "simple").as_uri(), UV_OFFLINE="1")


def publish(runner, requirements, alias):
    runner.write("req.txt", requirements)
    return runner.metaflow("environment", "--datastore=s3", "resolve", "-r", "req.txt",
                           "--alias", alias)


def run_flow(runner, check=True):
    runner.write("flow.py", FLOW)
    return runner.run(sys.executable, "flow.py", "--datastore=s3", "--environment=conda", "run",
                      check=check)


def shared_lock(bucket):
    """The lock SHARED names in the bucket, read with the test's own S3 client."""
    from flowenv import Alias

    store = _store(bucket)
    (full_id,) = store.aliases.get(Alias.parse(SHARED)).envs.values()
    return store.envs.get(full_id)


def half_made_envs(runner):
    envs = Path(runner.env["FLOWENV_CACHE_DIR"]) / "envs-v1"
    if not envs.is_dir():
        return []
    return [p.name for p in envs.iterdir()
            if p.is_dir() and not (p / ".flowenv-complete").is_file()]


# -- a second machine ------------------------------------------------------------------------


def test_second_machine_runs_from_the_store_alone(machine_a, machine_b, bucket):
    publish(machine_a, PINS, SHARED)
    machine_a.forget_index()  # nothing but the store is left to build from

    lock = shared_lock(bucket)
    assert sorted((f.name, f.version) for f in lock.files) == [("alpha", "1.0.0"), ("gamma", "0.2.0")]
    name, client = bucket
    listed = client.list_objects_v2(Bucket=name, Prefix=PREFIX + "/flowenv/v1/packages/")
    keys = {item["Key"] for item in listed.get("Contents", ())}
    assert keys == {"%s/flowenv/v1/packages/%s/%s" % (PREFIX, f.sha256[:2], f.sha256)
                    for f in lock.files}

    proc = run_flow(machine_b)
    out = proc.stdout + proc.stderr
    assert "Done!" in out
    assert lock.full_id[:12] in out and SHARED in out
    env_prefix = Path(machine_b.env["FLOWENV_CACHE_DIR"]) / "envs-v1" / lock.full_id
    assert (env_prefix / ".flowenv-complete").is_file()
    assert half_made_envs(machine_b) == []
    # B's package cache holds exactly the store's copies.
    cached = sorted(p.name for p in (Path(machine_b.env["FLOWENV_CACHE_DIR"]) / "pkgs-v1").rglob("*.whl"))
    assert cached == sorted(f.filename for f in lock.files)


def test_tampered_blob_stops_the_second_machine_cleanly(machine_a, machine_b, bucket):
    publish(machine_a, PINS, SHARED)
    store = _store(bucket)
    lock = shared_lock(bucket)
    alpha = next(f for f in lock.files if f.name == "alpha")
    name, client = bucket
    client.put_object(Bucket=name, Key="%s/flowenv/%s" % (PREFIX, store.packages.key(alpha.sha256)),
                      Body=b"not the wheel that was locked")

    proc = run_flow(machine_b, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert alpha.filename in out and "has sha256" in out and "but the lock says" in out, out
    assert alpha.sha256 in out
    assert "Traceback" not in out, out
    assert half_made_envs(machine_b) == []
    assert not (Path(machine_b.env["FLOWENV_CACHE_DIR"]) / "envs-v1" / lock.full_id).exists()
    # Nothing unverified was kept in B's package cache either.
    assert not list((Path(machine_b.env["FLOWENV_CACHE_DIR"]) / "pkgs-v1").rglob(alpha.filename))


GIT_FLOW = CHECK + '''
from metaflow import FlowSpec, step, named_env_base

@named_env_base(name="team/git-env:v1")
class GitFlow(FlowSpec):
    @step
    def start(self):
        assert versions("mylib", "gamma") == {"mylib": "1.0", "gamma": "0.3.0"}
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    GitFlow()
'''


def test_git_requirement_runs_on_a_machine_without_git(machine_a, machine_b, bucket, tmp_path):
    """A team library pinned to a git tag: built into a wheel where it is resolved; the
    second machine (fresh HOME and caches, no git on PATH, the repository gone) only
    reads the store."""
    from tests.wheelhouse import git, make_git_repo

    repo = make_git_repo(tmp_path / "git-host" / "mylib", "mylib", ["1.0", "2.0"], ["gamma"])
    commit = git(repo, "rev-list", "-n1", "v1.0")
    publish(machine_a, "mylib @ git+%s@v1.0\n" % repo.as_uri(), "team/git-env:v1")
    store = _store(bucket)
    from flowenv import Alias

    (full_id,) = store.aliases.get(Alias.parse("team/git-env:v1")).envs.values()
    built = next(f for f in store.envs.get(full_id).files if f.name == "mylib")
    assert built.source_url == "git+%s@%s" % (repo.as_uri(), commit)
    assert store.packages.has(built)
    machine_a.forget_index()
    shutil.rmtree(tmp_path / "git-host")
    no_git = tmp_path / "bin-without-git"
    no_git.mkdir()
    os.symlink(sys.executable, no_git / "python")
    machine_b.env["PATH"] = str(no_git)
    machine_b.write("flow.py", GIT_FLOW)
    proc = machine_b.run(sys.executable, "flow.py", "--datastore=s3", "--environment=conda",
                         "run")
    assert "Done!" in proc.stdout + proc.stderr


# -- racing tags through the CLI -------------------------------------------------------------

RACERS = 8
RACE_REQUIREMENTS = [
    "alpha==1.0.0", "alpha==2.0.0", "gamma==0.1.0", "gamma==0.2.0", "gamma==0.3.0",
    "epsilon==1.0.0", "alpha==1.0.0\ngamma==0.1.0", "alpha==2.0.0\ngamma==0.3.0",
]

# One CLI process: imports done first, then it waits at a file barrier, so that all of
# them reach S3 within milliseconds of each other.
RACER = '''
import os, sys, time
import boto3, flowenv.store.s3
from metaflow.cmd.main_cli import start
open(os.path.join(sys.argv[1], "ready-%d" % os.getpid()), "w").close()
go = os.path.join(sys.argv[1], "go")
while not os.path.exists(go):
    time.sleep(0.005)
start(args=sys.argv[2:], prog_name="metaflow")
'''


@pytest.fixture
def race_envs(machine_a, bucket, monkeypatch):
    """RACERS published environments (resolved in-process, in parallel): their full ids."""
    from flowenv import Environments, Settings, Spec
    from flowenv.cache import LocalCache

    monkeypatch.setenv("UV_INDEX_URL", machine_a.env["UV_INDEX_URL"])
    monkeypatch.setenv("UV_CACHE_DIR", machine_a.env["UV_CACHE_DIR"])
    envs = Environments(_store(bucket), LocalCache(Path(machine_a.env["FLOWENV_CACHE_DIR"])),
                        settings=Settings.load())
    specs = [Spec(pypi=tuple(r.split()), origin="race %d" % i) for i, r in enumerate(RACE_REQUIREMENTS)]
    ids = [lock.full_id for lock in envs.resolve_many(specs)]
    assert len(set(ids)) == RACERS
    return ids


def race(runner, commands):
    """Run the metaflow commands at once; [(returncode, output)] in order."""
    barrier = Path(runner.folder) / ("barrier-%s" % uuid.uuid4().hex[:8])
    barrier.mkdir()
    script = runner.write("racer.py", RACER)
    procs = [subprocess.Popen([sys.executable, str(script), str(barrier), *cmd], cwd=runner.folder,
                              env=runner.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, text=True)
             for cmd in commands]
    deadline = time.monotonic() + 60
    while len(list(barrier.glob("ready-*"))) < len(procs):
        assert time.monotonic() < deadline, "racers did not start"
        assert all(p.poll() is None for p in procs), [p.communicate()[0] for p in procs if p.poll() is not None]
        time.sleep(0.02)
    (barrier / "go").touch()
    return [(p.wait(timeout=120), p.stdout.read()) for p in procs]


def test_racing_for_an_immutable_tag_one_wins(machine_a, race_envs):
    results = race(machine_a, [["environment", "--datastore=s3", "alias", full_id, "team/race:v9"]
                               for full_id in race_envs])
    winners = [i for i, (code, _) in enumerate(results) if code == 0]
    assert len(winners) == 1, results
    for i, (code, out) in enumerate(results):
        if i != winners[0]:
            assert code != 0 and "already points to" in out and "Traceback" not in out, out
    shown = machine_a.metaflow("environment", "--datastore=s3", "show", "team/race:v9").stdout
    assert race_envs[winners[0]] in shown


def test_racing_moves_of_a_mutable_tag_all_kept(machine_a, race_envs):
    results = race(machine_a, [["environment", "--datastore=s3", "alias", full_id, "team/race:latest"]
                               for full_id in race_envs])
    assert [code for code, _ in results] == [0] * RACERS, results
    history = machine_a.metaflow("environment", "--datastore=s3", "history",
                                 "team/race:latest").stdout.strip().splitlines()
    moves = [line for line in history if "->" in line]
    assert len(moves) == RACERS, history
    assert sorted(line.rsplit("-> ", 1)[1].strip() for line in moves) == sorted(i[:12] for i in race_envs)
    # Each move starts where the previous one ended: no move was lost.
    assert "(new)" in moves[0]
    for before, after in zip(moves, moves[1:]):
        assert after.split("-> ")[0].split()[-1] == before.rsplit("-> ", 1)[1].strip()

"""Operating flowenv day to day: debug lines, cleanup, the Python API (with the CI
promotion example), and the flow-level resolve and show commands (also through
Metaflow's Runner)."""

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import ServerUnavailable, pypi_server

REPO = Path(__file__).resolve().parents[2]
PROMOTE = REPO / "examples" / "ci_promotion" / "promote.py"
DAYS_AGO_40 = time.time() - 40 * 86400


@pytest.fixture
def private_cache(runner, tmp_path):
    """This test's own flowenv cache (the others share one)."""
    runner.env["FLOWENV_CACHE_DIR"] = str(tmp_path / "cache")
    return tmp_path / "cache"


def _env_ids(stdout):
    return [line.split()[1].rstrip(":") for line in stdout.splitlines()
            if line.startswith("Environment ")]


# -- debug lines ----------------------------------------------------------------------


@pytest.fixture
def private_index(wheel_index):
    """A real private index (pypiserver) that wants user bob, password s3cret."""
    try:
        with pypi_server(wheel_index, "bob", "s3cret") as server:
            yield server.endpoint.replace("://", "://bob:s3cret@") + "/simple/"
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


def test_verbose_shows_uv_calls_store_operations_and_lock_waits_never_the_password(
        runner, private_cache, private_index):
    runner.write("req.txt", "--index-url %s\nalpha==1.0.0\n" % private_index)
    proc = runner.metaflow("environment", "--verbose", "resolve", "-r", "req.txt",
                           "--alias", "team/private:v1")
    shown = private_index.replace("bob:s3cret@", "")
    assert "flowenv debug: " in proc.stderr
    assert "pip compile" in proc.stderr and "--default-index %s" % shown in proc.stderr
    assert "exit 0" in proc.stderr
    assert "store put-file " in proc.stderr and "/v1/packages/" in proc.stderr
    assert "store put-if-absent " in proc.stderr and "/v1/aliases/team/private/v1.json" in proc.stderr
    assert "s3cret" not in proc.stdout + proc.stderr
    # Not verbose: no debug line.
    quiet = runner.metaflow("environment", "show", "team/private:v1")
    assert "flowenv debug" not in quiet.stderr
    # A lock wait: another process is creating the same environment.
    env_id = _env_ids(proc.stdout)[0]
    lock_path = private_cache / "envs-v1" / (env_id + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        getter = subprocess.Popen(
            [sys.executable, "-m", "metaflow.cmd.main_cli", "environment", "get", "team/private:v1"],
            cwd=runner.folder, env=dict(runner.env, METAFLOW_DEBUG_FLOWENV="1"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
    out, err = getter.communicate(timeout=120)
    assert getter.returncode == 0, err
    assert "lock %s: waiting for another process creating environment %s" % (lock_path, env_id) in err
    assert "lock %s: acquired after " % lock_path in err


def test_debug_lines_show_rattler_calls(runner, private_cache):
    runner.write("environment.yml", "dependencies:\n  - condalib=2.0\n")
    proc = runner.metaflow("environment", "-v", "resolve", "-f", "environment.yml",
                           "--alias", "team/conda-debug:v1")
    assert "flowenv debug: rattler solve: condalib" in proc.stderr and " packages" in proc.stderr
    proc = runner.run(sys.executable, "-m", "metaflow.cmd.main_cli", "environment", "get",
                      "team/conda-debug:v1", env={"FLOWENV_DEBUG": "1"})
    assert "flowenv debug: rattler install: " in proc.stderr


def test_metaflow_debug_switch_in_a_flow_run(runner, private_cache):
    runner.write("flow.py", '''
from metaflow import FlowSpec, step, pypi

class DebugFlow(FlowSpec):
    @pypi(packages={"gamma": "0.1.0"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    DebugFlow()
''')
    proc = runner.flow("flow.py", "run", env={"METAFLOW_DEBUG_FLOWENV": "1"})
    assert "flowenv debug: " in proc.stderr and "pip install" in proc.stderr


# -- cleanup --------------------------------------------------------------------------


def test_gc_removes_only_the_old_unheld_environment(runner, private_cache):
    prefixes = []
    for name, pin in (("old", "alpha==1.0.0"), ("recent", "gamma==0.1.0"), ("held", "epsilon==1.0.0")):
        runner.resolve(pin + "\n", "team/%s:v1" % name)
        prefixes.append(Path(runner.metaflow("environment", "get", "team/%s:v1" % name)
                             .stdout.strip().splitlines()[-1]))
    old, recent, held = prefixes
    step = subprocess.Popen([str(held / "bin" / "python"), "-c",
                             "import time; print('running', flush=True); time.sleep(120)"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert step.stdout.readline().strip() == "running"  # a running step holds its env
        for prefix in (old, held):
            os.utime(prefix, (DAYS_AGO_40, DAYS_AGO_40))
        dry = runner.metaflow("environment", "gc", "--older-than", "7", "--dry-run").stdout
        assert "Would remove environment %s" % old in dry and old.is_dir()
        assert "In use, kept: environment %s" % held in dry
        out = runner.metaflow("environment", "gc", "--older-than", "7").stdout
    finally:
        step.kill()
        step.wait()
    assert "Removed environment %s" % old in out and "unused for 40 days" in out
    assert "In use, kept: environment %s" % held in out and "Freed " in out
    assert not old.exists() and recent.is_dir() and held.is_dir()
    # The removed environment comes back, from the store, when it is used again.
    again = runner.metaflow("environment", "get", "team/old:v1").stdout.strip().splitlines()[-1]
    assert Path(again) == old and (old / "bin" / "python").exists()
    proc = runner.metaflow("environment", "gc", "--older-than", "-1", check=False)
    assert proc.returncode != 0 and "0 or more" in proc.stderr


# -- the Python API, and the CI promotion example ---------------------------------------


PROMOTED_FLOW = '''
import os
from metaflow import FlowSpec, named_env_base, step

@named_env_base(name="team/app:@{APP_TAG}")
class AppFlow(FlowSpec):
    @step
    def start(self):
        import alpha
        assert alpha.__version__ == os.environ["EXPECT_ALPHA"], alpha.__version__
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    AppFlow()
'''


def test_ci_promotion_example_promotes_with_typed_results(runner):
    runner.write("flow.py", PROMOTED_FLOW)
    runner.write("requirements.txt", "alpha==1.0.0\n")

    def promote(expect):
        return runner.run(sys.executable, PROMOTE, "requirements.txt", "team/app", "flow.py",
                          check=False, env={"EXPECT_ALPHA": expect})

    first = promote("1.0.0")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "team/app:stable does not exist yet" in first.stdout
    assert "team/app:stable -> " in first.stdout and "by flowenv-tests" in first.stdout
    assert "team/app:stable is up to date" in promote("1.0.0").stdout
    # A change whose test run fails is not promoted.
    runner.write("requirements.txt", "alpha==2.0.0\n")
    failed = promote("1.0.0")
    assert failed.returncode == 1 and "~ alpha 1.0.0 (wheel) -> 2.0.0 (wheel)" in failed.stdout
    assert "failed its run" in failed.stdout
    versions = runner.client('''
        import json
        from metaflow_extensions.flowenv.api import EnvironmentAPI
        api = EnvironmentAPI()
        print(json.dumps({tag: api.lock("team/app:" + tag).pins()["alpha"]
                          for tag in ("latest", "candidate", "stable")}))
        moves = api.history("team/app:stable")
        assert len(moves) == 1 and moves[0].previous is None, moves
    ''')
    assert json.loads(versions) == {"latest": "2.0.0", "candidate": "2.0.0", "stable": "1.0.0"}


def test_api_gives_typed_results_and_flowenv_errors(runner):
    runner.write("req.txt", "beta==1.0.0\n")
    out = runner.client('''
        import json
        from flowenv.errors import AliasError, EnvNotFound, SpecError
        from flowenv.diff import EnvDiff
        from flowenv.lock import Lock
        from metaflow_extensions.flowenv.api import EnvironmentAPI, Resolution

        api = EnvironmentAPI()
        dry = api.resolve(requirements="req.txt", aliases=["team/t:v1"], dry_run=True)
        assert isinstance(dry, Resolution) and dry.dry_run and dry.named == ()
        try:
            api.show("team/t:v1")
        except EnvNotFound as exc:
            print("not stored:", exc)
        res = api.resolve(requirements="req.txt", aliases=["team/t:v1"])
        lock = res.lock()
        assert isinstance(lock, Lock) and lock.pins() == {"alpha": "2.0.0", "beta": "1.0.0"}
        assert res.named[0].alias == "team/t:v1" and res.named[0].changed
        assert api.alias("team/t:v1", ["team/t:v1"])[0].changed is False
        try:
            api.alias("team/t:v1", [])
        except AliasError as exc:
            print("no alias:", exc)
        try:
            api.resolve(requirements="req.txt", pyproject="pyproject.toml")
        except SpecError as exc:
            print("two sources:", exc)
        plus = api.resolve(using="team/t:v1", requirements=None, aliases=["team/t:plus"])
        diff = api.diff("team/t:v1", lock)
        assert isinstance(diff, EnvDiff) and diff.is_empty
        listing = api.list("team/")
        print(json.dumps({"aliases": [r.alias for r in listing.records],
                          "config": {s.name: s.source for s in api.config()}["FLOWENV_STORE"],
                          "path": str(api.get("team/t:v1"))}))
    ''')
    assert "not stored: team/t:v1: this named environment does not exist" in out
    assert "no alias: No alias to set" in out
    assert "two sources: Give one source of requirements, not several" in out
    data = json.loads(out.strip().splitlines()[-1])
    assert data["aliases"] == ["team/t:plus", "team/t:v1"] and data["config"] == "default"
    assert Path(data["path"], "bin", "python").exists()


# -- flow-level commands --------------------------------------------------------------


FLOW = '''
from metaflow import FlowSpec, step, pypi, named_env

class OpsFlow(FlowSpec):
    @pypi(packages={"delta": "3.0.0"})
    @step
    def start(self):
        self.next(self.middle)

    @named_env(disabled=True)
    @step
    def middle(self):
        self.next(self.end)

    @pypi(packages={"gamma": "0.2.0"})
    @step
    def end(self):
        pass

if __name__ == "__main__":
    OpsFlow()
'''


def _store_envs(runner):
    return sorted(p.name for p in (runner.folder / ".metaflow" / "flowenv" / "v1" / "envs").glob("*.json"))


def _show(runner, *steps):
    out = runner.flow("flow.py", "environment", "show", *steps, "--json").stdout
    return json.loads(out[out.index("{"):])["steps"]


def test_flow_show_only_reads_and_resolve_dry_run_arch_output(runner, private_cache):
    runner.write("flow.py", FLOW)
    before = _show(runner)
    assert [s for s in before] == ["start", "middle", "end"]
    assert before["start"]["state"] == "unresolved" and before["middle"]["state"] == "disabled"
    assert "delta" in before["start"]["requested"]
    assert _store_envs(runner) == []  # show resolved and stored nothing

    runner.flow("flow.py", "environment", "resolve", "--dry-run", "--output", "dry.json")
    dry = json.loads((runner.folder / "dry.json").read_text())
    assert dry["dry_run"] and dry["flow"] == "OpsFlow" and dry["schema"] == 1
    start = next(iter(dry["steps"]["start"]["environments"].values()))["lock"]
    assert {f["name"] for f in start["files"]} == {"delta", "gamma"}
    assert dry["steps"]["middle"] == {"disabled": True, "fetch_at_exec": False,
                                      "reference": None, "environments": {}}
    assert _store_envs(runner) == [] and _show(runner, "start")["start"]["state"] == "unresolved"

    runner.flow("flow.py", "environment", "resolve", "start", "--arch", "linux-64", "--arch",
                "osx-arm64", "--alias", "team/ops:v1", "--output", "out.json")
    report = json.loads((runner.folder / "out.json").read_text())
    assert set(report["steps"]["start"]["environments"]) == {"linux-64", "osx-arm64"}
    assert report["named"][0]["alias"] == "team/ops:v1" and report["named"][0]["changed"]
    assert set(report["named"][0]["envs"]) == {"linux-64", "osx-arm64"}
    shown = runner.metaflow("environment", "show", "team/ops:v1").stdout
    assert "linux-64" in shown and "osx-arm64" in shown

    status = _show(runner, "start")["start"]
    assert status["state"] == "resolved" and status["cached"] and not status["created"]
    text = runner.flow("flow.py", "environment", "show", "start").stdout
    assert "start: resolved, cached in the store, not created here" in text
    runner.metaflow("environment", "get", status["lock"]["full_id"])
    assert _show(runner, "start")["start"]["created"]
    # Packages missing from the store are reported, not repaired, by show.
    gamma = next(f for f in status["lock"]["files"] if f["name"] == "gamma")
    blob = runner.folder / ".metaflow" / "flowenv" / "v1" / "packages" / gamma["sha256"][:2] / gamma["sha256"]
    blob.unlink()
    status = _show(runner, "start")["start"]
    assert not status["cached"] and status["missing_files"] == 1 and not blob.exists()


def test_runner_environment_gives_typed_results(runner, private_cache):
    runner.write("flow.py", FLOW)
    out = runner.client('''
        import json
        from metaflow import Runner

        with Runner("flow.py", show_output=False) as r:
            shown = r.environment().show()
            assert [s.state for s in shown.values()] == ["unresolved", "disabled", "unresolved"]
            resolved = r.environment().resolve(steps=["end"], alias="team/runner:v1")
            end = resolved.steps["end"]
            assert end.state == "resolved" and end.lock.pins() == {"gamma": "0.2.0"}
            assert resolved.named[0].alias == "team/runner:v1" and not resolved.dry_run
            after = r.environment().show(["end"])["end"]
            assert after.cached and not after.created and after.lock == end.lock
            try:
                r.environment().resolve(steps=["nosuch"])
            except Exception as exc:
                print("error:", type(exc).__name__, exc)
        print(json.dumps(end.lock.full_id))
    ''')
    assert "error: FlowenvError `environment resolve` of" in out and "nosuch" in out


def test_show_and_dry_run_never_take_a_lock_file_in(runner, private_cache):
    runner.resolve("gamma==0.3.0\n", "team/exported:v1")
    runner.metaflow("environment", "export", "team/exported:v1", "--format", "pylock",
                    "-o", "pylock.toml")
    runner.write("flow.py", '''
from metaflow import FlowSpec, step, named_env_base

@named_env_base(lock="pylock.toml")
class LockFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    LockFlow()
''')
    resolutions = runner.folder / ".metaflow" / "flowenv" / "v1" / "resolutions"
    before = sorted(resolutions.rglob("*.json"))
    start = _show(runner, "start")["start"]
    assert start["state"] == "unresolved" and start["requested"] == "pylock.toml"
    runner.flow("flow.py", "environment", "resolve", "--dry-run", "--output", "dry.json")
    dry = json.loads((runner.folder / "dry.json").read_text())
    lock = next(iter(dry["steps"]["start"]["environments"].values()))["lock"]
    assert [f["name"] for f in lock["files"]] == ["gamma"]
    assert sorted(resolutions.rglob("*.json")) == before  # nothing taken in
    runner.flow("flow.py", "environment", "resolve")
    start = _show(runner, "start")["start"]
    assert start["state"] == "resolved" and start["cached"] and start["lock"]["full_id"] == lock["full_id"]

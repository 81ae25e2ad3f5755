"""Lock files in real flows and commands: `@named_env_base(lock=...)`, `metaflow
environment resolve --lock`, `-p pyproject.toml` with its uv.lock, `diff` against a lock.
The index the lock was made from is unreachable while it is taken in."""

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.condachannel import PY_MINOR
from tests.flows.conftest import FlowRunner
from tests.flows.test_conda_flows import CONDA_CHECK
from tests.flows.test_seed_flows import CHECK
from tests.httpindex import serve
from tests.lockmaker import conda_lock_file, solve_conda, uv_lock, uv_project


@pytest.fixture(scope="module")
def http_index(wheel_index):
    with serve(wheel_index) as server:
        yield server


@pytest.fixture
def locked_project(runner: FlowRunner, http_index):
    """A uv project in the flow's folder, locked by `uv lock` against the HTTP index, which
    is then made unreachable."""
    http_index.index_back()
    uv_project(runner.folder, ["beta==1.0.0", "gamma==0.1.0"], python=PY_MINOR)
    uv_lock(runner.folder, http_index.url + "/simple", runner.folder / ".uv-cache")
    http_index.index_down()
    yield runner
    http_index.index_back()


def test_flow_on_a_uv_lock_extended_overridden_and_disabled(locked_project, http_index):
    runner = locked_project
    runner.resolve("alpha==1.0.0\n", "team/other:v1")
    runner.write("flow.py", CHECK + '''
from metaflow import FlowSpec, step, named_env_base, named_env, pypi

@named_env_base(lock="uv.lock")
class LockedFlow(FlowSpec):
    @step
    def start(self):
        # the locked versions, not the newest ones (gamma 0.3.0) a resolution would pick
        assert versions("beta", "alpha", "gamma") == {"beta": "1.0.0", "alpha": "2.0.0", "gamma": "0.1.0"}
        self.next(self.extend)

    @pypi(packages={"epsilon": "1.0.0"})
    @step
    def extend(self):
        assert versions("beta", "gamma", "epsilon") == {"beta": "1.0.0", "gamma": "0.1.0", "epsilon": "1.0.0"}
        self.next(self.other)

    @named_env(name="team/other:v1")
    @step
    def other(self):
        assert versions("alpha", "beta") == {"alpha": "1.0.0", "beta": None}
        self.next(self.system)

    @named_env(disabled=True)
    @step
    def system(self):
        assert not in_flowenv()
        self.next(self.end)

    @step
    def end(self):
        assert versions("gamma") == {"gamma": "0.1.0"}

if __name__ == "__main__":
    LockedFlow()
''')
    out = runner.flow("flow.py", "run")
    assert "from uv.lock" in out.stdout + out.stderr
    assert not http_index.index_requests, http_index.index_requests
    # run again: the same lock is reused from the store, not taken in again
    runner.flow("flow.py", "run")


def test_resolve_lock_pyproject_and_diff(locked_project, http_index):
    runner = locked_project
    out = runner.metaflow("environment", "resolve", "--lock", "uv.lock", "--alias", "team/uv:v1")
    assert "Named team/uv:v1" in out.stdout and "beta==1.0.0 (wheel)" in out.stdout
    proc = runner.metaflow("environment", "resolve", "-p", "pyproject.toml", "--alias", "team/uv:v1")
    assert "Using uv.lock, the lock beside pyproject.toml" in proc.stderr
    assert "Unchanged: team/uv:v1" in proc.stdout
    assert not http_index.index_requests
    same = runner.metaflow("environment", "diff", "team/uv:v1", "uv.lock").stdout
    assert not [l for l in same.splitlines() if l[:2] in ("~ ", "+ ", "- ")], same
    runner.resolve("beta==1.0.0\ngamma==0.2.0\n", "team/uv:v2")
    diff = runner.metaflow("environment", "diff", "uv.lock", "team/uv:v2").stdout
    assert "~ gamma 0.1.0 (wheel) -> 0.2.0 (wheel)" in diff
    proc = runner.metaflow("environment", "resolve", "--lock", "uv.lock", "--extra", "gpu",
                           check=False)
    assert proc.returncode != 0 and "no extra gpu" in proc.stderr and "uv.lock" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture
def conda_locks(runner, conda_channel, wheel_index):
    """conda-lock.yml (this machine's platform, mixed) and mac-only.yml (osx-arm64 only)
    in the flow's folder; the channel's repodata is then removed: nothing can be solved."""
    import hashlib

    channel = runner.folder / "channel"
    shutil.copytree(urlsplit(conda_channel).path, channel)
    url = channel.as_uri()
    specs = ["python %s.*" % PY_MINOR, "condalib ==1.0"]
    gamma = wheel_index / "gamma-0.2.0-py3-none-any.whl"
    wheel = ("gamma", "0.2.0", gamma.as_uri(), hashlib.sha256(gamma.read_bytes()).hexdigest())
    conda_lock_file(runner.folder / "conda-lock.yml", url, {"linux-64": solve_conda(
        url, specs, "linux-64")}, {"linux-64": [wheel]})
    conda_lock_file(runner.folder / "mac-only.yml", url, {"osx-arm64": solve_conda(
        url, specs, "osx-arm64")})
    for path in channel.rglob("repodata*.json*"):
        path.unlink()
    return runner


def test_flow_on_a_conda_lock_and_a_remote_step_without_linux(conda_locks):
    pytest.importorskip("conda_lock")
    runner = conda_locks
    runner.write("flow.py", CONDA_CHECK + '''
from metaflow import FlowSpec, step, named_env_base

@named_env_base(lock="conda-lock.yml")
class CondaLockFlow(FlowSpec):
    @step
    def start(self):
        assert conda_python()
        assert versions("condalib", "gamma") == {"condalib": "1.0", "gamma": "0.2.0"}
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    CondaLockFlow()
''')
    runner.flow("flow.py", "run")
    runner.write("remote.py", '''
from metaflow import FlowSpec, step, named_env_base, kubernetes

@named_env_base(lock="mac-only.yml")
class RemoteLockFlow(FlowSpec):
    @kubernetes
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    RemoteLockFlow()
''')
    # @kubernetes wants a cloud datastore; the error comes before the store is touched
    proc = runner.flow("remote.py", "--datastore=s3", "environment", "resolve", "start",
                       check=False, env={"METAFLOW_KUBERNETES_NAMESPACE": "default",
                                         "METAFLOW_DATASTORE_SYSROOT_S3": "s3://none/x"})
    err = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in err
    assert "mac-only.yml" in err and "no lock for linux-64" in err and "start" in err, err


def test_lock_argument_errors(runner):
    runner.write("flow.py", '''
from metaflow import FlowSpec, step, named_env_base

@named_env_base(lock="missing.lock", name="team/x:v1")
class BadLockFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    BadLockFlow()
''')
    proc = runner.flow("flow.py", "run", check=False)
    assert proc.returncode != 0 and "give one of name=, pathspec= or lock=, not both name=" in proc.stderr
    Path(runner.folder, "flow.py").write_text(
        Path(runner.folder, "flow.py").read_text().replace(', name="team/x:v1"', ""))
    proc = runner.flow("flow.py", "run", check=False)
    err = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "missing.lock" in err and "does not exist" in err, err
    assert "@named_env_base" in err and "Traceback" not in err

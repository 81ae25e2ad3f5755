"""Remote compute: resolution for another platform, deploy-time resolution, and a simulated
pod that runs the exact container command Metaflow generates for Argo Workflows."""

import hashlib
import json
import shutil
import subprocess
import sys

import pytest

from tests.servers import ServerUnavailable, moto_server
from tests.wheelhouse import make_wheel, write_simple_index

PYPI = "https://pypi.org/simple"


@pytest.fixture(scope="module")
def s3():
    try:
        with moto_server() as server:
            import boto3

            boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                         aws_access_key_id="testing", aws_secret_access_key="testing"
                         ).create_bucket(Bucket="remote")
            yield server
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def s3_runner(runner, s3):
    runner.env.update(s3.env)
    runner.env["METAFLOW_DATASTORE_SYSROOT_S3"] = "s3://remote/%s" % runner.folder.name
    runner.env["METAFLOW_DEFAULT_DATASTORE"] = "s3"
    return runner


@pytest.fixture(scope="module")
def platform_index(wheel_index):
    """Packages whose dependencies and files differ by platform."""
    make_wheel(wheel_index, "zeta2", "1.0.0",
               ['alpha>=1; sys_platform == "linux"', 'gamma; sys_platform == "darwin"'])
    make_wheel(wheel_index, "native", "1.0.0", tag="py3-none-manylinux_2_17_x86_64")
    make_wheel(wheel_index, "native", "1.0.0", tag="py3-none-macosx_11_0_arm64")
    write_simple_index(wheel_index)
    return wheel_index


def test_resolves_each_platform_with_its_own_markers_and_wheels(runner, platform_index):
    runner.write("req.txt", "zeta2==1.0.0\nnative==1.0.0\n")
    runner.metaflow("environment", "resolve", "-r", "req.txt", "--arch", "linux-64",
                    "--arch", "osx-arm64", "--alias", "team/cross:v1")
    locks = {lock["platform"]: lock for lock in json.loads(
        _json(runner.metaflow("environment", "show", "team/cross:v1", "--json").stdout))}
    assert set(locks) == {"linux-64", "osx-arm64"}
    names = {p: {f["name"] for f in lock["files"]} for p, lock in locks.items()}
    assert names["linux-64"] == {"zeta2", "alpha", "native"}
    assert names["osx-arm64"] == {"zeta2", "gamma", "native"}
    native = {p: [f["filename"] for f in lock["files"] if f["name"] == "native"][0]
              for p, lock in locks.items()}
    assert "manylinux" in native["linux-64"] and "macosx" in native["osx-arm64"]


def test_alias_without_the_platform_is_a_clear_error(runner, platform_index):
    runner.write("req.txt", "alpha==1.0.0\n")
    runner.metaflow("environment", "resolve", "-r", "req.txt", "--arch", "osx-arm64",
                    "--alias", "team/mac-only:v1")
    proc = runner.metaflow("environment", "create", "team/mac-only:v1", check=False)
    assert proc.returncode != 0
    assert "no environment for linux-64" in proc.stderr and "--arch linux-64" in proc.stderr


def _json(text):
    return text[text.index("["):] if "[" in text else text


REMOTE_FLOW = '''
import os, sys
from metaflow import FlowSpec, step, pypi, kubernetes, named_env

class RemoteFlow(FlowSpec):
    @pypi(packages={"alpha": "2.0.0"})
    @kubernetes
    @step
    def start(self):
        import alpha
        assert alpha.__version__ == "2.0.0", alpha.__version__
        assert ".flowenv/step-env" in sys.executable, sys.executable
        print("REMOTE-OK alpha", alpha.__version__)
        self.next(self.end)

    @named_env(name="team/pod-env:@{POD_TAG}", fetch_at_exec=True)
    @step
    def end(self):
        import gamma
        print("REMOTE-OK gamma", gamma.__version__)

if __name__ == "__main__":
    RemoteFlow()
'''


def _argo_json(runner, env=None):
    proc = runner.flow("flow.py", "--datastore=s3", "argo-workflows", "create", "--only-json",
                       env={"METAFLOW_KUBERNETES_NAMESPACE": "default",
                            "UV_EXTRA_INDEX_URL": PYPI, **(env or {})})
    return json.loads(proc.stdout[proc.stdout.index("{"):])


def _template(workflow, name):
    return next(t for t in workflow["spec"]["templates"] if t.get("name") == name)


@pytest.mark.network
def test_deploy_resolves_and_container_commands_carry_the_bootstrap(s3_runner):
    pytest.importorskip("kubernetes")
    runner = s3_runner
    runner.resolve("gamma==0.2.0\n", "team/pod-env:v1")
    runner.write("flow.py", REMOTE_FLOW)
    workflow = _argo_json(runner)
    command = _template(workflow, "start")["container"]["command"][-1]
    assert "python -m flowenv.bootstrap --store 's3://remote/" in command
    assert ".flowenv/step-env/bin/python flow.py" in command
    # Resolved at deploy time: the env the command names is already in the store.
    env_id = command.split("--env '")[1].split("'")[0]
    shown = runner.metaflow("environment", "show", env_id).stdout
    assert "alpha==2.0.0" in shown
    # fetch_at_exec: the alias is looked up in the container, @{VAR} unexpanded until then.
    end = _template(workflow, "end")["container"]["command"][-1]
    assert "exec_reference 'RemoteFlow' 'end' name 'team/pod-env:@{POD_TAG}'" in end


@pytest.mark.network
def test_simulated_pod_builds_env_from_store_and_runs_the_step(s3_runner, tmp_path_factory):
    pytest.importorskip("kubernetes")
    runner = s3_runner
    runner.resolve("gamma==0.2.0\n", "team/pod-env:v1")
    runner.write("flow.py", REMOTE_FLOW)
    workflow = _argo_json(runner)

    # The pod: a fresh folder and HOME, an image Python with only boto3 and requests (what
    # Metaflow's own pip install puts there), S3 reachable, no package index at all.
    pod = tmp_path_factory.mktemp("pod")
    image = pod / "image"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(image)], check=True)
    site = next(image.glob("lib/python*/site-packages"))
    from flowenv.cache import LocalCache
    from metaflow_extensions.flowenv.plugins.runtime_support import copy_from_launcher

    (site / "image-deps.pth").write_text(copy_from_launcher(LocalCache(pod / "deps"), "s3") + "\n")
    # The start task's id, as the container command derives it.
    start_task = "t-" + hashlib.md5(b"start-2026-11-25T00:00:00Z--\n").hexdigest()[-8:]
    for step in ("start", "end"):
        template = _template(workflow, step)
        script = (template["container"]["command"][-1]
                  .replace("{{workflow.name}}", "sim1")
                  .replace("{{workflow.creationTimestamp}}", "2026-11-25T00:00:00Z")
                  .replace("{{inputs.parameters.input-paths}}", "argo-sim1/start/" + start_task)
                  # Argo's own bookkeeping (it writes to the pod's /mnt/out), not ours.
                  .replace(" --with=argo_workflows_internal:auto-emit-argo-events=1", ""))
        # Values Kubernetes fills in (pod name, node IP, ...) get stand-ins.
        env = {e["name"]: e["value"] if e.get("value") is not None else "sim-" + e["name"].lower()
               for e in template["container"].get("env", [])}
        env.update({
            "HOME": str(pod / "home"), "PATH": "%s:/usr/bin:/bin" % (image / "bin"),
            "METAFLOW_SKIP_INSTALL_DEPENDENCIES": "1", "METAFLOW_USER": "pod",
            "UV_INDEX_URL": "file:///nonexistent/simple", "UV_OFFLINE": "1",
            "POD_TAG": "v1",
        })
        env.update({k: v for k, v in runner.env.items() if k.startswith(("AWS_", "METAFLOW_S3_"))})
        workdir = pod / step
        workdir.mkdir()
        # Each pod has its own /tmp.
        script = script.replace("/tmp/", str(workdir) + "/tmp-")
        proc = subprocess.run(["bash", "-c", script], cwd=workdir, env=env,
                              capture_output=True, text=True, timeout=300)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-6000:]
        expected = "REMOTE-OK alpha 2.0.0" if step == "start" else "REMOTE-OK gamma 0.2.0"
        assert expected in out, out[-6000:]
        shutil.rmtree(workdir, ignore_errors=True)


# -- platforms per step ------------------------------------------------------------------

AARCH64_TAG = "py3-none-manylinux_2_17_aarch64"

PLATFORM_FLOW = '''
from metaflow import FlowSpec, step, pypi, kubernetes
from metaflow.decorators import StepDecorator


class TitusDecorator(StepDecorator):
    """A team's own compute decorator, declared remote through FLOWENV_REMOTE_DECORATORS."""
    name = "titus"


def titus(f):
    f.decorators.append(TitusDecorator(statically_defined=True))
    return f


class PlatformFlow(FlowSpec):
    @pypi(packages={"native": "1.0.0"})
    @kubernetes
    @step
    def start(self):
        self.next(self.local)

    @pypi(packages={"native": "1.0.0"})
    @step
    def local(self):
        self.next(self.end)

    @titus
    @pypi(packages={"native": "1.0.0"})
    @step
    def end(self):
        pass

if __name__ == "__main__":
    PlatformFlow()
'''


@pytest.fixture(scope="module")
def aarch64_index(platform_index):
    make_wheel(platform_index, "native", "1.0.0", tag=AARCH64_TAG)
    write_simple_index(platform_index)
    return platform_index


def _native_file(lock):
    return [p for p in lock["packages"] if p.startswith("native==")], lock["platform"]


def test_each_remote_step_resolves_for_its_compute_decorators_platform(s3_runner, aarch64_index):
    pytest.importorskip("kubernetes")
    runner = s3_runner
    runner.write("flow.py", PLATFORM_FLOW)
    runner.flow("flow.py", "environment", "resolve", "--output", "resolved.json", env={
        "METAFLOW_KUBERNETES_CONDA_ARCH": "linux-aarch64",
        "FLOWENV_REMOTE_DECORATORS": "titus", "FLOWENV_REMOTE_PLATFORM": "osx-arm64"})
    steps = json.loads((runner.folder / "resolved.json").read_text())["steps"]
    from flowenv.platforms import host_platform

    platforms = {s: list(info["environments"]) for s, info in steps.items()}
    assert platforms == {"start": ["linux-aarch64"], "local": [host_platform()],
                         "end": ["osx-arm64"]}
    native = {s: [f["filename"] for f in info["environments"][platforms[s][0]]["lock"]["files"]
                  if f["name"] == "native"][0] for s, info in steps.items()}
    assert native == {"start": "native-1.0.0-%s.whl" % AARCH64_TAG,
                      "local": "native-1.0.0-py3-none-manylinux_2_17_x86_64.whl",
                      "end": "native-1.0.0-py3-none-macosx_11_0_arm64.whl"}
    # Without a chosen arch, @kubernetes says linux-64, and FLOWENV_REMOTE_PLATFORM decides.
    out = runner.flow("flow.py", "environment", "show", "--json",
                      env={"FLOWENV_REMOTE_PLATFORM": "linux-aarch64"}).stdout
    assert json.loads(out[out.index("{"):])["steps"]["start"]["platform"] == "linux-aarch64"


def test_a_platform_flowenv_cannot_resolve_for_is_a_clear_error(s3_runner, aarch64_index):
    pytest.importorskip("kubernetes")
    runner = s3_runner
    runner.write("flow.py", PLATFORM_FLOW)
    proc = runner.flow("flow.py", "environment", "show", check=False,
                       env={"METAFLOW_KUBERNETES_CONDA_ARCH": "linux-arm64"})
    err = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in err
    assert "@kubernetes on step start targets platform 'linux-arm64'" in err
    assert "METAFLOW_KUBERNETES_CONDA_ARCH" in err


@pytest.mark.network
def test_deploy_resolves_kubernetes_steps_for_its_conda_arch(s3_runner, aarch64_index):
    pytest.importorskip("kubernetes")
    runner = s3_runner
    runner.write("flow.py", PLATFORM_FLOW
                 .replace("    @titus\n", ""))
    workflow = _argo_json(runner, {"METAFLOW_KUBERNETES_CONDA_ARCH": "linux-aarch64"})
    for step in ("start", "local", "end"):  # on Argo, every step runs on Kubernetes
        command = _template(workflow, step)["container"]["command"][-1]
        env_id = command.split("--env '")[1].split("'")[0]
        lock = json.loads(_json(runner.metaflow("environment", "show", env_id, "--json").stdout))[0]
        assert lock["platform"] == "linux-aarch64", step
        assert [f["filename"] for f in lock["files"] if f["name"] == "native"] == [
            "native-1.0.0-%s.whl" % AARCH64_TAG]


FETCHED_PATHSPEC_FLOW = '''
from metaflow import FlowSpec, step, kubernetes, named_env

class FetchedFlow(FlowSpec):
    @named_env(pathspec="TrainFlow/@{METAFLOW_INIT_TRAIN_RUN}/train", fetch_at_exec=True)
    @kubernetes
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    FetchedFlow()
'''


@pytest.mark.network
def test_deploying_a_remote_step_fetching_a_pathspec_at_execution(s3_runner):
    """It failed with KeyError: 'start' at deploy time; the pathspec is looked up in the
    container, @{VAR} with the task's values."""
    pytest.importorskip("kubernetes")
    runner = s3_runner
    runner.write("flow.py", FETCHED_PATHSPEC_FLOW)
    workflow = _argo_json(runner)
    command = _template(workflow, "start")["container"]["command"][-1]
    assert ("FLOWENV_EXEC_REF=$(python -m metaflow_extensions.flowenv.plugins.exec_reference "
            "'FetchedFlow' 'start' pathspec 'TrainFlow/@{METAFLOW_INIT_TRAIN_RUN}/train')"
            in command)
    assert "--env $FLOWENV_EXEC_REF" in command
    # The parameters reach the start step before the environment is worked out.
    assert command.index("set_parameters") < command.index("exec_reference")

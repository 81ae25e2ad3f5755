"""Flows written for the reference extension run unchanged: every decorator, argument and
requirements-file spelling its documentation shows, in as few runs as possible. Steps
assert the versions they import; the tests assert what the user sees (deprecations said
once) and what Metaflow recorded."""

import json
import os
import sys

import pytest

from tests.flows.test_conda_flows import CONDA_CHECK
from tests.flows.conftest import ensure_wheel
from tests.wheelhouse import simple_index_url


@pytest.fixture
def pre_index(wheel_index):
    """A package whose newest release is a pre-release (for --pre / extras=["pre"])."""
    ensure_wheel(wheel_index, "preview", "1.0.0")
    return ensure_wheel(wheel_index, "preview", "2.0.0rc1")


REQUIREMENTS = """\
# The reference's own lines: the Python, a conda binary, a channel, a virtual package.
python==%(python)s
--conda-pkg condatool==1.0
--conda-channel %(channel)s
--sys-pkg __glibc==2.17
--extra-index-url %(index)s
--pre
alpha==1.0.0
preview
"""

FLOW = CONDA_CHECK + '''
import shutil
from metaflow import (FlowSpec, Parameter, step, conda, conda_base, pypi, pypi_base, pip,
                      named_env, sys_packages, sys_packages_base)

@pypi_base(packages={"gamma": "0.1.0"})
@sys_packages_base(packages={"__glibc": "2.17"})
class RefFlow(FlowSpec):
    envname = Parameter("envname", default="reqs")

    @pip(packages={"alpha": "1.0.0"})
    @step
    def start(self):
        assert versions("alpha", "gamma") == {"alpha": "1.0.0", "gamma": "0.1.0"}
        self.next(self.merged)

    @pypi(packages={"alpha": "2.0.0"}, extras=["pre"])
    @pypi(packages={"beta": "1.5.0", "preview": ""})
    @step
    def merged(self):
        assert versions("alpha", "beta", "preview", "gamma") == {
            "alpha": "2.0.0", "beta": "1.5.0", "preview": "2.0.0rc1", "gamma": "0.1.0"}
        self.next(self.old_conda)

    @conda(libraries={"condalib": "2.0"}, pip_packages={"epsilon": "1.0.0"},
           pip_sources=["%(index)s"])
    @step
    def old_conda(self):
        assert conda_python()
        assert versions("condalib", "condadep", "epsilon", "gamma") == {
            "condalib": "2.0", "condadep": "2.0", "epsilon": "1.0.0", "gamma": "0.1.0"}
        self.next(self.binary)

    @pypi(packages={"alpha": "1.0.0"}, conda_only={"condatool": "1.0"}, sources=["%(index)s"])
    @sys_packages(packages={"__cuda": "12.2"})
    @step
    def binary(self):
        assert shutil.which("condatool"), "the conda binary is on PATH"
        assert versions("alpha", "gamma") == {"alpha": "1.0.0", "gamma": "0.1.0"}
        self.next(self.old_named)

    @conda(name="team/reqs:v1")
    @step
    def old_named(self):
        # The environment the requirements file gave: its --conda-pkg, --pre, pins.
        assert shutil.which("condatool") and conda_python()
        assert versions("alpha", "preview", "gamma") == {
            "alpha": "1.0.0", "preview": "2.0.0rc1", "gamma": None}
        self.next(self.by_parameter)

    @named_env(name="team/@{METAFLOW_INIT_ENVNAME}:v1", fetch_at_exec=True)
    @step
    def by_parameter(self):
        assert versions("alpha", "preview") == {"alpha": "1.0.0", "preview": "2.0.0rc1"}
        self.next(self.same_as_start)

    @pypi(pathspec="RefFlow/@{METAFLOW_RUN_ID}/start", fetch_at_exec=True)
    @step
    def same_as_start(self):
        assert versions("alpha", "gamma", "beta") == {"alpha": "1.0.0", "gamma": "0.1.0", "beta": None}
        self.next(self.end)

    @step
    def end(self):
        assert versions("alpha", "gamma") == {"alpha": None, "gamma": "0.1.0"}

if __name__ == "__main__":
    RefFlow()
'''


def test_every_reference_spelling_in_one_flow(runner, pre_index, conda_channel):
    values = {"python": "%d.%d" % sys.version_info[:2], "channel": conda_channel,
              "index": simple_index_url(pre_index)}
    runner.write("requirements.txt", REQUIREMENTS % values)
    resolved = runner.metaflow("environment", "resolve", "-r", "requirements.txt",
                               "--alias", "team/reqs:v1")
    shown = runner.metaflow("environment", "show", "team/reqs:v1", "--json").stdout
    assert '"condatool"' in shown and "__glibc=2.17=0" in shown, resolved.stdout + shown
    runner.write("flow.py", FLOW % values)
    proc = runner.flow("flow.py", "run")
    out = proc.stdout + proc.stderr
    # Each deprecated spelling is said once, naming where it is and what to write instead.
    for line in ("@pip is deprecated (step start): write @pypi instead",
                 "@conda(pip_packages=...) is deprecated (step old_conda): write "
                 "@pypi(packages=...) instead",
                 "@conda(pip_sources=...) is deprecated (step old_conda): write "
                 "@pypi(extra_indices=...) instead",
                 "@pypi(sources=...) is deprecated (step binary): write "
                 "@pypi(extra_indices=...) instead",
                 "@conda(name=...) is deprecated (step old_named): write @named_env(name=...)",
                 "@pypi(pathspec=...) is deprecated (step same_as_start): write "
                 "@named_env(pathspec=...)"):
        assert out.count(line) == 1, (line, out)
    recorded = runner.client('''
        from metaflow import Flow, namespace
        namespace(None)
        run = Flow("RefFlow").latest_run
        env = {s.id: s.task.metadata_dict.get("flowenv_env_id") for s in run}
        alias = {s.id: s.task.metadata_dict.get("flowenv_alias") for s in run}
        print(env["start"] == env["same_as_start"], env["old_named"] == env["by_parameter"],
              alias["by_parameter"], run.id, env["start"])
    ''')
    same, also_same, alias, run_id, start_env = recorded.split()
    assert (same, also_same, alias) == ("True", "True", "team/reqs:v1"), recorded

    # In a remote container the same references are worked out by exec_reference, from the
    # variables the scheduler sets; the parameters come from the run's metadata.
    def exec_reference(kind, ref):
        return runner.run(sys.executable, "-m",
                          "metaflow_extensions.flowenv.plugins.exec_reference", "RefFlow",
                          "by_parameter", kind, ref, env={"METAFLOW_RUN_ID": run_id}).stdout.strip()

    assert exec_reference("name", "team/@{METAFLOW_INIT_ENVNAME}:v1") == "team/reqs:v1"
    assert exec_reference("pathspec", "RefFlow/@{METAFLOW_RUN_ID}/start") == start_env
    missing = runner.run(sys.executable, "-m", "metaflow_extensions.flowenv.plugins.exec_reference",
                         "RefFlow", "start", "name", "team/@{NOT_SET}:v1", check=False)
    assert missing.returncode == 1 and "NOT_SET is not set" in missing.stderr, missing.stderr


STEP_FLOW = """
from metaflow import FlowSpec, step, pypi
import helpers

class PastFlow(FlowSpec):
    @pypi(packages={"alpha": "2.0.0"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    PastFlow()
"""


def test_a_past_step_on_a_fresh_machine_with_its_code(runner, wheel_index, tmp_path):
    ensure_wheel(wheel_index, "ipykernel", "6.0.0")
    runner.write("helpers.py", "ANSWER = 42\n")
    runner.write("flow.py", STEP_FLOW)
    # Local runs keep their code package with Metaflow's own switch; remote ones always do.
    runner.flow("flow.py", "run", env={"METAFLOW_FEAT_ALWAYS_UPLOAD_CODE_PACKAGE": "1"})
    run_id = runner.client("""
        from metaflow import Flow, namespace
        namespace(None)
        print(Flow("PastFlow").latest_run.id)
    """).strip()
    home = tmp_path / "home"
    fresh = {"HOME": str(home), "FLOWENV_CACHE_DIR": "", "XDG_CACHE_HOME": "",
             "JUPYTER_DATA_DIR": str(home / "jupyter")}
    target = tmp_path / "laptop" / "start"
    proc = runner.metaflow("environment", "create", "--pathspec", "PastFlow/%s/start" % run_id,
                           "--into-dir", target, "--install-notebook", env=fresh)
    assert str(target / ".venv") in proc.stdout and ". %s" % (target / "activate") in proc.stderr
    assert (target / "flow.py").read_text() == (runner.folder / "flow.py").read_text()
    # The step's module, run with the created interpreter, imports its packages and code.
    check = ("import flow, helpers, alpha, ipykernel, sys; "
             "print(alpha.__version__, helpers.ANSWER, flow.PastFlow.__name__, sys.prefix)")
    out = runner.run("bash", "-c", ". ./activate && cd / && python -c '%s' && deactivate && "
                     "echo ${VIRTUAL_ENV:-gone}" % check, env=fresh, cwd=target).stdout.split()
    assert out == ["2.0.0", "42", "PastFlow", str(target / ".venv"), "gone"], out
    kernel = json.loads((home / "jupyter" / "kernels" / ("flowenv-pastflow-%s-start" % run_id)
                         / "kernel.json").read_text())
    assert kernel["argv"][0] == str(target / ".venv" / "bin" / "python")
    assert str(target) in kernel["env"]["PYTHONPATH"].split(os.pathsep)
    # The folder is the user's now: a second create goes elsewhere.
    again = runner.metaflow("environment", "create", "--pathspec", "PastFlow/%s/start" % run_id,
                            "--into-dir", target, check=False, env=fresh)
    assert again.returncode != 0 and "must be a new or empty folder" in again.stderr

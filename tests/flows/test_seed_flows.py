"""Every example of the seed page, run for real. Steps assert what they import; the tests
assert that the runs succeed (or fail with the promised message) and what Metaflow recorded."""

import json
import sys

import pytest

BASE_V1 = "alpha==1.0.0\ngamma==0.1.0\n"
OTHER_V2 = "alpha==2.0.0\n"

CHECK = '''
import os, sys

def versions(*names):
    import importlib
    found = {}
    for name in names:
        try:
            found[name] = importlib.import_module(name).__version__
        except ImportError:
            found[name] = None
    return found

def in_flowenv():
    return "envs-v1" in sys.executable
'''


def test_basic_named_env_base_all_steps(runner):
    runner.resolve(BASE_V1, "ml-team/production-env:v1")
    runner.write("flow.py", CHECK + '''
from metaflow import FlowSpec, step, named_env_base

@named_env_base(name="ml-team/production-env:v1")
class ProductionPipeline(FlowSpec):
    @step
    def start(self):
        assert versions("alpha", "gamma", "beta") == {"alpha": "1.0.0", "gamma": "0.1.0", "beta": None}
        self.next(self.process)

    @step
    def process(self):
        assert versions("alpha", "gamma") == {"alpha": "1.0.0", "gamma": "0.1.0"}
        self.next(self.end)

    @step
    def end(self):
        assert versions("alpha") == {"alpha": "1.0.0"}
        self.exe = sys.executable

if __name__ == "__main__":
    ProductionPipeline()
''')
    runner.flow("flow.py", "run")
    out = runner.client('''
        from metaflow import Flow, namespace
        namespace(None)
        run = Flow("ProductionPipeline").latest_run
        ids = {s.id: s.task.metadata_dict.get("flowenv_env_id") for s in run}
        aliases = {s.id: s.task.metadata_dict.get("flowenv_alias") for s in run}
        print(len(set(ids.values())), sorted(set(aliases.values())), run["end"].task.data.exe)
    ''')
    count, aliases, exe = out.split(" ", 1)[0], out.split(" ", 1)[1].rsplit(" ", 1)[0], out.split()[-1]
    assert count == "1"
    assert "ml-team/production-env:v1" in aliases
    assert "envs-v1" in exe


def test_extend_base_with_step_pypi_keeps_base_pins(runner):
    runner.resolve(BASE_V1, "team/base-ml:v2")
    runner.write("flow.py", CHECK + '''
from metaflow import FlowSpec, step, named_env_base, pypi

@named_env_base(name="team/base-ml:v2")
class ExtendedFlow(FlowSpec):
    @step
    def start(self):
        assert versions("alpha", "delta") == {"alpha": "1.0.0", "delta": None}
        self.next(self.train)

    @pypi(packages={"delta": "3.0.0"})
    @step
    def train(self):
        # base-ml:v2 + delta; delta needs gamma, and the base's gamma 0.1.0 is kept
        assert versions("alpha", "gamma", "delta") == {"alpha": "1.0.0", "gamma": "0.1.0", "delta": "3.0.0"}
        self.next(self.end)

    @step
    def end(self):
        assert versions("delta") == {"delta": None}

if __name__ == "__main__":
    ExtendedFlow()
''')
    runner.flow("flow.py", "run")


def test_extension_conflicting_with_base_pin_is_an_error_naming_both(runner):
    runner.resolve(BASE_V1, "team/base:v1")
    runner.write("flow.py", '''
from metaflow import FlowSpec, step, named_env_base, pypi

@named_env_base(name="team/base:v1")
class ConflictFlow(FlowSpec):
    @pypi(packages={"alpha": "2.0.0"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    ConflictFlow()
''')
    proc = runner.flow("flow.py", "run", check=False)
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert "alpha==2.0.0" in err and "alpha==1.0.0" in err
    assert "Traceback" not in err


def test_override_and_back_to_base(runner):
    runner.resolve(BASE_V1, "team/default-env:v1")
    runner.resolve(OTHER_V2, "team/gpu-env:v2")
    runner.write("flow.py", CHECK + '''
from metaflow import FlowSpec, step, named_env_base, named_env

@named_env_base(name="team/default-env:v1")
class OverrideFlow(FlowSpec):
    @step
    def start(self):
        assert versions("alpha", "gamma") == {"alpha": "1.0.0", "gamma": "0.1.0"}
        self.next(self.special_step)

    @named_env(name="team/gpu-env:v2")
    @step
    def special_step(self):
        # completely replaces the base: gamma is not there
        assert versions("alpha", "gamma") == {"alpha": "2.0.0", "gamma": None}
        self.next(self.end)

    @step
    def end(self):
        assert versions("alpha") == {"alpha": "1.0.0"}

if __name__ == "__main__":
    OverrideFlow()
''')
    runner.flow("flow.py", "run")


def test_disable_for_one_step_runs_launching_python(runner):
    runner.resolve(BASE_V1, "team/standard:v1")
    runner.write("flow.py", CHECK + '''
from metaflow import FlowSpec, step, named_env_base, named_env

@named_env_base(name="team/standard:v1")
class DisableFlow(FlowSpec):
    @step
    def start(self):
        assert in_flowenv() and versions("alpha") == {"alpha": "1.0.0"}
        self.next(self.use_system)

    @named_env(disabled=True)
    @step
    def use_system(self):
        assert os.path.realpath(sys.executable) == os.path.realpath(os.environ["LAUNCHER_PYTHON"]), sys.executable
        assert versions("alpha") == {"alpha": None}
        self.next(self.end)

    @step
    def end(self):
        assert in_flowenv()

if __name__ == "__main__":
    DisableFlow()
''')
    runner.flow("flow.py", "run")


def test_disabled_by_default_enabled_per_step(runner):
    runner.resolve(BASE_V1, "team/ml-env:v1")
    runner.write("flow.py", CHECK + '''
from metaflow import FlowSpec, step, named_env_base, named_env, pypi

@named_env_base(disabled=True)
class SelectiveFlow(FlowSpec):
    @step
    def start(self):
        assert not in_flowenv()
        self.next(self.managed_step)

    @named_env(name="team/ml-env:v1")
    @step
    def managed_step(self):
        assert in_flowenv() and versions("alpha") == {"alpha": "1.0.0"}
        self.next(self.pypi_step)

    @pypi(packages={"epsilon": "1.0.0"})
    @step
    def pypi_step(self):
        assert in_flowenv() and versions("epsilon", "alpha") == {"epsilon": "1.0.0", "alpha": None}
        self.next(self.end)

    @step
    def end(self):
        assert not in_flowenv()

if __name__ == "__main__":
    SelectiveFlow()
''')
    runner.flow("flow.py", "run")


def test_pathspec_reproduces_a_past_step_environment_with_var(runner):
    runner.write("prod.py", CHECK + '''
from metaflow import FlowSpec, step, pypi

class ProductionFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train)

    @pypi(packages={"beta": "1.0.0", "alpha": "1.0.0"})
    @step
    def train(self):
        assert versions("alpha", "beta") == {"alpha": "1.0.0", "beta": "1.0.0"}
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    ProductionFlow()
''')
    runner.flow("prod.py", "run", "--run-id-file", "run_id")
    run_id = (runner.folder / "run_id").read_text().strip()
    runner.write("debug.py", CHECK + '''
from metaflow import FlowSpec, step, named_env_base

@named_env_base(pathspec="ProductionFlow/@{PROD_RUN_ID}/train")
class DebugFlow(FlowSpec):
    @step
    def start(self):
        assert versions("alpha", "beta") == {"alpha": "1.0.0", "beta": "1.0.0"}
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    DebugFlow()
''')
    runner.flow("debug.py", "run", env={"PROD_RUN_ID": run_id})
    ids = runner.client('''
        from metaflow import Flow, namespace
        namespace(None)
        print(Flow("ProductionFlow").latest_run["train"].task.metadata_dict["flowenv_env_id"],
              Flow("DebugFlow").latest_run["start"].task.metadata_dict["flowenv_env_id"])
    ''').split()
    assert ids[0] == ids[1]
    # The same env can be named from the pathspec, as the seed shows.
    runner.metaflow("environment", "alias", "--pathspec", "ProductionFlow/%s/train" % run_id,
                    "--alias", "team/my-env:v1")
    shown = runner.metaflow("environment", "show", "team/my-env:v1").stdout
    assert ids[0] in shown and "beta==1.0.0" in shown


def test_env_var_in_name_and_unset_var_error(runner):
    runner.resolve(BASE_V1, "team/ml-env:v1")
    runner.write("flow.py", CHECK + '''
from metaflow import FlowSpec, step, named_env_base

@named_env_base(name="team/ml-env:@{ENV_VERSION}")
class VarFlow(FlowSpec):
    @step
    def start(self):
        assert versions("alpha") == {"alpha": "1.0.0"}
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    VarFlow()
''')
    runner.flow("flow.py", "run", env={"ENV_VERSION": "v1"})
    proc = runner.flow("flow.py", "run", check=False)
    err = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "ENV_VERSION" in err and "not set" in err
    assert "Traceback" not in err


def test_fetch_at_exec_sees_latest_moved_between_tasks(runner):
    runner.resolve(BASE_V1, "prod/data-pipeline:latest")
    runner.resolve(OTHER_V2, "prod/data-pipeline-next:v2")
    runner.write("flow.py", CHECK + '''
import subprocess
from metaflow import FlowSpec, step, named_env_base

@named_env_base(name="prod/data-pipeline:latest", fetch_at_exec=True)
class DynamicProdFlow(FlowSpec):
    @step
    def start(self):
        assert versions("alpha") == {"alpha": "1.0.0"}
        # A colleague moves :latest while the run goes on.
        subprocess.run([os.environ["LAUNCHER_PYTHON"], "-m", "metaflow.cmd.main_cli",
                        "environment", "alias", "prod/data-pipeline-next:v2",
                        "prod/data-pipeline:latest"], check=True,
                       env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FLOWENV_SITE_APPEND")})
        self.next(self.end)

    @step
    def end(self):
        assert versions("alpha") == {"alpha": "2.0.0"}

if __name__ == "__main__":
    DynamicProdFlow()
''')
    runner.flow("flow.py", "run")
    history = runner.metaflow("environment", "history", "prod/data-pipeline:latest").stdout
    moves = [line for line in history.splitlines() if "->" in line]
    assert len(moves) == 2 and "(new)" in moves[0]


def test_mutable_and_immutable_tags(runner):
    runner.resolve(BASE_V1, "team/ml-env:v1")
    runner.resolve(BASE_V1, "team/ml-env:latest")
    # latest can move
    runner.resolve(OTHER_V2, "team/ml-env:latest")
    shown = runner.metaflow("environment", "show", "team/ml-env").stdout
    assert "alpha==2.0.0" in shown
    # v1 never moves
    runner.write("other.txt", OTHER_V2)
    proc = runner.metaflow("environment", "resolve", "-r", "other.txt", "--alias", "team/ml-env:v1", check=False)
    assert proc.returncode != 0 and "already points to" in proc.stderr
    assert "alpha==1.0.0" in runner.metaflow("environment", "show", "team/ml-env:v1").stdout
    # and latest can be put back
    runner.metaflow("environment", "alias", "--restore", "team/ml-env:latest")
    assert "alpha==1.0.0" in runner.metaflow("environment", "show", "team/ml-env:latest").stdout


@pytest.mark.parametrize("decorators,message", [
    ('@conda_base(libraries={"pandas": "1.5.0"})\n@named_env_base(name="team/env")', "already resolved"),
    ('@pypi_base(packages={"requests": "2.28.0"})\n@named_env_base(name="team/env")', "already resolved"),
    ('@named_env_base(name="team/env", pathspec="F/1/start")', "not both"),
    ('@named_env_base(fetch_at_exec=True)', "needs name= or pathspec="),
])
def test_conflicting_decorators_fail_at_flow_start(runner, decorators, message):
    runner.write("flow.py", '''
from metaflow import FlowSpec, step, named_env_base, conda_base, pypi_base

%s
class BadFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    BadFlow()
''' % decorators)
    proc = runner.flow("flow.py", "run", check=False)
    err = proc.stdout + proc.stderr
    assert proc.returncode != 0 and message in err, err
    assert "Workflow starting" not in err


def test_fetch_at_exec_cannot_be_extended(runner):
    runner.write("flow.py", '''
from metaflow import FlowSpec, step, named_env_base, pypi

@named_env_base(name="team/env:latest", fetch_at_exec=True)
class BadFlow(FlowSpec):
    @pypi(packages={"alpha": "1.0.0"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    BadFlow()
''')
    proc = runner.flow("flow.py", "run", check=False)
    assert proc.returncode != 0 and "fetch_at_exec" in proc.stdout + proc.stderr


def test_undecorated_steps_get_managed_env_with_launcher_python(runner):
    runner.write("flow.py", CHECK + '''
from metaflow import FlowSpec, step

class PlainFlow(FlowSpec):
    @step
    def start(self):
        assert in_flowenv()
        assert "%d.%d" % sys.version_info[:2] == os.environ["EXPECT_MINOR"]
        assert versions("alpha") == {"alpha": None}
        self.next(self.end)

    @step
    def end(self):
        assert in_flowenv()

if __name__ == "__main__":
    PlainFlow()
''')
    import sys
    runner.flow("flow.py", "run", env={"EXPECT_MINOR": "%d.%d" % sys.version_info[:2]})


def test_flow_environment_resolve_alias_then_use(runner):
    runner.write("producer.py", '''
from metaflow import FlowSpec, step, pypi_base

@pypi_base(packages={"beta": "1.5.0"})
class ProducerFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    ProducerFlow()
''')
    runner.flow("producer.py", "environment", "resolve", "--alias", "team/my-env:v1")
    shown = runner.flow("producer.py", "environment", "show", "--json").stdout
    start = json.loads(shown[shown.index("{"):])["steps"]["start"]
    pins = {f["name"]: f["version"] for f in start["lock"]["files"]}
    assert pins == {"alpha": "2.0.0", "beta": "1.5.0"} and start["state"] == "resolved"
    runner.write("consumer.py", CHECK + '''
from metaflow import FlowSpec, step, named_env_base

@named_env_base(name="team/my-env:v1")
class ConsumerFlow(FlowSpec):
    @step
    def start(self):
        assert versions("alpha", "beta") == {"alpha": "2.0.0", "beta": "1.5.0"}
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    ConsumerFlow()
''')
    runner.flow("consumer.py", "run")


def test_decorators_need_the_flowenv_environment(runner):
    runner.write("flow.py", '''
from metaflow import FlowSpec, step, pypi

class NeedsEnvFlow(FlowSpec):
    @pypi(packages={"alpha": "1.0.0"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    NeedsEnvFlow()
''')
    proc = runner.run(sys.executable, "flow.py", "run", check=False)
    err = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "--environment=conda" in err and "Traceback" not in err


def test_metaflow_conda_is_flowenv():
    """If any extension's plugin list failed to import, Metaflow would silently fall
    back to its own @conda: this must never pass unnoticed."""
    import metaflow
    from metaflow.plugins import ENVIRONMENTS

    for name in ("conda", "conda_base", "pypi", "pypi_base", "named_env", "named_env_base"):
        decorator_class = getattr(metaflow, name).args[0]  # a partial over the class
        assert decorator_class.__module__.startswith("metaflow_extensions.flowenv"), name
    conda_env = [e for e in ENVIRONMENTS if e.TYPE == "conda"][-1]
    assert conda_env.__module__.startswith("metaflow_extensions.flowenv")


def test_create_into_dir_and_as_a_jupyter_kernel(runner, wheel_index):
    from tests.flows.conftest import ensure_wheel

    ensure_wheel(wheel_index, "ipykernel", "6.0.0")
    runner.resolve("alpha==1.0.0\nipykernel==6.0.0\n", "team/nb:v1")
    runner.metaflow("environment", "create", "team/nb:v1", "--into-dir", "myenv")
    check = runner.run(str(runner.folder / "myenv" / "bin" / "python"), "-c",
                       "import alpha; print(alpha.__version__)").stdout
    assert check.strip() == "1.0.0"
    jupyter = runner.folder / "jupyter"
    runner.metaflow("environment", "create", "team/nb:v1", "--install-notebook",
                    env={"JUPYTER_DATA_DIR": str(jupyter)})
    spec = json.loads((jupyter / "kernels" / "flowenv-team-nb-v1" / "kernel.json").read_text())
    assert spec["argv"][0].endswith("/bin/python") and "ipykernel_launcher" in spec["argv"]
    # Without ipykernel: an environment extending it with ipykernel is made and used.
    runner.resolve("alpha==1.0.0\n", "team/no-nb:v1")
    proc = runner.metaflow("environment", "create", "team/no-nb:v1", "--install-notebook",
                           env={"JUPYTER_DATA_DIR": str(jupyter)})
    assert "has no ipykernel: using" in proc.stderr, proc.stderr
    spec = json.loads((jupyter / "kernels" / "flowenv-team-no-nb-v1" / "kernel.json").read_text())
    check = runner.run(spec["argv"][0], "-c", "import alpha, ipykernel; print(alpha.__version__)")
    assert check.stdout.strip() == "1.0.0"
    base = runner.metaflow("environment", "show", "team/no-nb:v1").stdout
    assert "ipykernel" not in base  # the named environment itself is unchanged



def test_pypi_decorator_with_a_folder_and_a_git_tag(runner, tmp_path):
    """Direct references in a decorator, as OSS Metaflow spells them: a folder relative to
    the flow file, and a git tag (a version starting with '@' works too)."""
    from tests.wheelhouse import make_git_repo, make_project

    make_project(runner.folder / "libs" / "featlib", "featlib", "0.5", ["alpha<2"])
    repo = make_git_repo(tmp_path / "git-host" / "mylib", "mylib", ["1.0", "2.0"])
    runner.write("flow.py", CHECK + '''
from metaflow import FlowSpec, step, pypi

class DirectFlow(FlowSpec):
    @pypi(packages={"featlib": "./libs/featlib", "mylib": "@git+%s@v2.0"})
    @step
    def start(self):
        assert versions("featlib", "mylib", "alpha") == {
            "featlib": "0.5", "mylib": "2.0", "alpha": "1.0.0"}
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    DirectFlow()
''' % repo.as_uri())
    runner.flow("flow.py", "run")

"""Conda and mixed environments in real flows, from a local conda channel built at test
time (its `python` is this machine's interpreter) and the local wheel index."""

from tests.flows.test_seed_flows import CHECK

CONDA_CHECK = CHECK + '''
def conda_python():
    # The step's interpreter is the conda `python` package's, inside the conda prefix.
    return os.path.isdir(os.path.join(sys.prefix, "conda-meta"))
'''


def test_conda_step_mixed_step_and_conda_base(runner):
    runner.write("flow.py", CONDA_CHECK + '''
from metaflow import FlowSpec, step, conda, conda_base, pypi

@conda_base(libraries={"condadep": "1.0"})
class CondaFlow(FlowSpec):
    @step
    def start(self):
        assert conda_python() and versions("condadep", "condalib") == {"condadep": "1.0", "condalib": None}
        self.next(self.lib)

    @conda(libraries={"condalib": "2.0", "condadep": "2.0"})
    @step
    def lib(self):
        assert versions("condalib", "condadep") == {"condalib": "2.0", "condadep": "2.0"}
        self.next(self.mixed)

    @conda(libraries={"condaold": "1.0"})
    @pypi(packages={"alpha": "2.0.0"})
    @step
    def mixed(self):
        assert conda_python()
        assert versions("condaold", "condadep", "alpha") == {"condaold": "1.0", "condadep": "1.0", "alpha": "2.0.0"}
        self.next(self.end)

    @step
    def end(self):
        assert versions("condadep") == {"condadep": "1.0"}

if __name__ == "__main__":
    CondaFlow()
''')
    runner.flow("flow.py", "run")


def test_named_conda_base_extended_by_step_pypi_and_conda(runner):
    runner.write("environment.yml", '''
name: ignored
dependencies:
  - condalib=1.0
  - pip:
    - gamma==0.2.0
''')
    runner.metaflow("environment", "resolve", "-f", "environment.yml", "--alias", "team/core:v1")
    runner.write("flow.py", CONDA_CHECK + '''
from metaflow import FlowSpec, step, named_env_base, conda, pypi

@named_env_base(name="team/core:v1")
class HybridFlow(FlowSpec):
    @step
    def start(self):
        assert conda_python()
        assert versions("condalib", "gamma", "epsilon") == {"condalib": "1.0", "gamma": "0.2.0", "epsilon": None}
        self.next(self.process)

    @conda(libraries={"condatool": "1.0"})
    @pypi(packages={"epsilon": "1.0.0"})
    @step
    def process(self):
        import shutil
        assert shutil.which("condatool"), "condatool's script is on PATH"
        assert versions("condalib", "gamma", "epsilon") == {"condalib": "1.0", "gamma": "0.2.0", "epsilon": "1.0.0"}
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    HybridFlow()
''')
    runner.flow("flow.py", "run")


def test_unknown_conda_package_is_a_clear_error_naming_the_step(runner):
    runner.write("flow.py", '''
from metaflow import FlowSpec, step, conda

class BadCondaFlow(FlowSpec):
    @conda(libraries={"no-such-package": "1.0"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    BadCondaFlow()
''')
    proc = runner.flow("flow.py", "run", check=False)
    err = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "no-such-package" in err and "start" in err, err
    assert "Traceback" not in err


def test_pypi_named_base_extended_by_step_conda(runner):
    """The seed's first example: a named env from requirements.txt, a step adding a conda
    package (ml-base-env:v2 + xgboost)."""
    runner.resolve("alpha==1.0.0\ngamma==0.1.0\n", "team/ml-base-env:v2")
    runner.write("flow.py", CONDA_CHECK + '''
from metaflow import FlowSpec, step, named_env_base, conda

@named_env_base(name="team/ml-base-env:v2")
class MyFlow(FlowSpec):
    @step
    def start(self):
        assert versions("alpha", "gamma", "condalib") == {"alpha": "1.0.0", "gamma": "0.1.0", "condalib": None}
        self.next(self.train)

    @conda(libraries={"condalib": "1.0"})
    @step
    def train(self):
        assert versions("alpha", "gamma", "condalib") == {"alpha": "1.0.0", "gamma": "0.1.0", "condalib": "1.0"}
        self.next(self.end)

    @step
    def end(self):
        assert versions("condalib") == {"condalib": None}

if __name__ == "__main__":
    MyFlow()
''')
    runner.flow("flow.py", "run")

"""Against the real PyPI (marked network): a named env from a requirements.txt, used by a
flow that extends it on one step."""

import json

import pytest

pytestmark = pytest.mark.network


def test_real_pypi_named_env_extended_by_a_step(runner):
    runner.env.pop("UV_INDEX_URL", None)
    runner.write("requirements.txt", "six==1.16.0\n")
    runner.metaflow("environment", "resolve", "-r", "requirements.txt", "--alias", "team/real:v1")
    runner.write("flow.py", '''
from metaflow import FlowSpec, step, named_env_base, pypi

@named_env_base(name="team/real:v1")
class RealFlow(FlowSpec):
    @step
    def start(self):
        import six
        assert six.__version__ == "1.16.0"
        self.next(self.end)

    @pypi(packages={"tabulate": "0.9.0"})
    @step
    def end(self):
        import six, tabulate
        assert (six.__version__, tabulate.__version__) == ("1.16.0", "0.9.0")

if __name__ == "__main__":
    RealFlow()
''')
    runner.flow("flow.py", "run")
    exported = runner.metaflow("environment", "export", "team/real:v1", "--format", "pylock").stdout
    assert 'name = "six"' in exported and "files.pythonhosted.org" in exported


def test_env_on_another_python_version(runner):
    """Steps on a Python other than the launcher's get Metaflow's own needs (requests)
    resolved for that version."""
    import sys

    from flowenv.errors import InterpreterNotFound
    from flowenv.interpreters import InterpreterFinder

    other = "3.10" if sys.version_info[:2] != (3, 10) else "3.12"
    try:
        InterpreterFinder().find(other)
    except InterpreterNotFound:
        pytest.skip("no Python %s on this machine" % other)
    runner.env.pop("UV_INDEX_URL", None)
    runner.write("requirements.txt", "six==1.16.0\n")
    runner.metaflow("environment", "resolve", "--python", other, "-r", "requirements.txt",
                    "--alias", "team/other-python:v1")
    runner.write("flow.py", '''
import sys
from metaflow import FlowSpec, step, named_env_base

@named_env_base(name="team/other-python:v1")
class OtherPythonFlow(FlowSpec):
    @step
    def start(self):
        import six
        assert "%%d.%%d" %% sys.version_info[:2] == "%s", sys.version
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    OtherPythonFlow()
''' % other)
    runner.flow("flow.py", "run")


def test_source_only_package_is_built_once_and_shared_as_a_wheel(runner, wheel_index, tmp_path):
    """A package with no wheel: built on the resolving machine (its build backend comes
    from PyPI), stored as a wheel, and installed from the store like any other."""
    from tests.wheelhouse import make_sdist, write_simple_index

    make_sdist(wheel_index, "srconly", "0.5.0")
    write_simple_index(wheel_index)
    runner.env["UV_EXTRA_INDEX_URL"] = "https://pypi.org/simple"
    runner.resolve("srconly==0.5.0\nalpha==1.0.0\n", "team/built:v1")
    shown = runner.metaflow("environment", "show", "team/built:v1", "--json").stdout
    files = json.loads(shown[shown.index("["):])[0]["files"]
    built = [f for f in files if f["name"] == "srconly"][0]
    assert built["filename"].endswith(".whl") and built["source_url"].endswith(".tar.gz")
    assert built["url"] == ""  # the wheel exists only in the store
    # Another machine: empty cache, no index at all; the env comes from the store.
    other = dict(runner.env, FLOWENV_CACHE_DIR=str(tmp_path / "other-cache"),
                 UV_CACHE_DIR=str(tmp_path / "other-uv"), UV_OFFLINE="1",
                 UV_INDEX_URL="file:///nonexistent/simple")
    other.pop("UV_EXTRA_INDEX_URL")
    prefix = runner.metaflow("environment", "get", "team/built:v1", env=other).stdout.split()[-1]
    out = runner.run(prefix + "/bin/python", "-c",
                     "import srconly, alpha; print(srconly.__version__, alpha.__version__)").stdout
    assert out.split() == ["0.5.0", "1.0.0"]

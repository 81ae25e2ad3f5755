"""Flows run for real: `python flow.py --environment=conda run` in a fresh folder, against a
local wheel index built at test time (no network)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import isolated_from_machine
from tests.wheelhouse import build_index, make_wheel, simple_index_url, write_simple_index

def ensure_wheel(folder, name, version, requires=(), tag="py3-none-any"):
    """Add a wheel to a shared index once: rebuilt, it would get another sha256 than the one
    already resolved and cached by other tests of this session."""
    if not (folder / ("%s-%s-%s.whl" % (name.replace("-", "_"), version, tag))).exists():
        make_wheel(folder, name, version, requires, tag=tag)
        write_simple_index(folder)
    return folder


@pytest.fixture(scope="session")
def wheel_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wheels")
    build_index(folder)
    # A package whose dependencies differ by platform marker, and one with extras.
    make_wheel(folder, "zeta", "1.0.0", ["alpha>=1"])
    write_simple_index(folder)
    return folder


@pytest.fixture(scope="session")
def conda_channel(tmp_path_factory):
    from tests.condachannel import build_channel

    return build_channel(tmp_path_factory.mktemp("channel"))


@pytest.fixture(scope="session")
def shared_caches(tmp_path_factory):
    root = tmp_path_factory.mktemp("caches")
    return {"UV_CACHE_DIR": str(root / "uv"), "FLOWENV_CACHE_DIR": str(root / "flowenv")}


class FlowRunner:
    """Writes flows and requirement files into one folder (its own .metaflow datastore)
    and runs Metaflow commands there with the launcher's Python."""

    def __init__(self, folder: Path, env: dict):
        self.folder = folder
        self.env = env
        (folder / ".metaflow").mkdir(exist_ok=True)

    def write(self, name: str, text: str) -> Path:
        path = self.folder / name
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    def run(self, *args, check=True, env=None, timeout=300, cwd=None):
        proc = subprocess.run(
            [str(a) for a in args], cwd=cwd or self.folder, capture_output=True, text=True,
            env={**self.env, **(env or {})}, timeout=timeout, stdin=subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(map(str, args)),
                                                               proc.returncode, proc.stdout, proc.stderr))
        return proc

    def flow(self, filename, *args, check=True, env=None):
        return self.run(sys.executable, filename, "--environment=conda", *args,
                        check=check, env=env)

    def metaflow(self, *args, check=True, env=None, cwd=None):
        return self.run(sys.executable, "-m", "metaflow.cmd.main_cli", *args, check=check, env=env,
                        cwd=cwd)

    def resolve(self, requirements: str, alias: str, *extra):
        self.write("req-%s.txt" % alias.replace("/", "_").replace(":", "_"), requirements)
        return self.metaflow("environment", "resolve", "-r",
                             "req-%s.txt" % alias.replace("/", "_").replace(":", "_"),
                             "--alias", alias, *extra)

    def client(self, code: str):
        """Run Metaflow client code in this folder; returns its stdout."""
        return self.run(sys.executable, "-c", textwrap.dedent(code)).stdout


def flow_env(wheel_index, shared_caches, conda_channel) -> dict:
    """The environment flows and commands run with: the test index and channel, the
    session's caches, a local datastore, none of this machine's pip or uv settings."""
    env = isolated_from_machine(dict(os.environ))
    env.update(shared_caches)
    env.update({
        "UV_INDEX_URL": simple_index_url(wheel_index),
        "FLOWENV_CONDA_CHANNELS": conda_channel,
        "METAFLOW_DEFAULT_DATASTORE": "local",
        "METAFLOW_DEFAULT_METADATA": "local",
        "LAUNCHER_PYTHON": sys.executable,
    })
    # Other suites' session settings must not leak into flows (xdist mixes suites per worker).
    for var in ("FLOWENV_STORE", "UV_OFFLINE", "UV_FIND_LINKS", "UV_EXTRA_INDEX_URL",
                "FLOWENV_CONDA_CHANNEL_ALIAS", "FLOWENV_CONDA_VIRTUAL_PACKAGES"):
        env.pop(var, None)
    env.pop("METAFLOW_DATASTORE_SYSROOT_LOCAL", None)
    return env


@pytest.fixture
def runner(tmp_path, wheel_index, shared_caches, conda_channel):
    return FlowRunner(tmp_path, flow_env(wheel_index, shared_caches, conda_channel))

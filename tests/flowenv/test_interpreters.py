"""Finding real CPython interpreters for a constraint, never a pyenv shim."""

from __future__ import annotations

import os
import sys
import time

import pytest

from flowenv.errors import InterpreterNotFound
from flowenv.interpreters import InterpreterFinder

from tests.flowenv.conftest import PYTHON_FULL, PYTHON_MINOR


@pytest.fixture
def finder(tmp_path):
    return InterpreterFinder(tmp_path / "interpreters.json")


def test_finds_the_running_interpreter(finder):
    found = finder.find(None)
    assert found.version == PYTHON_FULL
    assert found.minor == PYTHON_MINOR
    assert finder.find(PYTHON_MINOR).version == PYTHON_FULL
    assert finder.find("==" + PYTHON_FULL).version == PYTHON_FULL
    assert any(i.version == PYTHON_FULL for i in finder.all())


def test_found_interpreter_really_is_that_version(finder):
    import subprocess

    found = finder.find(PYTHON_MINOR)
    out = subprocess.run([found.path, "-c", "import sys; print(sys.version_info[:3])"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(tuple(sys.version_info[:3]))


def test_unsatisfiable_constraint_lists_what_was_found(finder):
    start = time.monotonic()
    with pytest.raises(InterpreterNotFound) as err:
        finder.find("<2.0")
    elapsed = time.monotonic() - start
    message = str(err.value)
    assert "<2.0" in message
    assert PYTHON_FULL in message  # lists the interpreters it did find
    assert "FLOWENV_PYTHONS" in message  # and says what to do
    assert elapsed < 2.0


def test_probe_results_are_cached_on_disk(tmp_path):
    cache = tmp_path / "interpreters.json"
    first = InterpreterFinder(cache).all()
    assert cache.is_file()
    start = time.monotonic()
    second = InterpreterFinder(cache).all()
    assert second == first
    assert time.monotonic() - start < 1.0


def _fake_python(folder, name, body):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body)
    path.chmod(0o755)
    return path


def test_pyenv_shims_are_skipped(tmp_path, monkeypatch):
    # A working shim: a '#!' script that runs the real interpreter. If it were probed it
    # would answer with a real version, so only the shim rule can keep it out.
    shim = _fake_python(tmp_path / "shims", "python3",
                        '#!/bin/sh\nexec "%s" "$@"\n' % os.path.realpath(sys.executable))
    paths = [i.path for i in InterpreterFinder(tmp_path / "cache.json", [str(shim)]).all()]
    assert str(shim) not in paths
    assert os.path.realpath(str(shim)) not in paths


def test_flowenv_pythons_adds_interpreters(tmp_path, monkeypatch):
    # A copy of a real (binary) interpreter is found through FLOWENV_PYTHONS.
    real = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
    link_dir = tmp_path / "extra"
    link_dir.mkdir()
    other = link_dir / "python3-copy"
    try:
        os.link(real, other)
    except OSError:
        pytest.skip("cannot hard-link the interpreter into the temp dir")
    finder = InterpreterFinder(tmp_path / "cache.json", [str(link_dir / "python3-*")])
    found = {i.path: i.version for i in finder.all()}
    assert found.get(str(other)) == PYTHON_FULL

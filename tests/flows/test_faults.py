"""kill -9 at each phase of resolve, publish and create, then a clean rerun.

No hook in flowenv tells the test where a command is: the test starts the real command
(`metaflow environment resolve | create`) and watches the file system for the first file
of the phase it wants to interrupt (uv's requirements file, a temporary download, a
temporary upload, the `incomplete` marker of a creation). The moment it appears, the
process is stopped (SIGSTOP, so it cannot move on while the test looks) and killed with
SIGKILL. A wheel of 48 MB makes the download, upload and install phases long enough to be
caught; each test checks that the kill really landed in its phase before the rerun.
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.wheelhouse import build_index, make_wheel, simple_index_url, write_simple_index

TEMP_PREFIX = ".flowenv-tmp-"
STALE = 7 * 3600  # older than flowenv's sweep horizon (6 hours)


@pytest.fixture(scope="module")
def big_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big-wheels")
    build_index(folder, [("alpha", "1.0.0", ())])
    make_wheel(folder, "bigpkg", "1.0.0", data_files={"bigpkg/data.bin": os.urandom(48 << 20)})
    write_simple_index(folder)
    return folder


@pytest.fixture
def big(runner, big_index, tmp_path):
    """The runner set up for the big wheel: own cache, own TMPDIR, no bytecode compilation."""
    runner.env.update({
        "UV_INDEX_URL": simple_index_url(big_index),
        "FLOWENV_CACHE_DIR": str(tmp_path / "cache"),
        "FLOWENV_COMPILE_BYTECODE": "no",
        "TMPDIR": str(tmp_path / "tmp"),
    })
    (tmp_path / "tmp").mkdir()
    runner.write("req.txt", "bigpkg==1.0.0\nalpha==1.0.0\n")
    wheel = big_index / "bigpkg-1.0.0-py3-none-any.whl"
    runner.sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    runner.cache = tmp_path / "cache"
    runner.store = runner.folder / ".metaflow" / "flowenv" / "v1"
    return runner


def kill_when(runner, args, seen, timeout=120):
    """Run `metaflow ARGS`; SIGKILL it the moment seen() is true. Fails if it ends first."""
    proc = subprocess.Popen([sys.executable, "-m", "metaflow.cmd.main_cli", *args],
                            cwd=runner.folder, env=runner.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if seen():
                proc.send_signal(signal.SIGSTOP)
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                return
            time.sleep(0.0005)
        out, err = proc.communicate(timeout=30) if proc.poll() is not None else ("", "")
        pytest.fail("the command ended (%s) before the phase began:\n%s\n%s"
                    % (proc.returncode, out, err))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def temporaries(folder: Path):
    try:
        return [p for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX)]
    except FileNotFoundError:
        return []


def backdate(*roots):
    """Make the killed process's leftovers (in any folder: downloads and uploads run in
    parallel) look old, as if the rerun came hours later: the rerun's writes sweep them."""
    old = time.time() - STALE
    for root in roots:
        for path in Path(root).rglob(TEMP_PREFIX + "*"):
            os.utime(path, (old, old))


def resolve(runner, *extra):
    return runner.metaflow("environment", "resolve", "-r", "req.txt", *extra)


def intact_store(runner):
    """Every stored blob hashes to its name; every record parses."""
    blobs = [p for p in runner.store.glob("packages/*/*")]
    for blob in blobs:
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name, blob
    for record in runner.store.rglob("*.json"):
        json.loads(record.read_text())
    return blobs


def no_temporaries_left(*roots):
    left = [p for root in roots for p in Path(root).rglob(TEMP_PREFIX + "*")]
    assert not left, left


def test_kill_while_uv_resolves(big):
    tmp = Path(big.env["TMPDIR"])
    kill_when(big, ["environment", "resolve", "-r", "req.txt"],
              lambda: any(tmp.glob("flowenv-resolve-*/requirements.in")))
    assert not list(big.store.glob("envs/*.json"))  # nothing was published
    resolve(big)
    assert len(intact_store(big)) == 2
    no_temporaries_left(big.store, big.cache)


def test_kill_while_downloading_into_the_cache(big):
    folder = big.cache / "pkgs-v1" / big.sha[:2] / big.sha
    kill_when(big, ["environment", "resolve", "-r", "req.txt"], lambda: temporaries(folder))
    left = temporaries(folder)
    assert left and not (folder / "bigpkg-1.0.0-py3-none-any.whl").exists()
    assert not list(big.store.glob("envs/*.json"))
    backdate(big.cache, big.store)
    resolve(big)
    assert len(intact_store(big)) == 2
    no_temporaries_left(big.store, big.cache)


def test_kill_while_uploading_into_the_store(big):
    folder = big.store / "packages" / big.sha[:2]
    kill_when(big, ["environment", "resolve", "-r", "req.txt"], lambda: temporaries(folder))
    left = temporaries(folder)
    assert left and not (folder / big.sha).exists()
    assert not list(big.store.glob("envs/*.json"))  # no record points to a missing blob
    backdate(big.cache, big.store)
    resolve(big)
    assert len(intact_store(big)) == 2
    no_temporaries_left(big.store, big.cache)


def _incomplete(prefix_parent: Path):
    return lambda: any(prefix_parent.glob("*/.flowenv-incomplete"))


def test_kill_while_creating_in_the_cache_then_sweep(big):
    resolve(big, "--alias", "team/big:v1")
    envs = big.cache / "envs-v1"
    kill_when(big, ["environment", "get", "team/big:v1"], _incomplete(envs))
    (half,) = [p.parent for p in envs.glob("*/.flowenv-incomplete")]
    assert not (half / ".flowenv-complete").exists()
    prefix = Path(big.metaflow("environment", "get", "team/big:v1").stdout.split()[-1])
    assert prefix == half and (prefix / ".flowenv-complete").is_file()
    check = subprocess.run([str(prefix / "bin" / "python"), "-c",
                            "import bigpkg, os; print(os.path.getsize(os.path.join("
                            "os.path.dirname(bigpkg.__file__), 'data.bin')))"],
                           capture_output=True, text=True, check=True)
    assert check.stdout.strip() == str(48 << 20)
    no_temporaries_left(big.store, big.cache)


def test_half_made_environment_of_a_killed_process_is_swept(big):
    resolve(big, "--alias", "team/big:v1")
    envs = big.cache / "envs-v1"
    kill_when(big, ["environment", "get", "team/big:v1"], _incomplete(envs))
    (half,) = [p.parent for p in envs.glob("*/.flowenv-incomplete")]
    # Creating another environment removes it: nobody holds its lock any more.
    big.write("small.txt", "alpha==1.0.0\n")
    big.metaflow("environment", "resolve", "-r", "small.txt", "--alias", "team/small:v1")
    big.metaflow("environment", "get", "team/small:v1")
    assert not half.exists()


def test_kill_while_creating_into_a_folder(big):
    resolve(big, "--alias", "team/big:v1")
    dest = big.folder / "venv"
    kill_when(big, ["environment", "create", "team/big:v1", "--into-dir", "venv"],
              lambda: (dest / ".flowenv-incomplete").exists())
    assert not (dest / ".flowenv-complete").exists()
    # The half-made folder is flowenv's own: the rerun replaces it without --force.
    big.metaflow("environment", "create", "team/big:v1", "--into-dir", "venv")
    assert (dest / ".flowenv-complete").is_file() and not (dest / ".flowenv-incomplete").exists()
    no_temporaries_left(big.store, big.cache, big.folder)

"""What a user watches while an environment is created: a live line with bytes on a
terminal, plain phase lines in a log, nothing with --quiet."""

import os
import pty
import re
import subprocess
import sys
import threading

import pytest


@pytest.fixture
def named(runner):
    # Four wheels: alpha 2.0.0 brings gamma.
    runner.resolve("alpha==2.0.0\nbeta==1.0.0\ndelta==3.0.0\n", "team/progress:v1")
    return runner


def _get(runner, tmp_path, name, *options, terminal=False):
    """`metaflow environment [options] get` on an empty cache: stdout, and what the user
    sees on stderr."""
    env = dict(runner.env, FLOWENV_CACHE_DIR=str(tmp_path / name), COLUMNS="200")
    argv = [sys.executable, "-m", "metaflow.cmd.main_cli", "environment", *options, "get",
            "team/progress:v1"]
    if not terminal:
        proc = subprocess.run(argv, cwd=runner.folder, env=env, capture_output=True,
                              text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout, proc.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, cwd=runner.folder, env=env, stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    seen = []

    def read():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal closed with the process
                return
            if not data:
                return
            seen.append(data)

    reader = threading.Thread(target=read)
    reader.start()
    out = proc.communicate(timeout=300)[0].decode()
    reader.join(timeout=30)
    os.close(master)
    screen = b"".join(seen).decode(errors="replace")
    assert proc.returncode == 0, screen
    return out, screen


def test_a_terminal_sees_live_progress_with_bytes(named, tmp_path):
    out, screen = _get(named, tmp_path, "tty", terminal=True)
    assert out.strip().endswith(tuple("0123456789abcdef"))  # the env's path
    redraws = [part for part in screen.split("\r") if part.startswith("Fetching 4 package files")]
    assert re.search(r"\d/4 files, [\d.]+ k?B/[\d.]+ kB", "\n".join(redraws)), screen
    assert any("Installing 4 wheels" in part and "/4 wheels" in part
               for part in screen.split("\r")), screen
    # What stays on screen: each line's text after its last carriage return.
    lines = [line.split("\r")[-1] for line in screen.replace("\r\n", "\n").split("\n")]
    assert any(line.startswith("Fetching 4 package files") and ": done in" in line
               and "kB" in line for line in lines), screen
    assert any(line.startswith("Creating environment") and ": done in" in line
               for line in lines), screen


def test_a_log_gets_plain_phase_lines(named, tmp_path):
    _, err = _get(named, tmp_path, "log")
    assert "\r" not in err
    lines = err.splitlines()
    fetch = [line for line in lines if line.startswith("Fetching 4 package files")]
    assert len(fetch) == 2 and fetch[0].endswith(" ...") and ": done in" in fetch[1], err
    assert "4 files" in fetch[1] and "kB" in fetch[1]
    assert any(line.startswith("Creating environment") and ": done in" in line
               for line in lines), err


def test_quiet_shows_no_progress(named, tmp_path):
    out, err = _get(named, tmp_path, "quiet", "--quiet")
    assert out.strip()
    assert "Fetching" not in err and "Creating" not in err and "Installing" not in err, err
    _, screen = _get(named, tmp_path, "quiet-tty", "-q", terminal=True)
    assert "Fetching" not in screen and "\r" not in screen.replace("\r\n", "\n"), screen

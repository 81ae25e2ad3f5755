"""gc: what is unused for long enough goes, what is in use or recent stays."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowenv.cleanup import CODE, ENVIRONMENTS, PACKAGES, collect
from flowenv.create import env_python
from flowenv.filelock import file_lock

DAYS_AGO_40 = time.time() - 40 * 86400


def _age(path: Path, when: float = DAYS_AGO_40) -> None:
    os.utime(path, (when, when))


@pytest.fixture
def three_envs(envs, make_spec):
    """Three created environments, none held by this process."""
    prefixes = [envs.create(envs.resolve(make_spec(pin)))
                for pin in ("alpha==1.0.0", "gamma==0.1.0", "epsilon==1.0.0")]
    envs.holds.release_all()
    return prefixes


@pytest.fixture
def running_in():
    """Start a Python in an environment, as a step would, and wait until it runs."""
    procs = []

    def start(prefix: Path) -> subprocess.Popen:
        proc = subprocess.Popen([str(env_python(prefix)), "-c",
                                 "import time; print('ready', flush=True); time.sleep(120)"],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def test_only_the_old_unheld_environment_is_removed(envs, three_envs, running_in):
    old, recent, held = three_envs
    proc = running_in(held)  # its start-up hook holds the env (and stamps its use)
    _age(old)
    _age(held)  # as if it had been running for 40 days
    report = collect(envs.cache, older_than_days=7, kinds=[ENVIRONMENTS])
    assert [e.path for e in report.removed] == [old]
    assert [e.path for e in report.in_use] == [held]
    assert report.recent == 1
    assert not old.exists() and recent.is_dir() and held.is_dir()
    assert report.freed > 0 and report.removed[0].idle_days > 39
    # Once the process ends, the environment is free to go.
    proc.kill()
    proc.wait()
    report = collect(envs.cache, older_than_days=7, kinds=[ENVIRONMENTS])
    assert [e.path for e in report.removed] == [held] and not held.exists()


def test_dry_run_removes_nothing_and_changes_no_stamp(envs, three_envs):
    old = three_envs[0]
    _age(old)
    report = collect(envs.cache, older_than_days=7, dry_run=True)
    assert old in [e.path for e in report.removed] and old.is_dir()
    assert old.stat().st_mtime == pytest.approx(DAYS_AGO_40, abs=1)


def test_an_environment_used_again_is_recent(envs, three_envs):
    old = three_envs[0]
    _age(old)
    subprocess.run([str(env_python(old)), "-c", "pass"], check=True)  # a step ran in it
    assert collect(envs.cache, older_than_days=7, kinds=[ENVIRONMENTS]).removed == []


def test_environment_being_created_is_left_alone(envs, three_envs):
    old = three_envs[0]
    _age(old)
    with file_lock(envs.cache.env_lock(old.name), "creating it"):
        report = collect(envs.cache, older_than_days=7, kinds=[ENVIRONMENTS])
    assert [e.path for e in report.in_use] == [old] and old.is_dir()


def test_a_removed_environment_is_created_again_when_used(envs, make_spec, three_envs):
    lock = envs.resolve(make_spec("alpha==1.0.0"))
    prefix = envs.create(lock)
    envs.holds.release_all()
    _age(prefix)
    collect(envs.cache, older_than_days=7, kinds=[ENVIRONMENTS])
    assert not prefix.exists()
    assert envs.create(lock) == prefix and env_python(prefix).exists()


def test_an_environment_this_process_uses_is_never_removed(envs, make_spec):
    prefix = envs.create(envs.resolve(make_spec("alpha==1.0.0")))  # held by envs
    _age(prefix)
    report = collect(envs.cache, older_than_days=0, kinds=[ENVIRONMENTS])
    assert [e.path for e in report.in_use] == [prefix] and prefix.is_dir()


def test_packages_wait_for_other_processes_to_finish_with_the_cache(envs, three_envs):
    package_dirs = sorted(p for p in envs.cache.packages_dir.glob("*/*") if p.is_dir())
    assert package_dirs
    for path in package_dirs:
        _age(path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); "
         "fcntl.flock(f, fcntl.LOCK_SH); print('held', flush=True); time.sleep(60)",
         str(envs.cache.maintenance_lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        report = collect(envs.cache, older_than_days=7, kinds=[PACKAGES])
        assert report.removed == [] and "another flowenv process" in report.skipped[0]
    finally:
        holder.kill()
        holder.wait()
    report = collect(envs.cache, older_than_days=7, kinds=[PACKAGES])
    assert sorted(e.path for e in report.removed) == package_dirs
    assert not any(p.exists() for p in package_dirs)
    # The environments made from them still run: their files are their own.
    for prefix in three_envs:
        subprocess.run([str(env_python(prefix)), "-c", "pass"], check=True)


def test_old_extracted_code_goes_unless_held(envs, tmp_path):
    code = envs.cache.code_dir
    kept, gone = code / "kept", code / "gone"
    for folder in (kept, gone):
        (folder / "pkg").mkdir(parents=True)
        (folder / "pkg" / "flow.py").write_text("x = 1\n")
    assert envs.holds.hold(kept)  # a running flow uses it
    _age(kept)
    _age(gone)
    report = collect(envs.cache, older_than_days=7, kinds=[CODE])
    assert [e.path for e in report.removed] == [gone] and not gone.exists()
    assert [e.path for e in report.in_use] == [kept] and kept.is_dir()
    assert report.removed[0].size == report.removed[0].own_size == 6


def test_nothing_to_do_in_an_empty_cache(tmp_path):
    from flowenv.cache import LocalCache

    report = collect(LocalCache(tmp_path / "none"), older_than_days=0)
    assert (report.removed, report.in_use, report.recent, report.freed) == ([], [], 0, 0)
    assert not (tmp_path / "none").exists()

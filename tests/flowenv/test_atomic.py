"""Atomic writes: readers see old or new content, failed writers leave nothing, and the
leftovers of killed writers are swept once they are stale."""

from __future__ import annotations

import os
import stat
import time

import pytest

from flowenv import atomic
from flowenv.atomic import TEMP_PREFIX, sweep_stale, write_bytes

HOURS = 3600


def leftover(folder, name, age_seconds, is_dir=False):
    path = folder / (TEMP_PREFIX + name)
    if is_dir:
        (path / "inside").mkdir(parents=True)
    else:
        path.write_bytes(b"half")
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return path


def test_sweep_removes_only_stale_temporaries(tmp_path):
    old_file = leftover(tmp_path, "old", 7 * HOURS)
    old_dir = leftover(tmp_path, "olddir", 7 * HOURS, is_dir=True)
    young = leftover(tmp_path, "young", 60)
    other = tmp_path / "package.whl"
    other.write_bytes(b"mine")
    os.utime(other, (0, 0))
    assert sweep_stale(tmp_path) == 2
    assert not old_file.exists() and not old_dir.exists()
    assert young.exists() and other.exists()
    assert sweep_stale(tmp_path / "missing") == 0


def test_first_write_into_a_folder_sweeps_it(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_swept", set())
    old = leftover(tmp_path, "killed-upload", 7 * HOURS)
    write_bytes(tmp_path / "a.json", b"{}")
    assert not old.exists()
    again = leftover(tmp_path, "killed-later", 7 * HOURS)
    write_bytes(tmp_path / "b.json", b"{}")  # once per folder and process: not listed again
    assert again.exists()


def test_failed_write_leaves_no_temporary(tmp_path):
    target = tmp_path / "taken"
    (target / "child").mkdir(parents=True)  # a folder where the file should go
    with pytest.raises(OSError):
        write_bytes(target, b"data")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_written_files_are_readable_by_everyone(tmp_path):
    old = os.umask(0o077)
    try:
        write_bytes(tmp_path / "shared.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "shared.json").stat().st_mode) == 0o644

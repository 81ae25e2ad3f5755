"""Holding folders in use, and noticing when a gc removed one meanwhile."""

import os
import shutil
from pathlib import Path

from flowenv.filelock import try_lock
from flowenv.usage import IN_USE, Holds, in_use_file


def test_a_held_folder_cannot_be_locked_by_gc_until_released(tmp_path):
    folder = tmp_path / "env"
    folder.mkdir()
    os.utime(folder, (1, 1))
    holds = Holds()
    assert holds.hold(folder) is True
    assert folder.stat().st_mtime > 1  # its use is stamped
    with try_lock(in_use_file(folder), create=False) as free:
        assert not free
    holds.release_all()
    with try_lock(in_use_file(folder), create=False) as free:
        assert free


def test_hold_fails_for_a_folder_removed_or_replaced(tmp_path):
    folder = tmp_path / "env"
    folder.mkdir()
    holds = Holds()
    assert holds.hold(folder)
    shutil.rmtree(folder)
    assert holds.hold(folder) is False  # gone: the caller makes it again
    folder.mkdir()
    assert holds.hold(folder) is True  # the new one is held


def test_hold_of_a_missing_folder_creates_nothing(tmp_path):
    assert Holds().hold(tmp_path / "missing") is False
    assert not (tmp_path / "missing").exists()


def test_the_environment_hook_uses_the_same_in_use_file():
    hook = (Path(__file__).parents[2] / "flowenv" / "create" / "site_hook.py").read_text()
    assert '"%s"' % IN_USE in hook

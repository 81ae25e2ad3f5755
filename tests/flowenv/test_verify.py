"""Cached copies are trusted only while unchanged since they were verified."""

from __future__ import annotations

import hashlib
import os

import pytest

from flowenv import verify
from flowenv.lock import LockedFile


@pytest.fixture
def copy(tmp_path):
    path = tmp_path / "pkgs" / "alpha-1.0.0-py3-none-any.whl"
    path.parent.mkdir()
    path.write_bytes(b"the real wheel" * 100)
    data = path.read_bytes()
    locked = LockedFile("alpha", "1.0.0", "wheel", path.name, "", hashlib.sha256(data).hexdigest(),
                        len(data))
    return path, locked


def test_a_verified_copy_is_not_hashed_again(copy, monkeypatch):
    path, locked = copy
    assert verify.is_intact(path, locked)  # hashes, then marks
    monkeypatch.setattr(verify, "sha256_of", lambda p: pytest.fail("hashed again"))
    assert verify.is_intact(path, locked)


def test_any_change_is_seen_even_with_the_mtime_put_back(copy):
    path, locked = copy
    assert verify.is_intact(path, locked)
    stamp = path.stat()
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))  # same size, same inode
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert not verify.is_intact(path, locked)


def test_a_copy_of_another_size_is_refused_without_hashing(copy, monkeypatch):
    path, locked = copy
    path.write_bytes(b"short")
    monkeypatch.setattr(verify, "sha256_of", lambda p: pytest.fail("hashed"))
    assert not verify.is_intact(path, locked)


def test_a_marker_that_cannot_be_written_costs_only_a_hash(copy, monkeypatch):
    path, locked = copy

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(verify, "write_text", read_only)
    assert verify.is_intact(path, locked)
    assert verify.is_intact(path, locked)

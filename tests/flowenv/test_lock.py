"""Locks are checked when built: plain file names, hex digests; the id covers what
creation reads."""

from __future__ import annotations

import json

import pytest

from flowenv.lock import Lock, LockedFile, LockFormatError

SHA = "0a" * 32


def wheel(**changes):
    fields = dict(name="alpha", version="1.0", kind="wheel", filename="alpha-1.0-py3-none-any.whl",
                  url="https://files.example.com/alpha-1.0-py3-none-any.whl", sha256=SHA, size=3)
    fields.update(changes)
    return LockedFile(**fields)


@pytest.mark.parametrize("filename", [
    "../../../../x.whl", "a/b.whl", ".hidden.whl", "alpha.tar.gz", "", "x" * 300 + ".whl",
    "alpha\x00.whl",
])
def test_file_names_must_be_plain_and_of_their_kind(filename):
    with pytest.raises(LockFormatError):
        wheel(filename=filename)


@pytest.mark.parametrize("changes", [
    {"sha256": "zz" * 32}, {"sha256": SHA.upper()}, {"sha256": ""}, {"kind": "sdist"},
    {"size": -1}, {"size": "3"}, {"name": ""}, {"version": None},
])
def test_other_fields_are_checked(changes):
    with pytest.raises(LockFormatError):
        wheel(**changes)


def test_the_id_covers_file_names():
    one = Lock("r", "linux-64", "3.11.7", (wheel(),))
    two = Lock("r", "linux-64", "3.11.7", (wheel(filename="alpha-1.0-py3-none-linux_x86_64.whl"),))
    assert one.full_id != two.full_id
    # ... but not the interpreter's patch level, nor where the file came from.
    assert Lock("r", "linux-64", "3.11.9", (wheel(url="file:///x"),)).full_id == one.full_id


def test_a_stored_lock_round_trips_and_is_checked_on_read():
    lock = Lock("r", "linux-64", "3.11.7", (wheel(),), {"pypi": ["alpha"]})
    again = Lock.from_json(lock.to_json())
    assert again == lock and again.full_id == lock.full_id
    data = json.loads(lock.to_json())
    data["files"][0]["filename"] = "../x.whl"
    with pytest.raises(LockFormatError):
        Lock.from_dict(data)
    data = json.loads(lock.to_json())
    data["full_id"] = "f" * 32
    with pytest.raises(LockFormatError, match="hash to"):
        Lock.from_dict(data)
    for broken in (b"{", b"[]", b'{"schema": 99}', json.dumps({**json.loads(lock.to_json()),
                                                              "files": "x"}).encode()):
        with pytest.raises(LockFormatError):
            Lock.from_json(broken)

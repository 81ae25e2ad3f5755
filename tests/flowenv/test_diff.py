"""Comparing two environments."""

from flowenv.diff import diff_locks
from flowenv.lock import Lock, LockedFile


def _file(name, version, kind="wheel"):
    ext = ".whl" if kind == "wheel" else ".conda"
    return LockedFile(name, version, kind, "%s-%s%s" % (name, version, ext), "",
                      (name + version).encode().hex().ljust(64, "0")[:64], 1)


def _lock(python, *files):
    return Lock("r" * 32, "linux-64", python, tuple(files))


def test_added_removed_changed_and_python():
    old = _lock("3.11.7", _file("alpha", "1.0.0"), _file("gamma", "0.1.0"), _file("zlib", "1", "conda"))
    new = _lock("3.12.1", _file("alpha", "2.0.0"), _file("epsilon", "1.0.0"), _file("zlib", "1"))
    diff = diff_locks(old, new)
    assert diff.python == ("3.11.7", "3.12.1")
    assert [c.name for c in diff.added] == ["epsilon"]
    assert [c.name for c in diff.removed] == ["gamma"]
    assert [c.name for c in diff.changed] == ["alpha", "zlib"]  # zlib: conda -> wheel
    assert list(diff.lines()) == [
        "~ python 3.11.7 -> 3.12.1",
        "~ alpha 1.0.0 (wheel) -> 2.0.0 (wheel)",
        "+ epsilon 1.0.0 (wheel)",
        "- gamma 0.1.0 (wheel)",
        "~ zlib 1 (conda) -> 1 (wheel)",
    ]
    assert (diff.old_id, diff.new_id) == (old.full_id, new.full_id) and not diff.is_empty


def test_same_environment_has_no_differences():
    lock = _lock("3.11.7", _file("alpha", "1.0.0"))
    diff = diff_locks(lock, lock)
    assert diff.is_empty and list(diff.lines()) == []

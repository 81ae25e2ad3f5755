"""What changed between two environments: packages added, removed and changed, and the
Python. Takes two Locks, wherever they come from (the store, a lock file)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from .lock import Lock, LockedFile


@dataclass(frozen=True)
class PackageChange:
    name: str
    old: Optional[LockedFile]  # None: added
    new: Optional[LockedFile]  # None: removed

    @property
    def kind(self) -> str:
        return "added" if self.old is None else "removed" if self.new is None else "changed"

    def __str__(self):
        def pin(file):
            return "%s (%s)" % (file.version, file.kind)

        if self.old is None:
            return "+ %s %s" % (self.name, pin(self.new))
        if self.new is None:
            return "- %s %s" % (self.name, pin(self.old))
        return "~ %s %s -> %s" % (self.name, pin(self.old), pin(self.new))


@dataclass(frozen=True)
class EnvDiff:
    old_id: str
    new_id: str
    python: Optional[Tuple[str, str]]  # (old, new) when the Python differs
    packages: Tuple[PackageChange, ...]  # by name

    @property
    def added(self) -> Tuple[PackageChange, ...]:
        return tuple(c for c in self.packages if c.kind == "added")

    @property
    def removed(self) -> Tuple[PackageChange, ...]:
        return tuple(c for c in self.packages if c.kind == "removed")

    @property
    def changed(self) -> Tuple[PackageChange, ...]:
        return tuple(c for c in self.packages if c.kind == "changed")

    @property
    def is_empty(self) -> bool:
        return self.python is None and not self.packages

    def lines(self):
        """The diff as `metaflow environment diff` prints it."""
        if self.python:
            yield "~ python %s -> %s" % self.python
        for change in self.packages:
            yield str(change)


def _by_name(lock: Lock) -> Dict[str, LockedFile]:
    return {f.name: f for f in lock.files}


def diff_locks(old: Lock, new: Lock) -> EnvDiff:
    before, after = _by_name(old), _by_name(new)
    changes = []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a is not None and b is not None and (a.version, a.kind) == (b.version, b.kind):
            continue
        changes.append(PackageChange(name, a, b))
    python = (old.python, new.python) if old.python != new.python else None
    return EnvDiff(old.full_id, new.full_id, python, tuple(changes))

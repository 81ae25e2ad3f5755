"""Every error flowenv raises derives from FlowenvError, so callers catch one type.

An error carries what went wrong, where (structured fields: the file and line, the
decorator and step, the alias, the setting, the package, the store record) and what to
do. The message is built from those parts, so code adds context with `within(...)`
instead of cutting other errors' messages apart.
"""

from __future__ import annotations

from typing import Optional

# Where an error happened, in the order the message names them.
LOCATION_FIELDS = ("decorator", "step", "flow", "file", "line", "entry", "alias", "setting",
                   "package", "record", "store")


class FlowenvError(Exception):
    """A problem the user can act on: the message says what, where, and what to do."""

    def __init__(self, what: str, *, hint: Optional[str] = None, **where):
        unknown = set(where) - set(LOCATION_FIELDS)
        if unknown:
            raise TypeError("unknown error field(s): %s" % ", ".join(sorted(unknown)))
        self.what = str(what)
        self.hint = hint
        self.where = {k: v for k, v in where.items() if v not in (None, "")}
        super().__init__(self.what)

    def __getattr__(self, name):
        if name in LOCATION_FIELDS:
            return self.__dict__.get("where", {}).get(name)
        raise AttributeError(name)

    def within(self, **where) -> "FlowenvError":
        """Add the context a caller knows (fields already set win); returns self, to re-raise."""
        for key, value in where.items():
            if key not in LOCATION_FIELDS:
                raise TypeError("unknown error field %r" % key)
            if key == "line" and self.where.get("file", where.get("file")) != where.get("file"):
                continue  # a line of another file than the one the error names
            if value not in (None, "") and key not in self.where:
                self.where[key] = value
        return self

    @property
    def location(self) -> str:
        w = self.where
        parts = []
        if w.get("decorator"):
            on = " on step %s" % w["step"] if w.get("step") else (
                " on %s" % w["flow"] if w.get("flow") else "")
            parts.append("@%s%s" % (str(w["decorator"]).lstrip("@"), on))
        elif w.get("step"):
            parts.append("step %s" % w["step"])
        elif w.get("flow"):
            parts.append("flow %s" % w["flow"])
        if w.get("file"):
            text = str(w["file"])
            if w.get("line"):
                text += ", line %s" % w["line"]
            if w.get("entry"):
                text += ", %s" % w["entry"]
            parts.append(text)
        elif w.get("entry"):
            parts.append(str(w["entry"]))
        if w.get("alias"):
            parts.append(str(w["alias"]))
        if w.get("setting"):
            parts.append("setting %s" % w["setting"])
        if w.get("package"):
            parts.append("package %s" % w["package"])
        if w.get("record"):
            store = " in the store at %s" % w["store"] if w.get("store") else ""
            parts.append("record %s%s" % (w["record"], store))
        elif w.get("store"):
            parts.append("store %s" % w["store"])
        return ", ".join(parts)

    @property
    def message(self) -> str:
        text = self.what
        if self.location:
            text = "%s: %s" % (self.location, text)
        elif text.split(" ", 1)[0].isalpha() and text.split(" ", 1)[0].islower():
            text = text[0].upper() + text[1:]  # a sentence's first word; never a name's
        if self.hint:
            text = text.rstrip() + ("" if text.rstrip().endswith((".", ":", "!", "?")) else ".")
            text += " " + self.hint
        return text

    def __str__(self):
        return self.message

    def __reduce__(self):  # errors cross process boundaries (thread and process pools)
        return (_rebuild, (type(self), self.what, self.hint, dict(self.where)))


def _rebuild(cls, what, hint, where):
    return cls(what, hint=hint, **where)


class SettingsError(FlowenvError):
    """A setting (environment variable or Metaflow profile entry) has an unusable value."""


class SpecError(FlowenvError):
    """A requirement, decorator argument or requirements file is malformed."""


class ResolveError(FlowenvError):
    """The requested packages cannot be resolved together."""


class InterpreterNotFound(FlowenvError):
    """No Python on this machine satisfies the requested constraint."""


class StoreError(FlowenvError):
    """The datastore could not be read or written."""


class DamagedRecord(StoreError):
    """A record in the store (alias, environment, resolution pointer) cannot be read."""


class AliasError(FlowenvError):
    """An alias is malformed, unknown, or an immutable tag is already taken."""


class EnvNotFound(FlowenvError):
    """An environment id, alias or pathspec does not name a known environment."""


class IntegrityError(FlowenvError):
    """A package file does not match the sha256 recorded in its lock."""


class CreateError(FlowenvError):
    """An environment could not be created on this machine."""


class LockTimeout(FlowenvError):
    """Another process held a lock for longer than the configured timeout."""

"""Every error flowenv raises derives from FlowenvError, so callers catch one type."""


class FlowenvError(Exception):
    """A problem the user can act on: the message says what, where, and what to do."""


class SpecError(FlowenvError):
    """A requirement, decorator argument or requirements file is malformed."""


class ResolveError(FlowenvError):
    """The requested packages cannot be resolved together."""


class InterpreterNotFound(FlowenvError):
    """No Python on this machine satisfies the requested constraint."""


class StoreError(FlowenvError):
    """The datastore could not be read or written."""


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

"""flowenv: named, versioned, shareable Python environments, resolved with uv and
py-rattler. This package knows nothing of Metaflow; metaflow_extensions.flowenv is the glue.

Exports load lazily, so that `python -m flowenv.bootstrap` runs on a bare interpreter
before flowenv's own dependencies are unpacked next to it.
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "Environments": ".environments", "Settings": ".settings", "LocalCache": ".cache",
    "FlowenvError": ".errors", "Lock": ".lock", "LockedFile": ".lock",
    "Alias": ".refs", "expand_vars": ".refs", "Spec": ".spec", "Store": ".store",
    "parse_file": ".parsers", "read_lock_file": ".lockfiles",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError("module 'flowenv' has no attribute %r" % name)

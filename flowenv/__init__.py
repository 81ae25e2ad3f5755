"""flowenv: named, versioned, shareable Python environments, resolved with uv and
py-rattler. This package knows nothing of Metaflow; metaflow_extensions.flowenv is the glue."""

from .environments import Environments, current_user
from .errors import FlowenvError
from .lock import Lock, LockedFile
from .refs import Alias, expand_vars
from .spec import Spec
from .store import Store

__version__ = "0.1.0"

__all__ = ["Environments", "FlowenvError", "Lock", "LockedFile", "Alias", "Spec", "Store",
           "expand_vars", "current_user"]

"""Where the flowenv store lives: the FLOWENV_STORE setting, else `flowenv/` under the
datastore root."""

import os

STORE_FOLDER = "flowenv"


def store_url(datastore_type: str, settings, echo=None) -> str:
    if settings.store_url:
        return settings.store_url
    from metaflow.plugins import DATASTORES

    impl = [d for d in DATASTORES if d.TYPE == datastore_type]
    if not impl:
        from .errors import FlowenvException

        raise FlowenvException("Unknown datastore %r" % datastore_type)
    root = impl[0].get_datastore_root_from_config(echo or (lambda *a, **k: None))
    if datastore_type == "local":
        return os.path.join(root, STORE_FOLDER)
    if datastore_type == "azure" and "://" not in root:
        root = "azure://" + root
    return root.rstrip("/") + "/" + STORE_FOLDER


def open_environments(datastore_type: str, echo=None, progress=None, settings=None):
    from flowenv import Environments, LocalCache, Store
    from flowenv.progress import Progress

    from .config import load_settings
    from .errors import user_errors

    settings = settings or load_settings()
    with user_errors():
        cache = LocalCache(settings.cache_dir).ensure()
        store = Store.open(store_url(datastore_type, settings, echo), settings)
    return Environments(store, cache, progress=progress or Progress(), settings=settings)

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
        from flowenv.errors import StoreError

        raise StoreError("unknown datastore %r (Metaflow has %s)" % (
            datastore_type, ", ".join(d.TYPE for d in DATASTORES)))
    root = impl[0].get_datastore_root_from_config(echo or (lambda *a, **k: None))
    if datastore_type == "local":
        return os.path.join(root, STORE_FOLDER)
    if datastore_type == "azure" and "://" not in root:
        root = "azure://" + root
    return root.rstrip("/") + "/" + STORE_FOLDER


def open_environments(datastore_type: str, echo=None, progress=None, settings=None):
    """flowenv's Environments on the store of a Metaflow datastore; errors are flowenv's."""
    from flowenv import Environments, LocalCache, Store
    from flowenv.debuglog import debug_log
    from flowenv.progress import Progress

    from .config import metaflow_settings

    settings = settings or metaflow_settings()
    log = debug_log(settings.debug)
    cache = LocalCache(settings.cache_dir).ensure()
    store = Store.open(store_url(datastore_type, settings, echo), settings, log)
    return Environments(store, cache, progress=progress or Progress(), settings=settings,
                        log=log)

"""Where the flowenv store lives: FLOWENV_STORE, else `flowenv/` under the datastore root."""

import os

STORE_FOLDER = "flowenv"


def store_url(datastore_type: str, echo=None) -> str:
    configured = os.environ.get("FLOWENV_STORE")
    if configured:
        return configured
    from metaflow.plugins import DATASTORES

    impl = [d for d in DATASTORES if d.TYPE == datastore_type]
    if not impl:
        from .errors import FlowenvException

        raise FlowenvException("Unknown datastore %r" % datastore_type)
    root = impl[0].get_datastore_root_from_config(echo or (lambda *a, **k: None))
    if datastore_type == "local":
        return os.path.join(root, STORE_FOLDER)
    scheme = {"s3": "", "gs": "", "azure": "azure://"}.get(datastore_type, "")
    if datastore_type == "azure" and "://" not in root:
        root = scheme + root
    return root.rstrip("/") + "/" + STORE_FOLDER


def open_environments(datastore_type: str, echo=None, progress=None):
    from flowenv import Environments, Store
    from flowenv.progress import Progress

    return Environments(Store.open(store_url(datastore_type, echo)),
                        progress=progress or Progress())

"""The flow's code package for local tasks, and flowenv's own files inside it."""

import hashlib
import os
import shutil
import sys
import time

from flowenv.atomic import staging_dir

CODE_CACHE_DAYS = 7


def flowenv_files():
    """(path, arcname) of the core library: tasks and remote bootstraps import it."""
    import flowenv

    root = os.path.dirname(flowenv.__file__)
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                yield path, os.path.join("flowenv", os.path.relpath(path, root))


def _package_key(package):
    # Local runs do not store the package, so it has no sha yet: hash the archive.
    sha = package.package_sha()
    if sha:
        return sha
    blob = package.blob
    return hashlib.sha1(blob.getvalue() if hasattr(blob, "getvalue") else bytes(blob)).hexdigest()


def _prune(root):
    horizon = time.time() - CODE_CACHE_DAYS * 86400
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if os.path.isdir(path) and os.path.getmtime(path) < horizon:
            shutil.rmtree(path, ignore_errors=True)


def extracted_code_env(package, root):
    """Environment variables that make a task import Metaflow, flowenv and the flow from
    the extracted code package, never from the launcher's site-packages. Extractions are
    kept per package, so the next run of unchanged code reuses them and their bytecode;
    unused ones are pruned after CODE_CACHE_DAYS."""
    from metaflow.packaging_sys import ContentType

    root = str(root)
    target = os.path.join(root, _package_key(package))
    if not os.path.isdir(target):
        with staging_dir(target) as tmp:
            package.extract_into(str(tmp), ContentType.ALL_CONTENT)
            if sys.flags.dont_write_bytecode:
                # Tasks will not write bytecode either: compile once here, not in every task.
                import compileall

                compileall.compile_dir(str(tmp), quiet=2, workers=2)
    os.utime(target)  # last use; extraction also keeps the archive's old timestamps
    _prune(root)
    env = {}
    for key, value in package.get_post_extract_env_vars(package.package_metadata, target).items():
        if key.endswith(":"):
            env[key[:-1]] = value
        elif key == "PYTHONPATH":
            env[key] = os.pathsep.join([value, target])
        else:
            env[key] = value
    env.setdefault("PYTHONPATH", target)
    return env

"""The flow's code package for local tasks, a past step's code unpacked for a user, and
flowenv's own files inside the package."""

import hashlib
import os
import sys

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


def _extract(package, target):
    from metaflow.packaging_sys import ContentType

    with staging_dir(target) as tmp:
        package.extract_into(str(tmp), ContentType.ALL_CONTENT)
        if sys.flags.dont_write_bytecode:
            # Tasks will not write bytecode either: compile once here, not in every task.
            import compileall

            compileall.compile_dir(str(tmp), quiet=2, workers=2)


def extracted_code_env(package, envs):
    """Environment variables that make a task import Metaflow, flowenv and the flow from
    the extracted code package, never from the launcher's site-packages. Extractions are
    kept per package, so the next run of unchanged code reuses them and their bytecode;
    this process holds its own in use (`gc` leaves it alone), and others unused for
    CODE_CACHE_DAYS are removed."""
    from flowenv.cleanup import CODE, collect

    root = str(envs.cache.code_dir)
    target = os.path.join(root, _package_key(package))
    for _attempt in range(3):
        if not os.path.isdir(target):
            _extract(package, target)
        if envs.holds.hold(target):  # also stamps its last use
            break
    collect(envs.cache, CODE_CACHE_DAYS, kinds=(CODE,), log=envs.log)
    return _code_env(package.get_post_extract_env_vars(package.package_metadata, target), target)


def _code_env(post_extract_vars, target):
    """Metaflow's variables for code extracted in target (a key ending in ':' is set as
    is), with target itself (the flow's files) on PYTHONPATH."""
    env = {}
    for key, value in post_extract_vars.items():
        if key.endswith(":"):
            env[key[:-1]] = value
        elif key == "PYTHONPATH":
            env[key] = os.pathsep.join([value, target])
        else:
            env[key] = value
    env.setdefault("PYTHONPATH", target)
    return env


def extract_step_code(pathspec, dest):
    """Unpack the code package a past step ran (the flow's files, Metaflow and its
    extensions) into dest; the variables that make Python find it, or None when the run
    stored no code package (local runs do not, unless METAFLOW_FEAT_ALWAYS_UPLOAD_CODE_PACKAGE
    is set)."""
    from metaflow import Step, namespace
    from metaflow.exception import MetaflowNotFound
    from metaflow.package import MetaflowPackage

    from flowenv.errors import EnvNotFound

    namespace(None)
    try:
        code = Step("/".join(pathspec.strip("/").split("/")[:3])).task.code
    except MetaflowNotFound as exc:
        raise EnvNotFound("%s does not exist (%s)" % (pathspec, exc), entry="--pathspec") from None
    if code is None:
        return None
    dest = str(dest)
    # MetaflowCode gives the user's files only (extract()); the step needs all of it.
    MetaflowPackage.cls_extract_into(code._code_metadata, code._code_obj, dest)
    code._code_obj.seek(0)
    return _code_env(MetaflowPackage.get_post_extract_env_vars(code._code_metadata, dest), dest)

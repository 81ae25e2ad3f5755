"""Metaflow's own runtime needs (requests; boto3 for S3, ...) for steps whose environment
does not have them, appended to the step's sys.path after its own packages.

For a step on the launcher's Python version they are copied from the launcher's installed
distributions (no index needed); for another Python version they are resolved for that
version like any environment, through the store, and unpacked."""

import hashlib
import os
import shutil
import sys
from importlib import metadata

SUPPORT_CACHE = "metaflow-support-v1"

# What Metaflow imports in a task, by datastore; the dependencies follow.
REQUIREMENTS = {
    None: ("requests",),
    "s3": ("boto3",),
    "gs": ("google-cloud-storage",),
    "azure": ("azure-storage-blob", "azure-identity"),
}
# Their installed closure, for the copy from the launcher.
INSTALLED = {
    None: ("requests", "urllib3", "idna", "certifi", "charset-normalizer", "chardet"),
    "s3": ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six"),
    "gs": ("google-cloud-storage", "google-auth", "google-api-core", "google-cloud-core",
           "google-resumable-media", "google-crc32c", "googleapis-common-protos", "protobuf",
           "proto-plus", "cachetools", "pyasn1", "pyasn1-modules", "rsa"),
    "azure": ("azure-storage-blob", "azure-core", "azure-identity", "cryptography",
              "typing-extensions", "isodate", "six"),
}


def support_path(envs, datastore_type: str, python_minor: str, platform: str) -> str:
    if python_minor == "%d.%d" % sys.version_info[:2]:
        return copy_from_launcher(envs.cache.root, datastore_type)
    return _resolved_for(envs, datastore_type, python_minor, platform)


def copy_from_launcher(cache_root, datastore_type):
    dists = []
    for name in INSTALLED[None] + INSTALLED.get(datastore_type, ()):
        try:
            dists.append(metadata.distribution(name))
        except metadata.PackageNotFoundError:
            continue
    key = hashlib.sha256(" ".join(sorted("%s==%s" % (d.metadata["Name"], d.version)
                                         for d in dists)).encode()).hexdigest()[:16]
    target = os.path.join(str(cache_root), SUPPORT_CACHE, "%d.%d-%s" % (sys.version_info[:2] + (key,)))
    if os.path.isdir(target):
        return target
    tmp = target + ".tmp%d" % os.getpid()
    for dist in dists:
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0] in ("..", "bin"):
                continue
            source = str(dist.locate_file(file))
            if os.path.isfile(source):
                dest = os.path.join(tmp, *parts)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copy2(source, dest)
    try:
        os.rename(tmp, target)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _resolved_for(envs, datastore_type, python_minor, platform):
    from pathlib import Path

    from flowenv.create import fetch_from_store
    from flowenv.spec import Spec
    from flowenv.tools import unpack_wheels

    spec = Spec(pypi=REQUIREMENTS[None] + REQUIREMENTS.get(datastore_type, ()),
                python=python_minor,
                origin="Metaflow's own runtime needs for Python %s" % python_minor)
    lock = envs.resolve(spec, platform)
    wheels = fetch_from_store(lock.files, envs.store, envs.cache)
    target = Path(envs.cache.root) / SUPPORT_CACHE / lock.full_id
    return str(unpack_wheels(wheels, target))

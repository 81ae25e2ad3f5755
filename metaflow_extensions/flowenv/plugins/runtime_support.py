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

from flowenv.atomic import staging_dir

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
    """The folder, held in use by this process (`gc` leaves it alone)."""
    for _attempt in range(3):
        if python_minor == "%d.%d" % sys.version_info[:2]:
            path = copy_from_launcher(envs.cache, datastore_type)
        else:
            path = _resolved_for(envs, datastore_type, python_minor, platform)
        if envs.holds.hold(path):
            break
    return path


def copy_from_launcher(cache, datastore_type):
    dists = []
    for name in INSTALLED[None] + INSTALLED.get(datastore_type, ()):
        try:
            dists.append(metadata.distribution(name))
        except metadata.PackageNotFoundError:
            continue
    key = hashlib.sha256(" ".join(sorted("%s==%s" % (d.metadata["Name"], d.version)
                                         for d in dists)).encode()).hexdigest()[:16]
    target = cache.runtime_support_dir("%d.%d-%s" % (sys.version_info[:2] + (key,)))
    if target.is_dir():
        return str(target)
    with staging_dir(target) as tmp:
        for dist in dists:
            for file in dist.files or ():
                parts = file.parts
                if not parts or parts[0] in ("..", "bin"):
                    continue
                source = str(dist.locate_file(file))
                if os.path.isfile(source):
                    dest = os.path.join(str(tmp), *parts)
                    os.makedirs(os.path.dirname(dest), exist_ok=True)
                    shutil.copy2(source, dest)
    return str(target)


def _resolved_for(envs, datastore_type, python_minor, platform):
    from flowenv.spec import Spec
    from flowenv.tools import unpack_wheels

    spec = Spec(pypi=REQUIREMENTS[None] + REQUIREMENTS.get(datastore_type, ()),
                python=python_minor,
                origin="Metaflow's own runtime needs for Python %s" % python_minor)
    lock = envs.resolve(spec, platform)
    wheels = envs.local_copies(lock.files)
    return str(unpack_wheels(wheels, envs.cache.runtime_support_dir(lock.full_id)))

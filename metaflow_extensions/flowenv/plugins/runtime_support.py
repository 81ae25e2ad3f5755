"""Metaflow's own runtime needs (requests; boto3 for S3) for steps whose environment does
not have them: copied once from the launcher's installed distributions into the local
cache, and appended to the step's sys.path after its own packages."""

import hashlib
import os
import shutil
from importlib import metadata

BASE = ("requests", "urllib3", "idna", "certifi", "charset-normalizer", "chardet")
BY_DATASTORE = {
    "s3": ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six"),
    "gs": ("google-cloud-storage", "google-auth", "google-api-core", "google-cloud-core",
           "google-resumable-media", "google-crc32c", "googleapis-common-protos", "protobuf",
           "proto-plus", "cachetools", "pyasn1", "pyasn1-modules", "rsa"),
    "azure": ("azure-storage-blob", "azure-core", "azure-identity", "cryptography",
              "typing-extensions", "isodate", "six"),
}


def _installed(names):
    found = []
    for name in names:
        try:
            found.append(metadata.distribution(name))
        except metadata.PackageNotFoundError:
            continue
    return found


def support_path(cache_root, datastore_type: str) -> str:
    dists = _installed(BASE + BY_DATASTORE.get(datastore_type, ()))
    key = hashlib.sha256(" ".join(sorted("%s==%s" % (d.metadata["Name"], d.version)
                                         for d in dists)).encode()).hexdigest()[:16]
    target = os.path.join(str(cache_root), "metaflow-support-v1", key)
    if os.path.isdir(target):
        return target
    tmp = target + ".tmp%d" % os.getpid()
    for dist in dists:
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0] in ("..", "bin") or file.suffix == ".pyc":
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

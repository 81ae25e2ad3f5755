"""Fixtures for the blob-store suite: one store per backend, each on a real server.

Servers start once per session, and only for the backends a test run selects; every test
gets a fresh bucket (or container) and a prefix inside it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import uuid
from pathlib import Path

import pytest

try:
    from tests import servers
except ImportError:  # pytest started without the repo root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests import servers

BACKENDS = ["local", "s3", "gcs", "azure"]


@pytest.fixture(scope="session")
def object_server():
    """A function kind -> servers.Server, starting each server the first time it is asked."""
    with contextlib.ExitStack() as stack:
        started = {}

        def get(kind):
            if kind not in started:
                try:
                    started[kind] = stack.enter_context(servers.SERVERS[kind]())
                except servers.ServerUnavailable as exc:
                    started[kind] = exc
            if isinstance(started[kind], servers.ServerUnavailable):
                pytest.skip("%s store tests need a server: %s" % (kind, started[kind]))
            return started[kind]

        yield get


_SCHEMES = {"s3": "s3", "gcs": "gs", "azure": "azure"}


@pytest.fixture(params=BACKENDS)
def store_spec(request, tmp_path, monkeypatch, object_server):
    """A fresh, empty store of each kind, described so that other processes can open it."""
    kind = request.param
    if kind == "local":
        return servers.StoreSpec("local", str(tmp_path / "store"))
    server = object_server(kind)
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    bucket = "flowenv-test-%s" % uuid.uuid4().hex[:16]
    servers.new_bucket(kind, server, bucket)
    url = "%s://%s/runs/%s" % (_SCHEMES[kind], bucket, uuid.uuid4().hex[:8])
    return servers.StoreSpec(kind, url, dict(server.env))


@pytest.fixture
def blob_store(store_spec):
    return servers.open_store(store_spec)


@pytest.fixture
def missing_bucket_store(request, monkeypatch, object_server):
    """For a cloud kind: a store whose bucket does not exist."""
    kind = request.param
    server = object_server(kind)
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    url = "%s://flowenv-missing-%s/p" % (_SCHEMES[kind], uuid.uuid4().hex[:12])
    return servers.open_store(servers.StoreSpec(kind, url, dict(server.env)))


class Racers:
    """servers.RACERS spawned worker processes, and a barrier that starts them together."""

    def __init__(self, context):
        self.manager = context.Manager()
        self.pool = context.Pool(servers.RACERS, initializer=servers.warm_up)

    def run(self, worker_function, spec, path):
        """worker_function((spec, path, worker id, barrier)) in every worker at once."""
        # Every task blocks on the barrier, so the tasks land on distinct processes.
        barrier = self.manager.Barrier(servers.RACERS, timeout=60)
        jobs = [(spec, path, worker, barrier) for worker in range(servers.RACERS)]
        return self.pool.map(worker_function, jobs, chunksize=1)

    def close(self):
        self.pool.terminate()
        self.pool.join()
        self.manager.shutdown()


@pytest.fixture(scope="session")
def racers():
    """Racing processes shared by the race tests of every backend."""
    racers = Racers(multiprocessing.get_context("spawn"))
    try:
        yield racers
    finally:
        racers.close()

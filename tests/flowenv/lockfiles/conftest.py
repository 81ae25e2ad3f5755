"""Lock files made by the real tools from the local wheel index (served over HTTP, so
that uv records URLs and hashes) and the local conda channel."""

from __future__ import annotations

import shutil

import pytest

from tests.httpindex import serve


@pytest.fixture(scope="session")
def _served(wheel_index):
    with serve(wheel_index) as server:
        yield server


@pytest.fixture
def index(_served):
    """The wheel index over HTTP: index.url + '/simple'; index.index_down() makes its
    pages unreachable (files stay), index.index_requests what was asked while down."""
    _served.index_back()
    yield _served
    _served.index_back()


@pytest.fixture
def uv_cache(tmp_path):
    return tmp_path / "uv-cache"


@pytest.fixture
def channel_copy(channels, tmp_path):
    """A copy of the test channel (file:// URL, folder): its repodata can be deleted to
    make it unreachable for solving while its package files stay."""
    folder = tmp_path / "channel"
    shutil.copytree(channels["root"] / "main", folder)
    return folder.as_uri(), folder


def drop_repodata(folder):
    for path in folder.rglob("repodata*.json*"):
        path.unlink()

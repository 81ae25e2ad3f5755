"""A real private index (pypiserver behind an htpasswd file, on loopback): resolving
without credentials fails clearly; with credentials from each place teams keep them it
works; and the password is then nowhere: not in the store, the caches, or any output."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from flowenv.cache import LocalCache
from flowenv.credentials import Credentials, env_name
from flowenv.environments import Environments
from flowenv.errors import ResolveError
from flowenv.settings import Settings
from flowenv.spec import Spec
from tests.flowenv.conftest import PYTHON_MINOR
from tests.servers import ServerUnavailable, pypi_server

USER, PASSWORD = "ml-team", "s3cr3t-Pa55-for-tests"


@pytest.fixture(scope="module")
def index(tmp_path_factory, wheel_index):
    """The private index's URL, without credentials."""
    try:
        with pypi_server(wheel_index, USER, PASSWORD) as server:
            yield server.endpoint + "/simple/"
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


def with_credentials(url: str, user=USER, password=PASSWORD) -> str:
    scheme, rest = url.split("://", 1)
    return "%s://%s%s@%s" % (scheme, user, ":" + password if password else "", rest)


@pytest.fixture
def resolve(store, store_dir, cache_dir, tmp_path, monkeypatch, capfd):
    """resolve(environ extras, spec fields) with settings read from that environment, as
    an edge reads them; afterwards, no trace of the password anywhere."""
    monkeypatch.delenv("UV_OFFLINE", raising=False)  # the index is on loopback
    uv_cache = Path(os.environ["UV_CACHE_DIR"])
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))

    def run(environ=None, **fields):
        settings = Settings.load({**os.environ, **(environ or {})})
        envs = Environments(store, LocalCache(cache_dir), settings=settings)
        spec = Spec(pypi=("beta",), python=PYTHON_MINOR, **fields)
        return envs.resolve(spec)

    yield run
    out, err = capfd.readouterr()
    assert PASSWORD not in out + err
    for folder in (store_dir, cache_dir, tmp_path / "uv-cache"):
        for path in Path(folder).rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert PASSWORD.encode() not in path.read_bytes(), path
    assert uv_cache.exists()


def check(lock, index):
    assert lock.pins() == {"alpha": "2.0.0", "beta": "1.5.0"}
    for file in lock.files:
        assert file.url.startswith(index.split("/simple")[0])
        assert PASSWORD not in file.url


def test_without_credentials_the_index_is_named_with_its_status(resolve, index):
    with pytest.raises(ResolveError) as err:
        resolve(index_url=index)
    message = str(err.value)
    assert "the index %s answered HTTP 401" % index in message
    assert "credentials" in err.value.hint


def test_wrong_password_is_redacted_in_the_error(resolve, index):
    with pytest.raises(ResolveError) as err:
        resolve(index_url=with_credentials(index, password="wrong-one"))
    # pypiserver answers a wrong password with 403.
    assert "answered HTTP 403" in str(err.value) and "wrong-one" not in str(err.value)


def test_credentials_in_the_url(resolve, index):
    lock = resolve(index_url=with_credentials(index))
    check(lock, index)
    # The same request without credentials has the same id.
    assert lock.req_id == Environments(None).request(
        Spec(pypi=("beta",), python=PYTHON_MINOR, index_url=index)).req_id


def test_credentials_from_netrc(resolve, index, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1\n  login %s\n  password %s\n" % (USER, PASSWORD))
    check(resolve({"NETRC": str(netrc)}, index_url=index), index)


def test_credentials_from_variables_of_a_named_index(resolve, index):
    environ = {"FLOWENV_INDEX_URL": "private=" + index,
               "UV_INDEX_PRIVATE_USERNAME": USER, "UV_INDEX_PRIVATE_PASSWORD": PASSWORD}
    check(resolve(environ), index)


def test_credentials_from_poetry_variables(resolve, index):
    environ = {"POETRY_HTTP_BASIC_TEAM_INDEX_USERNAME": USER,
               "POETRY_HTTP_BASIC_TEAM_INDEX_PASSWORD": PASSWORD}
    check(resolve(environ, index_url=index, index_names=("team-index=" + index,)), index)


def test_credentials_from_pip_conf(resolve, index, tmp_path):
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = %s\n" % with_credentials(index))
    lock = resolve({"PIP_CONFIG_FILE": str(conf)})
    check(lock, index)
    assert lock.spec["index_url"] == index


def test_credentials_from_keyring(resolve, index, tmp_path):
    """uv's --keyring-provider subprocess: `keyring get URL USER`, here with keyring's
    plain-file backend."""
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "keyring").exists():
        pytest.skip("keyring is not installed (pip install keyring keyrings.alt)")
    environ = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
               "XDG_DATA_HOME": str(tmp_path / "keyring-data"),
               "PATH": "%s%s%s" % (bin_dir, os.pathsep, os.environ["PATH"]),
               "FLOWENV_KEYRING_PROVIDER": "subprocess"}
    import subprocess

    subprocess.run([str(bin_dir / "keyring"), "set", index, USER], input=PASSWORD + "\n",
                   text=True, check=True, env={**os.environ, **environ})
    with pytest.MonkeyPatch.context() as mp:
        for key, value in environ.items():
            mp.setenv(key, value)
        check(resolve(environ, index_url=with_credentials(index, password=None)), index)


def test_lookup_order_and_hosts():
    creds = Credentials({"UV_INDEX_CORP_USERNAME": "u1", "UV_INDEX_CORP_PASSWORD": "p1"})
    names = {"https://corp.example/simple": "corp"}
    indexes = ["https://corp.example/simple", "https://u2:p2@other.example/simple"]
    # Files on the index's host get its credentials; other hosts get none of them.
    assert creds.for_url("https://corp.example/packages/a.whl", indexes, names) == ("u1", "p1")
    assert creds.for_url("https://other.example/files/a.whl", indexes, names) == ("u2", "p2")
    assert creds.for_url("https://cdn.example/a.whl", indexes, names) == (None, None)
    # A URL's own credentials come first.
    assert creds.for_url("https://me:mine@corp.example/a.whl", indexes, names) == ("me", "mine")
    assert env_name("pytorch-cu121.mirror") == "PYTORCH_CU121_MIRROR"


def test_unreachable_index_is_named(resolve):
    with pytest.raises(ResolveError) as err:
        resolve(index_url=with_credentials("http://127.0.0.1:9/simple/"))
    assert "the index http://127.0.0.1:9/simple/ cannot be reached" in str(err.value)

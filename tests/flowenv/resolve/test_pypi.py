"""Resolving PyPI requirements with uv against local wheel indexes, and publishing."""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from flowenv.errors import ResolveError
from flowenv.uv_runner import UvRunner
from flowenv.spec import Spec
from tests.wheelhouse import build_index, make_wheel

from tests.flowenv.conftest import PYTHON_FULL, PYTHON_MINOR


def sha256_file(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _broken_uv(*args, **kwargs):
    raise AssertionError("uv was called")


def test_every_file_has_url_and_sha256(envs, make_spec):
    lock = envs.resolve(make_spec("beta==1.0.0", "delta"))
    assert lock.pins() == {"alpha": "2.0.0", "beta": "1.0.0", "delta": "3.0.0", "gamma": "0.3.0"}
    assert lock.python == PYTHON_FULL
    for f in lock.files:
        assert f.kind == "wheel"
        assert f.url.startswith("file://") and f.url.endswith("/" + f.filename)
        path = unquote(urlsplit(f.url).path)
        assert len(f.sha256) == 64
        assert sha256_file(path) == f.sha256
        # Published: the store has a verified copy of every file.
        assert envs.store.packages.has(f)
    assert envs.store.envs.get(lock.full_id) == lock


def test_lock_records_the_spec(envs, make_spec):
    spec = make_spec("Beta==1.0.0")
    lock = envs.resolve(spec)
    assert lock.req_id == spec.req_id
    assert lock.spec["pypi"] == ["beta==1.0.0"]
    assert lock.spec["python"] == PYTHON_MINOR


def test_full_id_follows_the_pins(envs, make_spec, tmp_path):
    old = envs.resolve(make_spec("beta==1.0.0"))
    new = envs.resolve(make_spec("beta==1.5.0"))
    assert old.full_id != new.full_id
    # Same pins, written differently: a different req_id but the same environment.
    same = envs.resolve(make_spec("beta<1.5", "alpha"))
    assert same.req_id != old.req_id
    assert same.full_id == old.full_id
    # Re-resolving from scratch in another store gives the same full_id.
    from flowenv.cache import LocalCache
    from flowenv.environments import Environments
    from flowenv.store import Store

    other = Environments(Store.open(str(tmp_path / "other-store")), LocalCache(tmp_path / "c2"))
    assert other.resolve(make_spec("beta==1.0.0")).full_id == old.full_id
    assert envs.resolve(make_spec("beta==1.0.0"), force=True).full_id == old.full_id


def test_second_resolve_reuses_the_stored_resolution(envs, make_spec, monkeypatch):
    spec = make_spec("delta")
    first = envs.resolve(spec)
    monkeypatch.setattr(UvRunner, "run", _broken_uv)
    start = time.monotonic()
    again = envs.resolve(spec)
    assert time.monotonic() - start < 0.1
    assert again == first and again.full_id == first.full_id
    # Another machine sharing the store needs no resolver either.
    from flowenv.cache import LocalCache
    from flowenv.environments import Environments

    elsewhere = Environments(envs.store, LocalCache(envs.cache.root.parent / "elsewhere"))
    assert elsewhere.resolve(spec).full_id == first.full_id
    # force=True does call the resolver.
    with pytest.raises(AssertionError, match="uv was called"):
        envs.resolve(spec, force=True)


def test_force_picks_up_new_releases(envs, empty_index, tmp_path):
    index = build_index(tmp_path / "wheels", [("gamma", "0.1.0", ())])
    spec = Spec(pypi=("gamma",), python=PYTHON_MINOR, index_url=empty_index,
                find_links=(str(index),))
    first = envs.resolve(spec)
    assert first.pins() == {"gamma": "0.1.0"}
    make_wheel(index, "gamma", "0.4.0")
    assert envs.resolve(spec).pins() == {"gamma": "0.1.0"}  # the stored resolution
    forced = envs.resolve(spec, force=True)
    assert forced.pins() == {"gamma": "0.4.0"}
    assert forced.full_id != first.full_id
    # The newest resolution becomes the default for later runs; the old env stays.
    assert envs.resolve(spec).full_id == forced.full_id
    assert envs.store.envs.get(first.full_id) == first


def test_unsatisfiable_requirement_names_the_package(envs, make_spec):
    with pytest.raises(ResolveError) as err:
        envs.resolve(make_spec("alpha>=9", origin="step train"))
    message = str(err.value)
    assert "alpha" in message and "step train" in message
    assert envs.store.envs.resolution(make_spec("alpha>=9").req_id, "linux-64") is None


def test_unknown_package_is_a_resolve_error(envs, make_spec):
    with pytest.raises(ResolveError, match="no-such-package"):
        envs.resolve(make_spec("no-such-package"))


def test_sdist_only_package_is_refused(envs, empty_index, tmp_path):
    index = tmp_path / "sdists"
    index.mkdir()
    make_wheel(index, "alpha", "1.0.0")
    (index / "omega-1.0.tar.gz").write_bytes(b"not really")
    spec = Spec(pypi=("omega",), python=PYTHON_MINOR, index_url=empty_index,
                find_links=(str(index),))
    with pytest.raises(ResolveError, match="omega"):
        envs.resolve(spec)


def test_extension_keeps_the_base_pins(envs, make_spec):
    base = envs.resolve(make_spec("beta==1.0.0"))
    assert base.pins() == {"alpha": "2.0.0", "beta": "1.0.0"}
    ext = envs.resolve(make_spec("delta", "beta", python=None, base=base.full_id))
    pins = ext.pins()
    assert pins["alpha"] == "2.0.0" and pins["beta"] == "1.0.0"  # 1.5.0 exists, base wins
    assert pins["delta"] == "3.0.0" and pins["gamma"] == "0.3.0"
    assert ext.python == base.python
    assert ext.full_id != base.full_id
    # Extending the extension still keeps every requirement of the chain.
    ext2 = envs.resolve(make_spec("epsilon", python=None, base=ext.full_id))
    assert {k: v for k, v in ext2.pins().items() if k != "epsilon"} == pins
    assert "beta" in " ".join(ext2.spec["pypi"]) and "delta" in ext2.spec["pypi"]


def test_conflicting_extension_names_requirement_and_pin(envs, make_spec):
    base = envs.resolve(make_spec("beta==1.0.0"))
    with pytest.raises(ResolveError) as err:
        envs.resolve(make_spec("alpha<2", python=None, base=base.full_id))
    message = str(err.value)
    assert "alpha<2" in message
    assert "alpha==2.0.0" in message


def test_extension_of_unknown_base(envs, make_spec):
    from flowenv.errors import EnvNotFound

    with pytest.raises(EnvNotFound):
        envs.resolve(make_spec("delta", python=None, base="0" * 32))


def test_extension_refuses_other_python(envs, make_spec):
    base = envs.resolve(make_spec("alpha"))
    with pytest.raises(ResolveError, match="Python"):
        envs.resolve(make_spec("delta", python="<3", base=base.full_id))


# -- credentials ---------------------------------------------------------------------

USER, PASSWORD = "flowuser", "hunter2-secret"


class _AuthHandler(http.server.SimpleHTTPRequestHandler):
    expected = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()

    def _authorised(self):
        if self.headers.get("Authorization") == self.expected:
            return True
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="flowenv-tests"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_GET(self):
        if self._authorised():
            super().do_GET()

    def do_HEAD(self):
        if self._authorised():
            super().do_HEAD()

    def log_message(self, *args):
        pass


@pytest.fixture
def private_index(tmp_path, wheel_index):
    """A PEP 503 index on loopback that answers only with the right Basic credentials."""
    root = tmp_path / "web"
    files = root / "files"
    files.mkdir(parents=True)
    projects = {}
    for wheel in sorted(wheel_index.glob("*.whl")):
        (files / wheel.name).write_bytes(wheel.read_bytes())
        projects.setdefault(wheel.name.split("-")[0], []).append(wheel.name)
    for project, names in projects.items():
        page = root / "simple" / project
        page.mkdir(parents=True)
        links = "".join('<a href="../../files/%s#sha256=%s">%s</a>\n'
                        % (n, sha256_file(files / n), n) for n in names)
        (page / "index.html").write_text("<html><body>\n%s</body></html>\n" % links)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_AuthHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield "http://%s:%s@127.0.0.1:%d/simple" % (USER, PASSWORD, server.server_port)
    finally:
        server.shutdown()
        server.server_close()


def online(envs, monkeypatch):
    """envs with settings that let uv reach the network (the index is on loopback)."""
    from flowenv.environments import Environments
    from flowenv.settings import Settings

    monkeypatch.delenv("UV_OFFLINE", raising=False)
    return Environments(envs.store, envs.cache, settings=Settings.load())


def test_credentials_never_reach_the_store(envs, store_dir, private_index, monkeypatch):
    envs = online(envs, monkeypatch)
    spec = Spec(pypi=("beta",), python=PYTHON_MINOR, index_url=private_index)
    lock = envs.resolve(spec)
    assert lock.pins() == {"alpha": "2.0.0", "beta": "1.5.0"}
    for f in lock.files:
        assert f.url.startswith("http://127.0.0.1:")
        assert PASSWORD not in f.url and USER not in f.url
        assert envs.store.packages.has(f)  # downloaded with the credentials, then stored
    stored = [p for p in store_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" for p in stored)
    for path in stored:
        data = path.read_bytes()
        assert PASSWORD.encode() not in data, path
        assert USER.encode() not in data, path
    # The same spec without credentials is the same req_id, so it finds the resolution.
    public = Spec(pypi=("beta",), python=PYTHON_MINOR,
                  index_url=private_index.replace("%s:%s@" % (USER, PASSWORD), ""))
    assert envs.store.envs.resolution(public.req_id, lock.platform) == lock


def test_credentials_are_not_shown_in_resolve_errors(envs, private_index, monkeypatch):
    envs = online(envs, monkeypatch)
    spec = Spec(pypi=("alpha>=9",), python=PYTHON_MINOR, index_url=private_index)
    with pytest.raises(ResolveError) as err:
        envs.resolve(spec)
    assert "alpha" in str(err.value)
    assert PASSWORD not in str(err.value)


def test_pip_index_variables_are_honoured(store, cache_dir, wheel_index):
    """A team's PIP_INDEX_URL is the index when no UV_INDEX_URL is set, and it is part
    of the requirements id."""
    from flowenv.cache import LocalCache
    from flowenv.environments import Environments
    from flowenv.settings import Settings
    from tests.wheelhouse import simple_index_url, write_simple_index

    write_simple_index(wheel_index)
    url = simple_index_url(wheel_index)
    settings = Settings.load({"PIP_INDEX_URL": url, "UV_OFFLINE": "1"})
    assert settings.index_url == url
    assert Settings.load({"PIP_INDEX_URL": url, "UV_INDEX_URL": "file:///elsewhere"}
                         ).index_url == "file:///elsewhere"
    envs = Environments(store, LocalCache(cache_dir), settings=settings)
    lock = envs.resolve(Spec(pypi=("gamma",), python=PYTHON_MINOR))
    assert lock.pins() == {"gamma": "0.3.0"}
    assert lock.spec["index_url"] == url


@pytest.mark.parametrize("variable", ["UV_INDEX_URL", "PIP_INDEX_URL"])
def test_index_credentials_from_the_environment_reach_the_downloader(
        store, cache_dir, private_index, monkeypatch, variable):
    """A team's index with credentials in UV_INDEX_URL (or PIP_INDEX_URL): uv resolves
    with them, and flowenv's own download of each file into the store uses them too."""
    from flowenv.cache import LocalCache
    from flowenv.environments import Environments
    from flowenv.settings import Settings

    monkeypatch.delenv("UV_OFFLINE", raising=False)
    monkeypatch.setenv(variable, private_index)
    envs = Environments(store, LocalCache(cache_dir), settings=Settings.load())
    lock = envs.resolve(Spec(pypi=("beta",), python=PYTHON_MINOR))
    assert lock.pins() == {"alpha": "2.0.0", "beta": "1.5.0"}
    assert all(envs.store.packages.has(f) for f in lock.files)
    assert PASSWORD not in lock.to_json().decode()


def test_a_requested_glibc_chooses_older_manylinux_wheels(envs, tmp_path, empty_index):
    """@sys_packages(packages={"__glibc": "2.17"}) on a PyPI step: wheels that run there."""
    folder = tmp_path / "wheels"
    make_wheel(folder, "capped", "1.0", tag="py3-none-manylinux_2_28_aarch64")
    make_wheel(folder, "capped", "1.0", tag="py3-none-manylinux_2_17_aarch64")
    make_wheel(folder, "newonly", "2.0", tag="py3-none-manylinux_2_28_aarch64")
    make_wheel(folder, "newonly", "1.0", tag="py3-none-manylinux_2_17_aarch64")

    def resolved(*virtual):
        spec = Spec(pypi=("capped", "newonly"), python=PYTHON_MINOR, index_url=empty_index,
                    find_links=(str(folder),), virtual_packages=virtual)
        return {f.name: f.filename for f in envs.resolve(spec, "linux-aarch64").files}

    assert resolved() == {"capped": "capped-1.0-py3-none-manylinux_2_28_aarch64.whl",
                          "newonly": "newonly-2.0-py3-none-manylinux_2_28_aarch64.whl"}
    # uv is told the glibc too: a version without wheels for it is not chosen.
    assert resolved("__glibc=2.17") == {
        "capped": "capped-1.0-py3-none-manylinux_2_17_aarch64.whl",
        "newonly": "newonly-1.0-py3-none-manylinux_2_17_aarch64.whl"}

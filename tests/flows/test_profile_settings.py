"""Every flowenv setting from a Metaflow profile file (METAFLOW_HOME, METAFLOW_PROFILE),
spelled METAFLOW_FLOWENV_X, shown by `metaflow environment config` with its source, and
taking effect."""

import fcntl
import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowenv.settings import DEFINITIONS
from tests.condachannel import build_channel, python_module_package
from tests.servers import SERVERS, ServerUnavailable, new_bucket, pypi_server
from tests.wheelhouse import simple_index_url


@pytest.fixture
def profiles(runner, tmp_path):
    """Write Metaflow profiles; runner.env keeps none of flowenv's own variables, so
    whatever flowenv does comes from the profile."""
    home = tmp_path / "mfhome"
    home.mkdir()
    for name in list(runner.env):
        if name.startswith(("FLOWENV_", "METAFLOW_FLOWENV_", "PIP_")) or name in (
                "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX",
                "UV_FIND_LINKS", "METAFLOW_USER", "METAFLOW_DEBUG_FLOWENV"):
            del runner.env[name]
    runner.env.update({"METAFLOW_HOME": str(home), "USER": "profile-tests",
                       "PIP_CONFIG_FILE": os.devnull})

    def write(name, values):
        values.setdefault("METAFLOW_FLOWENV_CACHE_DIR", str(tmp_path / ("cache-" + name)))
        path = home / ("config_%s.json" % name)
        path.write_text(json.dumps(values, indent=1))
        return {"METAFLOW_PROFILE": name}

    write.home = home
    return write


def _profile_key(definition):
    return ("METAFLOW_" + definition.name if definition.name.startswith("FLOWENV_")
            else definition.name)


def test_config_shows_each_setting_from_the_profile(runner, profiles, tmp_path):
    values = {  # setting -> (value in the profile, as config shows it)
        "FLOWENV_STORE": (str(tmp_path / "store"), str(tmp_path / "store")),
        "FLOWENV_CACHE_DIR": (str(tmp_path / "cache"), str(tmp_path / "cache")),
        "FLOWENV_LOCK_TIMEOUT": (42, "42"),
        "FLOWENV_PYTHONS": (["/opt/py/bin/python3"], "/opt/py/bin/python3"),
        "FLOWENV_CONDA_CHANNELS": ("file:///c1,file:///c2", "file:///c1 file:///c2"),
        "FLOWENV_CONDA_CHANNEL_ALIAS": ("https://example.org/conda/", "https://example.org/conda/"),
        "FLOWENV_CONDA_VIRTUAL_PACKAGES": ("__cuda=12.2", "__cuda=12.2=0"),
        "FLOWENV_INDEX_URL": ("https://bob:s3cret@idx.example/simple", "https://idx.example/simple"),
        "FLOWENV_EXTRA_INDEX_URLS": (["https://a.example/simple", "https://b.example/simple"],
                                     "https://a.example/simple https://b.example/simple"),
        "FLOWENV_FIND_LINKS": ("/w1 /w2", "/w1 /w2"),
        "FLOWENV_NO_INDEX": (True, "yes"),
        "FLOWENV_TRUSTED_HOSTS": ("pkgs.example:8080 other.example", "pkgs.example:8080 other.example"),
        "FLOWENV_KEYRING_PROVIDER": ("subprocess", "subprocess"),
        "FLOWENV_NETRC": ("/home/ann/.netrc-work", "/home/ann/.netrc-work"),
        "FLOWENV_REMOTE_PLATFORM": ("linux-aarch64", "linux-aarch64"),
        "FLOWENV_REMOTE_DECORATORS": (["kubernetes", "titus"], "kubernetes titus"),
        "FLOWENV_GPU_VIRTUAL_PACKAGES": ({"__cuda": "12.2"}, "__cuda=12.2=0"),
        "FLOWENV_COMPILE_BYTECODE": (True, "yes"),
        "FLOWENV_SHARE_BYTECODE": (False, "no"),
        "FLOWENV_FETCH_CONCURRENCY": (3, "3"),
        "FLOWENV_UV_BIN": ("/opt/uv", "/opt/uv"),
        "METAFLOW_S3_ENDPOINT_URL": ("http://127.0.0.1:9", "http://127.0.0.1:9"),
        "FLOWENV_AZURE_CONNECTION_STRING": ("AccountName=a;AccountKey=s3cret", "(set, hidden)"),
        "METAFLOW_AZURE_STORAGE_BLOB_SERVICE_ENDPOINT": ("https://a.blob.example/", "https://a.blob.example/"),
        "FLOWENV_GCS_EMULATOR_HOST": ("http://127.0.0.1:8", "http://127.0.0.1:8"),
        "FLOWENV_GCS_PROJECT": ("proj", "proj"),
        "METAFLOW_USER": ("alice", "alice"),
        "FLOWENV_DEBUG": (True, "yes"),
    }
    missing = [d.name for d in DEFINITIONS if d.name not in values]
    assert not missing, "give these new settings a profile value in this test: %s" % missing
    env = profiles("all", {_profile_key(d): values[d.name][0] for d in DEFINITIONS})
    # The project's own .metaflow/config.json wins over the profile, and says so.
    (runner.folder / ".metaflow" / "config.json").write_text(
        json.dumps({"METAFLOW_FLOWENV_GCS_PROJECT": "local-proj"}))
    out = runner.metaflow("environment", "config", "--json", env=env).stdout
    report = json.loads(out[out.index("{"):])
    rows = {r["name"]: r for r in report["settings"]}
    profile_file = str(profiles.home / "config_all.json")
    for definition in DEFINITIONS:
        row = rows[definition.name]
        if definition.name == "FLOWENV_GCS_PROJECT":
            assert (row["value"], row["source"]) == (
                "local-proj", "METAFLOW_FLOWENV_GCS_PROJECT in the project's .metaflow/config.json")
            continue
        assert row["value"] == values[definition.name][1], row
        assert row["source"] == "%s in the Metaflow profile all (%s)" % (
            _profile_key(definition), profile_file), row
    assert report["store"] == str(tmp_path / "store")
    assert "s3cret" not in out
    # The environment beats the profile, in both spellings.
    out = runner.metaflow("environment", "config", env=dict(
        env, METAFLOW_FLOWENV_LOCK_TIMEOUT="7")).stdout
    line = next(l for l in out.splitlines() if l.startswith("FLOWENV_LOCK_TIMEOUT "))
    assert line.split() == ["FLOWENV_LOCK_TIMEOUT", "7", "METAFLOW_FLOWENV_LOCK_TIMEOUT"]
    # A bad value names the setting and the file it is in.
    bad = profiles("bad", {"METAFLOW_FLOWENV_REMOTE_PLATFORM": "win-64"})
    proc = runner.metaflow("environment", "config", env=bad, check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "METAFLOW_FLOWENV_REMOTE_PLATFORM in the Metaflow profile bad" in proc.stderr


def _uv_wrapper(folder: Path) -> Path:
    """A uv that records each call, then runs the real one."""
    from uv import find_uv_bin

    script = folder / "uv-wrapper"
    script.write_text('#!/bin/sh\necho "$@" >> "%s.log"\nexec "%s" "$@"\n' % (script, find_uv_bin()))
    script.chmod(0o755)
    return script


def test_store_cache_index_user_uv_bytecode_timeout_and_debug_from_the_profile(
        runner, profiles, wheel_index, tmp_path):
    uv = _uv_wrapper(tmp_path)
    env = profiles("team", {
        "METAFLOW_FLOWENV_STORE": str(tmp_path / "teamstore"),
        "METAFLOW_FLOWENV_CACHE_DIR": str(tmp_path / "teamcache"),
        "METAFLOW_FLOWENV_INDEX_URL": simple_index_url(wheel_index),
        "METAFLOW_USER": "alice",
        "METAFLOW_FLOWENV_DEBUG": True,
        "METAFLOW_FLOWENV_UV_BIN": str(uv),
        "METAFLOW_FLOWENV_COMPILE_BYTECODE": True,
        "METAFLOW_FLOWENV_LOCK_TIMEOUT": 1,
    })
    runner.write("req.txt", "alpha==1.0.0\n")
    proc = runner.metaflow("environment", "resolve", "-r", "req.txt", "--alias", "team/p:v1",
                           env=env)
    env_id = next(line.split()[1].rstrip(":") for line in proc.stdout.splitlines()
                  if line.startswith("Environment "))
    assert (tmp_path / "teamstore" / "v1" / "envs" / (env_id + ".json")).is_file()  # the store
    assert not (runner.folder / ".metaflow" / "flowenv").exists()
    assert "flowenv debug: " in proc.stderr and "pip compile" in proc.stderr  # debug
    assert "pip compile" in (tmp_path / "uv-wrapper.log").read_text()  # uv binary
    assert "alice" in runner.metaflow("environment", "history", "team/p:v1", env=env).stdout
    prefix = Path(runner.metaflow("environment", "get", "team/p:v1", env=env).stdout.split()[-1])
    assert prefix.parent.parent == tmp_path / "teamcache"  # the cache
    assert glob.glob(str(prefix / "lib" / "python*" / "site-packages" / "alpha" /
                         "__pycache__" / "*.pyc"))  # bytecode compiled
    # Lock timeout: another process holds the environment's creation lock.
    subprocess.run(["rm", "-rf", str(prefix)], check=True)
    with open(str(prefix) + ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = runner.metaflow("environment", "get", "team/p:v1", env=env, check=False)
    assert proc.returncode != 0 and "waited 1 s" in proc.stderr
    assert "FLOWENV_LOCK_TIMEOUT" in proc.stderr


def test_extra_index_find_links_and_no_index_from_the_profile(runner, profiles, wheel_index,
                                                             tmp_path):
    empty = tmp_path / "empty-simple"
    empty.mkdir()
    runner.write("req.txt", "gamma==0.2.0\n")
    alone = profiles("alone", {"METAFLOW_FLOWENV_INDEX_URL": empty.as_uri()})
    proc = runner.metaflow("environment", "resolve", "-r", "req.txt", env=alone, check=False)
    assert proc.returncode != 0 and "gamma" in proc.stderr
    unreachable = "http://127.0.0.1:9/simple/"
    for name, settings in (
            ("extra", {"METAFLOW_FLOWENV_EXTRA_INDEX_URLS": simple_index_url(wheel_index)}),
            ("links", {"METAFLOW_FLOWENV_FIND_LINKS": str(wheel_index)}),
            # The index cannot be reached: only no-index makes the folder enough.
            ("noindex", {"METAFLOW_FLOWENV_INDEX_URL": unreachable,
                         "METAFLOW_FLOWENV_FIND_LINKS": str(wheel_index),
                         "METAFLOW_FLOWENV_NO_INDEX": True})):
        env = profiles(name, dict({"METAFLOW_FLOWENV_INDEX_URL": empty.as_uri()}, **settings))
        out = runner.metaflow("environment", "resolve", "-r", "req.txt", env=env).stdout
        assert "gamma==0.2.0" in out, name


def test_netrc_from_the_profile(runner, profiles, wheel_index, tmp_path):
    runner.write("req.txt", "alpha==1.0.0\n")
    try:
        with pypi_server(wheel_index, "bob", "s3cret") as server:
            index = {"METAFLOW_FLOWENV_INDEX_URL": server.endpoint + "/simple/"}
            proc = runner.metaflow("environment", "resolve", "-r", "req.txt",
                                   env=profiles("nonetrc", dict(index)), check=False)
            assert proc.returncode != 0 and "401" in proc.stdout + proc.stderr
            netrc = tmp_path / "netrc"
            netrc.write_text("machine 127.0.0.1 login bob password s3cret\n")
            netrc.chmod(0o600)
            env = profiles("netrc", dict(index, METAFLOW_FLOWENV_NETRC=str(netrc)))
            out = runner.metaflow("environment", "resolve", "-r", "req.txt", env=env).stdout
            assert "alpha==1.0.0" in out
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the test channel's glibc package")
def test_conda_channels_alias_and_virtual_packages_from_the_profile(
        runner, profiles, conda_channel, tmp_path):
    build_channel(tmp_path / "alias" / "otherchan", [python_module_package("condalib", "3.0")])
    runner.write("environment.yml", "dependencies:\n  - otherchan::condalib=3.0\n"
                                    "  - needsnewglibc\n")
    env = profiles("conda", {
        "METAFLOW_FLOWENV_CONDA_CHANNELS": conda_channel,
        "METAFLOW_FLOWENV_CONDA_CHANNEL_ALIAS": (tmp_path / "alias").as_uri() + "/",
        "METAFLOW_FLOWENV_CONDA_VIRTUAL_PACKAGES": "__glibc=99",
    })
    out = runner.metaflow("environment", "resolve", "-f", "environment.yml", env=env).stdout
    assert "condalib==3.0 (conda)" in out and "needsnewglibc==1.0 (conda)" in out
    # Without the virtual package, this machine's glibc is too old for needsnewglibc.
    env = profiles("conda2", {"METAFLOW_FLOWENV_CONDA_CHANNELS": conda_channel,
                              "METAFLOW_FLOWENV_CONDA_CHANNEL_ALIAS": (tmp_path / "alias").as_uri() + "/"})
    proc = runner.metaflow("environment", "resolve", "-f", "environment.yml", env=env, check=False)
    assert proc.returncode != 0 and "needsnewglibc" in proc.stderr


def _other_python():
    """A real interpreter of another minor version than this one, outside PATH."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    own = "%d.%d" % sys.version_info[:2]
    for path in sorted(glob.glob(os.path.join(root, "versions", "3.*", "bin", "python3"))):
        minor = ".".join(Path(path).parents[1].name.split(".")[:2])
        if minor != own and not glob.glob("/usr/bin/python%s" % minor) \
                and not glob.glob("/usr/local/bin/python%s" % minor):
            return path, minor
    return None, None


def test_pythons_from_the_profile(runner, profiles, wheel_index, tmp_path):
    python, minor = _other_python()
    if python is None:
        pytest.skip("no second CPython outside PATH on this machine")
    runner.env.update({"PYENV_ROOT": str(tmp_path / "no-pyenv"), "HOME": str(tmp_path / "home"),
                       "PATH": "/usr/bin:/bin"})
    runner.write("req.txt", "alpha==1.0.0\n")
    index = {"METAFLOW_FLOWENV_INDEX_URL": simple_index_url(wheel_index)}
    plain = profiles("plain", dict(index))
    proc = runner.metaflow("environment", "resolve", "-r", "req.txt", "--python", minor,
                           env=plain, check=False)
    assert proc.returncode != 0 and "No Python interpreter" in proc.stderr
    env = profiles("pythons", dict(index, METAFLOW_FLOWENV_PYTHONS=python))
    out = runner.metaflow("environment", "resolve", "-r", "req.txt", "--python", minor, env=env).stdout
    assert "Python %s." % minor in out


def _server(kind):
    try:
        return SERVERS[kind]()
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


REMOTE_FLOW = '''
from metaflow import FlowSpec, step, kubernetes, pypi

class RemoteFlow(FlowSpec):
    @kubernetes
    @pypi(packages={"alpha": "1.0.0"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    RemoteFlow()
'''


def test_s3_endpoint_and_remote_platform_from_the_profile(runner, profiles, wheel_index):
    with _server("s3") as server:
        new_bucket("s3", server, "profiled")
        # Credentials only in the environment; Metaflow's datastore and the endpoint in
        # the profile, beside flowenv's own settings.
        runner.env.update({k: v for k, v in server.env.items() if k.startswith("AWS_")})
        del runner.env["METAFLOW_DEFAULT_DATASTORE"]
        env = profiles("s3", {
            "METAFLOW_DEFAULT_DATASTORE": "s3",
            "METAFLOW_DATASTORE_SYSROOT_S3": "s3://profiled/metaflow",
            "METAFLOW_S3_ENDPOINT_URL": server.endpoint,
            "METAFLOW_FLOWENV_INDEX_URL": simple_index_url(wheel_index),
            "METAFLOW_FLOWENV_REMOTE_PLATFORM": "linux-aarch64",
        })
        runner.write("req.txt", "alpha==1.0.0\n")
        runner.metaflow("environment", "resolve", "-r", "req.txt", "--alias", "team/s3:v1", env=env)
        import boto3

        client = boto3.session.Session(
            aws_access_key_id=server.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=server.env["AWS_SECRET_ACCESS_KEY"],
            region_name=server.env["AWS_DEFAULT_REGION"]).client("s3", endpoint_url=server.endpoint)
        keys = [o["Key"] for o in client.list_objects_v2(
            Bucket="profiled", Prefix="metaflow/flowenv/v1/aliases/").get("Contents", [])]
        assert keys == ["metaflow/flowenv/v1/aliases/team/s3/v1.json"]
        runner.write("flow.py", REMOTE_FLOW)
        out = runner.flow("flow.py", "environment", "show", "--json", env=env).stdout
        start = json.loads(out[out.index("{"):])["steps"]["start"]
        assert start["platform"] == "linux-aarch64" and start["state"] == "unresolved"


@pytest.mark.parametrize("kind", ["gcs", "azure"])
def test_gcs_and_azure_stores_from_the_profile(runner, profiles, wheel_index, kind):
    with _server(kind) as server:
        new_bucket(kind, server, "profiled")
        if kind == "gcs":
            settings = {"METAFLOW_FLOWENV_STORE": "gs://profiled/flowenv",
                        "METAFLOW_FLOWENV_GCS_EMULATOR_HOST": server.endpoint,
                        "METAFLOW_FLOWENV_GCS_PROJECT": server.env["GOOGLE_CLOUD_PROJECT"]}
        else:
            settings = {"METAFLOW_FLOWENV_STORE": "azure://profiled/flowenv",
                        "METAFLOW_FLOWENV_AZURE_CONNECTION_STRING":
                            server.env["FLOWENV_AZURE_CONNECTION_STRING"]}
        env = profiles(kind, dict(settings, METAFLOW_FLOWENV_INDEX_URL=simple_index_url(wheel_index)))
        runner.write("req.txt", "alpha==1.0.0\n")
        runner.metaflow("environment", "resolve", "-r", "req.txt", "--alias", "team/c:v1", env=env)
        out = runner.metaflow("environment", "list", env=env).stdout
        assert "team/c:v1" in out


def test_azure_endpoint_from_the_profile(runner, profiles):
    pytest.importorskip("azure.identity")
    env = profiles("azure-endpoint", {
        "METAFLOW_AZURE_STORAGE_BLOB_SERVICE_ENDPOINT": "https://acct.blob.example.net/"})
    # The store client is made (not used: that would need real Azure credentials).
    out = runner.run(sys.executable, "-c", (
        "from metaflow_extensions.flowenv.api import EnvironmentAPI\n"
        "from flowenv.store.azure import AzureBlobStore\n"
        "store = AzureBlobStore.from_url('azure://c/p', settings=EnvironmentAPI().settings)\n"
        "print(store.client.url)\n"), env=env).stdout
    assert out.strip().startswith("https://acct.blob.example.net")

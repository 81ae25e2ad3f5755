"""Settings: read once, typed, checked; and every setting that changes a resolution is
part of the requirements id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowenv.cache import LocalCache
from flowenv.environments import Environments
from flowenv.errors import SettingsError
from flowenv.settings import DEFINITIONS, Settings
from flowenv.spec import Spec

from tests.flowenv.conftest import PYTHON_MINOR


def test_defaults_need_no_environment():
    settings = Settings.load({})
    assert settings.lock_timeout == 600.0
    assert settings.conda_channels == ("conda-forge",)
    assert settings.remote_platform == "linux-64"
    assert settings.origins["lock_timeout"] == "default"


def test_each_spelling_and_its_precedence():
    assert Settings.load({"FLOWENV_LOCK_TIMEOUT": "5"}).lock_timeout == 5.0
    assert Settings.load({"METAFLOW_FLOWENV_LOCK_TIMEOUT": "6"}).lock_timeout == 6.0
    profile = {"METAFLOW_FLOWENV_LOCK_TIMEOUT": 7}
    assert Settings.load({}, profile).lock_timeout == 7.0
    # The environment wins over the profile, flowenv's own name over Metaflow's spelling.
    both = Settings.load({"FLOWENV_LOCK_TIMEOUT": "5", "METAFLOW_FLOWENV_LOCK_TIMEOUT": "6"},
                         profile)
    assert both.lock_timeout == 5.0 and both.origins["lock_timeout"] == "FLOWENV_LOCK_TIMEOUT"
    from_profile = Settings.load({}, profile, profile_name="Metaflow profile dev")
    assert from_profile.origins["lock_timeout"] == (
        "METAFLOW_FLOWENV_LOCK_TIMEOUT in the Metaflow profile dev")


def test_index_settings_fall_back_to_uv_then_pip():
    assert Settings.load({"PIP_INDEX_URL": "https://pip/simple"}).index_url == "https://pip/simple"
    both = Settings.load({"PIP_INDEX_URL": "https://pip/simple",
                          "UV_INDEX_URL": "https://uv/simple"})
    assert both.index_url == "https://uv/simple" and both.origins["index_url"] == "UV_INDEX_URL"
    assert Settings.load({"PIP_EXTRA_INDEX_URL": "https://a https://b"}).extra_index_urls == (
        "https://a", "https://b")
    assert Settings.load({"UV_INDEX": "internal=https://pkgs/simple https://b"}
                         ).extra_index_urls == ("https://pkgs/simple", "https://b")


@pytest.mark.parametrize("name, value", [
    ("FLOWENV_LOCK_TIMEOUT", "soon"),
    ("FLOWENV_LOCK_TIMEOUT", "-1"),
    ("FLOWENV_LOCK_TIMEOUT", "nan"),
    ("FLOWENV_REMOTE_PLATFORM", "windows-64"),
    ("FLOWENV_CONDA_VIRTUAL_PACKAGES", "cuda=12"),
    ("FLOWENV_CONDA_CHANNEL_ALIAS", "conda.example.com"),
    ("FLOWENV_COMPILE_BYTECODE", "sometimes"),
])
def test_an_unusable_value_names_the_setting(name, value):
    with pytest.raises(SettingsError) as err:
        Settings.load({name: value})
    assert name in str(err.value) and value in str(err.value)


def test_an_unusable_profile_value_names_the_profile():
    with pytest.raises(SettingsError) as err:
        Settings.load({}, {"METAFLOW_FLOWENV_LOCK_TIMEOUT": "later"}, profile_name="Metaflow profile x")
    assert "METAFLOW_FLOWENV_LOCK_TIMEOUT in the Metaflow profile x" in str(err.value)


def test_secrets_are_not_shown():
    settings = Settings.load({"FLOWENV_AZURE_CONNECTION_STRING": "AccountKey=s3cret"})
    assert "s3cret" not in repr(settings)
    shown = {name: value for name, value, _ in settings.describe()}
    assert shown["FLOWENV_AZURE_CONNECTION_STRING"] == "(set, hidden)"
    assert len(shown) == len(DEFINITIONS)


def _request(store, tmp_path, environ) -> Spec:
    settings = Settings.load(environ)
    envs = Environments(store, LocalCache(tmp_path / "cache"), settings=settings)
    return envs.request(Spec(conda=("condalib",), pypi=("alpha",), python=PYTHON_MINOR))


def test_settings_that_change_a_resolution_change_the_requirements_id(store, tmp_path):
    base = _request(store, tmp_path, {"FLOWENV_CONDA_CHANNELS": "conda-forge"})
    for environ in ({"FLOWENV_CONDA_CHANNELS": "conda-forge,bioconda"},
                    {"FLOWENV_CONDA_CHANNEL_ALIAS": "https://mirror.example.com/"},
                    {"FLOWENV_CONDA_VIRTUAL_PACKAGES": "__cuda=12.2"},
                    {"UV_INDEX_URL": "https://pkgs.example.com/simple"},
                    {"PIP_EXTRA_INDEX_URL": "https://extra.example.com/simple"},
                    {"UV_FIND_LINKS": "https://wheels.example.com/"}):
        assert _request(store, tmp_path, environ).req_id != base.req_id, environ
    # Credentials are not part of the id.
    one = _request(store, tmp_path, {"UV_INDEX_URL": "https://u:one@pkgs.example.com/simple"})
    two = _request(store, tmp_path, {"UV_INDEX_URL": "https://u:two@pkgs.example.com/simple"})
    assert one.req_id == two.req_id
    # Settings that do not change a resolution leave it alone.
    assert _request(store, tmp_path, {"FLOWENV_LOCK_TIMEOUT": "3"}).req_id == base.req_id


def test_other_channels_are_not_served_a_stored_resolution(store, tmp_path, channels):
    """Two machines with different channels sharing a store: each gets its own lock."""
    spec = Spec(conda=("condalib",), python=PYTHON_MINOR)
    main = Environments(store, LocalCache(tmp_path / "a"),
                        settings=Settings.load({"FLOWENV_CONDA_CHANNELS": channels["main"]}))
    other_channel = channels["alias"] + "otherchan," + channels["main"]
    other = Environments(store, LocalCache(tmp_path / "b"),
                         settings=Settings.load({"FLOWENV_CONDA_CHANNELS": other_channel}))
    assert {f.name: f.version for f in main.resolve(spec).files}["condalib"] == "2.0"
    assert {f.name: f.version for f in other.resolve(spec).files}["condalib"] == "3.0"


def test_cache_dir_follows_xdg_cache_home(tmp_path):
    assert Settings.load({"XDG_CACHE_HOME": str(tmp_path)}).cache_dir == tmp_path / "flowenv"
    assert Settings.load({"FLOWENV_CACHE_DIR": "~/x"}).cache_dir == Path("~/x").expanduser()


def test_profile_values_may_be_json_typed():
    settings = Settings.load({}, {"METAFLOW_FLOWENV_CONDA_CHANNELS": ["a", "b"],
                                  "METAFLOW_FLOWENV_LOCK_TIMEOUT": 30})
    assert settings.conda_channels == ("a", "b") and settings.lock_timeout == 30.0
    assert json.dumps(settings.describe())  # printable as is


def test_source_named_per_profile_key():
    settings = Settings.load({}, {"METAFLOW_FLOWENV_LOCK_TIMEOUT": 30},
                             profile_name=lambda key: "Metaflow profile dev (config_dev.json)")
    assert settings.origins["lock_timeout"] == (
        "METAFLOW_FLOWENV_LOCK_TIMEOUT in the Metaflow profile dev (config_dev.json)")


def test_debug_switch_in_every_spelling():
    assert Settings.load({}).debug is False
    for environ, profile in (({"FLOWENV_DEBUG": "1"}, {}), ({"METAFLOW_DEBUG_FLOWENV": "1"}, {}),
                             ({}, {"METAFLOW_DEBUG_FLOWENV": True}),
                             ({}, {"METAFLOW_FLOWENV_DEBUG": "yes"})):
        assert Settings.load(environ, profile).debug is True, (environ, profile)


def test_gcs_settings_have_flowenv_names_and_google_fallbacks():
    google = {"GOOGLE_CLOUD_PROJECT": "p1", "STORAGE_EMULATOR_HOST": "http://h:1"}
    settings = Settings.load(google)
    assert (settings.gcs_project, settings.gcs_emulator_host) == ("p1", "http://h:1")
    profiled = Settings.load(google, {"METAFLOW_FLOWENV_GCS_PROJECT": "p2"})
    assert profiled.gcs_project == "p2"


def test_describe_hides_url_credentials_and_shows_values_as_written():
    settings = Settings.load({"FLOWENV_INDEX_URL": "https://bob:s3cret@pypi.example/simple",
                              "FLOWENV_COMPILE_BYTECODE": "no"})
    rows = {name: (value, source) for name, value, source in settings.describe()}
    assert [name for name, _, _ in settings.describe()] == [d.name for d in DEFINITIONS]
    assert rows["FLOWENV_INDEX_URL"] == ("https://pypi.example/simple", "FLOWENV_INDEX_URL")
    assert rows["FLOWENV_COMPILE_BYTECODE"][0] == "no"
    assert rows["FLOWENV_DEBUG"][0] == "no"
    assert rows["FLOWENV_STORE"] == ("(unset)", "default")
    assert "s3cret" not in repr(settings.describe())


def test_exported_settings_are_the_remote_ones_that_were_set():
    settings = Settings.load({"FLOWENV_LOCK_TIMEOUT": "30", "METAFLOW_DEBUG_FLOWENV": "1",
                              "FLOWENV_CACHE_DIR": "/somewhere",
                              "FLOWENV_AZURE_CONNECTION_STRING": "AccountKey=s3cret"},
                             {"METAFLOW_FLOWENV_COMPILE_BYTECODE": False})
    assert settings.exported() == {"FLOWENV_LOCK_TIMEOUT": "30", "FLOWENV_DEBUG": "yes",
                                   "FLOWENV_COMPILE_BYTECODE": "no"}
    # What is exported reads back to the same values.
    again = Settings.load(settings.exported())
    assert (again.lock_timeout, again.debug, again.compile_bytecode) == (30.0, True, False)
    assert Settings.load({}).exported() == {}


# -- the reference extension's settings, where they map onto flowenv's -------------------


def test_reference_settings_are_fallbacks():
    settings = Settings.load({
        "METAFLOW_CONDA_REMOTE_COMMANDS": '["batch", "kubernetes", "titus"]',
        "METAFLOW_CONDA_SYS_DEFAULT_PACKAGES": '{"linux-64": {"__glibc": "2.27"}}',
        "METAFLOW_CONDA_SYS_DEFAULT_GPU_PACKAGES": '{"__cuda": "11.8=0"}',
        "METAFLOW_CONDA_DEFAULT_PYPI_SOURCE": "https://mirror.example.com/simple",
        "METAFLOW_CONDA_LOCK_TIMEOUT": "30",
        "PIP_INDEX_URL": "https://pip.example.com/simple",
    })
    assert settings.remote_decorators == ("batch", "kubernetes", "titus")
    assert settings.conda_virtual_packages == ("__glibc=2.27=0",)
    assert settings.gpu_virtual_packages == ("__cuda=11.8=0",)
    assert settings.index_url == "https://mirror.example.com/simple"
    assert settings.lock_timeout == 30.0
    assert settings.origins["remote_decorators"] == "METAFLOW_CONDA_REMOTE_COMMANDS"
    # flowenv's own names win.
    own = Settings.load({"FLOWENV_REMOTE_DECORATORS": "titus,slurm",
                         "METAFLOW_CONDA_REMOTE_COMMANDS": '["batch"]'})
    assert own.remote_decorators == ("titus", "slurm")
    assert Settings.load({}).remote_decorators[:2] == ("batch", "kubernetes")


def test_per_platform_virtual_packages_that_disagree_are_an_error():
    with pytest.raises(SettingsError) as err:
        Settings.load({"METAFLOW_CONDA_SYS_DEFAULT_PACKAGES":
                       '{"linux-64": {"__glibc": "2.27"}, "linux-aarch64": {"__glibc": "2.26"}}'})
    assert "METAFLOW_CONDA_SYS_DEFAULT_PACKAGES" in str(err.value) and "__glibc" in str(err.value)
    with pytest.raises(SettingsError, match="FLOWENV_REMOTE_DECORATORS"):
        Settings.load({"FLOWENV_REMOTE_DECORATORS": "[not json"})
    # The flat form also takes conda's '==' spelling.
    assert Settings.load({"FLOWENV_CONDA_VIRTUAL_PACKAGES": "__cuda==12.2"}
                         ).conda_virtual_packages == ("__cuda=12.2=0",)


def test_reference_settings_in_the_metaflow_profile():
    profile = {"METAFLOW_CONDA_SYS_DEFAULT_PACKAGES": {"linux-64": {"__glibc": "2.27"}},
               "METAFLOW_CONDA_REMOTE_COMMANDS": ["batch", "titus"]}
    settings = Settings.load({}, profile, profile_name="Metaflow profile dev")
    assert settings.conda_virtual_packages == ("__glibc=2.27=0",)
    assert settings.remote_decorators == ("batch", "titus")
    assert settings.origins["remote_decorators"] == (
        "METAFLOW_CONDA_REMOTE_COMMANDS in the Metaflow profile dev")

"""Index settings from pip's and uv's own configuration files, and which source wins."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from flowenv.errors import SettingsError
from flowenv.settings import Settings
from flowenv.spec import Spec


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def home(tmp_path):
    """A clean HOME and XDG folders: no file of this machine is read."""
    home = tmp_path / "home"
    home.mkdir()
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CONFIG_DIRS": str(tmp_path / "etc-xdg")}


def load(environ, cwd):
    return Settings.load(environ, cwd=str(cwd))


def test_pip_conf_user_file(home, tmp_path):
    write(Path(home["XDG_CONFIG_HOME"]) / "pip" / "pip.conf", """\
        [global]
        index-url = https://mirror.example/simple
        extra-index-url =
            https://one.example/simple
            https://two.example/simple
        trusted-host = mirror.example
        find-links = /srv/wheels
        """)
    settings = load(home, tmp_path)
    assert settings.index_url == "https://mirror.example/simple"
    assert settings.extra_index_urls == ("https://one.example/simple", "https://two.example/simple")
    assert settings.trusted_hosts == ("mirror.example",)
    assert settings.find_links == ("/srv/wheels",)
    assert settings.origins["index_url"].endswith(os.path.join("pip", "pip.conf"))


def test_pip_install_section_and_file_precedence(home, tmp_path):
    write(Path(home["XDG_CONFIG_DIRS"]) / "pip" / "pip.conf",
          "[install]\nindex-url = https://global-install.example/simple\n")
    write(Path(home["XDG_CONFIG_HOME"]) / "pip" / "pip.conf",
          "[global]\nindex-url = https://user.example/simple\nno-index = yes\n")
    settings = load(home, tmp_path)
    # pip merges the files key by key, then [install] over [global], whatever the file.
    assert settings.index_url == "https://global-install.example/simple"
    assert settings.no_index is True
    env_file = write(tmp_path / "ci-pip.conf", "[global]\nindex-url = https://ci.example/simple\n")
    assert load({**home, "PIP_CONFIG_FILE": str(env_file)}, tmp_path).index_url == \
        "https://global-install.example/simple"
    # PIP_CONFIG_FILE=/dev/null: no file at all, as for pip.
    assert load({**home, "PIP_CONFIG_FILE": os.devnull}, tmp_path).index_url is None


def test_uv_project_file_before_user_file_before_pip(home, tmp_path):
    write(Path(home["XDG_CONFIG_HOME"]) / "pip" / "pip.conf",
          "[global]\nindex-url = https://pip.example/simple\n"
          "extra-index-url = https://pip-extra.example/simple\n")
    write(Path(home["XDG_CONFIG_HOME"]) / "uv" / "uv.toml", """\
        extra-index-url = ["https://user-uv.example/simple"]
        keyring-provider = "subprocess"
        """)
    project = tmp_path / "project"
    write(project / "pyproject.toml", """\
        [project]
        name = "flows"
        version = "0"
        [[tool.uv.index]]
        name = "corp"
        url = "https://corp.example/simple"
        default = true
        [[tool.uv.index]]
        name = "torch"
        url = "https://torch.example/whl/cpu"
        explicit = true
        """)
    (project / "flows").mkdir()
    settings = load(home, project / "flows")
    assert settings.index_url == "https://corp.example/simple"
    assert settings.index_names == ("corp=https://corp.example/simple",)
    assert settings.origins["index_url"] == str(project / "pyproject.toml")
    assert settings.extra_index_urls == ("https://user-uv.example/simple",)
    assert settings.keyring_provider == "subprocess"
    # Variables come before every file.
    with_var = load({**home, "PIP_INDEX_URL": "https://var.example/simple"}, project)
    assert with_var.index_url == "https://var.example/simple"
    assert load({**home, "UV_NO_CONFIG": "1"}, project).index_url == "https://pip.example/simple"


def test_named_index_from_settings_reaches_the_spec(home, tmp_path):
    from flowenv.environments import Environments

    settings = load({**home, "UV_INDEX": "internal=https://internal.example/simple",
                     "UV_DEFAULT_INDEX": "https://mirror.example/simple"}, tmp_path)
    spec = Environments(None, settings=settings).request(Spec(pypi=("alpha",), python="3.11"))
    assert spec.index_url == "https://mirror.example/simple"
    assert spec.extra_index_urls == ("https://internal.example/simple",)
    assert spec.named_indexes == {"https://internal.example/simple": "internal"}


def test_broken_files_name_themselves(home, tmp_path):
    bad = write(tmp_path / "uv.toml", "index-url = [unclosed\n")
    with pytest.raises(SettingsError) as err:
        load({**home, "UV_CONFIG_FILE": str(bad)}, tmp_path)
    assert str(bad) in str(err.value) and "UV_NO_CONFIG" in str(err.value)


def test_settings_never_show_credentials(home, tmp_path):
    settings = load({**home, "PIP_INDEX_URL": "https://me:t0ken@corp.example/simple"}, tmp_path)
    shown = " ".join(value for _, value, _ in settings.describe())
    assert "t0ken" not in shown and "https://corp.example/simple" in shown

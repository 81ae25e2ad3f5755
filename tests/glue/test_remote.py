"""What a remote container runs: the launcher's flowenv settings go with the bootstrap."""

import subprocess

import pytest

from flowenv.errors import SettingsError
from flowenv.settings import Settings
from metaflow_extensions.flowenv.plugins.remote import bootstrap_commands


def test_settings_the_container_needs_are_set_for_the_bootstrap():
    settings = Settings.load({"FLOWENV_LOCK_TIMEOUT": "30", "FLOWENV_CACHE_DIR": "/here"},
                             {"METAFLOW_DEBUG_FLOWENV": True, "METAFLOW_FLOWENV_GCS_PROJECT": "p"})
    commands = bootstrap_commands("train", "s3://b/flowenv", "team/env:v1", "f" * 32,
                                  settings=settings.exported())
    bootstrap = commands[1]
    assert bootstrap.startswith("FLOWENV_DEBUG='yes' FLOWENV_GCS_PROJECT='p' "
                                "FLOWENV_LOCK_TIMEOUT='30' python -m flowenv.bootstrap ")
    assert "/here" not in bootstrap and '"' not in " ".join(commands)
    # The shell gives them to the bootstrap, and the bootstrap's Settings reads them back.
    probe = bootstrap.split("python -m")[0] + (
        "python3 -c 'import os; print(os.environ[\"FLOWENV_LOCK_TIMEOUT\"])'")
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True).stdout
    assert out.strip() == "30"


def test_no_settings_no_assignments():
    commands = bootstrap_commands("s", "/store", "e" * 32, "f" * 32)
    assert commands[1].startswith("python -m flowenv.bootstrap ")


def test_a_value_the_shell_would_change_is_refused_with_its_name():
    with pytest.raises(SettingsError) as err:
        bootstrap_commands("s", "/store", "e" * 32, "f" * 32,
                           settings={"FLOWENV_GCS_PROJECT": "it's"})
    assert "FLOWENV_GCS_PROJECT" in str(err.value)

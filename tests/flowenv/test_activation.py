"""The activation script: sourced, it puts the environment first and sets its variables;
deactivate restores what was there."""

from __future__ import annotations

import subprocess

from flowenv.activation import write_activation_script


def test_activate_then_deactivate(tmp_path):
    prefix = tmp_path / "it's here" / ".venv"
    script = write_activation_script(tmp_path / "activate", prefix,
                                     {"PYTHONPATH": "/code:/more", "ODD": "a b'c$d"}, "a test")
    shell = (". '%s'; echo \"$PATH|$VIRTUAL_ENV|$PYTHONPATH|$ODD\"; deactivate; "
             "echo \"$PATH|${VIRTUAL_ENV-unset}|$PYTHONPATH|${ODD-unset}\"" % script)
    out = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": "/before"}).stdout
    active, after = out.splitlines()
    assert active == "%s/bin:/usr/bin:/bin|%s|/code:/more|a b'c$d" % (prefix, prefix)
    assert after == "/usr/bin:/bin|unset|/before|unset"

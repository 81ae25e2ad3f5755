"""A shell script that activates an environment, with variables of its own (a step's code
on PYTHONPATH, say): `. ./activate`, then `deactivate` to undo it."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Mapping

from .atomic import write_text

_SCRIPT = """\
# flowenv: {what}
# Use it with: . {path}   (undo with: deactivate)
deactivate () {{
{restore}
    unset -f deactivate
}}
{save}
export VIRTUAL_ENV={prefix}
export PATH={bin}:"$PATH"
{exports}
hash -r 2>/dev/null || true
"""


def write_activation_script(path: Path, prefix: Path, variables: Mapping[str, str],
                            what: str) -> Path:
    """Write the script at path for the environment at prefix; variables are exported
    too (and restored by deactivate)."""
    names = ["VIRTUAL_ENV", "PATH"] + [n for n in variables if n not in ("VIRTUAL_ENV", "PATH")]
    save = "\n".join('_FLOWENV_OLD_{0}="${{{0}-}}"; _FLOWENV_HAD_{0}="${{{0}+x}}"'.format(n)
                     for n in names)
    restore = "\n".join(
        '    if [ -n "$_FLOWENV_HAD_{0}" ]; then export {0}="$_FLOWENV_OLD_{0}"; '
        'else unset {0}; fi; unset _FLOWENV_OLD_{0} _FLOWENV_HAD_{0}'.format(n) for n in names)
    exports = "\n".join("export %s=%s" % (name, shlex.quote(str(value)))
                        for name, value in variables.items())
    text = _SCRIPT.format(what=what, path=shlex.quote(str(path)), restore=restore, save=save,
                          prefix=shlex.quote(str(prefix)),
                          bin=shlex.quote(str(Path(prefix) / "bin")), exports=exports)
    write_text(path, text)
    return Path(path)

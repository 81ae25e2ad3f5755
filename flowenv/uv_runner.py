"""Running uv: which binary, with which environment, and its failures as errors.

uv reads a great many `UV_*` variables and configuration files. Those that change what a
resolution gives (indexes, find-links, pre-releases, ...) reach flowenv through its
Settings and become explicit arguments, part of the requirements id; uv itself runs with
`--no-config` and without them, so nothing unseen changes a lock.
"""

from __future__ import annotations

import functools
import re
import shlex
import signal
import subprocess
import sysconfig
import threading
from typing import Iterable, List, Mapping, Optional, Sequence

from .debuglog import SILENT, DebugLog
from .redact import redact_text

# uv variables that do not change what a resolution gives: they pass through.
# (Trusted hosts and the keyring provider come through Settings, as arguments.)
PASSTHROUGH = ("UV_CACHE_DIR", "UV_OFFLINE", "UV_NATIVE_TLS", "UV_HTTP_TIMEOUT",
               "UV_CONCURRENT_DOWNLOADS", "UV_CONCURRENT_BUILDS", "UV_CONCURRENT_INSTALLS",
               "UV_LINK_MODE", "UV_NO_CACHE", "UV_CACHE_MAX_AGE")

# Credentials of named indexes (UV_INDEX_<NAME>_USERNAME / _PASSWORD) pass through too.
_CREDENTIAL = re.compile(r"^UV_INDEX_[A-Z0-9_]+_(USERNAME|PASSWORD)$")

_FIND_LOCK = threading.Lock()
# sysconfig's first use is not thread-safe, and resolutions run in threads (find_uv_bin
# and packaging's tags read it): it is made here, on import, before any pool starts.
sysconfig.get_config_vars()


@functools.lru_cache(maxsize=None)
def _installed_uv() -> str:
    from uv import find_uv_bin

    return find_uv_bin()


def installed_uv() -> str:
    with _FIND_LOCK:  # find_uv_bin reads sysconfig, whose first use is not thread-safe
        return _installed_uv()


def _passes(name: str) -> bool:
    if name.startswith(("UV_", "PIP_")):
        return name in PASSTHROUGH or bool(_CREDENTIAL.match(name))
    return name not in ("VIRTUAL_ENV", "CONDA_PREFIX")


_SIGNAL_CAUSES = {signal.SIGXFSZ: "a file grew past the file-size limit (ulimit -f)",
                  signal.SIGKILL: "perhaps the machine ran out of memory"}


def _killed(number: int) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = "signal %d" % number
    cause = _SIGNAL_CAUSES.get(number)
    return "uv was killed by %s%s" % (name, ": " + cause if cause else "")


class UvRunner:
    def __init__(self, binary: Optional[str] = None, environ: Mapping[str, str] = None,
                 log: DebugLog = SILENT):
        self._binary = binary
        self.log = log
        env = {k: v for k, v in (environ or {}).items() if _passes(k)}
        # uv must never try to download a CPython: it loses seconds when it cannot.
        env["UV_PYTHON_DOWNLOADS"] = "never"
        env["UV_NO_PROGRESS"] = "1"
        # Messages are read (and quoted) whole: never wrapped at a terminal's width.
        env["COLUMNS"] = "10000"
        self.env = env

    @property
    def binary(self) -> str:
        return self._binary or installed_uv()

    def run(self, args: Sequence[str], cwd=None, secrets: Iterable[str] = (),
            env: Mapping[str, str] = None) -> subprocess.CompletedProcess:
        """Run `uv ARGS` (with --no-config added by callers' choice of subcommand), with
        `env` added to its environment; its output has credentials redacted (every URL of
        `secrets`, and any user:password in a URL). The debug log shows the call."""
        secrets = list(secrets)
        shown = " ".join(shlex.quote(a) for a in self.command_line(args, secrets))
        with self.log.timed(shown, announce=True) as timing:
            proc = subprocess.run([self.binary, *[str(a) for a in args]], capture_output=True,
                                  text=True, env={**self.env, **(env or {})}, cwd=cwd,
                                  stdin=subprocess.DEVNULL)
            timing.detail = "exit %d" % proc.returncode
        proc.stdout = redact_text(proc.stdout, secrets)
        proc.stderr = redact_text(proc.stderr, secrets)
        if proc.returncode < 0:  # killed: uv itself had no chance to say why
            proc.stderr = (proc.stderr.rstrip() + "\n" + _killed(-proc.returncode)).strip()
        return proc

    def command_line(self, args: Sequence[str], secrets: Iterable[str] = ()) -> List[str]:
        """The command as it may be shown or logged: credentials redacted."""
        return [redact_text(str(a), list(secrets)) for a in [self.binary, *args]]

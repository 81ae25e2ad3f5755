"""`Runner("flow.py").environment()`: a flow's step environments from Python, as
Metaflow's Runner runs flows (a subprocess, with the Runner's environment variables,
profile and folder), with typed results.

    from metaflow import Runner

    with Runner("flow.py") as runner:
        resolved = runner.environment().resolve(alias="team/app:latest")
        status = runner.environment().show()
        assert status["train"].cached and status["train"].created

Registered as a Runner command (RUNNER_CLIS_DESC): Metaflow imports this module whenever
it is imported, so only the standard library is imported here at the top.
"""

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence, Tuple, Union


@dataclass(frozen=True)
class StepEnvironment:
    step: str
    # resolved | unresolved | disabled | fetched at execution | error
    state: str
    locks: Dict[str, "object"] = field(default_factory=dict)  # platform -> flowenv.Lock
    alias: Optional[str] = None  # the name the step's decorator uses, if any
    reference: Optional[str] = None  # @named_env name or pathspec
    cached: Optional[bool] = None  # every package file is in the store (show)
    created: Optional[bool] = None  # the environment exists on this machine (show)
    error: Optional[str] = None

    @property
    def lock(self):
        """The step's Lock (None if it has none; the first if several platforms)."""
        return next(iter(self.locks.values()), None)


@dataclass(frozen=True)
class FlowResolution:
    flow: str
    steps: Dict[str, StepEnvironment]
    named: Tuple["object", ...]  # metaflow_extensions.flowenv.api.Named
    dry_run: bool


def _listed(value: Union[str, Sequence[str], None]):
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


class RunnerEnvironment:
    """`python flow.py --environment=conda environment ...` for a Runner's flow."""

    name = "environment"

    def __init__(self, runner, verbose: bool = False):
        """verbose: debug lines (every uv and rattler call, store operation and lock
        wait) on the command's stderr."""
        self._runner = runner
        self._verbose = verbose

    def resolve(self, steps: Sequence[str] = (), alias: Union[str, Sequence[str]] = (),
                arch: Union[str, Sequence[str]] = (), force: bool = False,
                dry_run: bool = False) -> FlowResolution:
        """Resolve the environments of steps (default: all), cache their packages in the
        store and name the result alias (one environment per platform); for the
        platforms of arch instead of each step's own. dry_run stores and names nothing."""
        from ..api import Named

        report = self._report("resolve", steps=list(steps), aliases=_listed(alias),
                              arches=_listed(arch), force=force, dry_run=dry_run)
        return FlowResolution(
            report["flow"],
            {step: self._resolved(step, entry) for step, entry in report["steps"].items()},
            tuple(Named(n["alias"], n["changed"], n["envs"]) for n in report["named"]),
            report["dry_run"])

    def show(self, steps: Sequence[str] = ()) -> Dict[str, StepEnvironment]:
        """Per step (default: all): its environment and whether it is resolved, cached in
        the store and created on this machine. Only reads: never resolves nor stores."""
        from flowenv.lock import Lock

        report = self._report("show", steps=list(steps))
        out = {}
        for step, info in report["steps"].items():
            lock = Lock.from_dict(info["lock"]) if info.get("lock") else None
            out[step] = StepEnvironment(
                step, info["state"], {lock.platform: lock} if lock else {}, info.get("alias"),
                info.get("reference"), info.get("cached"), info.get("created"),
                info.get("error"))
        return out

    @staticmethod
    def _resolved(step, entry) -> StepEnvironment:
        from flowenv.lock import Lock

        locks = {p: Lock.from_dict(e["lock"]) for p, e in entry["environments"].items()}
        aliases = [e["alias"] for e in entry["environments"].values() if e["alias"]]
        state = ("disabled" if entry["disabled"] else
                 "fetched at execution" if entry["fetch_at_exec"] else "resolved")
        return StepEnvironment(step, state, locks, aliases[0] if aliases else None,
                               entry["reference"])

    def _report(self, command: str, **options) -> dict:
        """Run the flow's `environment COMMAND` with --output; its JSON report."""
        from flowenv.errors import FlowenvError
        from metaflow.metaflow_config import CLICK_API_PROCESS_CONFIG
        from metaflow.runner.utils import with_dir

        runner = self._runner
        top_level = dict(runner.top_level_kwargs)
        top_level.setdefault("environment", "conda")
        with tempfile.TemporaryDirectory(prefix="flowenv-runner-") as tmp:
            out = os.path.join(tmp, "report.json")
            with with_dir(runner.cwd if CLICK_API_PROCESS_CONFIG else os.getcwd()):
                group = runner.api(**top_level).environment(verbose=self._verbose)
                args = getattr(group, command)(output=out, **options)
            proc = subprocess.run([sys.executable, *args], env=runner.env_vars, cwd=runner.cwd,
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if runner.show_output:
                sys.stdout.write(proc.stdout)
                sys.stderr.write(proc.stderr)
            if proc.returncode != 0 or not os.path.exists(out):
                tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
                raise FlowenvError("`environment %s` of %s failed (exit %d):\n%s"
                                   % (command, runner.flow_file, proc.returncode, tail))
            with open(out) as f:
                return json.load(f)

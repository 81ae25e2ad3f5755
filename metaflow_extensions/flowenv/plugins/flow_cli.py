"""`python flow.py --environment=conda environment resolve|show [STEPS]`.

`resolve` resolves (and, unless --dry-run, caches in the store and names) the steps'
environments; `show` only reads: it never resolves nor publishes. Both can write JSON
(--output FILE), the form Runner(...).environment() reads (runner_environment.py)."""

import json
import os
from concurrent.futures import ThreadPoolExecutor

from metaflow._vendor import click

from .errors import FlowenvException, user_errors

REPORT_SCHEMA = 1


@click.group()
def cli():
    pass


@cli.group(help="Resolve and inspect the environments of this flow's steps.")
@click.option("--verbose", "-v", is_flag=True,
              help="Debug lines on stderr: every uv and rattler call, store operation and "
                   "lock wait (as FLOWENV_DEBUG=1 or METAFLOW_DEBUG_FLOWENV=1).")
@click.pass_obj
def environment(obj, verbose):
    from .decorators import FLOWENV_ENVIRONMENTS

    if obj.environment.TYPE not in FLOWENV_ENVIRONMENTS:
        raise FlowenvException("Run with --environment=conda: python flow.py --environment=conda environment ...")
    if verbose:
        obj.environment.override_settings(debug=True)


def _steps(obj, steps):
    names = [s.name for s in obj.flow]
    order = getattr(obj.flow._graph, "sorted_nodes", None) or names
    names = [n for n in order if n in names]
    unknown = [s for s in steps if s not in names]
    if unknown:
        raise FlowenvException("Unknown step(s) %s: this flow has %s" % (", ".join(unknown), ", ".join(names)))
    return list(steps) or names


def _write_report(path, report):
    from flowenv.atomic import save_text

    with user_errors():
        save_text(path, json.dumps(dict(report, schema=REPORT_SCHEMA), indent=1) + "\n")


def _lock_line(lock, alias):
    return "environment %s%s (Python %s, %s, %d packages)" % (
        lock.full_id[:12], " = " + alias if alias else "", lock.python, lock.platform,
        len(lock.files))


@environment.command(help="Resolve the environments of STEPS (default: all), cache their "
                          "packages in the store and optionally name the result.")
@click.argument("steps", nargs=-1)
@click.option("--alias", "aliases", multiple=True, help="Name the resolved environment, e.g. team/env:v1.")
@click.option("--arch", "arches", multiple=True,
              help="Resolve for this platform (linux-64, linux-aarch64, osx-64, osx-arm64) "
                   "instead of each step's own; repeatable.")
@click.option("--force", is_flag=True, help="Resolve again even if a resolution exists.")
@click.option("--dry-run", is_flag=True, help="Resolve and print, but store nothing and name nothing.")
@click.option("--output", default=None, type=click.Path(),
              help="Also write the result to this file, as JSON.")
@click.pass_obj
def resolve(obj, steps, aliases, arches, force, dry_run, output):
    env = obj.environment
    steps = _steps(obj, steps)
    with user_errors():
        from flowenv.refs import Alias

        for alias in aliases:
            Alias.parse(alias)
        plans = env.plans()
        fixed = [plans[s] for s in steps if not plans[s].disabled and not plans[s].fetch_at_exec]
        jobs = [(plan, arch) for plan in fixed for arch in (arches or [None])]
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(
                lambda job: env.resolve_step(job[0], force, job[1], dry_run), jobs))
    resolved = {}  # step -> platform -> (lock, alias)
    for (plan, _), (lock, alias) in zip(jobs, results):
        resolved.setdefault(plan.step, {})[lock.platform] = (lock, alias)
    report = {"flow": obj.flow.name, "dry_run": dry_run,
              "steps": {s: _step_entry(plans[s], resolved.get(s, {})) for s in steps},
              "named": []}
    for step in steps:
        if step not in resolved:
            obj.echo(_unmanaged_line(plans[step]))
        for lock, alias in resolved.get(step, {}).values():
            obj.echo("  %s: %s" % (step, _lock_line(lock, alias)))
    if aliases and dry_run:
        obj.echo("Dry run: nothing stored, nothing named.")
    elif aliases:
        locks = _one_env_per_platform(resolved)
        with user_errors():
            for alias in aliases:
                changed = env.environments().set_alias(alias, locks, repair=force)
                envs = {l.platform: l.full_id for l in locks}
                report["named"].append({"alias": alias, "changed": changed, "envs": envs})
                obj.echo("%s %s -> %s" % ("Named" if changed else "Unchanged:", alias,
                                          ", ".join(sorted(envs.values()))))
    if output:
        _write_report(output, report)


def _one_env_per_platform(resolved):
    by_platform = {}
    for per_platform in resolved.values():
        for platform, (lock, _) in per_platform.items():
            by_platform.setdefault(platform, {})[lock.full_id] = lock
    clash = {p: locks for p, locks in by_platform.items() if len(locks) > 1}
    if clash or not by_platform:
        raise FlowenvException(
            "--alias names one environment (per platform), but steps %s resolve to %s: pass "
            "the step(s) to name, e.g. environment resolve %s --alias ..."
            % (", ".join(sorted(resolved)) or "(none)",
               "several" if clash else "none (their environments are disabled or fetched "
               "when each task starts)", sorted(resolved)[0] if resolved else "STEP"))
    return [next(iter(locks.values())) for _, locks in sorted(by_platform.items())]


def _step_entry(plan, per_platform):
    entry = {"disabled": plan.disabled, "fetch_at_exec": plan.fetch_at_exec,
             "reference": plan.reference, "environments": {}}
    for platform, (lock, alias) in per_platform.items():
        entry["environments"][platform] = {"alias": alias, "lock": lock.to_dict()}
    return entry


def _unmanaged_line(plan):
    if plan.disabled:
        return "  %s: launching Python (environment disabled)" % plan.step
    return "  %s: %s, looked up when each task starts" % (plan.step, plan.reference)


@environment.command(help="Show, per step of STEPS (default: all), its environment and "
                          "whether it is resolved, cached in the store and created on this "
                          "machine. Only reads: never resolves nor stores anything.")
@click.argument("steps", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--output", default=None, type=click.Path(),
              help="Also write the report to this file, as JSON.")
@click.pass_obj
def show(obj, steps, as_json, output):
    env = obj.environment
    steps = _steps(obj, steps)
    with user_errors():
        plans = env.plans()
        with ThreadPoolExecutor(max_workers=4) as pool:
            status = dict(zip(steps, pool.map(lambda s: _status(env, plans[s]), steps)))
    report = {"flow": obj.flow.name, "steps": status}
    if output:
        _write_report(output, report)
    if as_json:
        click.echo(json.dumps(report, indent=1))
        return
    for step, info in status.items():
        click.echo("%s: %s" % (step, _status_text(info)))
        if info.get("lock"):
            lock = info["lock"]
            click.echo("    environment %s%s (Python %s, %s)" % (
                lock["full_id"], " = " + info["alias"] if info.get("alias") else "",
                lock["python"], lock["platform"]))
            for f in lock["files"]:
                click.echo("        %s==%s" % (f["name"], f["version"]))
        elif info.get("requested"):
            click.echo("    requested: %s" % info["requested"])


def _status(env, plan):
    """What a step's environment is now, from the store and this machine: read only."""
    from flowenv.errors import FlowenvError

    info = {"state": "disabled" if plan.disabled else None, "reference": plan.reference,
            "fetch_at_exec": plan.fetch_at_exec}
    if plan.disabled:
        return info
    envs = env.environments()
    platform = env.platform_for(plan.step)
    info["platform"] = platform
    try:
        alias, base = None, None
        if plan.reference:
            base, alias = env.lock_for_reference(plan, platform, "find")
        if plan.reference and base is None:  # a lock file never taken in
            lock = None
        elif base is not None:
            lock = base if plan.spec is None else envs.find_resolution(
                plan.spec.replace(base=base.full_id), platform)
        else:
            lock = envs.find_resolution(plan.spec, platform)
        if lock is None:
            info.update(state="unresolved", requested=plan.spec.describe() if plan.spec else
                        os.path.basename(plan.lock.path) if plan.lock else plan.reference)
            return info
        missing = envs.missing_files(lock)
    except (FlowenvError, FlowenvException) as exc:
        info.update(state="error", error=str(exc))
        return info
    info.update(state="resolved", alias=alias, lock=lock.to_dict(), cached=not missing,
                missing_files=len(missing), created=envs.created_here(lock) is not None)
    if plan.fetch_at_exec:
        info["state"] = "fetched at execution"  # what the reference points to today
    return info


def _status_text(info):
    state = info["state"]
    if state == "disabled":
        return "launching Python (environment disabled)"
    if state == "error":
        return "cannot tell: %s" % info["error"]
    if state == "unresolved":
        return ("not resolved for %s yet (python flow.py --environment=conda environment "
                "resolve)" % info["platform"])
    parts = ["resolved",
             "cached in the store" if info["cached"] else
             "NOT fully cached in the store (%d files missing)" % info["missing_files"],
             "created here" if info["created"] else "not created here"]
    if state == "fetched at execution":
        parts.insert(0, "%s, looked up when each task starts; today" % info["reference"])
    return ", ".join(parts)

"""`python flow.py --environment=conda environment resolve|show [STEPS]`."""

import json

from metaflow._vendor import click

from .errors import FlowenvException, user_errors


@click.group()
def cli():
    pass


@cli.group(help="Resolve and inspect the environments of this flow's steps.")
@click.pass_obj
def environment(obj):
    from .decorators import FLOWENV_ENVIRONMENTS

    if obj.environment.TYPE not in FLOWENV_ENVIRONMENTS:
        raise FlowenvException("Run with --environment=conda: python flow.py --environment=conda environment ...")


def _steps(obj, steps):
    names = [s.name for s in obj.flow]
    unknown = [s for s in steps if s not in names]
    if unknown:
        raise FlowenvException("Unknown step(s) %s: this flow has %s" % (", ".join(unknown), ", ".join(names)))
    return list(steps) or names


@environment.command(help="Resolve (and cache in the store) the environments of STEPS "
                          "(default: all), optionally naming the result.")
@click.argument("steps", nargs=-1)
@click.option("--alias", "aliases", multiple=True, help="Name the resolved environment, e.g. team/env:v1.")
@click.option("--force", is_flag=True, help="Resolve again even if a resolution exists.")
@click.pass_obj
def resolve(obj, steps, aliases, force):
    env = obj.environment
    steps = _steps(obj, steps)
    resolved = env.resolve_steps(steps, force=force)
    for step in steps:
        obj.echo(env.describe(env.plans()[step]))
    if aliases:
        locks = {lock.full_id: lock for lock, _ in resolved.values()}
        if len(locks) != 1:
            raise FlowenvException(
                "--alias names one environment, but steps %s resolve to %d different ones: "
                "pass the step(s) to name, e.g. environment resolve %s --alias ..."
                % (", ".join(sorted(resolved)), len(locks), sorted(resolved)[0]))
        lock = next(iter(locks.values()))
        with user_errors():
            for alias in aliases:
                changed = env.environments().set_alias(alias, [lock])
                obj.echo("%s %s -> %s" % ("Named" if changed else "Unchanged:", alias, lock.full_id))


@environment.command(help="Show the environment each of STEPS (default: all) uses.")
@click.argument("steps", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show(obj, steps, as_json):
    env = obj.environment
    steps = _steps(obj, steps)
    resolved = env.resolve_steps(steps)
    out = {}
    for step in steps:
        plan = env.plans()[step]
        if step in resolved:
            lock, alias = resolved[step]
            out[step] = {"env_id": lock.full_id, "alias": alias, "python": lock.python,
                         "platform": lock.platform,
                         "packages": ["%s==%s" % (f.name, f.version) for f in lock.files]}
        else:
            out[step] = {"disabled": plan.disabled, "fetch_at_exec": plan.fetch_at_exec,
                         "reference": plan.reference}
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    for step, info in out.items():
        if "env_id" in info:
            click.echo("%s: %s%s (Python %s, %s)" % (step, info["env_id"],
                       " = " + info["alias"] if info["alias"] else "", info["python"], info["platform"]))
            for pkg in info["packages"]:
                click.echo("    " + pkg)
        elif info["disabled"]:
            click.echo("%s: launching Python (environment disabled)" % step)
        else:
            click.echo("%s: %s, looked up when each task starts" % (step, info["reference"]))

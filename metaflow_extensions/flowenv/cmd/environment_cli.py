"""`metaflow environment resolve | alias | show | get | create | list | history | diff |
export | config | gc`: printers over flowenv's Python API (..api.EnvironmentAPI)."""

import json
from contextlib import contextmanager

from metaflow._vendor import click

from ..plugins.errors import FlowenvException


@contextmanager
def user_errors():
    """flowenv's errors end the command with their message and exit code 1, no traceback."""
    from flowenv.errors import FlowenvError

    try:
        yield
    except (FlowenvError, FlowenvException) as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def cli():
    pass


@cli.group(help="Resolve, name, inspect and create flowenv environments.")
@click.option("--datastore", default=None,
              help="Datastore holding the environments (default: Metaflow's configured one).")
@click.option("--quiet", "-q", is_flag=True,
              help="No progress: only results and errors.")
@click.option("--verbose", "-v", is_flag=True,
              help="Debug lines on stderr: every uv and rattler call, store operation and "
                   "lock wait (as FLOWENV_DEBUG=1 or METAFLOW_DEBUG_FLOWENV=1).")
@click.pass_context
def environment(ctx, datastore, quiet, verbose):
    from flowenv.progress import QUIET, Progress

    from ..api import EnvironmentAPI

    # Live on a terminal, plain lines otherwise (CI logs), nothing with --quiet.
    ctx.obj = EnvironmentAPI(datastore, verbose=verbose,
                             progress=Progress(mode=QUIET if quiet else None),
                             warn=lambda message: click.echo("Warning: " + message, err=True))


def _echo_named(named):
    click.echo("%s %s -> %s" % ("Named" if named.changed else "Unchanged:", named.alias,
                                ", ".join("%s (%s)" % (env_id, platform)
                                          for platform, env_id in sorted(named.envs.items()))))


def _print_lock(lock, alias=None):
    click.echo("Environment %s%s: Python %s, %s, %d packages"
               % (lock.full_id, " = " + alias if alias else "", lock.python, lock.platform,
                  len(lock.files)))
    for f in lock.files:
        click.echo("    %s==%s (%s)" % (f.name, f.version, f.kind))


@environment.command(help="Resolve an environment from a requirements.txt (-r), an "
                          "environment.yml (-f) or a pyproject.toml (-p), or take one in as "
                          "a lock file pins it (--lock: uv.lock, pylock.toml, hashed "
                          "requirements, conda-lock.yml, @EXPLICIT); cache its packages in "
                          "the store and optionally name it.")
@click.option("-r", "--requirements", "requirements", type=click.Path(), help="requirements.txt")
@click.option("-f", "--file", "env_file", type=click.Path(), help="environment.yml")
@click.option("-p", "--pyproject", "pyproject", type=click.Path(),
              help="pyproject.toml (with the uv.lock beside it, when there is one)")
@click.option("--lock", "lock_path", type=click.Path(),
              help="A lock file, used as it is: no resolution.")
@click.option("--no-lock", is_flag=True, help="With -p: resolve afresh, ignoring the uv.lock beside it.")
@click.option("--extra", "extras", multiple=True, help="With a lock: an extra to include (repeatable).")
@click.option("--group", "groups", multiple=True,
              help="With a lock: a dependency group (conda-lock: category) to include (repeatable).")
@click.option("--no-default-groups", is_flag=True,
              help="With a lock: leave out its default groups (uv: dev; conda-lock: dev).")
@click.option("--python", default=None, help="Python constraint, e.g. '3.11' or '>=3.10,<3.12'.")
@click.option("--alias", "aliases", multiple=True, help="Name for the result, e.g. team/env:v1 (repeatable).")
@click.option("--arch", "arches", multiple=True,
              help="Target platform (linux-64, linux-aarch64, osx-64, osx-arm64); repeatable: "
                   "the platforms are resolved together, one version of each package for all.")
@click.option("--per-platform", is_flag=True,
              help="With several --arch: resolve each platform on its own (versions may differ).")
@click.option("--using", default=None, help="Extend this environment (alias or id), keeping its pins.")
@click.option("--from", "from_", default=None, help="Re-resolve the requirements of this environment.")
@click.option("--force", is_flag=True, help="Resolve again even if a resolution exists.")
@click.option("--dry-run", is_flag=True, help="Resolve and print, but store nothing and name nothing.")
@click.option("--allow-empty", is_flag=True, help="Resolve an environment with no packages "
                                                   "(Python alone), e.g. from an empty file.")
@click.pass_obj
def resolve(api, requirements, env_file, pyproject, lock_path, no_lock, extras, groups,
            no_default_groups, python, aliases, arches, per_platform, using, from_, force,
            dry_run, allow_empty):
    with user_errors():
        if sum(1 for f in (requirements, env_file, pyproject) if f) > 1:
            raise FlowenvException("Give one of -r, -f or -p, not several")
        result = api.resolve(requirements, env_file, pyproject, python, aliases, arches,
                             using, from_, force, dry_run, lock=lock_path,
                             lock_beside=not no_lock, extras=extras, groups=groups,
                             default_groups=not no_default_groups, allow_empty=allow_empty,
                             per_platform=per_platform)
    if result.lock_file and not lock_path:
        click.echo("Using %s, the lock beside %s (--no-lock resolves %s afresh)"
                   % (result.lock_file, pyproject, pyproject), err=True)
    for lock in result.locks:
        _print_lock(lock)
    for named in result.named:
        _echo_named(named)
    if dry_run:
        click.echo("Dry run: nothing stored, nothing named.", err=True)


@environment.command(help="Name an environment: alias SOURCE ALIAS, or alias --pathspec "
                          "Flow/Run/Step --alias ALIAS. SOURCE is an alias or an environment id.")
@click.argument("args", nargs=-1)
@click.option("--pathspec", default=None, help="Use the environment this past step ran in.")
@click.option("--alias", "aliases", multiple=True, help="Name to set (repeatable).")
@click.option("--restore", is_flag=True, help="Move a mutable ALIAS back to where it pointed before its last move.")
@click.option("--force", is_flag=True, help="Rewrite an alias record that is damaged.")
@click.pass_obj
def alias(api, args, pathspec, aliases, restore, force):
    with user_errors():
        if restore:
            targets = list(args) + list(aliases)
            if len(targets) != 1:
                raise FlowenvException("--restore takes one alias: metaflow environment alias --restore team/env:latest")
            named = api.restore(targets[0])
            click.echo("Restored %s -> %s" % (named.alias, ", ".join(named.envs.values())))
            return
        args = list(args)
        source = None if pathspec else (args.pop(0) if args else None)
        if not pathspec and source is None:
            raise FlowenvException("Give a source: alias SOURCE ALIAS, or --pathspec Flow/Run/Step --alias ALIAS")
        names = args + list(aliases)
        if not names:
            raise FlowenvException("Give the alias to set, e.g. --alias team/env:v1")
        for named in api.alias(source, names, pathspec=pathspec, force=force):
            _echo_named(named)


@environment.command(help="Show an environment (alias or id) or the one a past step used.")
@click.argument("env", required=False)
@click.option("--pathspec", default=None, help="Flow/Run/Step of a past step.")
@click.option("--json", "as_json", is_flag=True, help="Print the full record as JSON.")
@click.pass_obj
def show(api, env, pathspec, as_json):
    with user_errors():
        locks = api.show(env, pathspec)
    if as_json:
        click.echo(json.dumps([l.to_dict() for l in locks.values()], indent=1))
        return
    for lock in locks.values():
        _print_lock(lock, env if env and env != lock.full_id else None)
        if lock.spec:
            click.echo("    requested: %s" % ", ".join(
                lock.spec.get("conda", []) + lock.spec.get("pypi", [])))


@environment.command(help="Create an environment on this machine (in flowenv's cache, or "
                          "--into-dir DIR) and print its path. With --pathspec Flow/Run/Step, "
                          "the environment that step ran in, and with --into-dir its code too, "
                          "plus DIR/activate. --install-notebook also makes it a Jupyter "
                          "kernel (ipykernel is added when the environment lacks it).")
@click.argument("env", required=False)
@click.option("--pathspec", default=None, help="Flow/Run/Step of a past step.")
@click.option("--into-dir", default=None, type=click.Path(),
              help="Create it in this folder (with --pathspec: the step's code here, the "
                   "environment in DIR/.venv).")
@click.option("--name", default=None, help="Kernel name with --install-notebook, else a folder "
                                           "name under the current directory.")
@click.option("--install-notebook", is_flag=True, help="Register it as a Jupyter kernel.")
@click.option("--force", is_flag=True, help="Replace a flowenv environment already in the "
                                            "folder (a folder flowenv did not make is never "
                                            "touched).")
@click.pass_obj
def create(api, env, pathspec, into_dir, name, install_notebook, force):
    with user_errors():
        folder = into_dir or (name if not (install_notebook or pathspec) else None)
        created = api.create_env(env, folder, force, pathspec=pathspec, kernel=install_notebook)
        if created.kernel_added:
            click.echo("The environment has no ipykernel: using %s, which adds it"
                       % created.lock.full_id, err=True)
        if created.activate is not None:
            if not created.has_code:
                click.echo("%s stored no code package (it ran locally; set "
                           "METAFLOW_FEAT_ALWAYS_UPLOAD_CODE_PACKAGE=1 to keep the code of "
                           "local runs): only its environment is in %s"
                           % (pathspec, created.prefix), err=True)
            click.echo("Activate it with: . %s" % created.activate, err=True)
        click.echo(str(created.prefix))
        if install_notebook:
            from flowenv.notebook import install_kernel

            click.echo("Jupyter kernel: %s" % install_kernel(
                created.prefix, name or env or pathspec, api.settings.environ,
                created.variables))


@environment.command(help="Fetch an environment to this machine's cache; prints its path.")
@click.argument("env")
@click.pass_obj
def get(api, env):
    with user_errors():
        click.echo(str(api.get(env)))


@environment.command(name="list", help="List named environments, optionally under a prefix such as team/.")
@click.argument("prefix", required=False, default="")
@click.pass_obj
def list_(api, prefix):
    with user_errors():
        listing = api.list(prefix)
        for error in listing.damaged:
            click.echo("warning: %s" % error, err=True)
        if not listing.records and not listing.damaged:
            click.echo("No named environments%s in %s" % (" under " + prefix if prefix else "",
                                                          api.store_url), err=True)
    for record in listing.records:
        last = record.moves[-1] if record.history else None
        click.echo("%-40s %s  %s by %s" % (record.alias, " ".join(
            "%s:%s" % (p, f[:12]) for p, f in sorted(record.envs.items())),
            last.at if last else "?", last.by if last else "?"))


@environment.command(help="Show who moved an alias, when, and from where to where.")
@click.argument("alias")
@click.pass_obj
def history(api, alias):
    with user_errors():
        moves = api.history(alias)
    for move in moves:
        click.echo("%s  %-12s %s -> %s" % (
            move.at, move.by, ",".join(v[:12] for v in (move.previous or {}).values()) or "(new)",
            ",".join(v[:12] for v in move.envs.values())))


@environment.command(help="Compare two environments: packages added, removed and "
                          "changed. Each side is an alias, an environment id, or a lock file "
                          "(uv.lock, pylock.toml, conda-lock.yml, ...), read without storing.")
@click.argument("old")
@click.argument("new")
@click.option("--arch", default=None, help="Platform (default: this machine's).")
@click.pass_obj
def diff(api, old, new, arch):
    with user_errors():
        changes = api.diff(old, new, arch)
    for line in changes.lines():
        click.echo(line)
    if changes.is_empty:
        click.echo("No differences (%s, %s)" % (changes.old_id, changes.new_id), err=True)


@environment.command(help="Export an environment as a PEP 751 pylock.toml, a pinned "
                          "requirements.txt, a conda @EXPLICIT list, or a conda-lock.yml "
                          "(conda and PyPI packages, every platform of an alias).")
@click.argument("env")
@click.option("--format", "fmt", type=click.Choice(["pylock", "requirements", "explicit",
                                                    "conda-lock"]),
              default="requirements")
@click.option("--arch", default=None,
              help="Platform (default: this machine's; conda-lock: every platform of the alias).")
@click.option("-o", "--output", default=None, type=click.Path(), help="Write to this file (default: stdout).")
@click.pass_obj
def export(api, env, fmt, arch, output):
    with user_errors():
        text = api.export(env, fmt, arch)
        if output:
            from flowenv.atomic import save_text

            save_text(output, text)
    if not output:
        click.echo(text, nl=False)


@environment.command(help="Show every flowenv setting: its effective value and where it "
                          "came from (the environment, the Metaflow profile, or the default).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with what each setting does).")
@click.pass_obj
def config(api, as_json):
    with user_errors():
        rows = api.config()
        store = api.store_url
    if as_json:
        click.echo(json.dumps({"store": store, "settings": [
            {"name": r.name, "value": r.value, "source": r.source, "help": r.help}
            for r in rows]}, indent=1))
        return
    name_width = max(len(r.name) for r in rows)
    value_width = min(48, max(len(r.value) for r in rows))
    for row in rows:
        click.echo("%-*s  %-*s  %s" % (name_width, row.name, value_width, row.value, row.source))
    click.echo("Store: %s" % store)


@environment.command(help="Remove environments, cached package files and extracted code "
                          "not used for --older-than DAYS from this machine's cache, never "
                          "one in use; prints what it frees.")
@click.option("--older-than", "days", type=float, default=None, metavar="DAYS",
              help="Unused for this many days (default: 30).")
@click.option("--dry-run", is_flag=True, help="Print what would be removed; remove nothing.")
@click.pass_obj
def gc(api, days, dry_run):
    from flowenv.debuglog import size

    from ..api import DEFAULT_GC_DAYS

    with user_errors():
        report = api.gc(DEFAULT_GC_DAYS if days is None else days, dry_run)
    verb = "Would remove" if dry_run else "Removed"
    for entry in report.removed:
        shared = entry.size - entry.own_size
        click.echo("%s %s %s (%s%s, unused for %.0f days)" % (
            verb, entry.kind, entry.path, size(entry.own_size),
            "; %s more is hard-linked from uv's or rattler's package cache" % size(shared)
            if shared > 0 else "", entry.idle_days))
    for entry in report.in_use:
        click.echo("In use, kept: %s %s" % (entry.kind, entry.path))
    for text in report.skipped:
        click.echo("Skipped %s" % text, err=True)
    for text in report.failed:
        click.echo("Could not remove %s" % text, err=True)
    click.echo("%s %s in %d entries (%d in use, %d used recently, kept)" % (
        "Would free" if dry_run else "Freed", size(report.freed), len(report.removed),
        len(report.in_use), report.recent))

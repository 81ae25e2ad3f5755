"""`metaflow environment resolve | alias | show | get | create | list | history | export`."""

import json

from metaflow._vendor import click

from contextlib import contextmanager

from ..plugins.errors import FlowenvException


@contextmanager
def user_errors():
    """flowenv's errors end the command with their message and exit code 1, no traceback."""
    from flowenv.errors import FlowenvError

    try:
        yield
    except (FlowenvError, FlowenvException) as exc:
        raise click.ClickException(str(exc)) from None


class _Context:
    def __init__(self, datastore, quiet=False):
        self.datastore = datastore
        self.quiet = quiet
        self._envs = None

    @property
    def envs(self):
        if self._envs is None:
            from flowenv.progress import QUIET, Progress

            from ..plugins.store_location import open_environments

            # Live on a terminal, plain lines otherwise (CI logs), nothing with --quiet.
            progress = Progress(mode=QUIET if self.quiet else None)
            self._envs = open_environments(self.datastore, lambda *a, **k: None, progress)
        return self._envs


@click.group()
def cli():
    pass


@cli.group(help="Resolve, name, inspect and create flowenv environments.")
@click.option("--datastore", default=None,
              help="Datastore holding the environments (default: Metaflow's configured one).")
@click.option("--quiet", "-q", is_flag=True,
              help="No progress: only results and errors.")
@click.pass_context
def environment(ctx, datastore, quiet):
    from metaflow.metaflow_config import DEFAULT_DATASTORE

    ctx.obj = _Context(datastore or DEFAULT_DATASTORE, quiet)


def _echo(message):
    click.echo(message, err=True)


def _spec_from_files(requirements, env_file, pyproject, python, environ):
    from flowenv.parsers import parse_file
    from flowenv.spec import Spec

    given = [(f, kind) for f, kind in ((requirements, "requirements"), (env_file, "environment"),
                                       (pyproject, "pyproject")) if f]
    if len(given) > 1:
        raise FlowenvException("Give one of -r, -f or -p, not several")
    if given:
        path, kind = given[0]
        return parse_file(path, kind, python=python, environ=environ,
                          warn=lambda message: _echo("Warning: " + message))
    return Spec(python=python, origin="command line")


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
@click.option("--arch", "arches", multiple=True, help="Target platform (linux-64, linux-aarch64, osx-64, osx-arm64); repeatable.")
@click.option("--using", default=None, help="Extend this environment (alias or id), keeping its pins.")
@click.option("--from", "from_", default=None, help="Re-resolve the requirements of this environment.")
@click.option("--force", is_flag=True, help="Resolve again even if a resolution exists.")
@click.option("--dry-run", is_flag=True, help="Resolve and print, but store nothing and name nothing.")
@click.option("--allow-empty", is_flag=True, help="Resolve an environment with no packages "
                                                   "(Python alone), e.g. from an empty file.")
@click.pass_obj
def resolve(obj, requirements, env_file, pyproject, lock_path, no_lock, extras, groups,
            no_default_groups, python, aliases, arches, using, from_, force, dry_run,
            allow_empty):
    from flowenv.errors import SpecError
    from flowenv.spec import Spec

    with user_errors():
        for alias in aliases:
            from flowenv.refs import Alias

            Alias.parse(alias)
        envs = obj.envs
        lock_file = _lock_file_given(envs, lock_path, pyproject, no_lock, extras, groups,
                                     no_default_groups, (requirements, env_file, from_, using))
        if lock_file is not None:
            held = lock_file.platforms()
            platforms = list(arches) or list(held or [None])
            if dry_run:
                for platform in platforms:
                    _print_lock(envs.lock_from_file(lock_file, platform, python), None)
                return
            locks = [envs.import_lock(lock_file, platform, python, force=force)
                     for platform in platforms]
            _print_and_name(envs, locks, aliases, force)
            return
        if from_:
            source = envs.lookup_all(from_)
            spec = Spec.from_identity(next(iter(source.values())).spec, origin=from_)
            if python:
                spec = spec.replace(python=python)
        else:
            spec = _spec_from_files(requirements, env_file, pyproject, python,
                                    envs.settings.environ)
        if using:
            base = envs.lookup(using)
            spec = spec.replace(base=base.full_id)
        if spec.is_empty and not (allow_empty or from_):
            if requirements or env_file or pyproject:
                raise SpecError("it asks for no packages, so it would name an empty environment",
                                file=requirements or env_file or pyproject,
                                hint="Add requirements, or pass --allow-empty to resolve an "
                                     "environment with Python alone.")
            raise SpecError("nothing to resolve", hint="Give -r requirements.txt, -f "
                            "environment.yml, -p pyproject.toml, --lock FILE, --from ALIAS or "
                            "--using ALIAS (or --allow-empty for Python alone).")
        platforms = list(arches) or [None]
        if dry_run:
            for platform in platforms:
                lock = envs.solve_only(spec, platform)
                _print_lock(lock, None)
            return
        locks = [envs.resolve(spec, platform, force=force) for platform in platforms]
        _print_and_name(envs, locks, aliases, force)


def _lock_file_given(envs, lock_path, pyproject, no_lock, extras, groups, no_default_groups,
                     others):
    """The lock file to take in: --lock, or the uv.lock beside -p pyproject.toml (said
    so); None to resolve."""
    from flowenv.lockfiles import lock_beside, read_lock_file

    if lock_path and (pyproject or any(others)):
        raise FlowenvException("--lock takes the environment as the lock file pins it: give "
                               "it alone, without -r, -f, -p, --from or --using")
    if not lock_path and pyproject and not no_lock and not any(others):
        lock_path = lock_beside(pyproject)
        if lock_path:
            _echo("Using %s, the lock beside %s (--no-lock resolves %s afresh)"
                  % (lock_path, pyproject, pyproject))
    if not lock_path:
        if extras or groups or no_default_groups:
            raise FlowenvException("--extra, --group and --no-default-groups select parts of "
                                   "a lock file: give one with --lock")
        return None
    return read_lock_file(lock_path, extras=extras, groups=groups,
                          default_groups=not no_default_groups,
                          environ=envs.settings.environ)


def _print_and_name(envs, locks, aliases, force):
    for lock in locks:
        _print_lock(lock, None)
    for alias in aliases:
        changed = envs.set_alias(alias, locks, repair=force)
        click.echo("%s %s -> %s" % ("Named" if changed else "Unchanged:", alias,
                                    ", ".join("%s (%s)" % (l.full_id, l.platform) for l in locks)))


def _print_lock(lock, alias):
    click.echo("Environment %s%s: Python %s, %s, %d packages"
               % (lock.full_id, " = " + alias if alias else "", lock.python, lock.platform, len(lock.files)))
    for f in lock.files:
        click.echo("    %s==%s (%s)" % (f.name, f.version, f.kind))


def _source_lock(obj, source, pathspec):
    from flowenv import expand_vars

    if bool(source) == bool(pathspec):
        raise FlowenvException("Give an environment (alias or id) or --pathspec Flow/Run/Step, not both")
    environ = obj.envs.settings.environ
    if pathspec:
        from ..plugins.task_metadata import env_id_of_pathspec

        pathspec = expand_vars(pathspec, "--pathspec", environ)
        return obj.envs.lookup(env_id_of_pathspec(pathspec, "--pathspec")), pathspec
    return None, expand_vars(source, "environment", environ)


@environment.command(help="Name an environment: alias SOURCE ALIAS, or alias --pathspec "
                          "Flow/Run/Step --alias ALIAS. SOURCE is an alias or an environment id.")
@click.argument("args", nargs=-1)
@click.option("--pathspec", default=None, help="Use the environment this past step ran in.")
@click.option("--alias", "aliases", multiple=True, help="Name to set (repeatable).")
@click.option("--restore", is_flag=True, help="Move a mutable ALIAS back to where it pointed before its last move.")
@click.option("--force", is_flag=True, help="Rewrite an alias record that is damaged.")
@click.pass_obj
def alias(obj, args, pathspec, aliases, restore, force):
    with user_errors():
        envs = obj.envs
        if restore:
            targets = list(args) + list(aliases)
            if len(targets) != 1:
                raise FlowenvException("--restore takes one alias: metaflow environment alias --restore team/env:latest")
            entry = envs.restore_alias(targets[0])
            click.echo("Restored %s -> %s" % (targets[0], ", ".join(entry.values())))
            return
        args = list(args)
        source = None
        if not pathspec:
            if not args:
                raise FlowenvException("Give a source: alias SOURCE ALIAS, or --pathspec Flow/Run/Step --alias ALIAS")
            source = args.pop(0)
        names = args + list(aliases)
        if not names:
            raise FlowenvException("Give the alias to set, e.g. --alias team/env:v1")
        lock, label = _source_lock(obj, source, pathspec)
        locks = [lock] if lock is not None else list(envs.lookup_all(label).values())
        for name in names:
            changed = envs.set_alias(name, locks, repair=force)
            click.echo("%s %s -> %s" % ("Named" if changed else "Unchanged:", name,
                                        ", ".join(l.full_id for l in locks)))


@environment.command(help="Show an environment (alias or id) or the one a past step used.")
@click.argument("env", required=False)
@click.option("--pathspec", default=None, help="Flow/Run/Step of a past step.")
@click.option("--json", "as_json", is_flag=True, help="Print the full record as JSON.")
@click.pass_obj
def show(obj, env, pathspec, as_json):
    with user_errors():
        lock, label = _source_lock(obj, env, pathspec)
        locks = [lock] if lock is not None else list(obj.envs.lookup_all(label).values())
        if as_json:
            click.echo(json.dumps([l.to_dict() for l in locks], indent=1))
            return
        for lock in locks:
            _print_lock(lock, label if lock is None or label != lock.full_id else None)
            if lock.spec:
                click.echo("    requested: %s" % ", ".join(
                    lock.spec.get("conda", []) + lock.spec.get("pypi", [])))


@environment.command(help="Create an environment on this machine (in flowenv's cache, or "
                          "--into-dir DIR) and print its path; --install-notebook also makes "
                          "it a Jupyter kernel.")
@click.argument("env")
@click.option("--into-dir", default=None, type=click.Path(), help="Create it in this folder.")
@click.option("--name", default=None, help="Kernel name with --install-notebook, else a folder "
                                           "name under the current directory.")
@click.option("--install-notebook", is_flag=True, help="Register it as a Jupyter kernel "
                                                        "(the env needs ipykernel).")
@click.option("--force", is_flag=True, help="Replace a flowenv environment already in the "
                                            "folder (a folder flowenv did not make is never "
                                            "touched).")
@click.pass_obj
def create(obj, env, into_dir, name, install_notebook, force):
    from pathlib import Path

    with user_errors():
        lock = obj.envs.lookup(env)
        folder = into_dir or (name if not install_notebook else None)
        prefix = obj.envs.create(lock, Path(folder).resolve() if folder else None, replace=force)
        click.echo(str(prefix))
        if install_notebook:
            from flowenv.notebook import install_kernel

            click.echo("Jupyter kernel: %s" % install_kernel(prefix, name or env,
                                                              obj.envs.settings.environ))


@environment.command(help="Fetch an environment to this machine's cache; prints its path.")
@click.argument("env")
@click.pass_obj
def get(obj, env):
    with user_errors():
        click.echo(str(obj.envs.create(obj.envs.lookup(env))))


@environment.command(name="list", help="List named environments, optionally under a prefix such as team/.")
@click.argument("prefix", required=False, default="")
@click.pass_obj
def list_(obj, prefix):
    with user_errors():
        records, damaged = obj.envs.aliases(prefix)
        for error in damaged:
            click.echo("warning: %s" % error, err=True)
        if not records and not damaged:
            click.echo("No named environments%s in %s" % (" under " + prefix if prefix else "",
                                                          obj.envs.store.url), err=True)
        for record in records:
            last = record.history[-1] if record.history else {}
            click.echo("%-40s %s  %s by %s" % (record.alias, " ".join(
                "%s:%s" % (p, f[:12]) for p, f in sorted(record.envs.items())),
                last.get("at", "?"), last.get("by", "?")))


@environment.command(help="Show who moved an alias, when, and from where to where.")
@click.argument("alias")
@click.pass_obj
def history(obj, alias):
    with user_errors():
        record = obj.envs.alias_record(alias)
        for entry in record.history:
            prev = entry.get("previous") or {}
            click.echo("%s  %-12s %s -> %s" % (
                entry["at"], entry["by"],
                ",".join(v[:12] for v in prev.values()) or "(new)",
                ",".join(v[:12] for v in entry["envs"].values())))


@environment.command(help="Compare two environments: packages added, removed and "
                          "changed. Each side is an alias, an environment id, or a lock file "
                          "(uv.lock, pylock.toml, conda-lock.yml, ...), read without storing.")
@click.argument("old")
@click.argument("new")
@click.option("--arch", default=None, help="Platform (default: this machine's).")
@click.pass_obj
def diff(obj, old, new, arch):
    with user_errors():
        before, after = (_lock_or_env(obj.envs, ref, arch) for ref in (old, new))
    pins = [{f.name: "%s (%s)" % (f.version, f.kind) for f in lock.files} for lock in (before, after)]
    if before.python != after.python:
        click.echo("~ python %s -> %s" % (before.python, after.python))
    for name in sorted(set(pins[0]) | set(pins[1])):
        a, b = pins[0].get(name), pins[1].get(name)
        if a == b:
            continue
        click.echo("- %s %s" % (name, a) if b is None else
                   "+ %s %s" % (name, b) if a is None else "~ %s %s -> %s" % (name, a, b))


def _lock_or_env(envs, ref, arch):
    """A lock file's pins (an existing file), else the environment an alias or id names."""
    import os

    if os.path.isfile(ref):
        from flowenv.lockfiles import read_lock_file

        return envs.lock_from_file(read_lock_file(ref, environ=envs.settings.environ), arch)
    return envs.lookup(ref, arch)


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
def export(obj, env, fmt, arch, output):
    from flowenv import exporters

    with user_errors():
        if fmt == "conda-lock" and not arch:
            locks = list(obj.envs.lookup_all(env).values())
        else:
            locks = [obj.envs.lookup(env, arch)]
        text = exporters.export(locks, fmt, md5_of=lambda f: _md5(obj.envs, f))
        if output:
            from flowenv.atomic import os_error, write_text

            try:
                write_text(output, text)
            except OSError as exc:
                raise os_error(exc, "write", output) from exc
    if not output:
        click.echo(text, nl=False)


def _md5(envs, file):
    """The md5 of a locked file, from its verified local copy (records written before
    flowenv kept conda md5s lack it)."""
    import hashlib

    (path,) = envs.local_copies([file])
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()

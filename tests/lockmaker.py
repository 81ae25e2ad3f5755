"""Lock files written by the real tools, at test time, from the local wheel index and
conda channel:

- uv.lock: `uv lock` itself, against an HTTP index (tests/httpindex.py), so that it records
  URLs and sha256s as it does for any real index;
- pylock.toml: `uv pip compile --format pylock.toml` and pip's own `pip lock`;
- hashed requirements: `uv pip compile --generate-hashes`;
- conda-lock.yml: conda-lock cannot solve here (it downloads a conda binary first), so the
  solve is py-rattler's and the file is written by conda-lock's own models and writer
  (`conda_lock.lockfile.write_conda_lock_file`), the format's reference implementation;
- @EXPLICIT: `conda-lock render --kind explicit` of such a file (md5 hashes, as it writes).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Iterable, Sequence, Tuple

UV = str(Path(sys.executable).with_name("uv"))


def _uv_env(cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("UV_", "PIP_")) and k != "VIRTUAL_ENV"}
    env.update(UV_CACHE_DIR=str(cache), UV_NO_CONFIG="1", PIP_CONFIG_FILE=os.devnull)
    return env


def run(args: Sequence, cwd: Path, env: dict) -> str:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, "%s failed:\n%s\n%s" % (args, proc.stdout, proc.stderr)
    return proc.stdout


def uv_project(folder: Path, dependencies: Sequence[str], python: str = None,
               extras: Dict[str, Sequence[str]] = None, groups: Dict[str, Sequence[str]] = None
               ) -> Path:
    """A uv project: pyproject.toml (and .python-version)."""
    folder.mkdir(parents=True, exist_ok=True)

    def toml_list(items):
        return "[%s]" % ", ".join('"%s"' % i for i in items)

    text = textwrap.dedent('''\
        [project]
        name = "lockproj"
        version = "0.1.0"
        requires-python = ">=3.8"
        dependencies = %s
        ''') % toml_list(dependencies)
    if extras:
        text += "\n[project.optional-dependencies]\n" + "".join(
            "%s = %s\n" % (k, toml_list(v)) for k, v in extras.items())
    if groups:
        text += "\n[dependency-groups]\n" + "".join(
            "%s = %s\n" % (k, toml_list(v)) for k, v in groups.items())
    (folder / "pyproject.toml").write_text(text)
    if python:
        (folder / ".python-version").write_text(python + "\n")
    return folder


def uv_lock(project: Path, index_url: str, cache: Path) -> Path:
    """`uv lock` of a project against an index (its URLs and hashes go in the lock)."""
    run([UV, "lock", "--no-python-downloads", "--default-index", index_url], project,
        _uv_env(cache))
    return project / "uv.lock"


def uv_compile(requirements: Iterable[str], out: Path, index_url: str, cache: Path,
               fmt: str = "pylock.toml", python: str = None) -> Path:
    """`uv pip compile` to a pylock.toml or a hashed requirements.txt."""
    source = out.with_name(out.name + ".in")
    source.write_text("\n".join(requirements) + "\n")
    args = [UV, "pip", "compile", source, "-o", out, "--no-python-downloads",
            "--default-index", index_url]
    args += ["--format", "pylock.toml"] if fmt == "pylock.toml" else ["--generate-hashes"]
    if python:
        args += ["--python-version", python]
    run(args, out.parent, _uv_env(cache))
    return out


def pip_lock(requirements: Iterable[str], out: Path, find_links: Path) -> Path:
    """pip's own `pip lock` (pip >= 25.1), offline from a folder of wheels."""
    run([sys.executable, "-m", "pip", "lock", "--no-index", "--find-links", find_links,
         "-o", out, *requirements], out.parent, _uv_env(out.parent / ".uv-cache"))
    return out


def solve_conda(channel: str, specs: Sequence[str], platform: str):
    """py-rattler's solution (RepoDataRecords) for specs on platform."""
    import rattler

    from flowenv.conda.virtual_packages import virtual_packages

    async def solve():
        return await rattler.solve([channel], specs, platforms=[platform, "noarch"],
                                   virtual_packages=virtual_packages(platform))

    return asyncio.run(solve())


def conda_lock_file(out: Path, channel: str, solutions: Dict[str, list],
                    wheels: Dict[str, Sequence[Tuple[str, str, str, str]]] = None,
                    dev: Dict[str, list] = None) -> Path:
    """A conda-lock.yml written by conda-lock's own writer: solutions are platform ->
    rattler records (category main), wheels platform -> (name, version, url, sha256) pip
    entries, dev platform -> records in category dev."""
    from conda_lock.lockfile import write_conda_lock_file
    from conda_lock.lockfile.v2prelim.models import LockedDependency, Lockfile
    from conda_lock.lockfile.v1.models import HashModel, LockMeta

    packages = []
    for category, by_platform in (("main", solutions), ("dev", dev or {})):
        for platform, records in by_platform.items():
            for r in records:
                packages.append(LockedDependency(
                    name=r.name.normalized, version=str(r.version), manager="conda",
                    platform=platform, url=r.url, build=str(r.build),
                    dependencies={d.split(" ", 1)[0]: (d.split(" ", 1) + [""])[1]
                                  for d in r.depends},
                    hash=HashModel(md5=r.md5.hex(), sha256=r.sha256.hex()),
                    categories={category}))
    for platform, entries in (wheels or {}).items():
        for name, version, url, sha256 in entries:
            packages.append(LockedDependency(
                name=name, version=version, manager="pip", platform=platform, url=url,
                hash=HashModel(sha256=sha256), categories={"main"}))
    lockfile = Lockfile(package=packages, metadata=LockMeta(
        content_hash={p: "test" for p in solutions}, channels=[channel],
        platforms=sorted(solutions), sources=["environment.yml"]))
    write_conda_lock_file(lockfile, out, metadata_choices=set())
    return out


def render_explicit(conda_lock: Path, platform: str) -> Path:
    """`conda-lock render --kind explicit` (the real command; it runs offline)."""
    run([sys.executable, "-m", "conda_lock", "render", "--kind", "explicit", "-p", platform,
         "--filename-template", "explicit-{platform}.txt", conda_lock], conda_lock.parent,
        dict(os.environ))
    return conda_lock.parent / ("explicit-%s.txt" % platform)

"""A catalogue of bad input, each tried as a careless or hostile user would: files,
options, decorators, settings, damaged and hostile store records, and conditions of the
operating system. For every case: a non-zero exit, no traceback, a message naming the
culprit, nothing written to the store, none of the user's files changed, no temporary
file left anywhere.

Commands of `metaflow environment` run in-process (click's test runner over the real
command group), which is fast and shows the same exit code and message; decorator cases
run a real flow; conditions of the operating system (read-only or full store and cache)
run the command in a mount namespace of its own (`unshare -rm`), with a tmpfs or a
read-only bind mount, and are skipped where unprivileged namespaces are not allowed.
"""

import hashlib
import json
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

import pytest

from tests.flows.conftest import flow_env

TEMP_PREFIX = ".flowenv-tmp-"
GOOD = "team/good:v1"


@dataclass(frozen=True)
class Case:
    id: str
    argv: Tuple[str, ...]  # `metaflow environment ARGV`, or for flows `flow.py ARGV`
    culprit: Tuple[str, ...]  # what the message must name
    files: Dict[str, object] = field(default_factory=dict)  # name -> text or bytes
    env: Dict[str, str] = field(default_factory=dict)
    setup: Optional[Callable] = None  # (World) -> None, before the command
    kind: str = "cli"  # cli (in-process), flow (a real flow), os (in a mount namespace)
    os_setup: Tuple = ()  # for kind os: what to mount


@dataclass
class World:
    """One case's folder: a copy of the pristine store, an empty cache, the case's files."""

    folder: Path
    store: Path  # the store root (FLOWENV_STORE)
    cache: Path
    full_id: str
    blob: Path  # the one package blob of the good environment

    def record(self) -> Path:
        return self.store / "v1" / "envs" / (self.full_id + ".json")

    def alias(self) -> Path:
        return self.store / "v1" / "aliases" / "team" / "good" / "v1.json"


# -- store damage ------------------------------------------------------------------------


def truncate(path: Path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def rewrite(path: Path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _file0(**fields):
    return lambda w: rewrite(w.record(), lambda d: d["files"][0].update(fields))


def _recomputed_hostile(w: World):
    def change(d):
        d["files"][0]["filename"] = "../../../../x.whl"
        content = ["schema=%d" % d["schema"], d["platform"],
                   "python=" + ".".join(d["python"].split(".")[:2])]
        content += sorted("%s:%s:%s" % (f["kind"], f["sha256"], f["filename"])
                          for f in d["files"])
        d["full_id"] = hashlib.sha256("\n".join(content).encode()).hexdigest()[:32]

    rewrite(w.record(), change)


def _alias_to(**fields):
    return lambda w: rewrite(w.alias(), lambda d: d.update(fields))


def _user_folder(w: World):
    (w.folder / "mine").mkdir()
    (w.folder / "mine" / "notes.txt").write_text("precious")


def _tamper_blob(w: World):
    data = bytearray(w.blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    w.blob.write_bytes(bytes(data))


REQ = {"req.txt": "alpha==1.0.0\n"}
NEW = {"new.txt": "gamma==0.3.0\n"}  # not in the pristine store: resolving it must write


def _flow(decorators: str, imports="named_env, named_env_base, pypi, pypi_base, conda"):
    return {"flow.py": '''
from metaflow import FlowSpec, step, %s

%s
class BadFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @named_env(disabled=True)  # nothing to resolve but the case's step
    @step
    def end(self):
        pass

if __name__ == "__main__":
    BadFlow()
''' % (imports, decorators)}


def _on_start(decorator: str):
    """A flow whose start step carries decorator."""
    source = _flow("")["flow.py"].replace("    @step\n    def start", "    %s\n    @step\n    def start" % decorator)
    return {"flow.py": source}


CASES = [
    # -- requirement files ------------------------------------------------------------------
    Case("file-missing", ("resolve", "-r", "nope.txt"), ("nope.txt", "does not exist")),
    Case("file-is-a-folder", ("resolve", "-r", "adir"), ("adir", "folder"),
         files={"adir/inside.txt": "alpha\n"}),
    Case("file-is-a-device", ("resolve", "-r", "/dev/zero"), ("/dev/zero", "not a regular file")),
    Case("file-binary", ("resolve", "-r", "bin.txt"), ("bin.txt", "binary"),
         files={"bin.txt": b"alpha\x00\x01\x02\n"}),
    Case("file-not-utf8", ("resolve", "-r", "latin.txt"), ("latin.txt", "UTF-8"),
         files={"latin.txt": "caf\xe9==1.0\n".encode("latin-1")}),
    Case("file-too-large", ("resolve", "-r", "huge.txt"), ("huge.txt", "MB"),
         files={"huge.txt": b"# padding\n" * (900 * 1024)}),
    Case("file-empty", ("resolve", "-r", "empty.txt"), ("empty.txt", "--allow-empty"),
         files={"empty.txt": ""}),
    Case("file-only-comments", ("resolve", "-r", "c.txt", "--alias", "team/x:v1"),
         ("c.txt", "no packages"), files={"c.txt": "# nothing yet\n\n--pre\n"}),
    Case("requirement-malformed", ("resolve", "-r", "req.txt"), ("req.txt, line 2",),
         files={"req.txt": "alpha\nnot a requirement!\n"}),
    Case("requirement-folder-not-a-project", ("resolve", "-r", "req.txt"),
         ("req.txt", "./libs", "not a Python project"),
         files={"req.txt": "-e ./libs\n", "libs/README": "no project here\n"}),
    Case("requirement-folder-missing", ("resolve", "-r", "req.txt"),
         ("req.txt", "./libs/gone", "does not exist"), files={"req.txt": "./libs/gone\n"}),
    Case("requirement-option-unknown", ("resolve", "-r", "req.txt"), ("--use-feature",),
         files={"req.txt": "--use-feature=fast-deps\nalpha\n"}),
    Case("include-missing", ("resolve", "-r", "req.txt"), ("other.txt", "does not exist"),
         files={"req.txt": "alpha\n-r other.txt\n"}),
    Case("variable-unset", ("resolve", "-r", "req.txt"), ("NO_SUCH_VARIABLE", "line 1"),
         files={"req.txt": "alpha==${NO_SUCH_VARIABLE}\n"}),
    Case("package-unknown", ("resolve", "-r", "req.txt"), ("nosuchpkg",),
         files={"req.txt": "nosuchpkg\n"}),
    Case("pins-conflict", ("resolve", "-r", "req.txt"), ("alpha",),
         files={"req.txt": "alpha==1.0.0\nbeta==1.5.0\n"}),
    Case("yml-not-yaml", ("resolve", "-f", "env.yml"), ("env.yml",),
         files={"env.yml": "dependencies: [alpha\n  - : :\n"}),
    Case("yml-dependencies-a-string", ("resolve", "-f", "env.yml"), ("env.yml", "dependencies"),
         files={"env.yml": "dependencies: numpy\n"}),
    Case("yml-python-twice", ("resolve", "-f", "env.yml"), ("env.yml", "python"),
         files={"env.yml": "dependencies:\n  - python=3.11\n  - python=3.12\n"}),
    Case("yml-a-list", ("resolve", "-f", "env.yml"), ("env.yml",),
         files={"env.yml": "- numpy\n- pandas\n"}),
    Case("toml-invalid", ("resolve", "-p", "pyproject.toml"), ("pyproject.toml", "TOML"),
         files={"pyproject.toml": "[project\nname = 1\n"}),
    Case("toml-dependencies-a-string", ("resolve", "-p", "pyproject.toml"),
         ("pyproject.toml", "dependencies"),
         files={"pyproject.toml": '[project]\nname = "x"\ndependencies = "tabulate"\n'}),
    Case("toml-no-project", ("resolve", "-p", "pyproject.toml"), ("pyproject.toml", "[project]"),
         files={"pyproject.toml": "[tool.black]\nline-length = 99\n"}),
    Case("toml-requires-python-a-number", ("resolve", "-p", "pyproject.toml"),
         ("pyproject.toml", "requires-python"),
         files={"pyproject.toml": '[project]\ndependencies = ["alpha"]\nrequires-python = 3.11\n'}),
    # -- options ----------------------------------------------------------------------------
    Case("python-too-old", ("resolve", "-r", "req.txt", "--python", "3.6"), ("3.6", "3.8"),
         files=REQ),
    Case("python-garbage", ("resolve", "-r", "req.txt", "--python", "three"), ("three",),
         files=REQ),
    Case("python-nowhere", ("resolve", "-r", "req.txt", "--python", "3.99"), ("3.99",),
         files=REQ),
    Case("arch-unknown", ("resolve", "-r", "req.txt", "--arch", "windows-64"), ("windows-64",),
         files=REQ),
    Case("alias-malformed", ("resolve", "-r", "new.txt", "--alias", "Bad:Name"), ("Bad:Name",),
         files=NEW),
    Case("files-several", ("resolve", "-r", "req.txt", "-f", "env.yml"), ("-r", "-f"),
         files={**REQ, "env.yml": "dependencies: [alpha]\n"}),
    Case("nothing-to-resolve", ("resolve",), ("Nothing to resolve",)),
    Case("show-unknown-alias", ("show", "team/none:v1"), ("team/none:v1", "does not exist")),
    Case("alias-unknown-source", ("alias", "team/none:v1", "team/x:v1"), ("team/none:v1",)),
    Case("restore-immutable", ("alias", "--restore", GOOD), (GOOD, "immutable")),
    Case("create-into-user-folder", ("create", GOOD, "--into-dir", "mine"),
         ("mine", "not made by flowenv"), setup=_user_folder),
    Case("export-through-a-file", ("export", GOOD, "-o", "req.txt/out.txt"), ("req.txt",),
         files=REQ),
    # -- store records ----------------------------------------------------------------------
    Case("alias-truncated", ("show", GOOD), ("aliases/team/good/v1.json", "--force"),
         setup=lambda w: truncate(w.alias())),
    Case("alias-not-an-object", ("get", GOOD), ("aliases/team/good/v1.json", "damaged"),
         setup=lambda w: w.alias().write_text("[1, 2]")),
    Case("alias-from-the-future", ("history", GOOD), ("aliases/team/good/v1.json", "upgrade"),
         setup=_alias_to(schema=99)),
    Case("alias-envs-not-a-mapping", ("show", GOOD), ("aliases/team/good/v1.json", "envs"),
         setup=_alias_to(envs=["linux-64"])),
    Case("alias-to-a-missing-env", ("show", GOOD), ("0" * 32,),
         setup=_alias_to(envs={"linux-64": "0" * 32, "osx-arm64": "0" * 32})),
    Case("env-truncated", ("get", GOOD), ("envs/", "damaged", "--force"),
         setup=lambda w: truncate(w.record())),
    Case("env-hostile-filename", ("get", GOOD), ("envs/", "damaged"),
         setup=_file0(filename="../../../../x.whl")),
    Case("env-hostile-filename-id-recomputed", ("show", "--json", GOOD), ("../../../../x.whl",),
         setup=_recomputed_hostile),
    Case("env-digest-malformed", ("get", GOOD), ("envs/", "sha256"),
         setup=_file0(sha256="../../etc")),
    Case("env-size-negative", ("get", GOOD), ("envs/", "size"), setup=_file0(size=-1)),
    Case("env-kind-unknown", ("get", GOOD), ("envs/", "kind"), setup=_file0(kind="exe")),
    Case("blob-lost", ("resolve", "-r", "req.txt", "--alias", "team/other:v1"),
         ("missing from the store", "alpha"), files=REQ, setup=lambda w: w.blob.unlink()),
    Case("blob-tampered", ("get", GOOD), ("alpha", "sha256", "--force"), setup=_tamper_blob),
    # -- settings ---------------------------------------------------------------------------
    Case("setting-lock-timeout", ("list",), ("FLOWENV_LOCK_TIMEOUT", "abc"),
         env={"FLOWENV_LOCK_TIMEOUT": "abc"}),
    Case("setting-metaflow-spelling", ("list",), ("METAFLOW_FLOWENV_LOCK_TIMEOUT",),
         env={"METAFLOW_FLOWENV_LOCK_TIMEOUT": "-5"}),
    Case("setting-cache-is-a-file", ("show", GOOD), ("FLOWENV_CACHE_DIR",),
         env={"FLOWENV_CACHE_DIR": "{folder}/req.txt"}, files=REQ),
    Case("setting-remote-platform", ("list",), ("FLOWENV_REMOTE_PLATFORM", "windows-64"),
         env={"FLOWENV_REMOTE_PLATFORM": "windows-64"}),
    Case("setting-virtual-packages", ("list",), ("FLOWENV_CONDA_VIRTUAL_PACKAGES",),
         env={"FLOWENV_CONDA_VIRTUAL_PACKAGES": "cuda=12"}),
    Case("setting-channel-alias", ("list",), ("FLOWENV_CONDA_CHANNEL_ALIAS",),
         env={"FLOWENV_CONDA_CHANNEL_ALIAS": "nowhere"}),
    Case("setting-compile-bytecode", ("list",), ("FLOWENV_COMPILE_BYTECODE", "maybe"),
         env={"FLOWENV_COMPILE_BYTECODE": "maybe"}),
    Case("setting-store-scheme", ("list",), ("ftp://host/envs",),
         env={"FLOWENV_STORE": "ftp://host/envs"}),
    # -- decorators, in real flows ------------------------------------------------------------
    Case("named-env-name-a-number", ("run",), ("@named_env on step start", "name", "123"),
         files=_on_start("@named_env(name=123)"), kind="flow"),
    Case("named-env-fetch-yes", ("run",), ("@named_env on step start", "fetch_at_exec", "'yes'"),
         files=_on_start('@named_env(name="%s", fetch_at_exec="yes")' % GOOD), kind="flow"),
    Case("named-env-disabled-text", ("run",), ("@named_env on step start", "disabled", "'no'"),
         files=_on_start('@named_env(disabled="no")'), kind="flow"),
    Case("named-env-base-disabled-number", ("run",),
         ("@named_env_base on BadFlow", "disabled", "1"),
         files=_flow("@named_env_base(disabled=1)"), kind="flow"),
    Case("named-env-name-and-pathspec", ("run",), ("@named_env on step start", "not both"),
         files=_on_start('@named_env(name="%s", pathspec="BadFlow/1/start")' % GOOD),
         kind="flow"),
    Case("named-env-base-name-malformed", ("run",), ("Bad Name",),
         files=_flow('@named_env_base(name="Bad Name")'), kind="flow"),
    Case("named-env-variable-unset", ("run",), ("NO_SUCH_VARIABLE", "start"),
         files=_on_start('@named_env(name="team/good:@{NO_SUCH_VARIABLE}")'), kind="flow"),
    Case("named-env-unknown", ("run",), ("team/none:v1", "start"),
         files=_on_start('@named_env(name="team/none:v1")'), kind="flow"),
    Case("pypi-packages-a-list", ("run",), ("@pypi on step start", "packages"),
         files=_on_start('@pypi(packages=["alpha"])'), kind="flow"),
    Case("pypi-version-a-list", ("run",), ("@pypi on step start", "alpha"),
         files=_on_start('@pypi(packages={"alpha": ["1.0.0"]})'), kind="flow"),
    Case("pypi-extra-indices-numbers", ("run",), ("@pypi on step start", "extra_indices"),
         files=_on_start('@pypi(packages={"alpha": "1.0.0"}, extra_indices=[1])'), kind="flow"),
    Case("pypi-python-a-list", ("run",), ("@pypi on step start", "python"),
         files=_on_start('@pypi(python=[3])'), kind="flow"),
    Case("pypi-python-too-old", ("run",), ("step start", "3.6"),
         files=_on_start('@pypi(packages={"alpha": "1.0.0"}, python="3.6")'), kind="flow"),
    Case("conda-libraries-a-string", ("run",), ("@conda on step start", "libraries"),
         files=_on_start('@conda(libraries="numpy")'), kind="flow"),
    Case("conda-channels-a-number", ("run",), ("@conda on step start", "channels"),
         files=_on_start('@conda(channels=5)'), kind="flow"),
    Case("named-base-with-pypi-base", ("run",), ("named_env_base", "pypi_base"),
         files=_flow('@named_env_base(name="%s")\n@pypi_base(packages={"alpha": "1.0.0"})' % GOOD),
         kind="flow"),
    Case("with-fetch-yes", ("run", "--with", "named_env:name=%s,fetch_at_exec=yes" % GOOD),
         ("@named_env on step", "fetch_at_exec", "'yes'"), files=_flow(""), kind="flow"),
    Case("flow-setting-lock-timeout", ("run",), ("FLOWENV_LOCK_TIMEOUT",),
         files=_on_start('@pypi(packages={"alpha": "1.0.0"})'),
         env={"FLOWENV_LOCK_TIMEOUT": "soon"}, kind="flow"),
    Case("flow-cache-unusable", ("run",), ("FLOWENV_CACHE_DIR", "req.txt"),
         files={**_on_start('@pypi(packages={"alpha": "1.0.0"})'), **REQ},
         env={"FLOWENV_CACHE_DIR": "{folder}/req.txt"}, kind="flow"),
    # -- the operating system ----------------------------------------------------------------
    Case("os-store-read-only", ("resolve", "-r", "new.txt"), ("Read-only", "{store}"),
         files=NEW, kind="os", os_setup=(("ro", "{store}"),)),
    Case("os-store-full", ("resolve", "-r", "new.txt"), ("No space left", "disk is full"),
         files=NEW, kind="os", os_setup=(("tmpfs", "{store}"), ("fill", "{store}"))),
    Case("os-cache-read-only", ("resolve", "-r", "new.txt"), ("FLOWENV_CACHE_DIR", "Read-only"),
         files=NEW, kind="os", os_setup=(("ro", "{cache}"),)),
    Case("os-cache-full", ("get", GOOD), ("No space left", "disk is full"),
         kind="os", os_setup=(("tmpfs", "{cache}"), ("fill", "{cache}"))),
    Case("os-file-size-limit", ("resolve", "-r", "new.txt"), ("ulimit",),
         files=NEW, kind="os", os_setup=(("fsize", 1024),)),
]


# -- the world each case starts from -------------------------------------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, wheel_index, shared_caches, conda_channel):
    """A store holding one environment (alpha 1.0.0) named team/good:v1."""
    folder = tmp_path_factory.mktemp("pristine")
    env = flow_env(wheel_index, shared_caches, conda_channel)
    env.update(FLOWENV_STORE=str(folder / "store"), FLOWENV_CACHE_DIR=str(folder / "cache"))
    (folder / "req.txt").write_text("alpha==1.0.0\n")
    subprocess.run([sys.executable, "-m", "metaflow.cmd.main_cli", "environment", "resolve",
                    "-r", "req.txt", "--alias", GOOD], cwd=folder, env=env, check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)
    return folder / "store", env


@pytest.fixture
def world(pristine, tmp_path):
    store, _ = pristine
    shutil.copytree(store, tmp_path / "store")
    (record,) = (tmp_path / "store" / "v1" / "envs").glob("*.json")
    (blob,) = (tmp_path / "store" / "v1" / "packages").glob("*/*")
    (tmp_path / "cache").mkdir()
    (tmp_path / "tmp").mkdir()
    return World(tmp_path, tmp_path / "store", tmp_path / "cache", record.stem, blob)


def _fill(world: World, value):
    return value.format(folder=world.folder, store=world.store, cache=world.cache)


def snapshot(root: Path, skip=()) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] not in skip}


def user_files(world: World) -> dict:
    """The case's own files (not the store, the cache, temporary or Metaflow folders)."""
    return snapshot(world.folder, skip=("store", "cache", "tmp", ".metaflow"))


def temporaries(*roots):
    return [p for root in roots for p in Path(root).rglob("*")
            if p.name.startswith(TEMP_PREFIX) or p.name.startswith("flowenv-resolve-")]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, world, pristine, monkeypatch):
    for name, content in case.files.items():
        path = world.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    if case.setup:
        case.setup(world)
    env = dict(pristine[1])
    env.update(FLOWENV_STORE=str(world.store), FLOWENV_CACHE_DIR=str(world.cache),
               TMPDIR=str(world.folder / "tmp"))
    env.update({k: _fill(world, v) for k, v in case.env.items()})
    before, mine = snapshot(world.store), user_files(world)
    if case.kind == "cli":
        code, out = _in_process(case, world, env, monkeypatch)
    elif case.kind == "flow":
        proc = subprocess.run([sys.executable, "flow.py", "--environment=conda", *case.argv],
                              cwd=world.folder, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300)
        code, out = proc.returncode, proc.stdout + proc.stderr
    else:
        code, out, before_inside, after_inside, left = _in_namespace(case, world, env)
        assert before_inside == after_inside, "the store changed"
        assert not left, left
    assert code != 0, out
    assert "Traceback" not in out, out
    for culprit in case.culprit:
        assert _fill(world, culprit) in out, (culprit, out)
    assert snapshot(world.store) == before, "the store changed"
    assert user_files(world) == mine, "the user's files changed"
    assert not temporaries(world.folder), temporaries(world.folder)


def _in_process(case, world, env, monkeypatch):
    from metaflow._vendor.click.testing import CliRunner
    from metaflow_extensions.flowenv.cmd.environment_cli import cli

    for name in list(os.environ):
        if name not in env:
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(world.folder)
    monkeypatch.setattr(tempfile, "tempdir", str(world.folder / "tmp"))
    result = CliRunner().invoke(cli, ["environment", *case.argv])
    out = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        out += "Traceback (in-process):\n" + "".join(traceback.format_exception(
            type(result.exception), result.exception, result.exception.__traceback__))
    return result.exit_code, out


# -- conditions of the operating system ------------------------------------------------------

NAMESPACE_DRIVER = r'''
import hashlib, json, os, resource, shutil, subprocess, sys
from pathlib import Path

spec = json.loads(sys.argv[1])
store = Path(spec["store"])

def snapshot():
    return {str(p.relative_to(store)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(store.rglob("*")) if p.is_file() and p.name != "filler"}

for what, *args in spec["setup"]:
    if what == "ro":
        subprocess.run(["mount", "--bind", args[0], args[0]], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", args[0]], check=True)
    elif what == "tmpfs":
        keep = args[0] + ".keep"
        shutil.copytree(args[0], keep)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", args[0]], check=True)
        shutil.copytree(keep, args[0], dirs_exist_ok=True)
        shutil.rmtree(keep)
    elif what == "fill":
        fd = os.open(os.path.join(args[0], "filler"), os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        os.close(fd)
    elif what == "fsize":
        resource.setrlimit(resource.RLIMIT_FSIZE, (args[0], args[0]))
before = snapshot()
proc = subprocess.run(spec["argv"], cwd=spec["cwd"], capture_output=True, text=True,
                      stdin=subprocess.DEVNULL)
left = [str(p) for root in spec["roots"] for p in Path(root).rglob(".flowenv-tmp-*")]
print(json.dumps({"code": proc.returncode, "out": proc.stdout + proc.stderr,
                  "before": before, "after": snapshot(), "left": left}))
'''


@functools.lru_cache(maxsize=None)
def _namespaces_work() -> bool:
    if not shutil.which("unshare") or not shutil.which("mount"):
        return False
    probe = subprocess.run(["unshare", "-rm", "mount", "-t", "tmpfs", "tmpfs",
                            tempfile.gettempdir()], capture_output=True)
    return probe.returncode == 0


def _in_namespace(case, world, env):
    if not _namespaces_work():
        pytest.skip("needs unprivileged user and mount namespaces (unshare -rm)")
    setup = [[_fill(world, a) if isinstance(a, str) else a for a in step]
             for step in case.os_setup]
    spec = {"store": str(world.store), "setup": setup, "cwd": str(world.folder),
            "roots": [str(world.store), str(world.cache), str(world.folder)],
            "argv": [sys.executable, "-m", "metaflow.cmd.main_cli", "environment", *case.argv]}
    proc = subprocess.run(["unshare", "-rm", sys.executable, "-c", NAMESPACE_DRIVER,
                           json.dumps(spec)], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result["code"], result["out"], result["before"], result["after"], result["left"]

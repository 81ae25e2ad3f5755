"""Nothing lost, nothing trusted blindly, through the commands users type: folders flowenv
did not make, hostile and damaged store records, altered cached copies, blobs the store
lost, and `--force` repairing each kind of damage."""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REQS = "alpha==1.0.0\n"
ALPHA_1 = "alpha-1.0.0-py3-none-any.whl"


@pytest.fixture
def cache(runner, tmp_path):
    """This test's own flowenv cache (the session's is shared by other tests)."""
    path = tmp_path / "own-cache"
    runner.env["FLOWENV_CACHE_DIR"] = str(path)
    return path


def store(runner) -> Path:
    return runner.folder / ".metaflow" / "flowenv" / "v1"


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def fails_cleanly(proc, *culprits):
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "Traceback" not in out, out
    for text in culprits:
        assert text in out, (text, out)
    return out


def env_id(runner, ref):
    out = runner.metaflow("environment", "show", ref, "--json").stdout
    return json.loads(out[out.index("["):])[0]["full_id"]


def run_in(prefix, code: str) -> str:
    """Run code with the environment's own python; its output."""
    return subprocess.run([str(Path(prefix) / "bin" / "python"), "-c", code],
                          capture_output=True, text=True, check=True).stdout.strip()


def installed_version(prefix) -> str:
    return run_in(prefix, "import alpha; print(alpha.__version__)")


def created_path(proc) -> Path:
    return Path(proc.stdout.strip().splitlines()[-1])


# -- folders flowenv did not make ---------------------------------------------------------


def test_create_never_deletes_a_folder_flowenv_did_not_make(runner, cache):
    runner.resolve(REQS, "team/a:v1")
    mine = runner.folder / "mine"
    (mine / "src").mkdir(parents=True)
    (mine / "notes.txt").write_text("precious")
    (mine / "src" / "code.py").write_text("print('mine')")
    before = snapshot(mine)
    for args, cwd in ((["--into-dir", "mine"], None), (["--into-dir", "mine", "--force"], None),
                      (["--name", "mine"], None), (["--into-dir", "."], mine),
                      (["--into-dir", ".", "--force"], mine)):
        proc = runner.metaflow("environment", "create", "team/a:v1", *args, check=False,
                               cwd=cwd)
        fails_cleanly(proc, "not made by flowenv")
        assert snapshot(mine) == before, args
    # Nothing is left beside the user's folder either (the lock lives in the cache).
    assert sorted(p.name for p in runner.folder.iterdir() if p.name.startswith(".m")) == [
        ".metaflow"]


def test_force_replaces_only_an_environment_flowenv_made(runner, cache):
    runner.resolve(REQS, "team/a:v1")
    runner.resolve("alpha==2.0.0\n", "team/a:v2")
    made = created_path(runner.metaflow("environment", "create", "team/a:v1", "--into-dir", "env"))
    assert installed_version(made) == "1.0.0"
    again = runner.metaflow("environment", "create", "team/a:v1", "--into-dir", "env")
    assert created_path(again) == made  # the same environment: nothing to do
    proc = runner.metaflow("environment", "create", "team/a:v2", "--into-dir", "env", check=False)
    fails_cleanly(proc, "already holds flowenv environment", "--force")
    assert installed_version(made) == "1.0.0"
    runner.metaflow("environment", "create", "team/a:v2", "--into-dir", "env", "--force")
    assert installed_version(made) == "2.0.0"


# -- hostile and damaged records ------------------------------------------------------------


def _hostile(record: dict, filename: str, recompute_id: bool) -> dict:
    record = json.loads(json.dumps(record))
    record["files"][0]["filename"] = filename
    if recompute_id:  # an attacker who knows how the id is computed
        content = ["schema=%d" % record["schema"], record["platform"],
                   "python=" + ".".join(record["python"].split(".")[:2])]
        content += sorted("%s:%s:%s" % (f["kind"], f["sha256"], f["filename"])
                          for f in record["files"])
        record["full_id"] = hashlib.sha256("\n".join(content).encode()).hexdigest()[:32]
    return record


@pytest.mark.parametrize("recompute_id", [False, True], ids=["id-kept", "id-recomputed"])
def test_hostile_env_record_writes_nothing_outside_the_cache(runner, cache, recompute_id):
    runner.resolve(REQS, "team/a:v1")
    full_id = env_id(runner, "team/a:v1")
    path = store(runner) / "envs" / (full_id + ".json")
    record = _hostile(json.loads(path.read_text()), "../../../../x.whl", recompute_id)
    path.write_text(json.dumps(record))
    before = set(runner.folder.rglob("*"))
    proc = runner.metaflow("environment", "get", full_id, check=False)
    after = set(runner.folder.rglob("*"))
    assert not [p for p in after - before if not str(p).startswith(str(cache))]
    assert not [p for p in cache.rglob("*") if p.name == "x.whl"]
    out = fails_cleanly(proc, "envs/%s.json" % full_id, "damaged", "--force")
    assert "x.whl" in out or "recorded id" in out


def test_altered_cached_copy_is_neither_installed_nor_uploaded(runner, cache, tmp_path):
    from tests.wheelhouse import make_wheel

    runner.resolve(REQS, "team/a:v1")
    (copy,) = [p for p in cache.rglob(ALPHA_1) if "envs-" not in str(p)]
    sha = hashlib.sha256(copy.read_bytes()).hexdigest()
    # A wheel of the same name and version, with code of someone else's.
    evil = make_wheel(tmp_path / "evil", "alpha", "1.0.0", module_code="TAMPERED = True\n")
    copy.write_bytes(evil.read_bytes())
    made = created_path(runner.metaflow("environment", "create", "team/a:v1", "--into-dir", "env"))
    assert tampered(made) is False
    runner.metaflow("environment", "resolve", "-r", "req-team_a_v1.txt", "--force")
    blob = store(runner) / "packages" / sha[:2] / sha
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha
    # A change of the same size whose modification time is put back is seen too.
    good = copy.read_bytes()
    stamp = copy.stat()
    copy.write_bytes(good[:100] + bytes([good[100] ^ 0xFF]) + good[101:])
    os.utime(copy, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    runner.metaflow("environment", "resolve", "-r", "req-team_a_v1.txt", "--force")
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha
    made = created_path(runner.metaflow("environment", "create", "team/a:v1", "--into-dir", "env2"))
    assert tampered(made) is False


def tampered(prefix) -> bool:
    return run_in(prefix, "import alpha; print(hasattr(alpha, 'TAMPERED'))") == "True"


def _truncate(path: Path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_damaged_alias_record_is_reported_and_repaired(runner, cache):
    runner.resolve(REQS, "team/a:v1")
    runner.resolve("alpha==2.0.0\n", "team/b:v1")
    full_id = env_id(runner, "team/a:v1")
    _truncate(store(runner) / "aliases" / "team" / "a" / "v1.json")
    for command in (["show", "team/a:v1"], ["get", "team/a:v1"], ["history", "team/a:v1"],
                    ["create", "team/a:v1", "--into-dir", "env"]):
        proc = runner.metaflow("environment", *command, check=False)
        fails_cleanly(proc, "aliases/team/a/v1.json", "damaged",
                      "metaflow environment alias SOURCE team/a:v1 --force")
    # list reports it and still lists the others
    proc = runner.metaflow("environment", "list")
    assert "team/b:v1" in proc.stdout and "aliases/team/a/v1.json" in proc.stderr
    assert "Traceback" not in proc.stderr
    runner.write("flow.py", FLOW % 'named_env_base(name="team/a:v1")')
    fails_cleanly(runner.flow("flow.py", "run", check=False), "aliases/team/a/v1.json", "--force")
    # without --force a damaged record is not overwritten; with it, it is
    fails_cleanly(runner.metaflow("environment", "alias", full_id, "team/a:v1", check=False),
                  "damaged")
    runner.metaflow("environment", "alias", full_id, "team/a:v1", "--force")
    assert env_id(runner, "team/a:v1") == full_id
    runner.flow("flow.py", "run")


def test_resolve_force_repairs_a_damaged_alias_record(runner, cache):
    runner.resolve(REQS, "team/a:v1")
    _truncate(store(runner) / "aliases" / "team" / "a" / "v1.json")
    proc = runner.metaflow("environment", "resolve", "-r", "req-team_a_v1.txt", "--alias",
                           "team/a:v1", check=False)
    fails_cleanly(proc, "damaged", "--force")
    runner.metaflow("environment", "resolve", "-r", "req-team_a_v1.txt", "--alias", "team/a:v1",
                    "--force")
    runner.metaflow("environment", "show", "team/a:v1")


def test_damaged_env_record_is_reported_and_repaired_by_force(runner, cache):
    runner.resolve(REQS, "team/a:v1")
    full_id = env_id(runner, "team/a:v1")
    path = store(runner) / "envs" / (full_id + ".json")
    _truncate(path)
    for command in (["show", "team/a:v1"], ["get", full_id], ["diff", "team/a:v1", full_id]):
        proc = runner.metaflow("environment", *command, check=False)
        fails_cleanly(proc, "envs/%s.json" % full_id, "damaged", "--force")
    runner.metaflow("environment", "resolve", "-r", "req-team_a_v1.txt", "--force")
    assert json.loads(path.read_text())["full_id"] == full_id
    runner.metaflow("environment", "get", "team/a:v1")


def test_damaged_resolution_pointer_is_resolved_again(runner, cache):
    runner.resolve(REQS, "team/a:v1")
    (pointer,) = store(runner).glob("resolutions/*/*.json")
    _truncate(pointer)
    proc = runner.metaflow("environment", "resolve", "-r", "req-team_a_v1.txt")
    assert "alpha==1.0.0" in proc.stdout
    assert json.loads(pointer.read_text())["full_id"] == env_id(runner, "team/a:v1")
    # a flow whose step resolves to that pointer is not stopped either
    _truncate(pointer)
    runner.write("req.txt", REQS)
    runner.write("flow.py", FLOW % 'pypi_base(packages={"alpha": "1.0.0"})')
    runner.flow("flow.py", "run")


def test_damaged_package_blob_is_refused_then_repaired_by_force(runner, cache, tmp_path):
    runner.resolve(REQS, "team/a:v1")
    (blob,) = [p for p in store(runner).glob("packages/*/*")]
    blob.write_bytes(b"not a wheel")
    other = {"FLOWENV_CACHE_DIR": str(tmp_path / "other-machine")}
    proc = runner.metaflow("environment", "get", "team/a:v1", check=False, env=other)
    fails_cleanly(proc, ALPHA_1, "sha256", "--force")
    runner.metaflow("environment", "resolve", "-r", "req-team_a_v1.txt", "--force")
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
    made = created_path(runner.metaflow("environment", "get", "team/a:v1", env=other))
    assert installed_version(made) == "1.0.0"


def test_no_alias_on_an_environment_whose_packages_the_store_lost(runner, cache):
    runner.resolve(REQS, "team/a:v1")
    (blob,) = [p for p in store(runner).glob("packages/*/*")]
    blob.unlink()
    proc = runner.metaflow("environment", "resolve", "-r", "req-team_a_v1.txt", "--alias",
                           "team/lost:v1", check=False)
    fails_cleanly(proc, "missing from the store", ALPHA_1)
    assert not (store(runner) / "aliases" / "team" / "lost").exists()
    proc = runner.metaflow("environment", "alias", "team/a:v1", "team/lost:v1", check=False)
    fails_cleanly(proc, "missing from the store")
    runner.metaflow("environment", "resolve", "-r", "req-team_a_v1.txt", "--alias",
                    "team/lost:v1", "--force")
    assert blob.is_file()


# -- what a shared store needs ----------------------------------------------------------------


def test_store_files_are_readable_by_teammates(runner, cache):
    old = os.umask(0o022)
    try:
        runner.resolve(REQS, "team/a:v1")
    finally:
        os.umask(old)
    entries = list(store(runner).rglob("*"))
    assert entries
    for path in entries:
        mode = stat.S_IMODE(path.stat().st_mode)
        wanted = 0o755 if path.is_dir() else 0o644
        assert mode & wanted == wanted, (path, oct(mode))


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="plays two users: needs root (to own files as another) and setpriv")
def test_a_teammate_moves_a_tag_in_a_shared_folder_store(runner, cache):
    """Teammate A resolved and moved a tag (files 0644, as with umask 022); the team's
    folders are group-writable. B, another user of the group, resolves and moves the tag
    again: B reads A's files, replaces A's record and takes the lock A's lock file is for."""
    old = os.umask(0o022)
    try:
        runner.resolve(REQS, "team/a:latest")
        runner.resolve("alpha==2.0.0\n", "team/a:latest")  # a move: A's lock file stays
    finally:
        os.umask(old)
    for path in [store(runner), *store(runner).rglob("*")]:
        os.chown(path, 65534, 0)  # A's, in B's group
        if path.is_dir():
            path.chmod(0o775)
    as_b = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]  # no power over A's files
    runner.write("b.txt", "alpha==2.0.0\ngamma==0.1.0\n")
    proc = runner.run(*as_b, sys.executable, "-m", "metaflow.cmd.main_cli", "environment",
                      "resolve", "-r", "b.txt", "--alias", "team/a:latest")
    assert "Named team/a:latest" in proc.stdout
    history = runner.metaflow("environment", "history", "team/a:latest").stdout
    assert len([line for line in history.splitlines() if " -> " in line]) == 3


FLOW = '''
from metaflow import FlowSpec, step, named_env_base, pypi_base

@%s
class SafetyFlow(FlowSpec):
    @step
    def start(self):
        import alpha
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    SafetyFlow()
'''


# -- a single string is one index or one channel, never a list of letters -------------------


def test_single_string_index_and_channel_are_used_whole(runner, tmp_path, conda_channel):
    from tests.wheelhouse import build_index, simple_index_url

    from tests.condachannel import build_channel

    extra = simple_index_url(build_index(tmp_path / "extra", [("zulu", "4.0.0", ())]))
    # The decorator's channel adds to the defaults (as the reference's does): an empty one
    # here, so condalib can only come from the decorator's.
    runner.env["FLOWENV_CONDA_CHANNELS"] = build_channel(tmp_path / "empty-channel", [])
    runner.write("flow.py", '''
from metaflow import FlowSpec, step, conda, pypi

class StringsFlow(FlowSpec):
    @pypi(packages={"zulu": "4.0.0"}, extra_indices="%s")
    @step
    def start(self):
        import zulu
        assert zulu.__version__ == "4.0.0"
        self.next(self.end)

    @conda(libraries={"condalib": "1.0"}, channels="%s")
    @step
    def end(self):
        import condalib
        assert condalib.__version__ == "1.0"

if __name__ == "__main__":
    StringsFlow()
''' % (extra, conda_channel))
    runner.flow("flow.py", "run")
    out = runner.flow("flow.py", "environment", "show", "--json").stdout
    steps = json.loads(out[out.index("{"):])["steps"]
    pins = {step: {f["name"]: f["version"] for f in info["lock"]["files"]}
            for step, info in steps.items()}
    assert pins["start"]["zulu"] == "4.0.0" and pins["end"]["condalib"] == "1.0"


def test_export_into_a_new_folder(runner, cache):
    runner.resolve(REQS, "team/a:v1")
    runner.metaflow("environment", "export", "team/a:v1", "-o", "locks/a.txt")
    assert "alpha==1.0.0" in (runner.folder / "locks" / "a.txt").read_text()

"""`metaflow environment` commands beyond the seed's examples."""

import json
import subprocess
import sys
from pathlib import Path


def _show(runner, ref):
    out = runner.metaflow("environment", "show", ref, "--json").stdout
    return json.loads(out[out.index("["):])[0]


def _pins(lock):
    return {f["name"]: f["version"] for f in lock["files"]}


def test_using_extends_keeping_pins_and_from_reresolves(runner):
    runner.resolve("beta==1.0.0\n", "team/base:v1")  # beta 1.0.0 needs alpha>=1: alpha 2.0.0
    runner.write("extra.txt", "delta\n")
    runner.metaflow("environment", "resolve", "--using", "team/base:v1", "-r", "extra.txt",
                    "--alias", "team/base-plus:v1")
    plus = _pins(_show(runner, "team/base-plus:v1"))
    assert plus["beta"] == "1.0.0" and plus["alpha"] == "2.0.0" and plus["delta"] == "3.0.0"
    # --from re-resolves the recorded requirements (here: the same result again)
    runner.metaflow("environment", "resolve", "--from", "team/base:v1", "--alias", "team/base:copy")
    assert _pins(_show(runner, "team/base:copy")) == _pins(_show(runner, "team/base:v1"))


def test_dry_run_stores_and_names_nothing(runner):
    runner.write("req.txt", "gamma==0.3.0\n")
    out = runner.metaflow("environment", "resolve", "-r", "req.txt", "--dry-run",
                          "--alias", "team/dry:v1").stdout
    assert "gamma==0.3.0" in out
    proc = runner.metaflow("environment", "show", "team/dry:v1", check=False)
    assert proc.returncode != 0 and "does not exist" in proc.stderr
    store = runner.folder / ".metaflow" / "flowenv"
    assert not list(store.glob("v1/envs/*.json"))


def test_bad_input_errors_name_the_file_and_line(runner):
    runner.write("req.txt", "alpha==1.0.0\nnot a requirement!\n")
    proc = runner.metaflow("environment", "resolve", "-r", "req.txt", check=False)
    assert proc.returncode != 0 and "req.txt, line 2" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = runner.metaflow("environment", "resolve", "-r", "req.txt", "--alias", "Bad:Name", check=False)
    assert proc.returncode != 0 and "Invalid environment name" in proc.stderr
    runner.write("ok.txt", "alpha==9.9.9\n")
    proc = runner.metaflow("environment", "resolve", "-r", "ok.txt", check=False)
    assert proc.returncode != 0 and "alpha" in proc.stderr and "Traceback" not in proc.stderr


def test_concurrent_resolves_of_the_same_requirements_agree(runner):
    runner.write("req.txt", "beta==1.5.0\n")
    procs = [subprocess.Popen([sys.executable, "-m", "metaflow.cmd.main_cli", "environment",
                               "resolve", "-r", "req.txt", "--alias", "team/same:latest"],
                              cwd=runner.folder, env=runner.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert all(code == 0 for _, _, code in results), results
    ids = {line.split()[1].rstrip(":") for out, _, _ in results
           for line in out.splitlines() if line.startswith("Environment ")}
    assert len(ids) == 1
    store = Path(runner.folder, ".metaflow", "flowenv", "v1")
    assert [p.stem for p in store.glob("envs/*.json")] == list(ids)
    lock = _show(runner, "team/same:latest")
    for f in lock["files"]:
        assert (store / "packages" / f["sha256"][:2] / f["sha256"]).is_file()


def test_diff_shows_added_removed_and_changed_packages(runner):
    runner.resolve("alpha==1.0.0\ngamma==0.1.0\n", "team/d:v1")
    runner.resolve("alpha==2.0.0\nepsilon==1.0.0\n", "team/d:v2")
    out = runner.metaflow("environment", "diff", "team/d:v1", "team/d:v2").stdout
    assert "~ alpha 1.0.0 (wheel) -> 2.0.0 (wheel)" in out
    assert "- gamma 0.1.0 (wheel)" in out and "+ epsilon 1.0.0 (wheel)" in out

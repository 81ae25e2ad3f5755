"""Bytecode compiled once and shared through the store: later machines unpack it instead
of compiling, and a shared archive can never change what runs."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile

import pytest

from flowenv.cache import LocalCache
from flowenv.create import bytecode, env_python
from flowenv.environments import Environments
from flowenv.progress import PLAIN, Progress
from flowenv.settings import Settings


@pytest.fixture
def compiling(monkeypatch):
    monkeypatch.setenv("FLOWENV_COMPILE_BYTECODE", "yes")


def machine(store, tmp_path, name, **settings):
    """The store seen from a machine of its own: its own cache, its own log."""
    log = io.StringIO()
    envs = Environments(store, LocalCache(tmp_path / name),
                        progress=Progress(stream=log, mode=PLAIN),
                        settings=Settings.load().replace(**settings))
    return envs, log


def pycs(prefix):
    """The packages' bytecode (not flowenv's start-up hook, always compiled)."""
    return sorted(p.relative_to(prefix).as_posix()
                  for p in prefix.glob("lib/python*/site-packages/**/__pycache__/*.pyc")
                  if not p.name.startswith("_flowenv_site_hook."))


def checked_hash(path) -> bool:
    return int.from_bytes(path.read_bytes()[4:8], "little") == 3


def loads_from_pyc(prefix) -> bool:
    """Whether the env's python imports alpha from its .pyc (`python -v` says so)."""
    proc = subprocess.run([str(env_python(prefix)), "-v", "-c", "import alpha"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return any("code object from" in line and "alpha/__pycache__" in line
               for line in proc.stderr.splitlines())


@pytest.fixture
def compiled_log(tmp_path, monkeypatch):
    """Each compile pass appends the modules it compiled to this file, one JSON list a line."""
    log = tmp_path / "compiled.jsonl"
    spy = tmp_path / "spy_compile.py"
    spy.write_text(
        "import json, sys\n"
        "sys.path.insert(0, %r)\n"
        "import compile_missing\n"
        "todo = list(compile_missing._missing(sys.argv[1:]))\n"
        "open(%r, 'a').write(json.dumps(todo) + '\\n')\n"
        "compile_missing.main(sys.argv[1:])\n" % (str(bytecode._COMPILER.parent), str(log)))
    monkeypatch.setattr(bytecode, "_COMPILER", spy)

    def passes():
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    return passes


def compiled_packages(modules):
    return {m.split("site-packages/")[1].split("/")[0] for m in modules}


def test_first_machine_compiles_and_shares_later_ones_unpack(compiling, store, make_spec,
                                                             tmp_path, compiled_log):
    first, log = machine(store, tmp_path, "first")
    lock = first.resolve(make_spec("alpha==2.0.0"))
    built = first.create(lock)
    assert "Compiling bytecode: done" in log.getvalue()
    assert "Sharing the bytecode of 1 packages through the store: done" in log.getvalue()
    assert compiled_packages(compiled_log()[-1]) >= {"alpha"}
    compiled = pycs(built)
    assert any("/alpha/__pycache__/" in p for p in compiled)
    assert all(checked_hash(built / p) for p in compiled)
    (wheel,) = lock.files
    record = store.bytecode.get(wheel.sha256, bytecode.python_key(lock.python_minor))
    assert record["files"] == len([p for p in compiled if "/alpha/" in p])

    second, log = machine(store, tmp_path, "second")
    prefix = second.create(lock)
    assert "Unpacking shared bytecode: done" in log.getvalue()
    assert "alpha" not in compiled_packages(compiled_log()[-1])  # nothing of it compiled
    assert pycs(prefix) == compiled
    assert loads_from_pyc(prefix)


def test_an_env_sharing_packages_compiles_only_the_new_one(compiling, store, make_spec,
                                                           tmp_path, compiled_log):
    envs, log = machine(store, tmp_path, "one")
    envs.create(envs.resolve(make_spec("alpha==2.0.0")))
    prefix = envs.create(envs.resolve(make_spec("alpha==2.0.0", "beta==1.0.0")))
    assert compiled_packages(compiled_log()[-1]) == {"beta"}
    assert loads_from_pyc(prefix)


def test_nothing_is_shared_when_switched_off_or_not_compiling(store, make_spec, tmp_path,
                                                              monkeypatch):
    monkeypatch.setenv("FLOWENV_COMPILE_BYTECODE", "no")
    envs, _ = machine(store, tmp_path, "a")
    lock = envs.resolve(make_spec("alpha==2.0.0"))
    assert pycs(envs.create(lock)) == []
    monkeypatch.setenv("FLOWENV_COMPILE_BYTECODE", "yes")
    envs, log = machine(store, tmp_path, "b", share_bytecode=False)
    assert pycs(envs.create(lock))
    assert "Sharing" not in log.getvalue()
    (wheel,) = lock.files
    assert store.bytecode.get(wheel.sha256, bytecode.python_key(lock.python_minor)) is None


def _replace_archive(store, lock, tmp_path, add):
    """Put a different archive in the store under the environment's record."""
    (wheel,) = lock.files
    key = store.bytecode.key(wheel.sha256, bytecode.python_key(lock.python_minor))
    record = json.loads(store.blobs.get(key)[0])
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        add(tar)
    data = archive.read_bytes()
    record.update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    store.blobs.put(store.packages.key(record["sha256"]), data)
    store.blobs.put(key, json.dumps(record).encode())


def _member(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("case", ["outside", "timestamp-pyc"])
def test_an_archive_that_could_change_what_runs_is_refused(compiling, store, make_spec,
                                                           tmp_path, case):
    first, _ = machine(store, tmp_path, "first")
    lock = first.resolve(make_spec("alpha==2.0.0"))
    built = first.create(lock)
    genuine = (built / pycs(built)[0]).read_bytes()
    if case == "outside":
        name, data = "bin/__pycache__/evil.pyc", genuine
    else:  # an unchecked .pyc would run whatever it holds, whatever the source says
        name = pycs(built)[0]
        data = genuine[:4] + (0).to_bytes(4, "little") + genuine[8:]
    _replace_archive(store, lock, tmp_path, lambda tar: _member(tar, name, data))

    second, log = machine(store, tmp_path, "second")
    prefix = second.create(lock)
    assert "not a" in log.getvalue() and "compiling instead" in log.getvalue()
    assert "Compiling bytecode: done" in log.getvalue()
    assert not (prefix / "bin" / "__pycache__").exists()
    assert all(checked_hash(prefix / p) for p in pycs(prefix))
    assert loads_from_pyc(prefix)


def test_an_archive_for_another_python_is_not_used(compiling, store, make_spec, tmp_path):
    first, _ = machine(store, tmp_path, "first")
    lock = first.resolve(make_spec("alpha==2.0.0"))
    first.create(lock)
    (wheel,) = lock.files
    key = store.bytecode.key(wheel.sha256, bytecode.python_key(lock.python_minor))
    record = json.loads(store.blobs.get(key)[0])
    store.blobs.put(key, json.dumps(dict(record, magic="00000000")).encode())
    second, log = machine(store, tmp_path, "second")
    prefix = second.create(lock)
    assert "Unpacking" not in log.getvalue() and "Compiling bytecode: done" in log.getvalue()
    assert pycs(prefix) and env_python(prefix).exists()

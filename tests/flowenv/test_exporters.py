"""Exported locks install elsewhere: pylock.toml and hashed requirements, as uv reads them."""

from __future__ import annotations

import subprocess

from flowenv import exporters
from flowenv.spec import Spec
from flowenv.uv_runner import installed_uv

from tests.flowenv.conftest import PYTHON_MINOR, run_python
from tests.wheelhouse import make_sdist, write_simple_index


def _install(pylock, venv, environ):
    uv = installed_uv()
    subprocess.run([uv, "venv", "--quiet", "--no-config", venv], check=True, env=environ)
    return subprocess.run([uv, "pip", "install", "--no-config", "--python", venv / "bin" / "python",
                           "-r", pylock], capture_output=True, text=True, env=environ)


def test_exported_pylock_installs_with_uv(envs, make_spec, tmp_path):
    import os

    lock = envs.resolve(make_spec("beta==1.0.0"))
    pylock = tmp_path / "pylock.toml"
    pylock.write_text(exporters.export(lock, "pylock"))
    proc = _install(pylock, tmp_path / "venv", dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    seen = run_python(tmp_path / "venv", "import alpha, beta; print(alpha.__version__, "
                      "beta.__version__)").split()
    assert seen == [lock.pins()["alpha"], lock.pins()["beta"]] == ["2.0.0", "1.0.0"]


def test_wheel_built_from_an_sdist_exports_its_source(envs, wheel_index, empty_index, tmp_path):
    """The wheel built on the resolving machine exists only in the store: the exported
    lock names the source distribution, with the source's hash, so that it installs."""
    import hashlib
    import os

    sdist = make_sdist(wheel_index, "builtpkg", "0.7.0", backend="in-tree")
    write_simple_index(wheel_index)
    lock = envs.resolve(Spec(pypi=("builtpkg",), python=PYTHON_MINOR, index_url=empty_index,
                             find_links=(str(wheel_index),)))
    (built,) = lock.files
    assert built.filename.endswith(".whl") and built.source_url.endswith(".tar.gz")
    text = exporters.export(lock, "pylock")
    assert "sdist = " in text and built.source_url in text
    assert hashlib.sha256(sdist.read_bytes()).hexdigest() in text
    assert built.sha256 not in text
    requirements = exporters.export(lock, "requirements")
    assert hashlib.sha256(sdist.read_bytes()).hexdigest() in requirements
    pylock = tmp_path / "pylock.toml"
    pylock.write_text(text)
    proc = _install(pylock, tmp_path / "venv", dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert run_python(tmp_path / "venv", "import builtpkg; print(builtpkg.__version__)") == "0.7.0"

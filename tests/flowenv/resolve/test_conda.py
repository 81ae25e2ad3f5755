"""Conda resolution with py-rattler against a real local channel."""

from __future__ import annotations


import pytest

from flowenv.conda.match_specs import python_match_spec
from flowenv.conda.virtual_packages import virtual_packages
from flowenv.errors import ResolveError
from flowenv.lock import Lock
from flowenv.platforms import host_platform
from flowenv.settings import Settings
from flowenv.spec import Spec

from tests.flowenv.conftest import PYTHON_FULL, PYTHON_MINOR

HOST = host_platform()
linux_only = pytest.mark.skipif(not HOST.startswith("linux"), reason="test channel's glibc packages")


def names(lock):
    return {f.name: f.version for f in lock.files}


@pytest.fixture
def solve_conda(envs):
    """Solve without publishing, with the settings of the test's environment now."""

    def solve(spec, platform, base=None):
        envs.settings = Settings.load()
        return envs.solve_only(spec, platform)

    return solve


@pytest.mark.parametrize("constraint, expected", [
    ("3.11", "python 3.11.*"),
    ("3.11.7", "python ==3.11.7"),
    (">=3.10,<3.12", "python <3.12,>=3.10"),
    ("~=3.10", "python ~=3.10"),
    ("!=3.11.*", "python !=3.11.*"),
])
def test_python_match_spec(constraint, expected):
    assert python_match_spec(constraint) == expected


def test_conda_spec_resolves_to_conda_files(envs, cache_dir):
    lock = envs.resolve(Spec.from_conda_libraries({"condalib": "1.0"}, origin="step start"))
    assert names(lock) == {"python": PYTHON_FULL, "condalib": "1.0"}
    assert lock.python == PYTHON_FULL
    assert {f.kind for f in lock.files} == {"conda"}
    for file in lock.files:
        assert len(file.sha256) == 64 and file.url.startswith("file://") and file.size
        assert file.filename.endswith(".conda")
    assert lock.spec["conda"] == ["condalib 1.0"]
    assert lock.spec["python"] == PYTHON_MINOR
    assert Lock.from_json(lock.to_json()).full_id == lock.full_id


def test_latest_version_and_dependencies(envs):
    lock = envs.resolve(Spec.from_conda_libraries({"condalib": ""}))
    assert names(lock) == {"python": PYTHON_FULL, "condalib": "2.0", "condadep": "2.0"}


def test_launching_python_is_the_default(solve_conda):
    # 3.99.0 is in the channel too; without a python request the launching minor wins.
    lock = solve_conda(Spec(conda=("condalib",)), HOST, None)
    assert lock.python == PYTHON_FULL
    assert lock.spec["python"] == PYTHON_MINOR
    lock = solve_conda(Spec(conda=("condalib",), python="3.99"), HOST, None)
    assert lock.python == "3.99.0"


def test_python_requested_as_a_conda_package(solve_conda):
    lock = solve_conda(Spec(conda=("python >=3.99",)), HOST, None)
    assert lock.python == "3.99.0"


def test_spec_channels_override_the_default(channels, monkeypatch, solve_conda):
    monkeypatch.setenv("FLOWENV_CONDA_CHANNELS", channels["root"].as_uri() + "/nowhere")
    lock = solve_conda(Spec(conda=("condalib 1.0",), channels=(channels["main"],)), HOST, None)
    assert names(lock)["condalib"] == "1.0"
    assert lock.spec["channels"] == [channels["main"]]


def test_channel_prefix_uses_the_channel_alias(solve_conda):
    lock = solve_conda(Spec.from_conda_libraries({"otherchan::condalib": ""}), HOST, None)
    assert names(lock)["condalib"] == "3.0"
    assert "/otherchan/" in [f for f in lock.files if f.name == "condalib"][0].url


def test_foreign_platform_uses_documented_virtual_packages(monkeypatch, solve_conda):
    other = "osx-arm64" if HOST != "osx-arm64" else "linux-64"
    lock = solve_conda(Spec(conda=("condatool",), python=PYTHON_MINOR), other, None)
    assert lock.platform == other and names(lock)["condatool"] == "1.0"
    if other == "osx-arm64":
        vp = {v.name.normalized: str(v.version) for v in virtual_packages(other)}
        assert vp["__osx"] == "11.0" and "__unix" in vp
        monkeypatch.setenv("FLOWENV_CONDA_VIRTUAL_PACKAGES", "__osx=10.15")
        with pytest.raises(ResolveError) as err:
            solve_conda(Spec(conda=("condatool",), python=PYTHON_MINOR, origin="step mac"), other, None)
        assert "condatool" in str(err.value) and "__osx" in str(err.value)
        assert "step mac" in str(err.value)


def test_linux_foreign_defaults():
    vp = {v.name.normalized: str(v.version) for v in virtual_packages("linux-aarch64")}
    assert vp["__glibc"] == "2.28" and "__unix" in vp
    vp = {v.name.normalized: str(v.version) for v in virtual_packages("osx-64")}
    assert vp["__osx"] == "10.13"


@linux_only
def test_host_virtual_packages_are_detected_and_overridable(monkeypatch, solve_conda):
    spec = Spec(conda=("needsnewglibc",), python=PYTHON_MINOR, origin="step gpu")
    with pytest.raises(ResolveError) as err:
        solve_conda(spec, HOST, None)
    assert "needsnewglibc" in str(err.value) and "__glibc" in str(err.value)
    monkeypatch.setenv("FLOWENV_CONDA_VIRTUAL_PACKAGES", "__glibc=99.1")
    assert names(solve_conda(spec, HOST, None))["needsnewglibc"] == "1.0"


def test_unsatisfiable_specs_name_the_packages_and_origin(envs):
    spec = Spec.from_conda_libraries({"condalib": "2.0", "condaold": ""}, origin="step train")
    with pytest.raises(ResolveError) as err:
        envs.resolve(spec)
    message = str(err.value)
    assert "step train" in message
    assert "condaold" in message and "condadep" in message and "incompatible" in message


def test_unknown_package(envs):
    with pytest.raises(ResolveError) as err:
        envs.resolve(Spec.from_conda_libraries({"nosuchpkg": "1.0"}, origin="flow.py step start"))
    message = str(err.value)
    assert "nosuchpkg" in message and "No candidates" in message and "flow.py step start" in message


def test_missing_channel(envs, channels):
    missing = channels["root"].as_uri() + "/missing"
    spec = Spec.from_conda_libraries({"condalib": ""}, channels=[missing], origin="env.yml")
    with pytest.raises(ResolveError) as err:
        envs.resolve(spec)
    message = str(err.value)
    assert missing in message and "env.yml" in message and "repodata" in message


def test_unknown_channel_name_through_alias(envs):
    with pytest.raises(ResolveError) as err:
        envs.resolve(Spec.from_conda_libraries({"nochan::condalib": ""}, origin="step x"))
    assert "nochan" in str(err.value) and "step x" in str(err.value)


def test_mixed_spec_resolves_both_kinds(envs, pypi_fields):
    spec = Spec(conda=("condalib 1.0",), pypi=("alpha==1.0.0", "pypiuser"), **pypi_fields)
    lock = envs.resolve(spec)
    kinds = {f.name: f.kind for f in lock.files}
    assert kinds == {"python": "conda", "condalib": "conda", "alpha": "wheel", "pypiuser": "wheel"}
    # condalib comes from conda: pypiuser's requirement on it is met, not re-installed
    assert names(lock)["alpha"] == "1.0.0"
    assert lock.spec["pypi"] == ["alpha==1.0.0", "pypiuser"]
    assert lock.spec["conda"] == ["condalib 1.0"]


def test_mixed_full_id_covers_both_kinds(envs, pypi_fields):
    one = envs.resolve(Spec(conda=("condalib 1.0",), pypi=("alpha==1.0.0",), **pypi_fields))
    two = envs.resolve(Spec(conda=("condalib 1.0",), pypi=("alpha==2.0.0",), **pypi_fields))
    three = envs.resolve(Spec(conda=("condalib 2.0",), pypi=("alpha==1.0.0",), **pypi_fields))
    assert len({one.full_id, two.full_id, three.full_id}) == 3


def test_pypi_conflicting_with_conda_python_package(envs, pypi_fields, wheel_index):
    from tests.wheelhouse import make_wheel

    make_wheel(wheel_index, "needsnewcondalib", "1.0", ("condalib>=5",))
    spec = Spec(conda=("condalib 1.0",), pypi=("needsnewcondalib",), origin="step mix", **pypi_fields)
    with pytest.raises(ResolveError) as err:
        envs.resolve(spec)
    assert "condalib" in str(err.value) and "step mix" in str(err.value)


def test_a_channel_given_by_url_in_a_package_name(envs, channels):
    """'https://host/channel::pkg' and 'file:///srv/channel::pkg' name a channel by URL."""
    other = channels["alias"] + "otherchan"
    spec = Spec.from_conda_libraries({other + "::condalib": ""}, channels=[channels["main"]],
                                     origin="step url")
    assert spec.conda == (other + "::condalib",)
    lock = envs.resolve(spec)
    condalib = [f for f in lock.files if f.name == "condalib"][0]
    assert condalib.version == "3.0" and "/otherchan/" in condalib.url

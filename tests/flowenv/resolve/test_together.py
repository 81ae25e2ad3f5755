"""Co-resolution: several platforms resolved together settle on one version of each
package they share."""

from __future__ import annotations

import pytest

from flowenv.errors import ResolveError
from flowenv.lock import Lock, LockedFile
from flowenv.resolve.together import differences
from flowenv.spec import Spec
from tests.flowenv.conftest import PYTHON_MINOR
from tests.wheelhouse import make_wheel

LINUX, MAC = "linux-64", "osx-arm64"
LINUX_TAG, MAC_TAG = "py3-none-manylinux_2_17_x86_64", "py3-none-macosx_11_0_arm64"


@pytest.fixture(scope="module")
def platform_wheels(tmp_path_factory):
    folder = tmp_path_factory.mktemp("platform-wheels")
    # native: 1.0 for both platforms, 2.0 (the newest) for Linux only.
    make_wheel(folder, "native", "1.0", tag=LINUX_TAG)
    make_wheel(folder, "native", "1.0", tag=MAC_TAG)
    make_wheel(folder, "native", "2.0", tag=LINUX_TAG)
    # app needs native; on macOS it also needs macextra (a marker: stays there).
    make_wheel(folder, "app", "1.0", ["native>=1", 'macextra; sys_platform == "darwin"'])
    make_wheel(folder, "macextra", "1.0")
    # split: no version has files for both platforms.
    make_wheel(folder, "split", "1.0", tag=MAC_TAG)
    make_wheel(folder, "split", "2.0", tag=LINUX_TAG)
    return folder


@pytest.fixture
def spec_of(platform_wheels, empty_index):
    def make(*pypi):
        return Spec(pypi=pypi, python=PYTHON_MINOR, index_url=empty_index,
                    find_links=(str(platform_wheels),))
    return make


def pins(lock):
    return {f.name: f.version for f in lock.files}


def test_the_newest_version_without_files_for_one_platform_is_held_back_on_both(envs, spec_of):
    linux, mac = envs.resolve_together(spec_of("app"), [LINUX, MAC])
    assert pins(linux) == {"app": "1.0", "native": "1.0"}
    # The marker's package stays on the platform it is for.
    assert pins(mac) == {"app": "1.0", "native": "1.0", "macextra": "1.0"}
    assert "manylinux" in [f.filename for f in linux.files if f.name == "native"][0]
    assert "macosx" in [f.filename for f in mac.files if f.name == "native"][0]
    assert linux.req_id == mac.req_id and linux.spec["resolved_together"] == [LINUX, MAC]


def test_each_platform_on_its_own_takes_its_newest(envs, spec_of):
    assert pins(envs.resolve(spec_of("native"), LINUX))["native"] == "2.0"
    assert pins(envs.resolve(spec_of("native"), MAC))["native"] == "1.0"


def test_a_second_co_resolution_reuses_the_first(envs, spec_of):
    first = envs.resolve_together(spec_of("native"), [LINUX, MAC])
    again = envs.resolve_together(spec_of("native"), [MAC, LINUX])
    assert {l.full_id for l in first} == {l.full_id for l in again}


def test_no_common_version_names_the_package_and_the_way_out(envs, spec_of, store):
    with pytest.raises(ResolveError) as info:
        envs.resolve_together(spec_of("split"), [LINUX, MAC])
    message = str(info.value)
    assert "split (linux-64: 2.0, osx-arm64: 1.0)" in message and "split<=1.0" in message
    assert "--per-platform" in message
    assert info.value.package == "split"


def test_a_package_pinned_per_platform_by_markers_is_left_alone(envs, spec_of):
    spec = spec_of('split==2.0; sys_platform == "linux"', 'split==1.0; sys_platform == "darwin"')
    linux, mac = envs.resolve_together(spec, [LINUX, MAC])
    assert (pins(linux)["split"], pins(mac)["split"]) == ("2.0", "1.0")


def _lock(platform, **versions):
    files = tuple(LockedFile(name=n, version=v, kind="wheel", filename="%s-%s-py3-none-any.whl"
                             % (n, v), url="", sha256="0" * 64) for n, v in versions.items())
    return Lock("r" * 32, platform, "3.11.7", files)


def test_differences_ignore_packages_only_one_platform_has():
    locks = {LINUX: _lock(LINUX, a="2.0", b="1.0", only="1"), MAC: _lock(MAC, a="1.0", b="1.0")}
    assert differences(locks) == {("wheel", "a"): {LINUX: "2.0", MAC: "1.0"}}
    assert differences(locks, exempt={"a"}) == {}

"""Spec: decorator dicts become canonical requirements, hashed into a stable req_id."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from flowenv.errors import FlowenvError, SpecError
from flowenv.spec import Spec, python_specifier

from tests.flowenv.conftest import ROOT


def test_decorator_versions_become_requirements():
    spec = Spec.from_pypi_packages({"pandas": "1.5.0", "numpy": ">=1", "requests": ""})
    assert spec.pypi == ("numpy>=1", "pandas==1.5.0", "requests")


def test_decorator_accepts_none_and_non_string_versions():
    spec = Spec.from_pypi_packages({"requests": None, "numpy": 2})
    assert spec.pypi == ("numpy==2", "requests")


def test_package_names_are_pep503_normalised():
    assert Spec.from_pypi_packages({"Foo_Bar": "1.0"}).pypi == ("foo-bar==1.0",)
    a = Spec.from_pypi_packages({"Foo_Bar": "1.0"})
    b = Spec.from_pypi_packages({"foo-bar": "1.0"})
    c = Spec.from_pypi_packages({"foo.bar": "1.0"})
    assert a == b == c
    assert a.req_id == b.req_id == c.req_id


def test_direct_construction_is_canonical_too():
    assert Spec(pypi=("Foo_Bar==1.0",)).req_id == Spec(pypi=("foo-bar==1.0",)).req_id
    # The same requirement written two ways is one entry, not a clash.
    assert Spec(pypi=("Foo_Bar==1.0", "foo-bar==1.0")).pypi == ("foo-bar==1.0",)


def test_extras_and_markers_are_canonical():
    spec = Spec(pypi=('Req[Socks,Security] >= 2 ; python_version >= "3.8"',))
    (req,) = spec.pypi
    assert req.startswith("req[security,socks]>=2; ")
    assert 'python_version >= "3.8"' in req


def test_req_id_ignores_dict_order():
    one = Spec.from_pypi_packages({"a": "1", "b": ">=2", "c": ""}, python="3.11")
    two = Spec.from_pypi_packages({"c": "", "b": ">=2", "a": "1"}, python="3.11")
    assert one.req_id == two.req_id
    assert len(one.req_id) == 32


def test_req_id_changes_with_content():
    base = Spec.from_pypi_packages({"a": "1"}, python="3.11")
    assert base.req_id != Spec.from_pypi_packages({"a": "2"}, python="3.11").req_id
    assert base.req_id != Spec.from_pypi_packages({"a": "1"}, python="3.12").req_id
    assert base.req_id != base.replace(pre=True).req_id


def test_origin_is_not_part_of_identity():
    a = Spec.from_pypi_packages({"a": "1"}, origin="step start")
    b = Spec.from_pypi_packages({"a": "1"}, origin="step end")
    assert a == b and a.req_id == b.req_id


_CHILD = """
import json, sys
from flowenv.spec import Spec
spec = Spec.from_pypi_packages({"b": ">=2", "Foo_Bar": "1.5.0", "a": ""}, python="3.11",
                               extra_indices=["https://u:p@example.com/simple"])
print(json.dumps(spec.req_id))
"""


def test_req_id_is_the_same_in_another_process():
    spec = Spec.from_pypi_packages({"a": "", "foo-bar": "1.5.0", "b": ">=2"}, python="3.11",
                                   extra_indices=["https://other:creds@example.com/simple"])
    ids = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                             env=env, check=True, cwd=os.path.dirname(__file__))
        ids.add(json.loads(out.stdout))
    assert ids == {spec.req_id}


def test_credentials_are_not_part_of_identity():
    secret = Spec(pypi=("a",), index_url="https://user:s3cret@pkgs.example.com/simple",
                  extra_index_urls=("https://tok:en@extra.example.com/simple",))
    plain = Spec(pypi=("a",), index_url="https://pkgs.example.com/simple",
                 extra_index_urls=("https://extra.example.com/simple",))
    assert secret.req_id == plain.req_id
    text = json.dumps(secret.identity())
    for word in ("s3cret", "user", "tok", "en@"):
        assert word not in text
    assert "https://pkgs.example.com/simple" in text


def test_two_entries_for_one_package_are_kept_for_the_resolver():
    # As pip and uv do: 'black' and 'black[jupyter]', or one line per marker, merge.
    spec = Spec(pypi=("alpha==1; sys_platform == 'linux'", "Alpha>=0.5", "alpha[extra]"))
    assert spec.pypi == ('alpha==1; sys_platform == "linux"', "alpha>=0.5", "alpha[extra]")
    # A conda package asked twice differently is still an error.
    with pytest.raises(SpecError):
        Spec(conda=("numpy 1.26", "conda-forge::numpy 2.0"))


def test_invalid_requirement_is_a_spec_error():
    with pytest.raises(SpecError, match="not a valid requirement"):
        Spec.from_pypi_packages({"alpha": ">=1,,<2"}, origin="step start")
    with pytest.raises(FlowenvError):
        Spec.from_pypi_packages(["alpha"], origin="step start")


def test_overridden_by_takes_packages_and_python_from_the_override():
    base = Spec.from_pypi_packages({"alpha": "1.0", "beta": ""}, python="3.10",
                                   extra_indices=["https://a.example/simple"], origin="flow")
    step = Spec.from_pypi_packages({"Alpha": "2.0", "gamma": ">=0.2"},
                                   extra_indices=["https://b.example/simple"], origin="step")
    merged = base.overridden_by(step)
    assert merged.pypi == ("alpha==2.0", "beta", "gamma>=0.2")
    assert merged.python == "3.10"  # the step did not say
    assert merged.extra_index_urls == ("https://a.example/simple", "https://b.example/simple")
    assert merged.origin == "flow + step"
    assert base.overridden_by(step.replace(python="3.12")).python == "3.12"
    # Nothing is lost when the override is empty, and identity does not depend on origin.
    assert base.overridden_by(Spec()).req_id == base.req_id


def test_overridden_by_keeps_base_and_pre():
    first = Spec(pypi=("a",), base="f" * 32)
    second = Spec(pypi=("b",), pre=True)
    merged = first.overridden_by(second)
    assert merged.base == "f" * 32 and merged.pre
    assert merged.overridden_by(Spec(base="e" * 32)).base == "e" * 32


@pytest.mark.parametrize("constraint, inside, outside", [
    ("3.11", "3.11.9", "3.12.0"),
    ("3.11.7", "3.11.7", "3.11.8"),
    (">=3.10,<3.12", "3.10.1", "3.12.0"),
    ("3", "3.12.1", "2.7.18"),
    ("3.*", "3.9.0", "4.0.0"),
    ("3.11.*", "3.11.0", "3.10.9"),
])
def test_python_constraints(constraint, inside, outside):
    specifier = python_specifier(constraint)
    assert inside in specifier
    assert outside not in specifier


@pytest.mark.parametrize("bad", ["abc", "3.x", ">=3.10,,<", "python3"])
def test_bad_python_constraint_is_a_spec_error(bad):
    with pytest.raises(SpecError, match="Python constraint"):
        Spec(python=bad)
    with pytest.raises(SpecError) as err:
        Spec.from_pypi_packages({"a": "1"}, python=bad, origin="step start")
    assert "step start" in str(err.value)


def test_python_argument_is_normalised():
    assert Spec.from_pypi_packages({}, python=">= 3.10, < 3.12").python == ">=3.10,<3.12"
    assert Spec.from_pypi_packages({}, python=3.11).python == "3.11"
    assert Spec.from_pypi_packages({}, python="").python is None


def test_identity_round_trips():
    spec = Spec(python="3.11", pypi=("alpha==1", "beta"), constraints=("gamma<1",),
                index_url="https://pkgs.example.com/simple", find_links=("https://f.example/",),
                pre=True, base="a" * 32)
    again = Spec.from_identity(json.loads(json.dumps(spec.identity())))
    assert again == spec and again.req_id == spec.req_id


@pytest.mark.parametrize("name, channel", [
    ("https://conda.example.com/my-channel::numpy", "https://conda.example.com/my-channel"),
    ("file:///srv/channels/main::numpy", "file:///srv/channels/main"),
    ("conda-forge::numpy", "conda-forge"),
])
def test_conda_channel_may_be_a_url(name, channel):
    spec = Spec.from_conda_libraries({name: "1.26"})
    assert spec.conda == ("%s::numpy 1.26" % channel,)


@pytest.mark.parametrize("name", ["::numpy", "chan::", "a b::numpy", "numpy!", ""])
def test_malformed_conda_names_are_refused(name):
    with pytest.raises(SpecError) as err:
        Spec.from_conda_libraries({name: ""}, origin="@conda on step x")
    assert "@conda on step x" in str(err.value)


@pytest.mark.parametrize("constraint", ["3.6", "2.7", "<3.8", ">=3.6,<3.8", "<=3.7.99", "==3.7.*"])
def test_pythons_older_than_supported_are_refused(constraint):
    from flowenv.spec import check_supported_python

    with pytest.raises(SpecError, match="3.8 or later"):
        check_supported_python(constraint)


@pytest.mark.parametrize("constraint", ["3.11", ">=3.6", "<3.9", "~=3.7", ">3.7", "!=3.9", "3",
                                        "==3.11.7", ">=3.10,<3.12"])
def test_constraints_admitting_a_supported_python_pass(constraint):
    from flowenv.spec import check_supported_python

    check_supported_python(constraint)


@pytest.mark.parametrize("entry, canonical", [
    ("__cuda=12.2", "__cuda=12.2=0"), ("__cuda==12.2", "__cuda=12.2=0"),
    ("__cuda 12.2", "__cuda=12.2=0"), ("__cuda=12.2=1", "__cuda=12.2=1"), ("__cuda=", "__cuda="),
])
def test_virtual_package_spellings(entry, canonical):
    assert Spec(virtual_packages=(entry,)).virtual_packages == (canonical,)


@pytest.mark.parametrize("entry", ["cuda=12", "__cuda>=12", "__glibc=x.y", "__glibc=2.x"])
def test_virtual_packages_malformed(entry):
    with pytest.raises(SpecError):
        Spec(virtual_packages=(entry,), origin="@sys_packages on step x")


def test_glibc_reaches_pypi_specs_other_virtual_packages_only_conda_ones():
    settings = ("__cuda=12.2=0", "__glibc=2.17=0")
    pypi = Spec(pypi=("alpha",)).with_defaults(virtual_packages=settings)
    conda = Spec(conda=("condalib",)).with_defaults(virtual_packages=settings)
    assert pypi.virtual_packages == ("__glibc=2.17=0",) and pypi.glibc == (2, 17)
    assert conda.virtual_packages == settings
    assert Spec().with_defaults(virtual_packages=settings).virtual_packages == ()
    # The spec's own entries win over the settings'.
    own = Spec(pypi=("alpha",), virtual_packages=("__glibc=2.28",))
    assert own.with_defaults(virtual_packages=settings).glibc == (2, 28)

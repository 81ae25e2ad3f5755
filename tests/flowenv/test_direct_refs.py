"""Direct references as text: recognised, canonical, portable."""

from __future__ import annotations

import pytest

from flowenv.direct_refs import git_repository, parse_direct, relative_to
from flowenv.errors import SpecError
from flowenv.spec import Spec, canonical_requirement, pypi_requirement, requirement_name


@pytest.mark.parametrize("text, canonical, name", [
    ("MyLib @ git+https://host/org/repo.git@v1.2", "mylib @ git+https://host/org/repo.git@v1.2", "mylib"),
    ("git+https://host/org/repo.git@v1.2", "git+https://host/org/repo.git@v1.2", None),
    ("git+https://host/org/repo.git@main#egg=Tool_Kit&subdirectory=py",
     "tool-kit @ git+https://host/org/repo.git@main#subdirectory=py", "tool-kit"),
    ("git+ssh://git@host/org/repo.git@v1", "git+ssh://git@host/org/repo.git@v1", None),
    ("https://files.example/pkgs/My_Pkg-1.0-py3-none-any.whl",
     "my-pkg @ https://files.example/pkgs/My_Pkg-1.0-py3-none-any.whl", "my-pkg"),
    ("./libs/foo", "./libs/foo", None),
    ("libs/foo/", "./libs/foo", None),
    ("../shared", "../shared", None),
    (".", "./", None),
    ("foo[extra] @ ./libs/foo ; python_version >= '3.9'",
     "foo[extra] @ ./libs/foo ; python_version >= \"3.9\"", "foo"),
    ("/abs/path/proj", "file:///abs/path/proj", None),
    ("file:../up", "../up", None),
    ("./dist/pkg-1.0.tar.gz", "./dist/pkg-1.0.tar.gz", None),
])
def test_forms(text, canonical, name):
    assert canonical_requirement(text) == canonical
    direct = parse_direct(canonical)
    assert direct is not None and direct.name == name
    assert requirement_name(canonical) == (name or direct.location)


@pytest.mark.parametrize("text", ["alpha", "alpha>=1", "alpha[x]==1 ; sys_platform == 'linux'"])
def test_index_requirements_are_not_direct(text):
    assert parse_direct(text) is None


def test_other_vcs_and_home_paths_are_clear_errors():
    with pytest.raises(SpecError, match="git references only"):
        canonical_requirement("hg+https://host/repo")
    with pytest.raises(SpecError, match="does not expand ~"):
        canonical_requirement("~/src/lib")


def test_decorator_versions_that_are_locations():
    assert pypi_requirement("mylib", "git+https://h/r@v1") == "mylib @ git+https://h/r@v1"
    assert pypi_requirement("mylib", "@git+https://h/r@v1") == "mylib @ git+https://h/r@v1"
    assert pypi_requirement("feat", "./libs/feat") == "feat @ ./libs/feat"
    assert pypi_requirement("alpha", "1.0") == "alpha==1.0"


def test_relative_paths_are_rebased_to_the_spec_root(tmp_path):
    root = tmp_path / "project"
    assert relative_to("../libs/x", str(root / "reqs"), str(root)) == "./libs/x"
    spec = Spec(pypi=("./libs/x",), root=str(root))
    other = Spec(pypi=("./y",), root=str(root / "sub"))
    merged = spec.overridden_by(other)
    assert merged.pypi == ("./libs/x", "./sub/y") and merged.root == str(root)


def test_git_repository():
    assert git_repository("git+https://h/o/r.git@v1#subdirectory=x") == "https://h/o/r.git"
    assert git_repository("git+ssh://git@h/o/r") == "ssh://git@h/o/r"


def test_credentials_in_a_requirement_are_not_in_its_identity():
    spec = Spec(pypi=("mylib @ git+https://user:tok3n@host/org/repo@v1",))
    assert "tok3n" not in str(spec.identity()) and "tok3n" not in spec.describe()
    assert spec.req_id == Spec(pypi=("mylib @ git+https://host/org/repo@v1",)).req_id

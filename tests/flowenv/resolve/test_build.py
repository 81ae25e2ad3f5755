"""Direct references built on the resolving machine: git repositories made at test time,
local project folders, archive and wheel URLs. Each is resolved as uv resolves it, built
into a wheel, pinned by sha256 and stored like any package."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from flowenv.errors import ResolveError, SpecError
from flowenv.parsers import parse_file
from flowenv.spec import Spec
from tests.flowenv.conftest import PYTHON_MINOR, assert_same_pins, run_python, uv_compile
from tests.wheelhouse import git, make_git_repo, make_project, make_wheel


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository of project 'mylib' with tags v1.0 and v2.0 (mylib needs gamma)."""
    return make_git_repo(tmp_path / "repos" / "mylib", "mylib", ["1.0", "2.0"], ["gamma"])


def index_options(wheel_index, empty_index):
    return ("--index-url", empty_index, "--find-links", str(wheel_index))


def test_git_tag_is_built_pinned_to_its_commit_and_stored(envs, repo, tmp_path, wheel_index,
                                                         empty_index):
    reqs = write(tmp_path / "project" / "requirements.txt", """\
        mylib @ git+%s@v1.0
        beta==1.0.0
        """ % repo.as_uri())
    spec = parse_file(reqs, python=PYTHON_MINOR).replace(
        index_url=empty_index, find_links=(str(wheel_index),))
    lock = envs.resolve(spec)
    assert_same_pins(lock, uv_compile(reqs, *index_options(wheel_index, empty_index)))
    assert lock.pins()["mylib"] == "1.0" and lock.pins()["gamma"] == "0.3.0"
    built = next(f for f in lock.files if f.name == "mylib")
    commit = git(repo, "rev-list", "-n1", "v1.0")
    # The tag is pinned to the commit it resolved to; the wheel is stored like any file.
    assert built.source_url == "git+%s@%s" % (repo.as_uri(), commit)
    assert built.url == "" and built.filename == "mylib-1.0-py3-none-any.whl"
    assert envs.store.packages.has(built)
    assert lock.spec["pypi"] == ["beta==1.0.0", "mylib @ git+%s@v1.0" % repo.as_uri()]
    prefix = envs.create(lock)
    assert run_python(prefix, "import mylib; print(mylib.__version__)") == "1.0"


def test_unnamed_git_line_and_second_tag(envs, repo, tmp_path, wheel_index, empty_index):
    reqs = write(tmp_path / "requirements.txt", "git+%s@v2.0\n" % repo.as_uri())
    spec = parse_file(reqs, python=PYTHON_MINOR).replace(
        index_url=empty_index, find_links=(str(wheel_index),))
    assert spec.pypi == ("git+%s@v2.0" % repo.as_uri(),)
    lock = envs.resolve(spec)
    assert_same_pins(lock, uv_compile(reqs, *index_options(wheel_index, empty_index)))
    assert lock.pins()["mylib"] == "2.0"
    built = next(f for f in lock.files if f.name == "mylib")
    assert built.source_url.endswith(git(repo, "rev-list", "-n1", "v2.0"))


def test_missing_git_ref_names_the_repository_and_the_ref(envs, repo, make_spec):
    with pytest.raises(ResolveError) as err:
        envs.resolve(make_spec("mylib @ git+%s@v9.9" % repo.as_uri()))
    message = str(err.value)
    assert repo.as_uri() in message and "v9.9" in message
    assert "no branch, tag or commit" in message


def checkout(folder: Path) -> Path:
    """A project checkout: requirements.txt naming a library folder of the repo."""
    make_project(folder / "libs" / "featlib", "featlib", "0.5", ["alpha<2"])
    write(folder / "requirements.txt", "./libs/featlib\ndelta\n")
    return folder / "requirements.txt"


def test_relative_path_gives_the_same_ids_from_two_checkouts(envs, tmp_path, wheel_index,
                                                            empty_index):
    first = checkout(tmp_path / "alice" / "work" / "project")
    second = checkout(tmp_path / "bob" / "project")
    locks = []
    for reqs in (first, second):
        spec = parse_file(reqs, python=PYTHON_MINOR).replace(
            index_url=empty_index, find_links=(str(wheel_index),))
        assert spec.pypi == ("./libs/featlib", "delta")
        locks.append(envs.resolve(spec, force=True))
        assert_same_pins(locks[-1], uv_compile(reqs, *index_options(wheel_index, empty_index)))
    assert locks[0].req_id == locks[1].req_id
    assert locks[0].full_id == locks[1].full_id
    built = next(f for f in locks[0].files if f.name == "featlib")
    assert built.source_url == "./libs/featlib" and built.url == ""
    assert str(tmp_path) not in str(locks[0].to_dict())
    # An edit of the library is a new request.
    (second.parent / "libs" / "featlib" / "featlib" / "extra.py").write_text("X = 1\n")
    spec = parse_file(second, python=PYTHON_MINOR).replace(
        index_url=empty_index, find_links=(str(wheel_index),))
    assert envs.request(spec).req_id != locks[1].req_id


def test_folder_that_is_not_a_project_is_a_clear_error(envs, tmp_path, pypi_fields):
    (tmp_path / "libs" / "notes").mkdir(parents=True)
    reqs = write(tmp_path / "requirements.txt", "./libs/notes\n")
    with pytest.raises(SpecError) as err:
        envs.resolve(parse_file(reqs).replace(**pypi_fields))
    assert "./libs/notes" in str(err.value) and "not a Python project" in str(err.value)
    reqs.write_text("./libs/missing\n")
    with pytest.raises(SpecError, match="does not exist"):
        envs.resolve(parse_file(reqs).replace(**pypi_fields))


def test_wheel_and_archive_files_and_urls(envs, tmp_path, wheel_index, empty_index):
    dist = tmp_path / "dist"
    wheel = make_wheel(dist, "wheelpkg", "3.1", ["gamma"])
    project = make_project(tmp_path / "src" / "tarpkg", "tarpkg", "0.9")
    from flowenv.uv_runner import installed_uv
    import subprocess

    subprocess.run([installed_uv(), "build", "--sdist", "--out-dir", str(dist), "--no-config",
                    str(project)], check=True, capture_output=True)
    reqs = write(tmp_path / "requirements.txt", """\
        %s
        ./dist/tarpkg-0.9.tar.gz
        """ % wheel.as_uri())
    spec = parse_file(reqs, python=PYTHON_MINOR).replace(
        index_url=empty_index, find_links=(str(wheel_index),))
    assert spec.pypi == ("./dist/tarpkg-0.9.tar.gz", "wheelpkg @ " + wheel.as_uri())
    lock = envs.resolve(spec)
    assert_same_pins(lock, uv_compile(reqs, *index_options(wheel_index, empty_index)))
    assert lock.pins() == {"wheelpkg": "3.1", "tarpkg": "0.9", "gamma": "0.3.0"}
    prefix = envs.create(lock)
    assert run_python(prefix, "import wheelpkg, tarpkg; print(tarpkg.__version__)") == "0.9"


def test_pure_build_serves_a_foreign_platform_but_a_native_one_does_not(envs, tmp_path,
                                                                        pypi_fields):
    make_project(tmp_path / "pure", "purelib", "1.0")
    make_project(tmp_path / "native", "nativelib", "1.0",
                 tag="cp%s-cp%s-linux_x86_64" % ((PYTHON_MINOR.replace(".", ""),) * 2))
    pure = Spec(pypi=("./pure",), python=PYTHON_MINOR, root=str(tmp_path), **pypi_fields)
    lock = envs.resolve(pure, platform="osx-arm64")
    assert lock.pins() == {"purelib": "1.0"}
    native = Spec(pypi=("./native",), python=PYTHON_MINOR, root=str(tmp_path), **pypi_fields)
    with pytest.raises(ResolveError) as err:
        envs.resolve(native, platform="osx-arm64")
    assert "platform-specific" in str(err.value) and "osx-arm64" in str(err.value)


def test_extension_of_a_git_base_reuses_its_built_wheel(envs, repo, make_spec):
    base = envs.resolve(make_spec("mylib @ git+%s@v1.0" % repo.as_uri()))
    shutil.rmtree(repo)  # the repository is gone: the base's wheel comes from the store
    ext = envs.resolve(make_spec("epsilon", python=None, base=base.full_id))
    assert ext.pins()["mylib"] == "1.0" and "epsilon" in ext.pins()
    mine = next(f for f in ext.files if f.name == "mylib")
    assert mine == next(f for f in base.files if f.name == "mylib")


def test_exported_lock_names_what_a_wheel_was_built_from(envs, repo, tmp_path, make_spec):
    from flowenv.exporters import export

    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib

    make_project(tmp_path / "libs" / "local", "locallib", "0.1")
    lock = envs.resolve(make_spec("mylib @ git+%s@v1.0" % repo.as_uri(), "./libs/local",
                                  root=str(tmp_path)))
    commit = git(repo, "rev-list", "-n1", "v1.0")
    requirements = export(lock, "requirements")
    assert "mylib @ git+%s@%s\n" % (repo.as_uri(), commit) in requirements
    assert "locallib @ ./libs/local\n" in requirements
    packages = {p["name"]: p for p in tomllib.loads(export(lock, "pylock"))["packages"]}
    assert packages["mylib"]["vcs"] == {"type": "git", "url": repo.as_uri(), "commit-id": commit}
    assert packages["locallib"]["directory"] == {"path": "./libs/local"}
    assert "wheels" in packages["gamma"]

"""pyproject.toml -> Spec as uv and Poetry read it, and the pins uv gives for the same
project."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flowenv.errors import SpecError
from flowenv.parsers import parse_file
from flowenv.parsers.pyproject import parse_pyproject, poetry_constraint
from tests.flowenv.conftest import PYTHON_MINOR, assert_same_pins, uv_compile
from tests.wheelhouse import build_index, make_git_repo, make_project, simple_index_url


def write(folder: Path, text: str, name: str = "pyproject.toml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("constraint, pep440", [
    ("^1.2.3", ">=1.2.3,<2"), ("^0.2.3", ">=0.2.3,<0.3"), ("^0.0.3", ">=0.0.3,<0.0.4"),
    ("^2", ">=2,<3"), ("~1.2.3", ">=1.2.3,<1.3"), ("~1", ">=1,<2"), ("*", ""),
    ("1.2.*", "==1.2.*"), ("2.0.1", "==2.0.1"), (">= 1.2, < 1.5", ">=1.2,<1.5"),
    ("~=1.4", "~=1.4"),
])
def test_poetry_constraints(constraint, pep440):
    assert poetry_constraint(constraint) == pep440


def test_poetry_or_constraint_is_a_clear_error(tmp_path):
    path = write(tmp_path, """\
        [tool.poetry.dependencies]
        python = "^3.10"
        alpha = "^1.0 || ^2.0"
        """)
    with pytest.raises(SpecError) as err:
        parse_pyproject(path)
    assert err.value.file == str(path)
    assert err.value.entry == "[tool.poetry.dependencies] alpha" and "||" in str(err.value)


def test_poetry_only_project(tmp_path, envs, wheel_index, empty_index):
    """A Poetry project as teams write it: sources, caret constraints, extras, markers,
    optional packages (extras only) and dev groups (not part of the environment)."""
    internal = build_index(tmp_path / "internal", [("gamma", "0.1.0", ())])
    path = write(tmp_path / "project", """\
        [tool.poetry]
        name = "analysis"
        version = "0.1.0"
        description = ""
        authors = ["Team <team@example.com>"]

        [tool.poetry.dependencies]
        python = "^%s"
        beta = "^1.0"
        delta = { version = ">=3", markers = "sys_platform == 'linux' or sys_platform == 'darwin'" }
        gamma = { version = "*", source = "internal" }
        epsilon = { version = "^1.0", optional = true }

        [tool.poetry.group.dev.dependencies]
        pytest = "^8.0"

        [[tool.poetry.source]]
        name = "internal"
        url = "%s"
        priority = "explicit"

        [build-system]
        requires = ["poetry-core"]
        build-backend = "poetry.core.masonry.api"
        """ % (PYTHON_MINOR, simple_index_url(internal)))
    said = []
    spec = parse_file(path, warn=said.append)
    assert spec.python == ">=%s,<4" % PYTHON_MINOR
    assert spec.pypi == ("beta<2,>=1.0", "delta>=3; sys_platform == \"linux\" or "
                         "sys_platform == \"darwin\"", "gamma")
    assert spec.index_pins == ("gamma=%s" % simple_index_url(internal),)
    assert "dev" in said[0]
    lock = envs.resolve(spec.replace(index_url=empty_index, find_links=(str(wheel_index),)))
    # gamma comes from the explicit index the project names (0.1.0), not the newest.
    assert lock.pins() == {"alpha": "2.0.0", "beta": "1.5.0", "delta": "3.0.0", "gamma": "0.1.0"}
    # What uv pip compile gives for the same dependencies written as uv writes them.
    same = write(tmp_path / "as-uv", """\
        [project]
        name = "analysis"
        version = "0.1.0"
        requires-python = ">=%s,<4"
        dependencies = ["beta>=1.0,<2", "delta>=3 ; sys_platform == 'linux' or sys_platform == 'darwin'", "gamma"]
        [tool.uv.sources]
        gamma = { index = "internal" }
        [[tool.uv.index]]
        name = "internal"
        url = "%s"
        explicit = true
        """ % (PYTHON_MINOR, simple_index_url(internal)))
    assert_same_pins(lock, uv_compile(same, "--index-url", empty_index,
                                      "--find-links", str(wheel_index)))


def test_poetry_primary_and_supplemental_sources(tmp_path):
    path = write(tmp_path, """\
        [tool.poetry.dependencies]
        python = "^3.9"
        alpha = "*"

        [[tool.poetry.source]]
        name = "mirror"
        url = "https://mirror.example/simple"
        priority = "primary"

        [[tool.poetry.source]]
        name = "extras"
        url = "https://extras.example/simple"
        priority = "supplemental"
        """)
    spec = parse_pyproject(path)
    # Primary sources replace PyPI and come first; supplemental ones after them.
    assert spec.extra_index_urls == ("https://mirror.example/simple",)
    assert spec.index_url == "https://extras.example/simple"
    assert spec.index_names == ("extras=https://extras.example/simple",
                                "mirror=https://mirror.example/simple")


def test_uv_project_with_index_git_and_path_sources(tmp_path, envs, wheel_index, empty_index):
    internal = build_index(tmp_path / "internal", [("gamma", "0.2.0", ())])
    repo = make_git_repo(tmp_path / "repos" / "mylib", "mylib", ["1.0", "2.0"])
    make_project(tmp_path / "project" / "packages" / "shared", "shared", "0.3", ["alpha<2"])
    path = write(tmp_path / "project", """\
        [project]
        name = "flows"
        version = "0.1.0"
        requires-python = ">=3.9"
        dependencies = [
            "mylib",
            "shared",
            "gamma",
            "beta",
        ]

        [tool.uv.sources]
        mylib = { git = "%s", tag = "v1.0" }
        shared = { path = "packages/shared" }
        gamma = { index = "internal" }

        [[tool.uv.index]]
        name = "internal"
        url = "%s"
        explicit = true
        """ % (repo.as_uri(), simple_index_url(internal)))
    spec = parse_file(path, python=PYTHON_MINOR)
    assert spec.pypi == ("beta", "gamma", "mylib @ git+%s@v1.0" % repo.as_uri(),
                         "shared @ ./packages/shared")
    lock = envs.resolve(spec.replace(index_url=empty_index, find_links=(str(wheel_index),)))
    assert_same_pins(lock, uv_compile(path, "--index-url", empty_index,
                                      "--find-links", str(wheel_index)))
    assert lock.pins()["gamma"] == "0.2.0" and lock.pins()["mylib"] == "1.0"


def test_uv_default_and_extra_indexes(tmp_path):
    path = write(tmp_path, """\
        [project]
        name = "x"
        version = "0"
        dependencies = ["alpha"]
        [[tool.uv.index]]
        name = "corp"
        url = "https://corp.example/simple"
        default = true
        [[tool.uv.index]]
        url = "https://extra.example/simple"
        """)
    spec = parse_pyproject(path)
    assert spec.index_url == "https://corp.example/simple"
    assert spec.extra_index_urls == ("https://extra.example/simple",)
    assert spec.index_names == ("corp=https://corp.example/simple",)


def test_dynamic_dependencies_from_a_requirements_file(tmp_path, envs, wheel_index, empty_index):
    """setuptools' `dynamic = ["dependencies"]` reading requirements.txt: flowenv reads
    the file the project names; uv gets the same list by building the metadata."""
    project = make_project(tmp_path / "project", "app", "1.0", ["beta==1.0.0", "delta"])
    (project / "requirements.txt").write_text("beta==1.0.0\ndelta\n")
    path = write(project, """\
        [build-system]
        requires = []
        build-backend = "test_backend"
        backend-path = ["."]

        [project]
        name = "app"
        version = "1.0"
        dynamic = ["dependencies"]

        [tool.setuptools.dynamic]
        dependencies = { file = ["requirements.txt"] }
        """)
    spec = parse_file(path, python=PYTHON_MINOR)
    assert spec.pypi == ("beta==1.0.0", "delta")
    lock = envs.resolve(spec.replace(index_url=empty_index, find_links=(str(wheel_index),)))
    assert_same_pins(lock, uv_compile(path, "--index-url", empty_index,
                                      "--find-links", str(wheel_index)))


def test_computed_dynamic_dependencies_are_a_clear_error(tmp_path):
    path = write(tmp_path, """\
        [project]
        name = "app"
        version = "1.0"
        dynamic = ["dependencies"]
        """)
    with pytest.raises(SpecError) as err:
        parse_pyproject(path)
    assert "dynamic" in str(err.value) and err.value.file == str(path)


def test_no_dependencies_anywhere_is_a_clear_error(tmp_path):
    path = write(tmp_path, "[tool.black]\nline-length = 100\n")
    with pytest.raises(SpecError, match="no \\[project\\] table"):
        parse_pyproject(path)


def test_unknown_uv_index_name(tmp_path):
    path = write(tmp_path, """\
        [project]
        name = "x"
        version = "0"
        dependencies = ["torch"]
        [tool.uv.sources]
        torch = { index = "pytorch-cpu" }
        """)
    with pytest.raises(SpecError) as err:
        parse_pyproject(path)
    assert err.value.entry == "[tool.uv.sources] torch" and "pytorch-cpu" in str(err.value)

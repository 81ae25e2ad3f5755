"""requirements.txt -> Spec, with the pip options flowenv supports and clear errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flowenv.errors import SpecError
from flowenv.parsers.requirements_txt import parse_requirements_file


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_requirements_comments_extras_and_markers(tmp_path):
    path = write(tmp_path, "requirements.txt", """\
        # full-line comment
        Alpha_Pkg==1.0   # trailing comment
           # indented comment

        requests[socks,Security]>=2.0
        colorama; sys_platform == "win32"
        pinned @ https://files.example.com/pinned-1.0-py3-none-any.whl#sha256=abc
        """)
    spec = parse_requirements_file(path, python="3.11")
    assert spec.python == "3.11"
    assert spec.origin == str(path)
    assert "alpha-pkg==1.0" in spec.pypi
    assert "requests[security,socks]>=2.0" in spec.pypi
    assert 'colorama; sys_platform == "win32"' in spec.pypi
    # A '#' inside a URL is a fragment, not a comment.
    assert "pinned @ https://files.example.com/pinned-1.0-py3-none-any.whl#sha256=abc" in spec.pypi
    assert len(spec.pypi) == 4


def test_requirements_includes_and_constraints(tmp_path):
    write(tmp_path, "sub/base.txt", "gamma>=0.1\n-c ../constraints.txt\n")
    write(tmp_path, "constraints.txt", "alpha<2  # keep it old\n")
    path = write(tmp_path, "req/requirements.txt", """\
        -r ../sub/base.txt
        beta
        """)
    spec = parse_requirements_file(path)
    assert spec.pypi == ("beta", "gamma>=0.1")
    assert spec.constraints == ("alpha<2",)


def test_requirements_include_cycle_is_read_once(tmp_path):
    write(tmp_path, "a.txt", "-r b.txt\nalpha\n")
    write(tmp_path, "b.txt", "-r a.txt\nbeta\n")
    assert parse_requirements_file(tmp_path / "a.txt").pypi == ("alpha", "beta")


def test_requirements_index_options(tmp_path):
    (tmp_path / "wheels").mkdir()
    path = write(tmp_path, "requirements.txt", """\
        --index-url https://pkgs.example.com/simple
        --extra-index-url=https://extra.example.com/simple
        --extra-index-url https://more.example.com/simple
        --find-links ./wheels
        -f https://links.example.com/
        --pre
        alpha
        """)
    spec = parse_requirements_file(path)
    assert spec.index_url == "https://pkgs.example.com/simple"
    assert spec.extra_index_urls == ("https://extra.example.com/simple",
                                     "https://more.example.com/simple")
    # Relative to the file, kept relative: the requirements id does not name the folder.
    assert spec.find_links == ("./wheels", "https://links.example.com/")
    assert spec.root == str(tmp_path.resolve())
    assert spec.pre is True
    assert spec.pypi == ("alpha",)


def test_requirements_short_options_with_attached_values(tmp_path):
    write(tmp_path, "more.txt", "beta\n")
    path = write(tmp_path, "requirements.txt", "-rmore.txt\n-ihttps://i.example.com/simple\nalpha\n")
    spec = parse_requirements_file(path)
    assert spec.pypi == ("alpha", "beta")
    assert spec.index_url == "https://i.example.com/simple"


def test_requirements_line_continuations(tmp_path):
    path = write(tmp_path, "requirements.txt", """\
        alpha>=1.0,\\
            <2.0
        --extra-index-url \\
            https://extra.example.com/simple
        beta
        """)
    spec = parse_requirements_file(path)
    assert spec.pypi == ("alpha<2.0,>=1.0", "beta")
    assert spec.extra_index_urls == ("https://extra.example.com/simple",)


def test_requirements_env_vars_are_expanded(tmp_path):
    environ = {"ALPHA_VERSION": "1.2.3", "INDEX_TOKEN": "tok"}
    path = write(tmp_path, "requirements.txt", """\
        --index-url https://${INDEX_TOKEN}@pkgs.example.com/simple
        alpha==${ALPHA_VERSION}
        """)
    spec = parse_requirements_file(path, environ=environ)
    assert spec.pypi == ("alpha==1.2.3",)
    assert spec.index_url == "https://tok@pkgs.example.com/simple"
    assert "tok" not in str(spec.identity())


def test_requirements_unset_env_var_names_it(tmp_path, monkeypatch):
    monkeypatch.delenv("FLOWENV_TEST_UNSET", raising=False)
    path = write(tmp_path, "requirements.txt", "alpha\nbeta==${FLOWENV_TEST_UNSET}\n")
    with pytest.raises(SpecError) as err:
        parse_requirements_file(path)
    assert "FLOWENV_TEST_UNSET" in str(err.value)
    assert "line 2" in str(err.value)


def test_malformed_line_names_file_and_line(tmp_path):
    path = write(tmp_path, "requirements.txt", """\
        # header
        alpha

        beta>=1,,<2
        """)
    with pytest.raises(SpecError) as err:
        parse_requirements_file(path)
    message = str(err.value)
    assert str(path) in message
    assert "line 4" in message
    assert "beta>=1,,<2" in message


def test_malformed_line_in_included_file_names_that_file(tmp_path):
    inner = write(tmp_path, "inner.txt", "ok\nnot valid!!\n")
    path = write(tmp_path, "requirements.txt", "-r inner.txt\n")
    with pytest.raises(SpecError) as err:
        parse_requirements_file(path)
    assert "%s, line 2" % inner in str(err.value)


def test_continued_line_reports_its_first_line(tmp_path):
    path = write(tmp_path, "requirements.txt", "alpha\nbeta>=1,\\\n,<2\n")
    with pytest.raises(SpecError, match="line 2"):
        parse_requirements_file(path)


def test_unsupported_option_is_a_clear_error(tmp_path):
    path = write(tmp_path, "requirements.txt", "alpha\n--no-binary :all:\n")
    with pytest.raises(SpecError) as err:
        parse_requirements_file(path)
    message = str(err.value)
    assert "--no-binary" in message and "not supported" in message
    assert "line 2" in message and str(path) in message


@pytest.mark.parametrize("line, expected", [
    ("-e ./src", "./src"), ("--editable ./src", "./src"), ("-e src", "./src"),
    ("-e.", "./"), ("-e git+https://x.example/r.git#egg=r", "r @ git+https://x.example/r.git"),
])
def test_editable_is_installed_as_a_plain_package(tmp_path, line, expected):
    # A shared environment is never editable: the project is built from the folder as it
    # is now, as pip would install it without -e.
    path = write(tmp_path, "requirements.txt", line + "\n")
    assert parse_requirements_file(path).pypi == (expected,)


def test_missing_file_is_a_spec_error(tmp_path):
    write(tmp_path, "requirements.txt", "-r nowhere.txt\n")
    with pytest.raises(SpecError, match="nowhere.txt"):
        parse_requirements_file(tmp_path / "requirements.txt")


def test_package_on_two_lines_is_kept_for_the_resolver(tmp_path):
    write(tmp_path, "more.txt", "Alpha[x]\n")
    path = write(tmp_path, "requirements.txt", "alpha==1\n-r more.txt\n")
    assert parse_requirements_file(path).pypi == ("alpha==1", "alpha[x]")


def test_option_without_value_is_an_error(tmp_path):
    path = write(tmp_path, "requirements.txt", "--index-url\n")
    with pytest.raises(SpecError, match="exactly one value"):
        parse_requirements_file(path)


# -- the everyday forms of real projects' files, resolved as uv resolves them -------------


@pytest.fixture
def forms_index(tmp_path, wheel_index):
    """The test wheels plus a formatter with an extra, like black[jupyter]."""
    from tests.wheelhouse import make_wheel

    folder = tmp_path / "forms-wheels"
    folder.mkdir()
    for wheel in wheel_index.glob("*.whl"):
        (folder / wheel.name).write_bytes(wheel.read_bytes())
    make_wheel(folder, "blackish", "24.1", ["gamma ; extra == 'jupyter'"], extras=["jupyter"])
    make_wheel(folder, "blackish", "23.1")
    return folder


def resolved_like_uv(envs, path, index, empty_index):
    from tests.flowenv.conftest import PYTHON_MINOR, assert_same_pins, uv_compile

    spec = parse_requirements_file(path, python=PYTHON_MINOR).replace(
        index_url=empty_index, find_links=(str(index),))
    lock = envs.resolve(spec)
    assert_same_pins(lock, uv_compile(path, "--index-url", empty_index, "--find-links",
                                      str(index)))
    return spec, lock


def test_one_package_on_several_lines(tmp_path, envs, forms_index, empty_index):
    """As real projects write it: a package and the same with an extra, a bare name and a
    pinned one, and one pin per Python range: pip and uv merge them."""
    path = write(tmp_path, "requirements.txt", """\
        # formatting, also for notebooks
        blackish
        blackish[jupyter]
        # data
        alpha
        alpha==1.0.0
        epsilon==1.0.0 ; python_version < "3.8"
        epsilon>=1.0.0 ; python_version >= "3.8"
        """)
    spec, lock = resolved_like_uv(envs, path, forms_index, empty_index)
    assert "blackish" in spec.pypi and "blackish[jupyter]" in spec.pypi
    assert lock.pins() == {"alpha": "1.0.0", "blackish": "24.1", "epsilon": "1.0.0",
                           "gamma": "0.3.0"}


def test_unnamed_url_and_vcs_lines(tmp_path, envs, forms_index, empty_index):
    from tests.wheelhouse import make_git_repo, make_wheel

    repo = make_git_repo(tmp_path / "repos" / "toolkit", "toolkit", ["0.1", "0.2"], ["alpha"])
    wheel = make_wheel(tmp_path / "downloads", "vendored", "5.0")
    path = write(tmp_path, "requirements.txt", """\
        git+%s@v0.1
        %s
        beta
        """ % (repo.as_uri(), wheel.as_uri()))
    spec, lock = resolved_like_uv(envs, path, forms_index, empty_index)
    assert spec.pypi == ("beta", "git+%s@v0.1" % repo.as_uri(), "vendored @ " + wheel.as_uri())
    assert lock.pins()["toolkit"] == "0.1" and lock.pins()["vendored"] == "5.0"


def test_trusted_host_and_no_index(tmp_path):
    path = write(tmp_path, "requirements.txt", """\
        --trusted-host pypi.internal.example
        --no-index
        --find-links ./wheels
        alpha
        """)
    spec = parse_requirements_file(path)
    assert spec.trusted_hosts == ("pypi.internal.example",) and spec.no_index
    # How to reach an index is not what was asked for: the id does not change.
    assert spec.req_id == spec.replace(trusted_hosts=()).req_id


def test_relative_paths_of_an_included_file_are_relative_to_it(tmp_path):
    from tests.wheelhouse import make_project

    make_project(tmp_path / "libs" / "core", "core", "1.0")
    write(tmp_path, "reqs/base.txt", "../libs/core\n-e ../libs/core\n")
    path = write(tmp_path, "requirements.txt", "-r reqs/base.txt\n")
    spec = parse_requirements_file(path)
    assert spec.pypi == ("./libs/core",)


def test_the_reference_extensions_corner_cases_file(tmp_path):
    """The reference extension's own test input: a git commit, a pin, a local folder."""
    path = write(tmp_path, "corner-cases.txt", """\
        clip@git+https://github.com/openai/CLIP.git@d50d76daa670286dd6cacf3bcd80b5e4823fc8e1
        outlier-detector==0.0.3
        foo@file:///tmp/build_foo_pkg
        """)
    assert parse_requirements_file(path).pypi == (
        "clip @ git+https://github.com/openai/CLIP.git@d50d76daa670286dd6cacf3bcd80b5e4823fc8e1",
        "foo @ file:///tmp/build_foo_pkg", "outlier-detector==0.0.3")


def test_the_reference_extensions_own_lines(tmp_path):
    path = write(tmp_path, "requirements.txt", """\
        python==3.11
        --conda-pkg ffmpeg==6.1
        --conda-pkg conda-forge::lame >= 3.100
        --conda-pkg sox
        --conda-channel bioconda
        --sys-pkg __cuda==12.2
        alpha==1.0
        """)
    spec = parse_requirements_file(path)
    assert spec.python == "3.11" and spec.pypi == ("alpha==1.0",)
    assert spec.conda == ("ffmpeg 6.1", "conda-forge::lame >=3.100", "sox")
    assert spec.channels == ("bioconda",) and spec.virtual_packages == ("__cuda=12.2=0",)
    # --python wins over the file's line; a range stays a range.
    assert parse_requirements_file(path, python="3.12").python == "3.12"
    ranged = write(tmp_path, "ranged.txt", "python>=3.10,<3.12\n")
    assert parse_requirements_file(ranged).python == "<3.12,>=3.10"


@pytest.mark.parametrize("line, message", [
    ("--sys-pkg __cuda", "not a virtual package"),
    ("--sys-pkg __cuda>=12", "not a virtual package"),
    ("--sys-pkg __glibc==two", "not a glibc version"),
    ("--conda-pkg", "takes a value"),
    ("--conda-pkg ==1.0", "cannot read the conda package"),
    ("python", "gives the Python version"),
])
def test_the_reference_lines_malformed(tmp_path, line, message):
    path = write(tmp_path, "requirements.txt", "alpha\n%s\n" % line)
    with pytest.raises(SpecError) as err:
        parse_requirements_file(path)
    assert message in str(err.value) and "line 2" in str(err.value)

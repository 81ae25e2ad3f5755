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
    assert spec.find_links == (str((tmp_path / "wheels").resolve()), "https://links.example.com/")
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
    path = write(tmp_path, "requirements.txt", "alpha\n--trusted-host example.com\n")
    with pytest.raises(SpecError) as err:
        parse_requirements_file(path)
    message = str(err.value)
    assert "--trusted-host" in message and "not supported" in message
    assert "line 2" in message and str(path) in message


@pytest.mark.parametrize("line", ["-e ./src", "--editable ./src", "-e git+https://x.example/r.git#egg=r"])
def test_editable_is_a_clear_error(tmp_path, line):
    path = write(tmp_path, "requirements.txt", line + "\n")
    with pytest.raises(SpecError, match="editable"):
        parse_requirements_file(path)


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

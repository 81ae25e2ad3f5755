"""environment.yml -> Spec, and an environment.yml env made for real."""

from __future__ import annotations

import textwrap

import pytest

from flowenv.errors import SpecError
from flowenv.parsers.environment_yml import DEFAULTS_CHANNELS, parse_environment_file

from tests.flowenv.conftest import PYTHON_MINOR, versions


def write(tmp_path, text, name="environment.yml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_translates_conda_forms(tmp_path):
    path = write(tmp_path, """
        name: my-env
        channels: [conda-forge, nodefaults]
        dependencies:
          - python=3.11
          - numpy=1.26
          - scipy=1.11=py311_0
          - pandas==2.1
          - requests>=2.0
          - six >=1.2,<2
          - attrs >= 23
          - bioconda::samtools=1.17
          - zlib 1.2.13 h0
          - pip
          - tqdm
    """)
    spec = parse_environment_file(path)
    assert spec.python == "3.11"
    assert spec.channels == ("conda-forge",)
    assert spec.conda == ("attrs >=23", "numpy 1.26.*", "pandas ==2.1", "requests >=2.0",
                          "bioconda::samtools 1.17.*", "scipy 1.11.* py311_0",
                          "six >=1.2,<2", "tqdm", "zlib 1.2.13 h0")
    assert spec.origin == str(path)


def test_python_forms_and_override(tmp_path):
    path = write(tmp_path, "dependencies: ['python>=3.10,<3.12', condalib]\n")
    assert parse_environment_file(path).python == ">=3.10,<3.12"
    assert parse_environment_file(path, python="3.12").python == "3.12"
    assert parse_environment_file(write(tmp_path, "dependencies: ['python 3.11.*']\n", "b.yml")).python == "3.11"
    assert parse_environment_file(write(tmp_path, "dependencies: [python]\n", "c.yml")).python is None


def test_defaults_channel_is_spelled_out(tmp_path):
    spec = parse_environment_file(write(tmp_path, "channels: [defaults]\ndependencies: [zlib]\n"))
    assert spec.channels == DEFAULTS_CHANNELS


def test_pip_section(tmp_path):
    (tmp_path / "wheels").mkdir()
    path = write(tmp_path, """
        dependencies:
          - condalib
          - pip:
            - --index-url https://pypi.example/simple
            - --extra-index-url https://extra.example/simple
            - --find-links ./wheels
            - --pre
            - Requests[Security] >=2
            - alpha==1.0.0
    """)
    spec = parse_environment_file(path)
    assert spec.pypi == ("alpha==1.0.0", "requests[security]>=2")
    assert spec.index_url == "https://pypi.example/simple"
    assert spec.extra_index_urls == ("https://extra.example/simple",)
    # Relative to the file, kept relative: the requirements id does not name the folder.
    assert spec.find_links == ("./wheels",)
    assert spec.root == str(tmp_path.resolve())
    assert spec.pre is True


@pytest.mark.parametrize("text, entry", [
    ("dependencies: ['numpy=1.2=b=c']", "numpy=1.2=b=c"),
    ("dependencies: [\"numpy[version='>=1']\"]", "numpy[version="),
    ("dependencies: ['python=abc']", "python=abc"),
    ("dependencies: ['%bad']", "%bad"),
    ("dependencies: [{pip: ['not a requirement !!']}]", "not a requirement !!"),
    ("dependencies: [{pip: ['--no-deps']}]", "--no-deps"),
    ("dependencies: [{conda: [numpy]}]", "conda"),
    ("dependencies: [3.5]", "3.5"),
    ("channels: ['two words']\ndependencies: []", "channels"),
    ("dependencies: [numpy=1, numpy=2]", "numpy"),
    ("dependencies: [python=3.10, numpy, 'python>=3.11']", "python>=3.11"),
])
def test_errors_name_file_and_entry(tmp_path, text, entry):
    path = write(tmp_path, text + "\n")
    with pytest.raises(SpecError) as err:
        parse_environment_file(path)
    assert err.value.file == str(path)
    assert str(path) in str(err.value)
    assert entry in str(err.value)


def test_python_given_twice_is_an_error(tmp_path):
    # conda would silently keep one; flowenv cannot know which one was meant.
    path = write(tmp_path, "dependencies:\n  - python=3.10\n  - numpy\n  - python=3.11\n")
    with pytest.raises(SpecError) as err:
        parse_environment_file(path)
    assert err.value.entry == "dependency 'python=3.11'"
    assert "python is given twice" in str(err.value)


def test_unknown_top_level_keys_are_ignored_with_a_warning(tmp_path):
    path = write(tmp_path, """
        name: analysis
        variables: {OMP_NUM_THREADS: "1"}
        dependencies: [zlib]
    """)
    said = []
    spec = parse_environment_file(path, warn=said.append)
    assert spec.conda == ("zlib",)
    assert len(said) == 1 and "'variables'" in said[0] and "ignored" in said[0]
    with pytest.warns(UserWarning, match="variables"):
        parse_environment_file(path)


def test_conda_spellings_read_as_conda_reads_them(tmp_path):
    path = write(tmp_path, """
        dependencies:
          - numpy=>=1.26
          - scipy=<2
          - defaults::zlib
          - conda-forge::tqdm=4
    """)
    spec = parse_environment_file(path)
    # 'name=>=1.0' is '>=1.0' (the '=' is conda's separator), not '>1.0'.
    assert spec.conda == ("numpy >=1.26", "scipy <2", "conda-forge::tqdm 4.*",
                          "https://repo.anaconda.com/pkgs/main::zlib")


def test_pip_entries_written_name_equals_version(tmp_path):
    # The reference extension's spelling; pip itself would refuse it.
    path = write(tmp_path, """
        dependencies:
          - condalib
          - pip:
            - alpha = 1.0.0
            - beta = >=1.0
            - Requests[socks] = 2.31
    """)
    assert parse_environment_file(path).pypi == (
        "alpha==1.0.0", "beta>=1.0", "requests[socks]==2.31")


def test_pypi_indices_section(tmp_path):
    path = write(tmp_path, """
        pypi-indices:
          - https://pypi.internal.example/simple
        dependencies:
          - pip:
            - alpha
    """)
    spec = parse_environment_file(path)
    assert spec.extra_index_urls == ("https://pypi.internal.example/simple",)


def test_unreadable_and_invalid_yaml(tmp_path):
    with pytest.raises(SpecError) as err:
        parse_environment_file(tmp_path / "missing.yml")
    assert "missing.yml" in str(err.value)
    path = write(tmp_path, "dependencies: [a\n  b: [\n")
    with pytest.raises(SpecError) as err:
        parse_environment_file(path)
    assert str(path) in str(err.value) and "YAML" in str(err.value)
    with pytest.raises(SpecError) as err:
        parse_environment_file(write(tmp_path, "- numpy\n", "list.yml"))
    assert "list.yml" in str(err.value)


def test_bad_python_override(tmp_path):
    with pytest.raises(SpecError) as err:
        parse_environment_file(write(tmp_path, "dependencies: [zlib]\n"), python="three")
    assert "environment.yml" in str(err.value) and "three" in str(err.value)
    assert err.value.entry == "--python"


def test_environment_yml_env_end_to_end(tmp_path, envs, channels, wheel_index, empty_index):
    path = write(tmp_path, """
        name: ignored
        channels:
          - %s
        dependencies:
          - python=%s
          - condalib=1.0
          - pip:
            - --index-url %s
            - --find-links %s
            - alpha==2.0.0
            - pypiuser
    """ % (channels["main"], PYTHON_MINOR, empty_index, wheel_index))
    spec = parse_environment_file(path)
    lock = envs.resolve(spec)
    assert {f.name: f.kind for f in lock.files}["alpha"] == "wheel"
    prefix = envs.create(lock)
    assert versions(prefix, "condalib", "alpha", "pypiuser") == {
        "condalib": "1.0", "alpha": "2.0.0", "pypiuser": "1.0"}


def test_sys_lists_give_virtual_packages(tmp_path):
    path = tmp_path / "environment.yml"
    path.write_text(textwrap.dedent("""\
        dependencies:
          - condalib=1.0
          - sys:
            - __glibc=2.27
            - __cuda==12.2
        """))
    assert parse_environment_file(path).virtual_packages == ("__cuda=12.2=0", "__glibc=2.27=0")
    path.write_text("dependencies: [condalib]\nsys: [__cuda 12.2]\n")
    assert parse_environment_file(path).virtual_packages == ("__cuda=12.2=0",)
    path.write_text("dependencies:\n  - sys:\n    - cuda=12\n")
    with pytest.raises(SpecError) as err:
        parse_environment_file(path)
    assert str(path) in str(err.value) and "sys entry 'cuda=12'" in str(err.value)

"""References: aliases ns/name[:tag] and @{VAR} expansion."""

from __future__ import annotations

import pytest

from flowenv.errors import AliasError, FlowenvError, SpecError
from flowenv.refs import Alias, expand_vars, is_full_id


def test_alias_default_tag_is_latest():
    alias = Alias.parse("team/ml-env")
    assert (alias.name, alias.tag) == ("team/ml-env", "latest")
    assert str(alias) == "team/ml-env:latest"
    assert alias.mutable
    assert Alias.parse("team/ml-env") == Alias.parse("team/ml-env:latest")


@pytest.mark.parametrize("tag", ["latest", "candidate", "stable"])
def test_mutable_tags(tag):
    assert Alias.parse("team/env:" + tag).mutable


@pytest.mark.parametrize("tag", ["v1", "v2.1.0", "2024.06.01", "release_1", "latest2"])
def test_other_tags_are_immutable(tag):
    alias = Alias.parse("team/env:" + tag)
    assert alias.tag == tag and not alias.mutable


def test_nested_names_are_allowed():
    assert Alias.parse("org/team/env.x_y-z:v1").name == "org/team/env.x_y-z"
    assert Alias.parse("  team/env:v1 ").tag == "v1"


@pytest.mark.parametrize("text", ["Team/X", "../x", "a//b", "/a", "a/", "a/../b", "team/.hidden",
                                  "a b", "", "-x/y"])
def test_invalid_names_are_rejected(text):
    with pytest.raises(AliasError) as err:
        Alias.parse(text)
    assert "Invalid environment name" in str(err.value)
    assert "team/ml-env:v1" in str(err.value)  # shows an example that works


@pytest.mark.parametrize("text", ["a:b:c", "team/env:V1", "team/env:..", "team/env:-x",
                                  "team/env:" + "x" * 129])
def test_invalid_tags_are_rejected(text):
    with pytest.raises(AliasError, match="Invalid tag"):
        Alias.parse(text)


def test_alias_errors_are_flowenv_errors():
    with pytest.raises(FlowenvError):
        Alias.parse("Team/X")


def test_expand_vars():
    environ = {"ENV_VERSION": "v7", "RUN_ID": "856"}
    assert expand_vars("team/env:@{ENV_VERSION}", "step start", environ) == "team/env:v7"
    assert expand_vars("Flow/@{RUN_ID}/train-@{ENV_VERSION}", "x", environ) == "Flow/856/train-v7"
    assert expand_vars("no variables here", "x", environ) == "no variables here"
    assert Alias.parse(expand_vars("team/env:@{ENV_VERSION}", "x", environ)).tag == "v7"


def test_expand_unset_var_names_it():
    with pytest.raises(SpecError) as err:
        expand_vars("team/env:@{FLOWENV_NOT_SET}", "@named_env in step start", {})
    message = str(err.value)
    assert "FLOWENV_NOT_SET" in message
    assert "@named_env in step start" in message


@pytest.mark.parametrize("text", ["team/env:@{}", "team/env:@{1X}", "team/env:@{A-B}"])
def test_expand_invalid_var_reference(text):
    with pytest.raises(SpecError, match="not a valid environment variable"):
        expand_vars(text, "x", {})


def test_is_full_id():
    assert is_full_id("0123456789abcdef0123456789abcdef")
    assert not is_full_id("0123456789ABCDEF0123456789ABCDEF")
    assert not is_full_id("team/env:v1")
    assert not is_full_id("abc")

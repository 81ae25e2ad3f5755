"""Decorator arguments: types checked with the decorator and step named; values given on
the command line (`--with`) arrive as text and are read as the command line spells them."""

import pytest

import metaflow  # noqa: F401  (loads the extension's decorators)
from metaflow_extensions.flowenv.plugins.decorators import (
    CondaStepDecorator, NamedEnvFlowDecorator, NamedEnvStepDecorator, PipFlowDecorator,
    PipStepDecorator, PypiStepDecorator, SysPackagesStepDecorator)
from metaflow_extensions.flowenv.plugins.errors import FlowenvException


def checked(cls, static=True, **attributes):
    deco = cls(attributes=attributes, statically_defined=static)
    deco.check_arguments(step="train")
    return deco.attributes


@pytest.mark.parametrize("text, value", [("true", True), ("True", True), ("FALSE", False)])
def test_flags_from_the_command_line(text, value):
    assert checked(NamedEnvStepDecorator, static=False, name="team/a:v1",
                   fetch_at_exec=text)["fetch_at_exec"] is value


def test_names_from_the_command_line():
    assert checked(NamedEnvStepDecorator, static=False, name=123)["name"] == "123"
    assert checked(NamedEnvStepDecorator, static=False, name="None")["name"] is None


@pytest.mark.parametrize("cls, attributes, culprit", [
    (NamedEnvStepDecorator, {"fetch_at_exec": "true"}, "fetch_at_exec"),  # text in a flow file
    (NamedEnvStepDecorator, {"fetch_at_exec": 1}, "fetch_at_exec"),
    (NamedEnvStepDecorator, {"disabled": "yes"}, "disabled"),
    (NamedEnvStepDecorator, {"name": 123}, "name"),
    (NamedEnvStepDecorator, {"pathspec": ["F", "1", "s"]}, "pathspec"),
    (NamedEnvStepDecorator, {"lock": 1}, "lock"),
    (NamedEnvStepDecorator, {"lock": "uv.lock", "extras": [1]}, "extras"),
    (PypiStepDecorator, {"packages": "alpha"}, "packages"),
    (PypiStepDecorator, {"disabled": "False"}, "disabled"),
    (CondaStepDecorator, {"libraries": [("numpy", "1")]}, "libraries"),
    # The reference's other arguments, and its deprecated ones.
    (PypiStepDecorator, {"conda_only": ["ffmpeg"]}, "conda_only"),
    (PypiStepDecorator, {"extras": [1]}, "extras"),
    (PypiStepDecorator, {"sources": 5}, "sources"),
    (PypiStepDecorator, {"fetch_at_exec": "yes"}, "fetch_at_exec"),
    (CondaStepDecorator, {"pip_packages": "numpy"}, "pip_packages"),
    (CondaStepDecorator, {"pip_sources": {"a": 1}}, "pip_sources"),
    (CondaStepDecorator, {"name": 5}, "name"),
    (SysPackagesStepDecorator, {"packages": "__cuda=12.2"}, "packages"),
    (PipStepDecorator, {"packages": "alpha"}, "packages"),
])
def test_wrong_types_are_errors_naming_decorator_and_step(cls, attributes, culprit):
    with pytest.raises(FlowenvException) as err:
        checked(cls, **attributes)
    message = str(err.value)
    assert "@%s on step train" % cls.name in message and culprit in message


def test_command_line_text_is_refused_when_it_is_no_flag():
    with pytest.raises(FlowenvException, match="'yes'"):
        checked(NamedEnvStepDecorator, static=False, fetch_at_exec="yes")


def test_one_extra_is_a_list_of_one():
    assert checked(NamedEnvStepDecorator, lock="uv.lock", extras="gpu")["extras"] == ["gpu"]


def test_conda_packages_join_libraries():
    attributes = checked(CondaStepDecorator, libraries={"a": "1"}, packages={"b": "2"})
    assert attributes["libraries"] == {"a": "1", "b": "2"} and attributes["packages"] == {}


def test_flow_decorator_is_named_with_its_flow():
    deco = NamedEnvFlowDecorator(attributes={"disabled": "no"}, statically_defined=True)
    with pytest.raises(FlowenvException, match="@named_env_base on MyFlow: disabled"):
        deco.check_arguments(flow="MyFlow")


def test_the_reference_spellings_are_accepted():
    assert checked(PypiStepDecorator, extras="pre", sources="https://x/simple",
                   conda_only={"ffmpeg": ""})["extras"] == ["pre"]
    # The reference's older pip_packages was also a list of requirements.
    assert checked(CondaStepDecorator, pip_packages=["numpy==1.26"])["pip_packages"] == [
        "numpy==1.26"]
    assert checked(SysPackagesStepDecorator, packages={"__cuda": "12.2"})["packages"] == {
        "__cuda": "12.2"}


def test_several_of_one_kind_are_allowed_and_pip_is_pypis_old_name():
    assert all(cls.allow_multiple for cls in (CondaStepDecorator, PypiStepDecorator,
                                              SysPackagesStepDecorator, PipStepDecorator))
    assert not NamedEnvStepDecorator.allow_multiple  # flowenv puts one on every step
    assert (PipStepDecorator.name, PipFlowDecorator.name) == ("pip", "pip_base")
    assert metaflow.pip is not None and metaflow.sys_packages_base is not None

"""The seed's merge, override and disable rules, checked without running a flow."""

from __future__ import annotations

import pytest

from flowenv.errors import SpecError
from metaflow_extensions.flowenv.plugins.step_plan import plan_step

DEFAULTS = {
    "named_env": {"name": None, "pathspec": None, "fetch_at_exec": False, "disabled": None},
    "conda": {"libraries": {}, "packages": {}, "channels": [], "python": None, "disabled": None},
    "pypi": {"packages": {}, "python": None, "extra_indices": [], "disabled": None},
    "sys_packages": {"packages": {}, "disabled": None},
}
DEFAULTS["pip"] = DEFAULTS["pypi"]


class Deco:
    """What plan_step reads of a Metaflow decorator: its name and attributes."""

    def __init__(self, kind, **attributes):
        self.name = kind
        self.attributes = {**DEFAULTS[kind.replace("_base", "")], **attributes}


def plan(step_decos=(), environ=None, **flow_decos):
    flow = {kind: [Deco(kind, **attrs)] for kind, attrs in flow_decos.items()}
    return plan_step("MyFlow", flow, "train", list(step_decos), environ or {})


def test_a_named_base_gives_every_step_its_environment():
    p = plan(named_env_base={"name": "team/base:v1"})
    assert (p.name, p.spec, p.disabled, p.decorator) == ("team/base:v1", None, False,
                                                         "named_env_base")


def test_a_step_named_env_replaces_the_base():
    p = plan([Deco("named_env", name="team/gpu:v2")], named_env_base={"name": "team/base:v1"})
    assert p.name == "team/gpu:v2" and p.decorator == "named_env"


def test_step_packages_extend_the_named_base():
    p = plan([Deco("conda", libraries={"xgboost": "1.7.0"}), Deco("pypi", packages={"fastapi": "0.95.0"})],
             named_env_base={"name": "team/base:v1"})
    assert p.name == "team/base:v1"
    assert p.spec.conda == ("xgboost 1.7.0",) and p.spec.pypi == ("fastapi==0.95.0",)


def test_a_step_can_disable_its_environment():
    p = plan([Deco("named_env", disabled=True)], named_env_base={"name": "team/base:v1"})
    assert p.disabled and p.name is None


def test_a_disabled_base_leaves_steps_in_the_launching_python_unless_they_ask():
    assert plan(named_env_base={"disabled": True}).disabled
    enabled = plan([Deco("named_env", name="team/ml:v1")], named_env_base={"disabled": True})
    assert not enabled.disabled and enabled.name == "team/ml:v1"
    with_packages = plan([Deco("pypi", packages={"alpha": "1"})], named_env_base={"disabled": True})
    assert not with_packages.disabled and with_packages.spec.pypi == ("alpha==1",)


def test_flow_packages_are_overridden_by_the_steps():
    p = plan([Deco("pypi", packages={"alpha": "2"})],
             pypi_base={"packages": {"alpha": "1", "beta": ""}, "python": "3.11"})
    assert p.spec.pypi == ("alpha==2", "beta") and p.spec.python == "3.11"


def test_an_undecorated_step_still_gets_a_managed_environment():
    p = plan()
    assert not p.disabled and p.name is None and p.spec is not None and p.spec.is_empty


def test_variables_are_expanded_from_the_environment_given():
    p = plan(named_env_base={"name": "team/env:@{ENV_VERSION}"}, environ={"ENV_VERSION": "v7"})
    assert p.name == "team/env:v7"
    p = plan([Deco("named_env", pathspec="MyFlow/@{RUN}/train")], environ={"RUN": "856"})
    assert p.pathspec == "MyFlow/856/train"


def test_fetch_at_exec_keeps_its_variables_for_the_task():
    p = plan(named_env_base={"name": "team/env:@{LATER}", "fetch_at_exec": True})
    assert p.fetch_at_exec and p.name == "team/env:@{LATER}"


def test_an_unset_variable_names_the_decorator():
    with pytest.raises(SpecError) as err:
        plan(named_env_base={"name": "team/env:@{NOT_SET_HERE}"})
    assert "NOT_SET_HERE" in str(err.value) and "@named_env_base" in str(err.value)


def test_conflicting_pythons_on_one_step_are_an_error():
    with pytest.raises(SpecError) as err:
        plan([Deco("conda", python="3.10"), Deco("pypi", python="3.11")])
    assert "3.10" in str(err.value) and "3.11" in str(err.value)


def test_a_lock_file_base_is_a_named_base_of_a_third_kind(tmp_path):
    flow = {"named_env_base": [Deco("named_env_base", lock="locks/@{WHICH}.lock",
                                    extras=["gpu"], groups=[])]}
    p = plan_step("MyFlow", flow, "train", [Deco("pypi", packages={"fastapi": "0.95.0"})],
                  {"WHICH": "uv"}, flow_dir=str(tmp_path))
    assert p.lock.path == str(tmp_path / "locks" / "uv.lock") and p.lock.extras == ("gpu",)
    assert p.reference == p.lock.path and p.spec.pypi == ("fastapi==0.95.0",)
    assert (p.name, p.pathspec, p.decorator) == (None, None, "named_env_base")
    # a step's own named environment replaces it; disabled runs the launching Python
    other = plan_step("MyFlow", flow, "train", [Deco("named_env", name="team/gpu:v2")],
                      {"WHICH": "uv"}, flow_dir=str(tmp_path))
    assert other.name == "team/gpu:v2" and other.lock is None
    off = plan_step("MyFlow", flow, "train", [Deco("named_env", disabled=True)], {"WHICH": "uv"})
    assert off.disabled and off.lock is None


# -- the reference extension's spellings ---------------------------------------------------


def notes(p):
    return [(d.spelling, d.instead, d.where) for d in p.deprecations]


def test_deprecated_conda_arguments_mean_what_they_meant_and_are_noted():
    p = plan([Deco("conda", libraries={"pandas": "1.5"}, pip_packages={"alpha": "1.0"},
                   pip_sources=["https://idx/simple"], sources="my-chan")])
    assert p.spec.conda == ("pandas 1.5",) and p.spec.pypi == ("alpha==1.0",)
    assert p.spec.extra_index_urls == ("https://idx/simple",) and p.spec.channels == ("my-chan",)
    assert notes(p) == [
        ("@conda(pip_packages=...)", "@pypi(packages=...)", "step train"),
        ("@conda(pip_sources=...)", "@pypi(extra_indices=...)", "step train"),
        ("@conda(sources=...)", "@conda(channels=...)", "step train")]


def test_pip_is_pypi_and_a_flow_level_note_names_the_base_spelling():
    p = plan([Deco("pip", packages={"alpha": "1.0"})], pip_base={"packages": {"gamma": "0.1"},
                                                                   "sources": ["https://i/s"]})
    assert p.spec.pypi == ("alpha==1.0", "gamma==0.1") and p.spec.extra_index_urls == ("https://i/s",)
    assert notes(p) == [("@pip_base", "@pypi_base", "flow MyFlow"),
                        ("@pip_base(sources=...)", "@pypi_base(extra_indices=...)", "flow MyFlow"),
                        ("@pip", "@pypi", "step train")]


def test_several_decorators_of_one_kind_are_merged_and_a_clash_names_both():
    p = plan([Deco("pypi", packages={"alpha": "1.0"}), Deco("pypi", packages={"beta": "1.0"}),
              Deco("pip", packages={"alpha": "1.0"})])
    assert p.spec.pypi == ("alpha==1.0", "beta==1.0") and notes(p)[0][0] == "@pip"
    with pytest.raises(SpecError) as err:
        plan([Deco("pypi", packages={"alpha": "1.0"}), Deco("pypi", packages={"alpha": "2.0"})])
    assert "'alpha==1.0' and 'alpha==2.0' both ask for alpha" in str(err.value)
    assert "step train" in str(err.value)


def test_conda_only_packages_and_pip_options_on_pypi(tmp_path):
    flow = {}
    p = plan_step("MyFlow", flow, "train", [Deco("pypi", packages={"alpha": "1.0"},
                                                 conda_only={"ffmpeg": ""},
                                                 extras=["pre", "find-links ./wheels"])],
                  {}, str(tmp_path))
    assert p.spec.conda == ("ffmpeg",) and p.spec.pypi == ("alpha==1.0",) and p.spec.pre
    # Relative to the flow file's folder, the spec's root (as for requirements files).
    assert p.spec.find_links == ("./wheels",) and p.spec.root == str(tmp_path)
    assert not notes(p)
    with pytest.raises(SpecError) as err:
        plan([Deco("pypi", extras=["no-such-option"])])
    assert "@pypi on step train" in str(err.value) and "extras=['no-such-option']" in str(err.value)


def test_sys_packages_set_virtual_packages_the_step_overrides_the_flow():
    p = plan([Deco("pypi", packages={"alpha": "1"}), Deco("sys_packages", packages={"__cuda": "12.2"})],
             sys_packages_base={"packages": {"__cuda": "11.8", "__glibc": "2.27"}})
    assert p.spec.virtual_packages == ("__cuda=12.2=0", "__glibc=2.27=0")
    # "" removes a default (a setting's, or the flow's)
    p = plan([Deco("sys_packages", packages={"__glibc": ""})],
             sys_packages_base={"packages": {"__glibc": "2.27"}})
    assert p.spec.virtual_packages == ("__glibc=",)
    with pytest.raises(SpecError, match="'cuda' is not a virtual package"):
        plan([Deco("sys_packages", packages={"cuda": "12"})])


def test_deprecated_name_on_conda_names_the_environment():
    p = plan([Deco("conda", name="team/gpu:v2")], named_env_base={"name": "team/base:v1"})
    assert (p.name, p.decorator, notes(p)[0][1]) == ("team/gpu:v2", "conda", "@named_env(name=...)")
    base = plan(conda_base={"name": "team/base:v1"})
    assert base.name == "team/base:v1" and base.spec is None
    with pytest.raises(SpecError, match="@named_env and @conda name different environments"):
        plan([Deco("named_env", name="team/a:v1"), Deco("conda", name="team/b:v1")])


def test_a_named_base_with_flow_packages_is_an_error_whoever_names_it():
    with pytest.raises(SpecError, match="named environments are already resolved"):
        plan(named_env_base={"name": "team/base:v1"}, conda_base={"libraries": {"a": "1"}})
    with pytest.raises(SpecError, match="already resolved"):
        plan(conda_base={"name": "team/base:v1", "libraries": {"a": "1"}})


def test_a_reference_fetched_at_execution_cannot_be_extended():
    with pytest.raises(SpecError) as err:
        plan([Deco("pypi", packages={"alpha": "1"})],
             named_env_base={"name": "team/base:v1", "fetch_at_exec": True})
    assert "fetch_at_exec=True" in str(err.value) and "step train" in str(err.value)


class Compute:
    def __init__(self, name, **attributes):
        self.name, self.attributes = name, attributes


def test_gpu_virtual_packages_for_steps_that_ask_for_a_gpu():
    def gpu_plan(*decos):
        return plan_step("MyFlow", {}, "train", [Deco("conda", libraries={"torch": ""}), *decos],
                         {}, gpu_virtual_packages=("__cuda=12.2=0",))
    assert gpu_plan(Compute("resources", gpu=1)).spec.virtual_packages == ("__cuda=12.2=0",)
    assert gpu_plan(Compute("kubernetes", gpu=None)).spec.virtual_packages == ()
    own = gpu_plan(Compute("batch", gpu="2"), Deco("sys_packages", packages={"__cuda": "11.8"}))
    assert own.spec.virtual_packages == ("__cuda=11.8=0",)


def test_decorator_channels_add_to_the_default_channels():
    p = plan_step("MyFlow", {}, "train", [Deco("conda", libraries={"a": ""}, channels=["pytorch"])],
                  {}, default_channels=("conda-forge",))
    assert p.spec.channels == ("pytorch", "conda-forge")
    none = plan_step("MyFlow", {}, "train", [Deco("conda", libraries={"a": ""})], {},
                     default_channels=("conda-forge",))
    assert none.spec.channels == ()  # the settings' defaults are filled in when resolving

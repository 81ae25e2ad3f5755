"""The seed's merge, override and disable rules, checked without running a flow."""

from __future__ import annotations

import pytest

from flowenv.errors import SpecError
from metaflow_extensions.flowenv.plugins.step_plan import plan_step

DEFAULTS = {
    "named_env": {"name": None, "pathspec": None, "fetch_at_exec": False, "disabled": None},
    "conda": {"libraries": {}, "packages": {}, "channels": [], "python": None, "disabled": None},
    "pypi": {"packages": {}, "python": None, "extra_indices": [], "disabled": None},
}


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

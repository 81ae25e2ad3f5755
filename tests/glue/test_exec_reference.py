"""A fetch_at_exec reference worked out in a remote container: @{VAR} with the task's own
values (the run's parameters read only when the container lacks them)."""

import pytest

from flowenv.errors import SpecError
from metaflow_extensions.flowenv.plugins import exec_reference as module


def test_names_use_the_containers_values_and_the_step(monkeypatch):
    monkeypatch.setattr(module, "run_parameters", lambda *a: pytest.fail("not needed"))
    environ = {"METAFLOW_RUN_ID": "argo-x", "METAFLOW_INIT_TAG": "v2"}
    assert module.exec_reference("F", "train", "name", "team/@{METAFLOW_STEP_NAME}:"
                                 "@{METAFLOW_INIT_TAG}", environ) == "team/train:v2"


def test_missing_parameters_come_from_the_runs_metadata(monkeypatch):
    asked = []

    def parameters(flow, run):
        asked.append((flow, run))
        return {"METAFLOW_INIT_TAG": "v3", "METAFLOW_RUN_ID": "ignored"}

    monkeypatch.setattr(module, "run_parameters", parameters)
    environ = {"METAFLOW_RUN_ID": "argo-x"}
    assert module.exec_reference("F", "end", "name", "team/e:@{METAFLOW_INIT_TAG}",
                                 environ) == "team/e:v3"
    assert asked == [("F", "argo-x")]
    with pytest.raises(SpecError, match="METAFLOW_INIT_OTHER is not set"):
        module.exec_reference("F", "end", "name", "team/e:@{METAFLOW_INIT_OTHER}", environ)

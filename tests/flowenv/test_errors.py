"""Errors carry fields and build their message from them."""

from __future__ import annotations

import pickle

import pytest

from flowenv.errors import AliasError, FlowenvError, SpecError


def test_message_names_where_what_and_what_to_do():
    err = SpecError("'x==' is not a valid requirement", file="req.txt", line=3,
                    hint="Write name==version.")
    assert str(err) == "req.txt, line 3: 'x==' is not a valid requirement. Write name==version."
    assert err.file == "req.txt" and err.line == 3 and err.step is None


def test_context_is_added_on_the_way_up_without_cutting_messages():
    err = AliasError("this named environment does not exist", alias="team/env:v1")
    err.within(decorator="named_env_base", step="start", alias="ignored/other:v2")
    assert str(err) == ("@named_env_base on step start, team/env:v1: this named environment "
                        "does not exist")
    assert err.alias == "team/env:v1"  # what the raiser knew wins


def test_a_bare_message_still_reads_as_a_sentence():
    assert str(FlowenvError("nothing to resolve")) == "Nothing to resolve"


def test_unknown_fields_are_a_programming_error():
    with pytest.raises(TypeError):
        FlowenvError("x", filename="oops")


def test_errors_cross_process_boundaries_intact():
    err = SpecError("bad", file="env.yml", entry="dependency 'numpy=>1'", hint="Fix it.")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is SpecError and str(again) == str(err) and again.file == "env.yml"

"""Debug lines: timed operations, failures, and the silent default."""

import io

import pytest

from flowenv.debuglog import SILENT, DebugLog, debug_log, stderr_log


def test_timed_line_carries_duration_and_detail():
    lines = []
    log = DebugLog(lines.append)
    with log.timed("store get v1/x.json") as timing:
        timing.detail = "absent"
    assert len(lines) == 1
    assert lines[0].startswith("store get v1/x.json: ") and lines[0].endswith(" ms, absent")


def test_announced_operation_shows_when_it_starts_and_when_it_fails():
    lines = []
    log = DebugLog(lines.append)
    with pytest.raises(ValueError):
        with log.timed("uv pip compile", announce=True):
            assert lines == ["uv pip compile ..."]
            raise ValueError("boom")
    assert lines[1].startswith("uv pip compile: failed after ") and "ValueError" in lines[1]


def test_silent_by_default_and_stderr_when_asked():
    assert not SILENT.enabled and debug_log(False) is SILENT
    with SILENT.timed("nothing") as timing:
        timing.detail = "ignored"
    stream = io.StringIO()
    log = stderr_log(stream)
    log("hello")
    assert stream.getvalue() == "flowenv debug: hello\n"

"""Running uv: the debug line of every call, with credentials redacted."""

from flowenv.debuglog import DebugLog
from flowenv.uv_runner import UvRunner


def test_each_call_is_logged_with_its_arguments_and_no_password(tmp_path):
    lines = []
    uv = UvRunner(environ={"PATH": "/usr/bin:/bin"}, log=DebugLog(lines.append))
    index = "https://bob:s3cret@pypi.example/simple"
    proc = uv.run(["pip", "compile", "--no-config", "--index-url", index,
                   str(tmp_path / "missing.in")], secrets=[index])
    assert proc.returncode != 0
    assert lines[0] == "%s pip compile --no-config --index-url https://pypi.example/simple %s ..." % (
        uv.binary, tmp_path / "missing.in")
    assert lines[1].startswith("%s pip compile" % uv.binary) and "exit %d" % proc.returncode in lines[1]
    assert not any("s3cret" in line or "bob" in line for line in lines)


def test_credentials_are_redacted_even_when_not_declared():
    uv = UvRunner(environ={})
    shown = uv.command_line(["--find-links", "https://tok:x@files.example/wheels/"])
    assert shown[1:] == ["--find-links", "https://files.example/wheels/"]

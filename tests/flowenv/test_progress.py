"""Progress: a live line on a terminal, plain phase lines in a log, nothing when quiet."""

import io
import threading

from flowenv.progress import LIVE, PLAIN, QUIET, Progress, human_bytes


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run_phases(progress):
    with progress.meter("Fetching 2 files", total_bytes=3_000_000, total_items=2) as meter:
        for _ in range(3):
            progress._last_draw = 0  # as if time had passed: every update is drawn
            meter.advance(1_000_000)
        progress._last_draw = 0
        meter.item_done(2)
    with progress.task("Installing"):
        pass


def test_mode_follows_the_stream():
    assert Progress(stream=Terminal()).mode == LIVE
    assert Progress(stream=io.StringIO()).mode == PLAIN
    assert Progress(stream=Terminal(), enabled=False).mode == QUIET


def test_live_redraws_one_line_with_bytes_counts_and_a_summary():
    screen = Terminal()
    run_phases(Progress(stream=screen))
    out = screen.getvalue()
    assert "\r" in out
    redraws = [part for part in out.split("\r") if "Fetching" in part and "/" in part]
    assert any("1.0 MB/3.0 MB" in r for r in redraws)
    assert any("2/2 files" in r for r in redraws)
    lines = out.replace("\r", "\n").splitlines()
    assert any(line.startswith("Fetching 2 files: done in") and "3.0 MB" in line
               for line in lines)
    assert any(line.startswith("Installing: done in") for line in lines)


def test_plain_prints_start_and_end_lines_only():
    log = io.StringIO()
    run_phases(Progress(stream=log))
    out = log.getvalue()
    assert "\r" not in out
    lines = out.splitlines()
    assert lines[0] == "Fetching 2 files ..."
    assert lines[1].startswith("Fetching 2 files: done in ") and "2 files, 3.0 MB" in lines[1]
    assert lines[2] == "Installing ..."
    assert lines[3].startswith("Installing: done in ") and len(lines) == 4


def test_plain_without_announcements_is_one_line_per_phase_through_echo():
    said = []
    run_phases(Progress(stream=io.StringIO(), mode=PLAIN, echo=said.append, announce=False))
    assert len(said) == 2
    assert said[0].startswith("Fetching 2 files: done in")
    assert said[1].startswith("Installing: done in")


def test_quiet_says_nothing_and_a_failed_phase_has_no_summary():
    screen = Terminal()
    run_phases(Progress(stream=screen, mode=QUIET))
    assert screen.getvalue() == ""
    log = io.StringIO()
    progress = Progress(stream=log)
    try:
        with progress.meter("Fetching", total_items=1):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert "done" not in log.getvalue()


def test_meters_are_thread_safe():
    progress = Progress(stream=Terminal())
    with progress.meter("Fetching", total_bytes=8 * 1000 * 1000) as meter:
        threads = [threading.Thread(target=lambda: [meter.advance(1000) for _ in range(1000)])
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert meter.bytes == 8 * 1000 * 1000


def test_human_bytes():
    assert human_bytes(999) == "999 B"
    assert human_bytes(1500) == "1.5 kB"
    assert human_bytes(2.9e9) == "2.9 GB"

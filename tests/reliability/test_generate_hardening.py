"""`flashmark generate` against hostile note code: a note that never ends, exits the
interpreter or raises BaseException costs that note alone, named in its error; the other
notes are still written (or reported stale by --check). A real Ctrl-C still stops the run
with 130. Real processes: flashmark runs as a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from flashmark.errors import EXIT_INPUT
from tests.reliability.debris_support import (
    FLASHMARK,
    REGENERATED,
    generate_vault,
    kill_session,
    live_children,
    live_in_session,
    start,
    wait_for,
)

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc") or not hasattr(os, "fork"),
                                reason="needs Linux (/proc, fork)")

HOSTILE = {
    "a_first": "pass",
    "b_os_exit": "import os\nos._exit(0)",
    "c_sys_exit": "import sys\nsys.exit(3)",
    "d_interrupt": "raise KeyboardInterrupt",
    "e_system_exit": "raise SystemExit('bye')",
    "f_last": "pass",
}
GOOD = ("a_first", "f_last")


def generate(root: Path, jobs: int, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FLASHMARK, "generate", str(root), "--no-cache", *extra],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "FLASHMARK_JOBS": str(jobs)})


@pytest.mark.parametrize("jobs", [1, 2])
def test_exits_and_interrupts_are_that_notes_error(tmp_path: Path, jobs: int) -> None:
    root = generate_vault(tmp_path / "vault", HOSTILE)
    before = {name: (root / f"{name}.md").read_text() for name in HOSTILE}
    done = generate(root, jobs)
    assert done.returncode == EXIT_INPUT, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 4, done.stderr
    assert errors[0].startswith("b_os_exit.md: error: its code ended the Python process "
                                "(exit status 0")
    assert errors[1].startswith("c_sys_exit.md:5: error: SystemExit: 3;")
    assert errors[2].startswith("d_interrupt.md:4: error: KeyboardInterrupt;")
    assert errors[3].startswith("e_system_exit.md:4: error: SystemExit: bye;")
    for name in HOSTILE:
        text = (root / f"{name}.md").read_text()
        if name in GOOD:
            assert REGENERATED in text and text != before[name]
        else:
            assert text == before[name]


@pytest.mark.parametrize("jobs", [1, 2])
def test_check_reports_the_same_errors_and_the_stale_notes(tmp_path: Path, jobs: int) -> None:
    root = generate_vault(tmp_path / "vault", HOSTILE)
    before = {name: (root / f"{name}.md").read_bytes() for name in HOSTILE}
    done = generate(root, jobs, "--check")
    # errors outrank stale sections: 3, not 1
    assert done.returncode == EXIT_INPUT, done.stderr
    assert done.stdout.splitlines() == ['a_first.md:8: section "s" is stale',
                                        'f_last.md:8: section "s" is stale']
    assert "b_os_exit.md: error: its code ended the Python process" in done.stderr
    assert "d_interrupt.md:4: error: KeyboardInterrupt;" in done.stderr
    assert {name: (root / f"{name}.md").read_bytes() for name in HOSTILE} == before


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_note_that_never_ends_times_out_and_the_rest_is_written(tmp_path: Path,
                                                                  jobs: int) -> None:
    notes = {"a_first": "pass", "b_forever": "while True:\n    pass", "c_last": "pass"}
    root = generate_vault(tmp_path / "vault", notes, timeout=2)
    done = generate(root, jobs)
    assert done.returncode == EXIT_INPUT, done.stderr
    assert ("b_forever.md: error: its code did not finish within 2 s (generate.timeout in "
            "flashmark.yaml)") in done.stderr
    assert REGENERATED in (root / "a_first.md").read_text()
    assert REGENERATED in (root / "c_last.md").read_text()
    assert REGENERATED not in (root / "b_forever.md").read_text()
    assert "1 error" in done.stderr.splitlines()[-1]
    # nothing was cached for it: the next run tries it again (and stops it again)
    again = generate(root, jobs)
    assert "b_forever.md: error: its code did not finish" in again.stderr
    assert "3 notes with data blocks: 1 run, 2 unchanged (cache)" not in again.stderr


def test_a_real_ctrl_c_still_stops_the_run_with_130(tmp_path: Path) -> None:
    notes = {"a_forever": "while True:\n    pass", "b_other": "pass"}
    root = generate_vault(tmp_path / "vault", notes)  # the default limit: 60 s
    proc = start(["generate", str(root)], {"FLASHMARK_JOBS": "1"}, capture=True)
    try:
        wait_for(lambda: bool(live_children(proc.pid)), "a worker process started")
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends: the whole group
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 130, err
        assert b"interrupted" in err and b"Traceback" not in err
        wait_for(lambda: not live_in_session(proc.pid), "every worker ended")
    finally:
        proc.kill()
        kill_session(proc.pid)

"""No debris after kill -9: flashmark's worker processes die with it, and the temporary
Anki collection a killed export leaves is removed by the next export. Real processes:
flashmark runs as a subprocess in its own session; /proc shows what is left."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from flashmark.export.package import remove_dead_temporaries
from tests.reliability.debris_support import (
    FLASHMARK,
    export_vault,
    generate_vault,
    kill_session,
    live_children,
    live_in_session,
    start,
    wait_for,
)

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc") or not hasattr(os, "fork"),
                                reason="needs Linux (/proc, fork)")


@pytest.mark.parametrize("jobs", [1, 2])
def test_killed_generate_leaves_no_worker(tmp_path: Path, jobs: int) -> None:
    notes = {f"n{k}": "pass" for k in range(6)}
    notes["n3"] = "while True:\n    pass"  # a worker busy for good (the limit: 60 s)
    root = generate_vault(tmp_path / "vault", notes)
    proc = start(["generate", str(root)], {"FLASHMARK_JOBS": str(jobs)})
    try:
        wait_for(lambda: bool(live_children(proc.pid)), "a worker process started")
        time.sleep(random.uniform(0, 0.3))  # a random-ish instant
        workers = live_children(proc.pid)
        assert workers
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=600)
        wait_for(lambda: not live_in_session(proc.pid), "every worker ended")
    finally:
        kill_session(proc.pid)


def test_killed_export_leaves_no_worker_and_the_next_removes_its_collection(
        tmp_path: Path) -> None:
    root = export_vault(tmp_path / "vault", notes=400, cards=40)  # 16,000 cards
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"FLASHMARK_JOBS": "2", "TMPDIR": str(tmp)}
    out = tmp_path / "deck.apkg"
    proc = start(["export", str(root), "-o", str(out), "--no-cache"], env)
    mine = f"flashmark-export-{proc.pid}-"

    def collection() -> list[str]:
        return [n for n in os.listdir(tmp) if n.startswith(mine)]

    try:
        # the collection is made once 2,000 rows are in, while workers still render
        wait_for(lambda: bool(collection()) or proc.poll() is not None,
                 "the export made its temporary collection")
        assert proc.poll() is None, "the export ended before it could be killed"
        had_workers = bool(live_children(proc.pid))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=600)
        wait_for(lambda: not live_in_session(proc.pid), "every worker ended")
        assert had_workers
        assert collection()  # what kill -9 leaves ...
    finally:
        kill_session(proc.pid)
    done = subprocess.run([*FLASHMARK, "export", str(root), "-o", str(out)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    assert not collection()  # ... the next export removes
    assert [n for n in os.listdir(tmp) if n.startswith("flashmark-")] == []  # and its own


def test_only_temporaries_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    names = [f"flashmark-export-{dead.pid}-abc.anki2", f"flashmark-anki-{dead.pid}-xyz",
             f"flashmark-export-{os.getpid()}-live.anki2", "flashmark-export-other.anki2",
             "unrelated-1-file"]
    for name in names:
        if "anki-" in name:
            (tmp_path / name).mkdir()
            (tmp_path / name / "collection.anki2").write_bytes(b"x")
        else:
            (tmp_path / name).write_bytes(b"x")
    assert sorted(remove_dead_temporaries(str(tmp_path))) == sorted(names[:2])
    assert sorted(os.listdir(tmp_path)) == sorted(names[2:])

"""flashmark.parallel: chunks shared between this process and forked children."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

from flashmark.parallel import (
    MAX_CHUNKS,
    Lost,
    chunk_bounds,
    run_chunks,
    stream_chunks,
    worker_count,
)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

PARENT = os.getpid()


def squares(start: int, end: int) -> list[tuple[int, int]]:
    return [(k, k * k) for k in range(start, end)]


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition()`` holds: a rendezvous between this process and its
    children, so a test never depends on how fast one of them happens to be (the
    deadline only turns a hang into a failure)."""
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited 60 s for {what}")
        time.sleep(0.001)


def squares_after_parent(marker: Path) -> Callable[[int, int], list[tuple[int, int]]]:
    """A child's work that starts only once this process has begun a chunk itself (a
    fast child could otherwise take every chunk, and the test would not test what it
    says). The parent's own work touches ``marker`` first."""
    def work(start: int, end: int) -> list[tuple[int, int]]:
        wait_for(marker.exists, "this process to take a chunk")
        return squares(start, end)
    return work


def expected(total: int) -> list[list[tuple[int, int]]]:
    return [squares(a, b) for a, b in chunk_bounds(total, 7)]


def no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_chunk_bounds_cover_every_item_once() -> None:
    assert chunk_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert chunk_bounds(0, 4) == []
    bounds = chunk_bounds(1_000_000, 1)
    assert len(bounds) <= MAX_CHUNKS
    assert bounds[0][0] == 0 and bounds[-1][1] == 1_000_000
    assert all(a[1] == b[0] for a, b in pairwise(bounds))


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_results_come_back_in_chunk_order(workers: int) -> None:
    assert run_chunks(squares, chunk_bounds(500, 7), workers) == expected(500)
    assert no_children_left()


def test_children_do_part_of_the_work(tmp_path: Path) -> None:
    here, child = tmp_path / "parent-works", tmp_path / "child-works"

    def whose(start: int, end: int) -> int:
        # each side waits for the other to have taken a chunk: both surely work
        mine, other = (here, child) if os.getpid() == PARENT else (child, here)
        mine.touch()
        wait_for(other.exists, "the other process to take a chunk")
        return os.getpid()

    pids = run_chunks(whose, chunk_bounds(200, 2), 2)
    assert PARENT in pids and len(set(pids)) == 2


def test_a_failing_child_costs_time_not_results() -> None:
    def fails_in_child(start: int, end: int) -> list[tuple[int, int]]:
        if os.getpid() != PARENT:
            raise RuntimeError("boom")
        return squares(start, end)

    assert run_chunks(fails_in_child, chunk_bounds(300, 5), 2) == [
        squares(a, b) for a, b in chunk_bounds(300, 5)]
    assert no_children_left()


def test_a_child_that_dies_costs_time_not_results() -> None:
    def dies_in_child(start: int, end: int) -> list[tuple[int, int]]:
        if os.getpid() != PARENT:
            os._exit(9)
        return squares(start, end)

    assert run_chunks(dies_in_child, chunk_bounds(300, 5), 2) == [
        squares(a, b) for a, b in chunk_bounds(300, 5)]
    assert no_children_left()


def test_an_error_here_stops_the_children(tmp_path: Path) -> None:
    marker = tmp_path / "parent-works"
    in_child = squares_after_parent(marker)

    def fails_here(start: int, end: int) -> list[tuple[int, int]]:
        if os.getpid() == PARENT:
            marker.touch()
            raise ValueError("a bug in the work")
        return in_child(start, end)

    with pytest.raises(ValueError, match="a bug"):
        run_chunks(fails_here, chunk_bounds(300, 5), 2)
    assert no_children_left()


def test_progress_ends_at_the_total() -> None:
    calls: list[tuple[int, int]] = []
    run_chunks(squares, chunk_bounds(100, 10), 2, lambda done, total: calls.append((done, total)))
    assert calls[-1] == (100, 100)
    assert all(total == 100 and 0 <= done <= 100 for done, total in calls)


def test_runs_here_when_another_thread_runs() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        pids = run_chunks(lambda a, b: os.getpid(), chunk_bounds(50, 5), 2)
    finally:
        stop.set()
        thread.join()
    assert set(pids) == {PARENT}


def test_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLASHMARK_JOBS", raising=False)
    assert worker_count(3) == 3
    assert 1 <= worker_count() <= 4
    monkeypatch.setenv("FLASHMARK_JOBS", "1")
    assert worker_count() == 1 and worker_count(2) == 2
    for junk in ("0", "-2", "many", ""):
        monkeypatch.setenv("FLASHMARK_JOBS", junk)
        assert 1 <= worker_count() <= 4


def test_ctrl_c_in_a_child_leaves_it_quietly(capfd: pytest.CaptureFixture[str]) -> None:
    def interrupted_in_child(start: int, end: int) -> list[tuple[int, int]]:
        if os.getpid() != PARENT:
            raise KeyboardInterrupt
        return squares(start, end)

    assert run_chunks(interrupted_in_child, chunk_bounds(300, 5), 2) == [
        squares(a, b) for a, b in chunk_bounds(300, 5)]
    assert "Traceback" not in capfd.readouterr().err
    assert no_children_left()


def test_ctrl_c_here_stops_the_children(tmp_path: Path) -> None:
    marker = tmp_path / "parent-works"
    in_child = squares_after_parent(marker)

    def interrupted_here(start: int, end: int) -> list[tuple[int, int]]:
        if os.getpid() == PARENT:
            marker.touch()
            raise KeyboardInterrupt
        return in_child(start, end)

    with pytest.raises(KeyboardInterrupt):
        run_chunks(interrupted_here, chunk_bounds(300, 5), 2)
    assert no_children_left()


def test_a_fork_that_fails_leaves_the_work_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert run_chunks(squares, chunk_bounds(100, 7), 3) == expected(100)


# --- stream_chunks: supervised children -------------------------------------------------


def dies_on_chunk_3(start: int, end: int) -> list[tuple[int, int]]:
    if start == 3 * 5 and os.getpid() != PARENT:
        os._exit(7)
    return squares(start, end)


@pytest.mark.parametrize("processes", [1, 2, 3])
def test_stream_gives_every_chunk_in_order(processes: int) -> None:
    bounds = chunk_bounds(300, 5)
    got = list(stream_chunks(squares, bounds, processes))
    assert got == [(k, squares(a, b)) for k, (a, b) in enumerate(bounds)]
    assert no_children_left()


def test_stream_runs_nothing_here() -> None:
    pids = {pid for _, pid in stream_chunks(lambda a, b: os.getpid(), chunk_bounds(40, 2), 2)}
    assert PARENT not in pids and len(pids) >= 1


@pytest.mark.parametrize("processes", [1, 2])
def test_stream_a_dying_child_costs_its_chunk_only(processes: int) -> None:
    bounds = chunk_bounds(100, 5)
    got = dict(stream_chunks(dies_on_chunk_3, bounds, processes))
    assert got[3] == Lost("exit", 7)
    assert all(got[k] == squares(a, b) for k, (a, b) in enumerate(bounds) if k != 3)
    assert no_children_left()


def test_stream_time_limit_and_errors() -> None:
    def hangs_or_fails(start: int, end: int) -> int:
        if start == 2:
            while True:
                pass
        if start == 4:
            raise ValueError("broken chunk")
        return start

    got = dict(stream_chunks(hangs_or_fails, chunk_bounds(8, 1), 2, timeout=1.0))
    assert got[2] == Lost("timeout")
    lost = got[4]
    assert isinstance(lost, Lost) and lost.kind == "error"
    assert "ValueError: broken chunk" in lost.detail
    assert [got[k] for k in (0, 1, 3, 5, 6, 7)] == [0, 1, 3, 5, 6, 7]
    assert no_children_left()


def test_stream_closed_early_kills_its_children() -> None:
    def forever(start: int, end: int) -> int:
        while start > 0:
            pass
        return start

    stream = stream_chunks(forever, chunk_bounds(6, 1), 2)
    assert next(stream) == (0, 0)
    stream.close()
    assert no_children_left()


def test_stream_children_ignore_ctrl_c_but_a_raised_interrupt_is_an_error() -> None:
    import signal

    def interrupted(start: int, end: int) -> int:
        if start == 1:
            raise KeyboardInterrupt
        return int(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)

    got = dict(stream_chunks(interrupted, chunk_bounds(3, 1), 1))
    assert got[0] == 1 and got[2] == 1
    lost = got[1]
    assert isinstance(lost, Lost) and lost.kind == "error" and "KeyboardInterrupt" in lost.detail


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"  # dead, not yet reaped
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="watches the dying child in /proc")
def test_stream_a_new_child_after_all_work_was_handed_out(tmp_path: Path) -> None:
    """Both children hold all four chunks (their command pipes are closed) when one dies:
    the child that takes over its second chunk must start cleanly."""
    dying = tmp_path / "dying-pid"

    def first_dies(start: int, end: int) -> int:
        if start == 0:
            (tmp_path / "pid").write_text(str(os.getpid()))
            (tmp_path / "pid").rename(dying)  # whole or absent for the reader
            os._exit(5)
        if start >= 2:  # the other child is still at work when the first one dies
            wait_for(dying.exists, "the first child to start dying")
            wait_for(lambda: _gone(int(dying.read_text())), "the first child's death")
        return start

    got = dict(stream_chunks(first_dies, chunk_bounds(4, 1), 2))
    assert got == {0: Lost("exit", 5), 1: 1, 2: 2, 3: 3}
    assert no_children_left()

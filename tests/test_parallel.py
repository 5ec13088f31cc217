"""flashmark.parallel: chunks shared between this process and forked children."""

from __future__ import annotations

import os
import threading
from itertools import pairwise

import pytest

from flashmark.parallel import MAX_CHUNKS, chunk_bounds, run_chunks, worker_count

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

PARENT = os.getpid()


def squares(start: int, end: int) -> list[tuple[int, int]]:
    return [(k, k * k) for k in range(start, end)]


def slow_squares(start: int, end: int) -> list[tuple[int, int]]:
    """A child's work, slow enough that this process surely takes a chunk too (a fast
    child could take them all, and the test would not test what it says)."""
    import time

    time.sleep(0.01)
    return squares(start, end)


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


def test_children_do_part_of_the_work() -> None:
    def whose(start: int, end: int) -> int:
        import time

        time.sleep(0.002)  # long enough that the child gets some chunks
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


def test_an_error_here_stops_the_children() -> None:
    def fails_here(start: int, end: int) -> list[tuple[int, int]]:
        if os.getpid() == PARENT:
            raise ValueError("a bug in the work")
        return slow_squares(start, end)

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


def test_ctrl_c_here_stops_the_children() -> None:
    def interrupted_here(start: int, end: int) -> list[tuple[int, int]]:
        if os.getpid() == PARENT:
            raise KeyboardInterrupt
        return slow_squares(start, end)

    with pytest.raises(KeyboardInterrupt):
        run_chunks(interrupted_here, chunk_bounds(300, 5), 2)
    assert no_children_left()


def test_a_fork_that_fails_leaves_the_work_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert run_chunks(squares, chunk_bounds(100, 7), 3) == expected(100)

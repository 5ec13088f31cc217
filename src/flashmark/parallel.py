"""Run chunks of work on every core: this process and forked copies of it.

Used for the CPU-bound passes over a whole vault (a cold scan, `check`). The calling
process works too, so on two cores there are two busy processes, not two workers and a
waiting parent; forked children start in a millisecond with everything already
imported and the work list already in memory, so nothing but the results crosses a
process boundary.

* Chunks are handed out through a pipe pre-filled with one 2-byte token per chunk: a
  process that finishes early takes the next chunk, so a few huge notes do not leave one
  core idle.
* A child writes its results (``marshal``: fast, and enough for tuples of strings,
  bytes and numbers) to its own unlinked temporary file, read once it has exited.
* A child that fails or is killed costs time, not results: its chunks are done again
  here; so does a fork or a temporary file that cannot be had. Ctrl-C stops the
  children.
* Without ``os.fork`` (Windows), or when this process runs other threads (a fork copies
  their locks mid-use), everything runs here, in order.
"""

from __future__ import annotations

import gc
import marshal
import os
import signal
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import IO, NoReturn, TypeVar

T = TypeVar("T")

# 2-byte tokens, all written before any reader starts: they must fit in a pipe's buffer
# (at least 4 KiB on every POSIX system we know of).
MAX_CHUNKS = 2048


def worker_count(jobs: int | None = None) -> int:
    """How many processes bulk work may use: ``jobs`` when given, else the environment's
    ``FLASHMARK_JOBS`` (a positive number), else one per CPU up to 4."""
    if jobs is None:
        env_jobs = os.environ.get("FLASHMARK_JOBS", "")
        if env_jobs.isdigit() and int(env_jobs) > 0:
            jobs = int(env_jobs)
    return jobs if jobs is not None else min(os.cpu_count() or 1, 4)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the block runs (and in processes forked in it).

    Parsing or rendering a vault allocates millions of objects and frees them by
    reference counting; the cyclic collector would walk every live object, the imported
    modules included, again and again for nothing (10-15% of a cold scan). The bulk
    work makes no reference cycles to speak of: the memory use is the same.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def chunk_bounds(total: int, size: int) -> list[tuple[int, int]]:
    """(start, end) of consecutive chunks of about ``size`` items, at most MAX_CHUNKS."""
    size = max(size, -(-total // MAX_CHUNKS), 1)
    return [(i, min(i + size, total)) for i in range(0, total, size)]


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def run_chunks(work: Callable[[int, int], T], bounds: list[tuple[int, int]], workers: int,
               progress: Callable[[int, int], None] | None = None) -> list[T]:
    """``[work(start, end) for start, end in bounds]``, computed by up to ``workers``
    processes. Results must be marshal-able when ``workers`` > 1."""
    if workers < 2 or len(bounds) < 2 or not can_fork():
        return _run_here(work, bounds, progress)
    import tempfile

    results: dict[int, T] = {}
    try:
        read_fd, write_fd = os.pipe()
    except OSError:  # out of file descriptors: no helpers
        return _run_here(work, bounds, progress)
    children: list[tuple[int, IO[bytes]]] = []
    with ExitStack() as files:
        try:
            os.write(write_fd, b"".join(k.to_bytes(2, "little") for k in range(len(bounds))))
            os.close(write_fd)
            write_fd = -1
            for _ in range(min(workers, len(bounds)) - 1):
                try:
                    out = files.enter_context(tempfile.TemporaryFile())
                    pid = os.fork()
                except OSError:  # no more processes or no room: the rest is done here
                    break
                if pid == 0:  # pragma: no cover - runs in the child, which never returns
                    _child(work, bounds, read_fd, out)
                children.append((pid, out))
            for k in _tokens(read_fd):
                start, end = bounds[k]
                results[k] = work(start, end)
                if progress is not None:
                    progress(_claimed(read_fd, bounds), bounds[-1][1])
            while children:
                pid, written = children[-1]
                _, status = os.waitpid(pid, 0)
                children.pop()
                if status == 0:
                    written.seek(0)
                    results.update(marshal.load(written))
        finally:
            for pid, _ in children:  # interrupted: stop the children, keep nothing of theirs
                try:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                except OSError:
                    pass
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
    # Chunks of a child that failed (or died) are done here.
    for k, (start, end) in enumerate(bounds):
        if k not in results:
            results[k] = work(start, end)
    if progress is not None:
        progress(bounds[-1][1], bounds[-1][1])
    return [results[k] for k in range(len(bounds))]


def _run_here(work: Callable[[int, int], T], bounds: list[tuple[int, int]],
              progress: Callable[[int, int], None] | None) -> list[T]:
    out = []
    total = bounds[-1][1] if bounds else 0
    for start, end in bounds:
        out.append(work(start, end))
        if progress is not None:
            progress(end, total)
    return out


def _tokens(read_fd: int) -> Iterator[int]:
    while True:
        token = os.read(read_fd, 2)
        if len(token) < 2:  # the pipe is empty and its writer closed: all taken
            return
        yield int.from_bytes(token, "little")


def _claimed(read_fd: int, bounds: list[tuple[int, int]]) -> int:
    """About how many items have been taken (by any process), for a progress bar."""
    try:
        import fcntl
        import termios

        left = struct.unpack("i", fcntl.ioctl(read_fd, termios.FIONREAD, b"\0" * 4))[0] // 2
    except (ImportError, OSError):
        return 0
    taken = len(bounds) - left
    return bounds[taken - 1][1] if taken > 0 else 0


def _child(work: Callable[[int, int], T], bounds: list[tuple[int, int]], read_fd: int,
           out: IO[bytes]) -> NoReturn:  # pragma: no cover - runs in the forked child
    status = 1
    try:
        # Ctrl-C reaches the child too: with Python's handler it raises KeyboardInterrupt
        # here and the child exits quietly (os._exit below); the parent reports it.
        done = {k: work(*bounds[k]) for k in _tokens(read_fd)}
        marshal.dump(done, out)
        out.flush()
        status = 0
    finally:
        os._exit(status)

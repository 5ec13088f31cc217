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

`stream_chunks` is the supervised variant (export, generate): only children work, this
process hands them chunks one or two at a time and gets each result back as soon as it is
ready, in chunk order. It knows which chunk every child holds, so a child that exits,
is killed or runs past a time limit costs exactly that chunk (reported as `Lost`), and a
new child takes over the rest.

No child outlives this process: each asks the kernel for SIGKILL when its parent dies
(Linux ``PR_SET_PDEATHSIG``; elsewhere a stream child notices the end of its command pipe
between chunks), ignores Ctrl-C (this process stops it), and everything a child writes
goes to an unlinked temporary file: a ``kill -9`` of flashmark leaves nothing behind.
"""

from __future__ import annotations

import gc
import marshal
import os
import pickle
import selectors
import signal
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from typing import IO, Any, NoReturn, TypeVar

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
    parent = os.getpid()
    _load_prctl()
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
                    _child(work, bounds, read_fd, out, parent)
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
           out: IO[bytes], parent: int) -> NoReturn:  # pragma: no cover - forked child
    status = 1
    try:
        _die_with_parent(parent)
        # Ctrl-C reaches the child too: with Python's handler it raises KeyboardInterrupt
        # here and the child exits quietly (os._exit below); the parent reports it.
        done = {k: work(*bounds[k]) for k in _tokens(read_fd)}
        marshal.dump(done, out)
        out.flush()
        status = 0
    finally:
        os._exit(status)


# --- no orphans ------------------------------------------------------------------------

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_PRCTL: list[Callable[..., int] | None] = []  # loaded once, before the first fork


def _load_prctl() -> Callable[..., int] | None:
    """libc's ``prctl`` on Linux (loaded in the parent: a child should not pay for
    importing ctypes), else None."""
    if not _PRCTL:
        found: Callable[..., int] | None = None
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                found = ctypes.CDLL(None, use_errno=True).prctl
            except (OSError, AttributeError):
                found = None
        _PRCTL.append(found)
    return _PRCTL[0]


def _die_with_parent(parent: int) -> None:  # pragma: no cover - runs in forked children
    """Called first thing in a forked child: the kernel kills it when this process's
    parent (flashmark) dies, even by ``kill -9``, so no worker is left running."""
    prctl = _PRCTL[0] if _PRCTL else None
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request: nobody to work for
        os._exit(1)


# --- supervised streaming --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lost:
    """A chunk no process finished: why.

    ``kind``: "timeout" (still running after the time limit: killed), "exit" (its process
    ended, ``status`` its exit status, e.g. ``os._exit`` in note code), "signal" (killed
    by signal ``status``), "error" (``work`` raised: ``detail`` is the traceback), "fork"
    (no process could be started for it: ``detail`` says why).
    """

    kind: str
    status: int = 0
    detail: str = ""


# A child's message about one chunk: kind (0 result, 1 error), chunk, offset and length of
# the pickled payload in the child's temporary file. 21 bytes: written atomically.
_MESSAGE = struct.Struct("<BIQQ")
_AHEAD = 2  # chunks handed to a child at once: it never waits for this process


@dataclass(slots=True)
class _Child:
    pid: int
    commands: int  # write end: chunk numbers for the child
    messages: int  # read end: _MESSAGE records from the child
    results: IO[bytes]  # the child's (unlinked) results file
    held: deque[int] = field(default_factory=deque)  # chunks handed over, oldest first
    started: float = 0.0  # when it began the oldest held chunk
    buffer: bytes = b""


def stream_chunks(work: Callable[[int, int], T], bounds: list[tuple[int, int]],
                  processes: int, *, timeout: float | None = None
                  ) -> Generator[tuple[int, T | Lost], None, None]:
    """``(k, work(*bounds[k]))`` for each chunk in order, computed by ``processes``
    forked children while this process consumes the results.

    A chunk whose child dies, raises, or runs longer than ``timeout`` seconds comes back
    as a `Lost` (the caller decides: do it here, or report it); the child's other chunks
    go to a new child. With ``processes`` < 1, or when this process cannot fork, all runs
    here, in order, without the time limit. Results must pickle. Close the iterator (or
    exhaust it) to stop the children; Ctrl-C stops them too.
    """
    if processes < 1 or not bounds or not can_fork():
        for k, (start, end) in enumerate(bounds):
            yield k, work(start, end)
        return
    pool = _Pool(work, bounds, min(processes, len(bounds)), timeout)
    try:
        yield from pool.results()
    finally:
        pool.stop()


class _Pool:
    def __init__(self, work: Callable[[int, int], Any], bounds: list[tuple[int, int]],
                 processes: int, timeout: float | None) -> None:
        self.work = work
        self.bounds = bounds
        self.processes = processes
        self.timeout = timeout
        self.pending: deque[int] = deque(range(len(bounds)))
        self.children: dict[int, _Child] = {}  # by the read end of its messages
        self.done: dict[int, Any] = {}
        self.selector = selectors.DefaultSelector()
        self.parent = os.getpid()
        _load_prctl()

    def results(self) -> Iterator[tuple[int, Any]]:
        for k in range(len(self.bounds)):
            while k not in self.done:
                self._step()
            yield k, self.done.pop(k)

    # The parent's loop: keep every child busy, read what they send, enforce the limit.
    def _step(self) -> None:
        while self.pending and len(self.children) < self.processes:
            if not self._spawn():
                break
        if not self.children:  # no process could be started: give the rest up
            while self.pending:
                self.done[self.pending.popleft()] = self._fork_failure
            return
        now = time.monotonic()
        for child in list(self.children.values()):
            self._feed(child, now)
        wait = None
        if self.timeout is not None:
            deadlines = [c.started + self.timeout for c in self.children.values() if c.held]
            if deadlines:
                wait = max(0.0, min(deadlines) - now)
        for key, _ in self.selector.select(wait):
            self._read(self.children[key.fd])
        if self.timeout is not None:
            now = time.monotonic()
            for child in list(self.children.values()):
                if child.held and now - child.started >= self.timeout:
                    os.kill(child.pid, signal.SIGKILL)
                    self._bury(child, Lost("timeout"))

    _fork_failure: Lost = Lost("fork", detail="no process could be started")

    def _spawn(self) -> bool:
        if not can_fork():
            self._fork_failure = Lost("fork", detail="other threads run in this process")
            return False
        import tempfile

        try:
            results = tempfile.TemporaryFile()  # noqa: SIM115 - open while the child lives
        except OSError as exc:
            self._fork_failure = Lost("fork", detail=f"no temporary file: {exc}")
            return False
        fds: list[int] = []
        try:
            commands_r, commands_w = os.pipe()
            fds += (commands_r, commands_w)
            messages_r, messages_w = os.pipe()
            fds += (messages_r, messages_w)
            pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            results.close()
            self._fork_failure = Lost("fork", detail=str(exc))
            return False
        if pid == 0:  # pragma: no cover - the child, which never returns
            inherited = [fd for c in self.children.values() for fd in (c.commands, c.messages)
                         if fd >= 0]
            _stream_child(self.work, self.bounds, commands_r, messages_w, results,
                          self.parent, [commands_w, messages_r, *inherited])
        os.close(commands_r)
        os.close(messages_w)
        child = _Child(pid, commands_w, messages_r, results)
        self.children[messages_r] = child
        self.selector.register(messages_r, selectors.EVENT_READ)
        return True

    def _feed(self, child: _Child, now: float) -> None:
        if child.commands < 0:  # told to finish: chunks given back later go to another
            return
        while self.pending and len(child.held) < _AHEAD:
            k = self.pending.popleft()
            try:
                os.write(child.commands, k.to_bytes(4, "little"))
            except OSError:  # it is gone: its end of messages will say so
                self.pending.appendleft(k)
                return
            if not child.held:
                child.started = now
            child.held.append(k)
        if not self.pending:
            os.close(child.commands)  # nothing more: it exits after what it holds
            child.commands = -1

    def _read(self, child: _Child) -> None:
        try:
            data = os.read(child.messages, 64 * _MESSAGE.size)
        except OSError:
            data = b""
        if not data:  # it exited (or was killed)
            _, status = os.waitpid(child.pid, 0)
            if os.WIFSIGNALED(status):
                lost = Lost("signal", os.WTERMSIG(status))
            else:
                lost = Lost("exit", os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)
            self._bury(child, lost, reaped=True)
            return
        child.buffer += data
        now = time.monotonic()
        while len(child.buffer) >= _MESSAGE.size:
            kind, k, offset, length = _MESSAGE.unpack_from(child.buffer)
            child.buffer = child.buffer[_MESSAGE.size:]
            payload = os.pread(child.results.fileno(), length, offset)
            if kind == 0:
                self.done[k] = pickle.loads(payload)
            else:
                self.done[k] = Lost("error", detail=payload.decode("utf-8", "replace"))
            if child.held and child.held[0] == k:
                child.held.popleft()
            child.started = now
        self._feed(child, now)

    def _bury(self, child: _Child, lost: Lost, *, reaped: bool = False) -> None:
        """``child`` is gone: its oldest chunk is lost, the others go to the next child."""
        if not reaped:
            with suppress(ChildProcessError):
                os.waitpid(child.pid, 0)
        if child.held:
            self.done[child.held.popleft()] = lost
            self.pending.extendleft(reversed(child.held))
        self._close(child)

    def _close(self, child: _Child) -> None:
        self.selector.unregister(child.messages)
        del self.children[child.messages]
        os.close(child.messages)
        if child.commands >= 0:
            os.close(child.commands)
        child.results.close()

    def stop(self) -> None:
        """Kill what still runs (an interrupted or abandoned stream) and clean up."""
        for child in list(self.children.values()):
            try:
                os.kill(child.pid, signal.SIGKILL)
                os.waitpid(child.pid, 0)
            except OSError:
                pass
            self._close(child)
        self.selector.close()


def _stream_child(work: Callable[[int, int], Any], bounds: list[tuple[int, int]],
                  commands: int, messages: int, results: IO[bytes], parent: int,
                  parents_fds: list[int]) -> NoReturn:  # pragma: no cover - forked child
    status = 1
    try:
        _die_with_parent(parent)
        # Ctrl-C is for flashmark, which stops this process; a KeyboardInterrupt here can
        # only come from the work itself (note code raising it).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for fd in parents_fds:  # so that the end of another child's pipe is seen
            os.close(fd)
        offset = 0
        while True:
            raw = _read_exactly(commands, 4)
            if raw is None or os.getppid() != parent:
                break
            k = int.from_bytes(raw, "little")
            try:
                payload = pickle.dumps(work(*bounds[k]), pickle.HIGHEST_PROTOCOL)
                kind = 0
            except BaseException:  # the parent reports it for this chunk
                import traceback

                payload = traceback.format_exc().encode("utf-8", "replace")
                kind = 1
            results.write(payload)
            results.flush()
            os.write(messages, _MESSAGE.pack(kind, k, offset, len(payload)))
            offset += len(payload)
        status = 0
    finally:
        os._exit(status)


def _read_exactly(fd: int, size: int) -> bytes | None:  # pragma: no cover - in children
    data = b""
    while len(data) < size:
        part = os.read(fd, size - len(data))
        if not part:
            return None
        data += part
    return data

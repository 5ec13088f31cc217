"""One writer at a time per vault: an advisory lock that flashmark's own writers share.

Every command that writes a note or the review log (rate, undo, the reviewer, generate,
import) holds this lock from the moment it reads what it is about to change until the
log line that records it is on disk. So two flashmark processes never interleave a
read-check-write of the same note, and a rating's log lines are never torn apart by
another rating's. Programs that do not know the lock (Obsidian, git, an editor) are
handled by the write path itself (`vault.edit`): it verifies and re-locates every edit.

The lock is ``flock`` on ``.flashmark/lock`` (or, when the vault's ``.flashmark/``
cannot be written, a file under the user's cache folder named after the vault's real
path). The kernel drops it when the process dies, so kill -9 never leaves a vault
locked. It is re-entrant within a process (a rating that also fills a placeholder takes
it once), and threads of one process serialise on it too.

Waiting is bounded: after ``timeout`` seconds (``FLASHMARK_LOCK_TIMEOUT``, default 30)
the command fails with `LockTimeoutError` naming the process that holds it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from flashmark.errors import FlashmarkError
from flashmark.vault.fallback import fallback_folder, keep_local_files_out_of_git

LOCK_NAME = "lock"
DEFAULT_TIMEOUT = 30.0

try:  # POSIX; elsewhere the lock is process-local only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class LockTimeoutError(FlashmarkError):
    """Another flashmark process kept the vault's write lock for too long."""


def _timeout() -> float:
    try:
        return max(0.0, float(os.environ.get("FLASHMARK_LOCK_TIMEOUT", DEFAULT_TIMEOUT)))
    except ValueError:
        return DEFAULT_TIMEOUT


def lock_path(root: Path) -> Path:
    """Where the lock file of the vault at ``root`` lives."""
    state = root / ".flashmark"
    try:
        state.mkdir(exist_ok=True)
        keep_local_files_out_of_git(state)
        probe = state / LOCK_NAME
        fd = os.open(probe, os.O_RDWR | os.O_CREAT, 0o644)
        os.close(fd)
        return probe
    except OSError:
        pass
    folder = fallback_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / LOCK_NAME


class _Held:
    __slots__ = ("count", "fd", "owner")

    def __init__(self, fd: int, owner: int) -> None:
        self.fd = fd
        self.count = 1
        self.owner = owner


_registry_guard = threading.Lock()
_thread_locks: dict[str, threading.RLock] = {}
_held: dict[str, _Held] = {}


def _key(root: Path) -> str:
    return os.path.realpath(root)


def holds_lock(root: Path) -> bool:
    """Does this thread hold the write lock of the vault at ``root``?"""
    held = _held.get(_key(root))
    return held is not None and held.owner == threading.get_ident()


@contextlib.contextmanager
def vault_lock(root: Path, *, timeout: float | None = None) -> Iterator[None]:
    """Hold the vault's write lock for the ``with`` block (re-entrant)."""
    key = _key(root)
    with _registry_guard:
        rlock = _thread_locks.setdefault(key, threading.RLock())
    limit = _timeout() if timeout is None else timeout
    deadline = time.monotonic() + limit
    if not rlock.acquire(timeout=limit if limit > 0 else -1):
        raise LockTimeoutError(f"another task of this program kept the vault {root} busy "
                               f"for {limit:g} s")
    try:
        held = _held.get(key)
        if held is not None:
            held.count += 1
            try:
                yield
            finally:
                held.count -= 1
            return
        fd = _acquire_file(root, deadline, limit)
        _held[key] = _Held(fd, threading.get_ident())
        try:
            yield
        finally:
            del _held[key]
            os.close(fd)  # releases the flock
    finally:
        rlock.release()


def _acquire_file(root: Path, deadline: float, limit: float) -> int:
    path = lock_path(root)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise FlashmarkError(f"cannot open the vault's lock file {path}: "
                             f"{exc.strerror or exc}") from None
    if fcntl is None:  # pragma: no cover
        return fd
    delay = 0.002
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = _holder(fd)
                os.close(fd)
                raise LockTimeoutError(
                    f"another flashmark process{holder} has been writing the vault {root} "
                    f"for more than {limit:g} s; nothing was written",
                    hint="wait for it to finish and run the command again "
                         "(FLASHMARK_LOCK_TIMEOUT sets how long to wait)") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        except OSError as exc:  # a file system without flock: go on unlocked
            if exc.errno in (errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP):
                return fd
            os.close(fd)
            raise
    # Who holds it, for the message another process may have to show.
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""

"""The one write path for notes: `Edit`s applied as a minimal, atomic, guarded splice.

Every writer (a rating, an undo, a placeholder comment, a regenerated section) turns its
change into `Edit`s: a byte range of the note, the bytes it must hold now, and the bytes
that replace them, computed from one reading of the note (its ``basis``). `apply_edits`

1. takes the vault's write lock (`vault.lock`), so no other flashmark writer is between
   its read and its write;
2. reads the note again; when it is not byte for byte the basis the edits were computed
   from, the edits are never applied blind (an insertion has no old bytes to check, so
   an old offset could land anywhere): the caller's ``relocate`` computes them again from
   the new bytes (by the card's identity), or the write is refused (`ConflictError`);
3. refuses notes it cannot replace without losing something: a read-only note, a note
   with other hard links (a rename would split them), unless the caller allows writing
   in place;
4. splices only those ranges (every other byte, line ending, BOM and trailing newline
   stays as it is) into a temporary file in the note's own folder, fsyncs it, gives it
   the note's permission bits, owner and group (where this process may), and
5. swaps it with the note in one atomic step. On Linux that is ``renameat2`` with
   ``RENAME_EXCHANGE``: afterwards the temporary name holds exactly what was replaced, so
   flashmark checks *after* the swap that it replaced the bytes it verified; when another
   program wrote the note in between, the swap is undone (their version is back, ours
   never visible for longer than two system calls) and the edit is re-located on their
   version and tried again. Elsewhere a plain rename follows a last comparison, and the
   window in which another program's write can be lost is the time between that read and
   the rename (microseconds; docs/architecture.md).

So a note is always either entirely old or entirely new, never partial, and another
program's change is never overwritten silently.

Temporary files are named ``.NOTE.PID-RANDOM.flashmark-tmp`` and listed in
``.flashmark/tmp-journal`` before they are created; whatever a killed process left
behind is removed by the next writer (`sweep_debris`), and `check` reports strays.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import json
import os
import secrets
import stat
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import BinaryIO

from flashmark.errors import (
    ConflictError,
    FlashmarkError,
    NoteReadError,
    Notice,
    file_system_message,
)
from flashmark.vault.lock import holds_lock, vault_lock

TMP_SUFFIX = ".flashmark-tmp"
JOURNAL_NAME = "tmp-journal"
# How often a write races another program before giving up (each try re-reads).
MAX_TRIES = 5


@dataclass(frozen=True, slots=True)
class Edit:
    start: int  # byte offset in the note
    end: int
    old: bytes  # what data[start:end] must be
    new: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end or self.end - self.start != len(self.old):
            raise ValueError(
                f"inconsistent edit {self.start}..{self.end} for {len(self.old)} bytes")


# Given the note's current bytes, return the edits again (re-located), or None when
# the thing they change is gone.
Relocate = Callable[[bytes], Sequence[Edit] | None]


class NoteWriteError(FlashmarkError):
    """A note cannot be replaced safely (read-only, hard-linked, folder not writable)."""


def splice(data: bytes, edits: Sequence[Edit]) -> bytes:
    """Apply non-overlapping edits to ``data`` (checked)."""
    ordered = sorted(edits, key=lambda e: e.start)
    for a, b in pairwise(ordered):
        if b.start < a.end:
            raise ValueError("overlapping edits")
    parts: list[bytes] = []
    pos = 0
    for e in ordered:
        if data[e.start:e.end] != e.old:
            raise ConflictError("internal: edit does not match the note")
        parts.append(data[pos:e.start])
        parts.append(e.new)
        pos = e.end
    parts.append(data[pos:])
    return b"".join(parts)


def _matches(data: bytes, edits: Sequence[Edit]) -> bool:
    return all(data[e.start:e.end] == e.old for e in edits)


def read_bytes(path: str, rel: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise ConflictError(f"{rel}: the note no longer exists") from None
    except IsADirectoryError:
        raise NoteReadError(rel, "is a folder, not a note") from None
    except OSError as exc:
        raise NoteReadError(rel, f"cannot read: {exc.strerror or exc}") from None


# Test hook: called with the temporary file's path after it is written and fsynced and
# before the swap (the crash-safety and race tests use it).
_before_rename: Callable[[str], None] | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    before: bytes  # the whole note before
    after: bytes  # and after
    edits: tuple[Edit, ...]  # the edits as applied (re-located when the note had changed)
    retries: int = 0  # how often another program's write made us start over


def vault_root_of(path: str, rel: str) -> Path:
    """The vault folder, from a note's path and its vault-relative name."""
    norm = os.path.normpath(path)
    tail = os.path.normpath(rel)
    if norm.endswith(os.sep + tail):
        return Path(norm[:-len(tail) - 1] or os.sep)
    return Path(os.path.dirname(norm) or ".")


def apply_edits(path: str, rel: str, edits: Sequence[Edit],
                relocate: Relocate | None = None, *, basis: bytes,
                root: Path | None = None, in_place: bool = False) -> Applied:
    """Apply ``edits``, computed from the note's bytes ``basis``, to the note at ``path``.

    ``rel`` names the note in messages; ``root`` is the vault (derived from ``path`` and
    ``rel`` when not given), whose write lock is held while the note is read and
    replaced. Raises `ConflictError` when the note changed and the edits cannot be
    re-located, `NoteReadError` when it cannot be read and `NoteWriteError` when it
    cannot be replaced safely. ``in_place`` writes a read-only or hard-linked note by
    overwriting its bytes instead of refusing (the user's opt-in; not atomic)."""
    root = root if root is not None else vault_root_of(path, rel)
    with vault_lock(root):
        sweep_debris(root)
        target = os.path.realpath(path)  # write through a symlink, never replace it
        retries = 0
        while True:
            data = read_bytes(target, rel)
            current = _current_edits(data, basis, edits, relocate, rel)
            new = splice(data, current)
            if new == data:
                return Applied(data, new, tuple(current), retries)
            if _write(root, target, rel, new, data, in_place):
                return Applied(data, new, tuple(current), retries)
            retries += 1
            if retries >= MAX_TRIES:
                raise ConflictError(
                    f"{rel}: another program kept changing the note while flashmark wrote "
                    "it; nothing was written", hint="run the command again")


def _current_edits(data: bytes, basis: bytes, edits: Sequence[Edit],
                   relocate: Relocate | None, rel: str) -> Sequence[Edit]:
    if data == basis and _matches(data, edits):
        return edits
    located = relocate(data) if relocate is not None else None
    if located is None or not _matches(data, located):
        raise ConflictError(
            f"{rel}: the note changed since it was read and the card could not be found "
            "again; nothing was written",
            hint="run the command again; flashmark re-reads the note")
    return located


def _write(root: Path, target: str, rel: str, new: bytes, expected: bytes,
           in_place: bool) -> bool:
    """Replace the note's bytes ``expected`` by ``new``. False when another program
    changed the note first (nothing of ours stays on disk then)."""
    try:
        st = os.stat(target)
    except OSError as exc:
        raise ConflictError(f"{rel}: cannot stat the note: {exc.strerror}") from None
    mode = stat.S_IMODE(st.st_mode)
    read_only = not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    if (read_only or st.st_nlink > 1) and not in_place:
        why = ("is read-only (no write permission bit)" if read_only
               else f"has {st.st_nlink} hard links, which replacing it would split")
        raise NoteWriteError(f"{rel}: the note {why}; flashmark did not write it",
                             hint="make it writable (chmod u+w), or set "
                                  "`write.in_place: true` in flashmark.yaml to overwrite "
                                  "such notes in place (not atomic)")
    if in_place and (read_only or st.st_nlink > 1):
        return _write_in_place(target, rel, new, expected)
    folder = os.path.dirname(target) or "."
    tmp = _temp_name(target)
    _journal(root, tmp, expected, new)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise NoteWriteError(f"{rel}: cannot create a temporary file beside the note: "
                             f"{exc.strerror}", hint="is the note's folder writable?") from None
    swapped = False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(new)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        _keep_owner(tmp, st)
        if _before_rename is not None:
            _before_rename(tmp)
        if read_bytes(target, rel) != expected:  # a last look: cheap, narrows the race
            return False
        swapped = _exchange(tmp, target)
        if swapped:
            # ``tmp`` now holds what we replaced: was it what we verified?
            replaced = _read_quiet(tmp)
            if replaced != expected:
                _exchange(tmp, target)  # theirs back; ours is at tmp, removed below
                return False
        else:
            os.replace(tmp, target)
    except OSError as exc:
        # Name the note, not our temporary file: that is what the user knows.
        known = file_system_message(OSError(exc.errno, exc.strerror), "the note", rel)
        if known is not None:
            raise NoteWriteError(f"{known}; it was not changed") from None
        raise NoteWriteError(f"{rel}: cannot write the note: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        _clear_journal(root)
    _fsync_folder(folder)
    return True


def _write_in_place(target: str, rel: str, new: bytes, expected: bytes) -> bool:
    """Overwrite the note's own inode (keeps hard links; the user opted in)."""
    try:
        fd = os.open(target, os.O_RDWR)
    except OSError as exc:
        raise NoteWriteError(f"{rel}: cannot open the note for writing: "
                             f"{exc.strerror}") from None
    try:
        size = os.fstat(fd).st_size
        if os.pread(fd, size + 1, 0) != expected:
            return False
        os.pwrite(fd, new, 0)
        os.ftruncate(fd, len(new))
        os.fsync(fd)
    except OSError as exc:
        raise NoteWriteError(f"{rel}: writing the note in place failed: {exc.strerror}; "
                             "it may be damaged: check it") from None
    finally:
        os.close(fd)
    return True


def _temp_name(target: str) -> str:
    folder, name = os.path.split(target)
    return os.path.join(folder, f".{name}.{os.getpid()}-{secrets.token_hex(4)}{TMP_SUFFIX}")


def _read_quiet(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def _keep_owner(tmp: str, st: os.stat_result) -> None:
    if not hasattr(os, "chown"):
        return
    mine = os.stat(tmp)
    if (mine.st_uid, mine.st_gid) == (st.st_uid, st.st_gid):
        return
    try:
        os.chown(tmp, st.st_uid, st.st_gid)
    except PermissionError:
        # Not root: we may still give it the note's group if we belong to it.
        with contextlib.suppress(OSError):
            os.chown(tmp, -1, st.st_gid)
        os.chmod(tmp, stat.S_IMODE(st.st_mode))  # chown may clear set-id bits


# --- the atomic swap -------------------------------------------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2: Callable[..., int] | None = None
_exchange_works: bool | None = None if sys.platform.startswith("linux") else False


def _exchange(a: str, b: str) -> bool:
    """Atomically swap the files at ``a`` and ``b``; False when the system cannot (then
    nothing happened)."""
    global _renameat2, _exchange_works
    if _exchange_works is False:
        return False
    if _renameat2 is None:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            func = libc.renameat2
        except (OSError, AttributeError):
            _exchange_works = False
            return False
        func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
        func.restype = ctypes.c_int
        _renameat2 = func
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b),
                  _RENAME_EXCHANGE) == 0:
        _exchange_works = True
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # not on this file system
        return False
    raise OSError(err, os.strerror(err), b)


# --- debris ----------------------------------------------------------------------------


def _journal_path(root: Path) -> Path:
    return root / ".flashmark" / JOURNAL_NAME


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _journal(root: Path, tmp: str, old: bytes, new: bytes) -> None:
    """Note a temporary file before creating it, so that a kill -9 cannot hide it, with
    the digests of the note's bytes it replaces (``old``) and of its own (``new``): after
    a swap the temporary file holds whatever was replaced, and if that is neither, it is
    another program's version that the swap's check never got to give back."""
    path = _journal_path(root)
    record = json.dumps({"tmp": os.fsdecode(tmp), "old": _digest(old), "new": _digest(new)})
    with contextlib.suppress(OSError):
        path.parent.mkdir(exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, record.encode("utf-8", "surrogateescape") + b"\n")
        finally:
            os.close(fd)


def _clear_journal(root: Path) -> None:
    # Our temporary file is gone (renamed or removed): nothing is left to sweep.
    with contextlib.suppress(OSError):
        os.truncate(_journal_path(root), 0)


def is_own_temp(name: str) -> bool:
    """Is ``name`` (a file name) a temporary file flashmark writes notes through?"""
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


def _note_of_temp(tmp: str) -> str:
    """The note ``.NOTE.PID-RANDOM.flashmark-tmp`` was written for."""
    folder, name = os.path.split(tmp)
    return os.path.join(folder, name[1:-len(TMP_SUFFIX)].rsplit(".", 1)[0])


def _journal_records(raw: bytes) -> Iterator[tuple[str, str | None, str | None]]:
    """(temporary file, old digest, new digest) of each well-formed journal line; the
    journal is a file on disk like any other, so anything else in it is skipped."""
    for line in raw.splitlines():
        try:
            record = json.loads(line.decode("utf-8", "surrogateescape"))
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        tmp, old, new = record.get("tmp"), record.get("old"), record.get("new")
        if isinstance(tmp, str) and isinstance(old, str) and isinstance(new, str):
            yield tmp, old, new


def sweep_debris(root: Path) -> list[str]:
    """Settle the temporary files a killed writer left (those in the journal). Call with
    the vault lock held: no live writer of ours has one then. Returns what was removed.

    A temporary file holding our old or new bytes is removed. One holding anything else
    is another program's version that a swap took out of the note just before the kill:
    when the note still holds our bytes it goes back into the note (the interrupted
    rating then finds itself not written and is aborted by reconciliation); otherwise it
    is kept in ``.flashmark/recovered/`` and a `Notice` says so. Nothing is deleted
    that only exists there. The state files' temporaries of dead processes in
    ``.flashmark/`` (a killed export's manifest) go too."""
    assert holds_lock(root), "sweep_debris needs the vault lock"
    removed = [os.path.join(root, ".flashmark", name)
               for name in sweep_state_temps(os.path.join(root, ".flashmark"))]
    path = _journal_path(root)
    try:
        if os.stat(path).st_size == 0:
            return removed
        with open(path, "rb") as fh:
            listed = fh.read()
    except OSError:
        return removed
    real_root = os.path.realpath(root)
    for tmp, old, new in _journal_records(listed):
        # Only our own names, and only inside the vault: the journal is not trusted to
        # name anything else.
        if not is_own_temp(os.path.basename(tmp)) or not _inside(tmp, real_root):
            continue
        held = _read_quiet(tmp)
        if held is None:
            continue
        if _digest(held) not in (old, new):
            _give_back(root, tmp, _note_of_temp(tmp), new)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
            removed.append(tmp)
    _clear_journal(root)
    return removed


def _give_back(root: Path, tmp: str, note: str, ours: str | None) -> None:
    """``tmp`` holds another program's version of ``note``: put it back in the note if
    the note still has our interrupted write, else keep it where the user can find it."""
    current = _read_quiet(note)
    if current is not None and _digest(current) == ours:
        with contextlib.suppress(OSError):
            if _exchange(tmp, note):
                _fsync_folder(os.path.dirname(note) or ".")
                warnings.warn(Notice(
                    f"{os.path.relpath(note, root)}: a flashmark write was interrupted "
                    "just after another program saved this note; its version is back in "
                    "the note"), stacklevel=3)
                return
    keep = root / ".flashmark" / "recovered"
    with contextlib.suppress(OSError):
        keep.mkdir(parents=True, exist_ok=True)
        name = f"{os.path.basename(note)}.{int(time.time())}-{secrets.token_hex(2)}"
        os.replace(tmp, keep / name)
        warnings.warn(Notice(
            f"{os.path.relpath(note, root)}: a flashmark write was interrupted just after "
            "another program saved this note, and the note changed since; that program's "
            f"version is kept as .flashmark/recovered/{name}"), stacklevel=3)


def sweep_state_temps(folder: str) -> list[str]:
    """Remove the temporary files that killed processes left beside flashmark's own state
    files (manifest, fitted weights): ``.NAME.PID-RANDOM.flashmark-tmp`` whose process
    is gone. Those are written without the vault lock, so the process id decides."""
    removed: list[str] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        if not is_own_temp(name):
            continue
        pid_text = name[1:-len(TMP_SUFFIX)].rsplit(".", 1)[-1].split("-", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(folder, name))
            removed.append(name)
    return removed


def stray_temps(root: Path) -> list[str]:
    """Vault-relative paths of flashmark's temporary files in the vault (note folders
    and ``.flashmark/``): what an interrupted write left, for `check` to report. Hidden
    folders other than ``.flashmark`` are not ours and are not entered."""
    found: list[str] = []
    pending = [(os.fspath(root), "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    name = entry.name
                    if is_own_temp(name):
                        found.append(prefix + name)
                    elif ((name[0] != "." or (not prefix and name == ".flashmark"))
                          and entry.is_dir(follow_symlinks=False)):
                        pending.append((entry.path, f"{prefix}{name}/"))
        except OSError:
            continue
    return sorted(found)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process (or cannot tell): leave its file alone
    return True


def _inside(path: str, real_root: str) -> bool:
    real = os.path.realpath(os.path.dirname(path))
    return real == real_root or real.startswith(real_root + os.sep)


# --- other files -------------------------------------------------------------------------


# Every file flashmark writes other than notes (manifest, fitted weights, caches, the
# exported package) goes through `replacing_atomically`: a temporary file beside it, named
# like a note's (``.NAME.PID-RANDOM.flashmark-tmp``), fsynced, given the old file's mode,
# renamed over it; removed when the writer fails, swept (`sweep_state_temps`) when the
# process was killed.


def write_file_atomically(path: str, data: bytes, *, default_mode: int = 0o644,
                          sweep: bool = False) -> None:
    """Replace a state file (manifest, fitted weights, a cache) atomically, keeping its
    mode. Notes never come here: they go through `apply_edits`, which also guards against
    concurrent edits. ``sweep``: see `replacing_atomically`."""
    with writing_atomically(path, default_mode=default_mode, sweep=sweep) as fh:
        fh.write(data)


@contextlib.contextmanager
def writing_atomically(path: str, *, default_mode: int = 0o644,
                       sweep: bool = False) -> Iterator[BinaryIO]:
    """A file object to write ``path``'s new content to, incrementally (a large file):
    it replaces ``path`` when the block ends normally, and is removed when it raises."""
    with replacing_atomically(path, default_mode=default_mode, sweep=sweep) as tmp, \
            open(tmp, "wb") as fh:
        yield fh


@contextlib.contextmanager
def replacing_atomically(path: str, *, default_mode: int = 0o644,
                         sweep: bool = False) -> Iterator[str]:
    """The name of an empty temporary file for a writer that wants a path (zipfile, a
    library exporting to a file name): when the block ends normally, the file is
    fsynced, given ``path``'s mode (``default_mode`` for a new file) and renamed over
    ``path``; when it raises, the temporary file is removed. ``sweep`` removes the
    temporary files dead processes left beside it first: only for flashmark's own folder
    ``.flashmark/`` (in a note's folder such a file may be the write path's to recover,
    see `sweep_debris`)."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = default_mode
    if sweep:
        sweep_state_temps(folder)
    tmp = _temp_name(path)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    # Makes the rename itself durable; not possible (nor needed) on every platform.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

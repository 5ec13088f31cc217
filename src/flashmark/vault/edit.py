"""The one write path for notes: `Edit`s applied as a minimal, atomic, guarded splice.

Every writer (a rating, an undo, a placeholder comment, a regenerated section) turns its
change into `Edit`s: a byte range of the note, the bytes it must hold now, and the bytes
that replace them. `apply_edits` then

1. reads the note again and checks that every range still holds its old bytes; when one
   does not (the note changed since it was read), asks the caller's ``relocate`` to find
   the place again in the new text, and refuses with `ConflictError` when it cannot;
2. splices only those ranges (every other byte, line ending, BOM and trailing newline
   stays as it is);
3. writes a temporary file in the note's own folder, fsyncs it, gives it the note's
   permission bits and renames it over the note (atomic on POSIX and Windows), then
   fsyncs the folder; a symbolic link is written through to its target;
4. re-checks, just before the rename, that the note did not change while it worked.

So a note is always either entirely old or entirely new, never partial.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from flashmark.errors import ConflictError, NoteReadError


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
    except OSError as exc:
        raise NoteReadError(rel, f"cannot read: {exc.strerror or exc}") from None


# Test hook: called with the temporary file's path after it is written and fsynced and
# before the rename (the crash-safety test raises from it).
_before_rename: Callable[[str], None] | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    before: bytes  # the whole note before
    after: bytes  # and after
    edits: tuple[Edit, ...]  # the edits as applied (re-located when the note had changed)


def apply_edits(path: str, rel: str, edits: Sequence[Edit],
                relocate: Relocate | None = None) -> Applied:
    """Apply ``edits`` to the note at ``path``.

    ``rel`` names the note in messages. Raises `ConflictError` when the edits no longer
    fit and cannot be re-located, `NoteReadError` when the note cannot be read.
    """
    target = os.path.realpath(path)  # write through a symlink, never replace it
    data = read_bytes(target, rel)
    if not _matches(data, edits):
        located = relocate(data) if relocate is not None else None
        if located is None or not _matches(data, located):
            raise ConflictError(
                f"{rel}: the note changed since it was read and the card could not be found "
                "again; nothing was written",
                hint="run the command again; flashmark re-reads the note")
        edits = located
    new = splice(data, edits)
    if new != data:
        _atomic_write(target, rel, new, expected=data)
    return Applied(data, new, tuple(edits))


def _replace_file(target: str, data: bytes, mode: int,
                  before_rename: Callable[[str], None] | None = None) -> None:
    """Write ``data`` to a temporary file beside ``target``, fsync it, give it ``mode``,
    call ``before_rename`` (which may refuse by raising) and rename it over ``target``;
    the temporary file never outlives a failure."""
    folder = os.path.dirname(target) or "."
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".",
                               suffix=".flashmark-tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if before_rename is not None:
            before_rename(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _atomic_write(target: str, rel: str, new: bytes, expected: bytes) -> None:
    try:
        st = os.stat(target)
    except OSError as exc:
        raise ConflictError(f"{rel}: cannot stat the note: {exc.strerror}") from None

    def last_look(tmp: str) -> None:
        if _before_rename is not None:
            _before_rename(tmp)
        # Another program may have written the note while we worked.
        if read_bytes(target, rel) != expected:
            raise ConflictError(f"{rel}: the note changed while flashmark was writing it; "
                                "nothing was written", hint="run the command again")

    _replace_file(target, new, stat.S_IMODE(st.st_mode), last_look)


def write_file_atomically(path: str, data: bytes, *, default_mode: int = 0o644) -> None:
    """Replace a state file (manifest, fitted weights) atomically, keeping its mode.
    Notes never come here: they go through `apply_edits`, which also guards against
    concurrent edits."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = default_mode
    _replace_file(path, data, mode)


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

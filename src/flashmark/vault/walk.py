"""Find the notes of a vault: every `*.md` file below the root, like Obsidian sees them.

Skipped: folders whose name starts with "." (`.obsidian`, `.git`, `.trash`, our own
`.flashmark`: Obsidian hides them too) and paths matching the ignore globs. Symbolic
links to folders are followed once: a folder already visited (same device and inode)
is not entered again, so link loops end.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import translate

from flashmark.model import WARNING, Diagnostic


@dataclass(frozen=True, slots=True)
class NoteFile:
    rel: str  # vault-relative, "/"-separated
    path: str  # absolute path as found (may go through a symlink)
    size: int
    mtime_ns: int


def walk_notes(root: str, ignore: tuple[str, ...] = (),
               problems: list[Diagnostic] | None = None) -> Iterator[NoteFile]:
    """Yield the vault's notes in a stable (sorted) order."""
    seen: set[tuple[int, int]] = set()
    try:
        st = os.stat(root)
        seen.add((st.st_dev, st.st_ino))
    except OSError:
        return
    found: list[NoteFile] = []
    _walk(root, "", _ignored(ignore), seen, problems, found)
    yield from found


# a path -> does an ignore glob match it
Ignored = Callable[[str], object] | None


def _ignored(globs: tuple[str, ...]) -> Ignored:
    """One regular expression for all the ignore globs: what ``any(fnmatchcase(path, g)
    for g in globs)`` says, in one call per path (80k notes at 10x the real vault)."""
    if not globs:
        return None
    return re.compile("|".join(f"(?:{translate(g)})" for g in globs)).match


def _walk(folder: str, prefix: str, ignore: Ignored, seen: set[tuple[int, int]],
          problems: list[Diagnostic] | None, found: list[NoteFile]) -> None:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=_name)
    except OSError as exc:
        if problems is not None:
            problems.append(_unreadable(prefix.rstrip("/") or ".",
                                        f"cannot list folder: {exc.strerror}"))
        return
    for entry in entries:
        name = entry.name
        if name[0] == ".":
            continue
        rel = prefix + name
        if not name.isascii() and not _representable(name):
            # os.scandir hands undecodable bytes over as lone surrogates; such a name
            # can be neither stored in the index nor printed, nor matched by a link.
            if problems is not None and (name.endswith(".md") or _is_dir(entry)):
                problems.append(_unreadable(
                    printable(rel), "the file name is not valid UTF-8: skipped (rename it "
                                    "to read its cards)"))
            continue
        try:
            if name.endswith(".md") and entry.is_file():
                if ignore is not None and ignore(rel):
                    continue
                st = entry.stat()
                found.append(NoteFile(rel, entry.path, st.st_size, st.st_mtime_ns))
            elif entry.is_dir():
                st = entry.stat()
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    if problems is not None and entry.is_symlink():
                        problems.append(_unreadable(rel, "symbolic link to a folder already "
                                                         "visited (a loop?): skipped"))
                    continue
                seen.add(key)
                if ignore is not None and ignore(rel + "/"):
                    continue
                _walk(entry.path, rel + "/", ignore, seen, problems, found)
        except OSError as exc:
            if problems is not None:
                problems.append(_unreadable(rel, f"cannot read: {exc.strerror}"))


def _unreadable(rel: str, message: str) -> Diagnostic:
    """A file or folder the walk skips: a warning, with `check`'s code "unreadable"."""
    return Diagnostic(rel, None, WARNING, "unreadable", message)


def _representable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def printable(name: str) -> str:
    """A file name as it can be shown: bytes that are not UTF-8 as ``\\xff``."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name

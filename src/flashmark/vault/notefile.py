"""Reading a note: bytes in, decoded text out, nothing ever written here."""

from __future__ import annotations

import os
from dataclasses import dataclass

from flashmark.errors import NoteReadError

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class NoteText:
    data: bytes  # the file exactly as read
    text: str  # decoded; a BOM stays as "\ufeff" so offsets match the bytes

    @property
    def has_bom(self) -> bool:
        return self.data.startswith(BOM)

    @property
    def newline(self) -> str:
        """The note's line ending: the first one found (LF when it has none)."""
        pos = self.data.find(b"\n")
        if pos > 0 and self.data[pos - 1:pos] == b"\r":
            return "\r\n"
        if pos < 0 and b"\r" in self.data:
            return "\r"
        return "\n"


def _looks_utf16(data: bytes) -> bool:
    """A UTF-16 BOM, or text whose every other byte is NUL (UTF-16 without a BOM:
    Windows tools write it)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return False
    even_nuls = sample[0:pairs * 2:2].count(0)
    odd_nuls = sample[1:pairs * 2:2].count(0)
    return max(even_nuls, odd_nuls) >= pairs * 0.9 and min(even_nuls, odd_nuls) == 0


def decode_note(rel: str, data: bytes) -> NoteText:
    if b"\x00" in data or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        if _looks_utf16(data):
            raise NoteReadError(rel, "is encoded as UTF-16, not UTF-8: skipped",
                                hint="re-save the note as UTF-8; flashmark never writes to "
                                     "it until then")
        raise NoteReadError(rel, "looks like a binary file (it contains NUL bytes): skipped")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise NoteReadError(rel, f"is not valid UTF-8 (line {line}, byte {exc.start}): skipped",
                            hint="re-save the note as UTF-8; flashmark never writes to it "
                                 "until then") from None
    return NoteText(data, text)


def read_note(rel: str, path: str, size_hint: int = -1) -> NoteText:
    """Read and decode a note. ``size_hint``: its size when known (from the walk).

    Plain ``os.read`` calls: a cold scan reads thousands of files, and the buffered
    file object costs as much again as the reading itself.
    """
    try:
        fd = os.open(path, _READ_FLAGS)
        try:
            size = size_hint if size_hint >= 0 else os.fstat(fd).st_size
            parts = [os.read(fd, size + 1)]
            while parts[-1]:  # until end of file, whatever the size said
                parts.append(os.read(fd, max(size, 1 << 16)))
        finally:
            os.close(fd)
    except OSError as exc:
        raise NoteReadError(rel, f"cannot read: {exc.strerror or exc}") from None
    return decode_note(rel, parts[0] if len(parts) == 2 else b"".join(parts))


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)

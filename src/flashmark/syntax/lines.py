"""Line table: the note cut into lines with character and byte offsets.

Only "\\n", "\\r\\n" and a bare "\\r" end a line (the OSR plugin ignores a bare "\\r";
`str.splitlines` would also split on form feeds and Unicode separators).
"""

from __future__ import annotations

import re
from itertools import accumulate

_NEWLINE = re.compile(r"\r\n|\r|\n")
_BYTE_NEWLINE = re.compile(rb"\r\n|\r|\n")


class LineTable:
    """``lines[i]`` without its ending; ``starts[i]`` its first character offset."""

    __slots__ = ("_byte_starts", "ascii", "lines", "starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        if "\r" in text:
            self.lines = _NEWLINE.split(text)
            starts = [0]
            starts.extend(m.end() for m in _NEWLINE.finditer(text))
            self.starts = starts
        else:
            self.lines = text.split("\n")
            self.starts = [0, *accumulate(len(line) + 1 for line in self.lines[:-1])]
        self.ascii = text.isascii()
        self._byte_starts: list[int] | None = None

    def line_end(self, i: int) -> int:
        """Character offset just after line ``i``'s content (before its newline)."""
        return self.starts[i] + len(self.lines[i])

    @property
    def byte_starts(self) -> list[int]:
        """``byte_starts[i]``: byte offset (UTF-8) of line ``i``'s first character."""
        starts = self._byte_starts
        if starts is None:
            if self.ascii:
                starts = self.starts
            else:
                data = self.text.encode("utf-8", "surrogatepass")
                if b"\r" in data:
                    starts = [0, *(m.end() for m in _BYTE_NEWLINE.finditer(data))]
                else:
                    starts = list(accumulate((len(b) + 1 for b in data.split(b"\n")[:-1]),
                                             initial=0))
            self._byte_starts = starts
        return starts

    def byte_offset(self, line: int, col: int) -> int:
        """Byte offset (UTF-8) of character ``col`` of ``line``."""
        if self.ascii:
            return self.starts[line] + col
        base = self.byte_starts[line]
        if col == 0:
            return base
        text = self.lines[line]
        if text.isascii():
            return base + col
        return base + len(text[:col].encode("utf-8", "surrogatepass"))

    def line_end_byte(self, line: int) -> int:
        """Byte offset just after line ``line``'s content (before its newline)."""
        if self.ascii:
            return self.starts[line] + len(self.lines[line])
        text = self.lines[line]
        return self.byte_starts[line] + (len(text) if text.isascii() else
                                         len(text.encode("utf-8", "surrogatepass")))

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

    def byte_offset(self, line: int, col: int) -> int:
        """Byte offset (UTF-8) of character ``col`` of ``line``."""
        if self.ascii:
            return self.starts[line] + col
        starts = self._byte_starts
        if starts is None:
            data = self.text.encode("utf-8", "surrogatepass")
            if b"\r" in data:
                starts = [0, *(m.end() for m in _BYTE_NEWLINE.finditer(data))]
            else:
                starts = list(accumulate((len(b) + 1 for b in data.split(b"\n")[:-1]),
                                         initial=0))
            self._byte_starts = starts
        if col == 0:
            return starts[line]
        text = self.lines[line]
        if col == len(text):
            if line + 1 < len(starts):
                # the newline is ASCII: as many bytes as characters
                return starts[line + 1] - (self.starts[line + 1] - self.starts[line] - col)
            return len(self.text.encode("utf-8", "surrogatepass")) if line else starts[0] + len(
                text.encode("utf-8", "surrogatepass"))
        prefix = text[:col]
        return starts[line] + (len(prefix) if prefix.isascii()
                               else len(prefix.encode("utf-8", "surrogatepass")))

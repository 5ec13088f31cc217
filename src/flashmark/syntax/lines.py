"""Line table: the note cut into lines with character and byte offsets.

The lines are cut by :func:`flashmark.syntax.blocks.split_lines_with_starts` (the
one line splitter: "\\n", "\\r\\n" and a bare "\\r"; the OSR plugin ignores a bare "\\r").
"""

from __future__ import annotations

from flashmark.syntax.blocks import split_lines_with_starts


class LineTable:
    """``lines[i]`` without its ending; ``starts[i]`` its first character offset."""

    __slots__ = ("_cursor", "ascii", "lines", "starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines, self.starts = split_lines_with_starts(text)
        self.ascii = text.isascii()
        self._cursor = (0, 0)  # (character offset, its byte offset): see char_to_byte

    def line_end(self, i: int) -> int:
        """Character offset just after line ``i``'s content (before its newline)."""
        return self.starts[i] + len(self.lines[i])

    def char_to_byte(self, pos: int) -> int:
        """Byte offset (UTF-8) of character offset ``pos`` of the text.

        A cursor remembers the last answer and only the text between it and ``pos`` is
        encoded: the parser asks in (nearly) increasing order, so a note is encoded about
        once in all, and only as far as its last card.
        """
        if self.ascii:
            return pos
        at, byte = self._cursor
        if pos >= at:
            byte += len(self.text[at:pos].encode("utf-8", "surrogatepass"))
        else:
            byte -= len(self.text[pos:at].encode("utf-8", "surrogatepass"))
        self._cursor = (pos, byte)
        return byte

    def byte_offset(self, line: int, col: int) -> int:
        """Byte offset (UTF-8) of character ``col`` of ``line``."""
        if self.ascii:
            return self.starts[line] + col
        return self.char_to_byte(self.starts[line] + col)

    def line_end_byte(self, line: int) -> int:
        """Byte offset just after line ``line``'s content (before its newline)."""
        return self.byte_offset(line, len(self.lines[line]))

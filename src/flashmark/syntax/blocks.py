"""The block structure every reader of a note shares: its lines, its frontmatter, its
fenced code. Everything that cuts a note into lines, finds where its frontmatter ends,
or asks "is this line code?" calls this module (the scanner, tag collection, the review
renderer and its breadcrumbs, the exporter), so they cannot disagree.

Lines: only "\\n", "\\r\\n" and a bare "\\r" end a line (`str.splitlines` would also split
on form feeds and Unicode separators, which Obsidian does not).

Frontmatter (as Obsidian reads it): the very first line is exactly ``---`` (a BOM before
it and trailing spaces are allowed) and a later line is exactly ``---``. A note that
starts with a blank line has none; ``...`` does not close it.

Fenced code (CommonMark, which Obsidian follows):

* an opening fence is a run of at least 3 backticks or 3 tildes; a backtick fence's info
  string may not contain a backtick (```` ```a``` b ```` is inline code, not a fence);
* inside a blockquote the ``>`` markers are stripped first: the fence belongs to that
  quote, and it ends, closed or not, when a line no longer carries as many ``>``;
* the closing fence uses the same character, at least as many of them as the opening
  fence, and has nothing after it but spaces and tabs (```` ```python ```` inside an open
  fence is code, not a closing fence);
* an unclosed fence runs to the end of the text (or of its quote).

Deliberately looser than CommonMark, because list items are not tracked: a fence may be
indented by any amount (inside a list item its indentation is relative to the item's
content, which may be deep), and may follow list markers on its own line
(``- ```js``). A fence in a list item therefore does not end with the item.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import accumulate

__all__ = [
    "CLOSING", "FENCE_LINE_HEADS", "FENCE_RUN", "INSIDE", "LEFT", "OPENING", "OUTSIDE",
    "Fence", "FenceTracker",
    "body_offset", "fence_opening", "frontmatter_end", "is_fence_line",
    "lines_outside_fences", "split_lines", "split_lines_with_starts",
]

# --- lines --------------------------------------------------------------------------

_NEWLINE = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The lines of ``text``, without their endings (LF, CRLF or a bare CR)."""
    if "\r" in text:
        return _NEWLINE.split(text)
    return text.split("\n")


def split_lines_with_starts(text: str) -> tuple[list[str], list[int]]:
    """The lines of ``text`` and the character offset where each one starts."""
    if "\r" in text:
        starts = [0]
        starts.extend(m.end() for m in _NEWLINE.finditer(text))
        return _NEWLINE.split(text), starts
    lines = text.split("\n")
    return lines, [0, *accumulate(len(line) + 1 for line in lines[:-1])]


# --- frontmatter --------------------------------------------------------------------

def frontmatter_end(lines: list[str]) -> int:
    """Index of the closing ``---`` line, or -1 when the note has no frontmatter."""
    first = lines[0]
    if first.startswith("\ufeff"):
        first = first[1:]
    if first.rstrip() != "---":
        return -1
    for i in range(1, len(lines)):
        if lines[i].rstrip() == "---":
            return i
    return -1


def body_offset(text: str) -> int:
    """Character offset of the first line after the frontmatter (0 without one)."""
    first = _NEWLINE.search(text)
    if first is None or text[:first.start()].removeprefix("\ufeff").rstrip() != "---":
        return 0
    line_start = first.end()
    for m in _NEWLINE.finditer(text, line_start):
        if text[line_start:m.start()].rstrip() == "---":
            return m.end()
        line_start = m.end()
    if text[line_start:].rstrip() == "---":  # closed on the last line, no newline after
        return len(text)
    return 0


# --- fenced code ----------------------------------------------------------------------

FENCE_RUN = r"`{3,}|~{3,}"  # the run of characters a fence line starts with
# The first character of a line that opens a fence, after its indentation: the run
# itself, a quote marker or a list marker. A hot loop tests this before anything else.
FENCE_LINE_HEADS = frozenset("`~>-*+0123456789")
# container prefix (quote markers, then list markers), indentation, the run, the rest
_OPENING = re.compile(r"((?:[ \t]*>)*)[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*"
                      r"(" + FENCE_RUN + r")(.*)", re.S)
_QUOTE_MARKER = re.compile(r"[ \t]*>[ \t]?")

# What a line is, for a FenceTracker.
OUTSIDE = 0  # not fenced code (if a fence was open, it ended before this line: LEFT)
OPENING = 1  # opens a fence (if a fence was open, it ended before this line: LEFT)
INSIDE = 2  # code inside an open fence
CLOSING = 3  # closes the open fence
LEFT = 4  # Fence.end only: the line is outside the fence's quote, which ends the fence


class Fence:
    """An open fence: its character, how many of them, and how deep in quotes it is."""

    __slots__ = ("char", "length", "marker", "quotes")

    def __init__(self, char: str, length: int, quotes: int) -> None:
        self.char = char
        self.length = length
        self.marker = char * length
        self.quotes = quotes

    def __repr__(self) -> str:
        return f"Fence({self.marker!r}, quotes={self.quotes})"

    def end(self, line: str) -> int:
        """What ``line`` is to this open fence: INSIDE, CLOSING or LEFT."""
        if self.quotes:
            pos = 0
            for _ in range(self.quotes):
                m = _QUOTE_MARKER.match(line, pos)
                if m is None:
                    return LEFT
                pos = m.end()
            line = line[pos:]
        # Fast path: most code lines do not hold the fence's character run at all.
        if self.marker not in line:
            return INSIDE
        head = line.lstrip(" \t")
        if head.startswith(self.marker) and not head.rstrip(" \t").strip(self.char):
            return CLOSING
        return INSIDE


def fence_opening(line: str) -> Fence | None:
    """The fence ``line`` opens, or None when it opens none."""
    m = _OPENING.match(line)
    if m is None:
        return None
    run = m[2]
    if run[0] == "`" and "`" in m[3]:
        return None  # inline code at the start of a line
    return Fence(run[0], len(run), m[1].count(">"))


def is_fence_line(line: str) -> bool:
    """Could ``line`` open or close a fence (a line of fence characters)?"""
    return ("```" in line or "~~~" in line) and fence_opening(line) is not None


class FenceTracker:
    """Which lines are fenced code, fed one line at a time in order.

    Cheap on the lines that matter most: a line outside a fence costs two substring
    tests unless it holds ``````` or ``~~~``; a line inside one costs one.
    """

    __slots__ = ("fence",)

    def __init__(self) -> None:
        self.fence: Fence | None = None

    def feed(self, line: str) -> int:
        """What the next line is: OUTSIDE, OPENING, INSIDE or CLOSING (all but OUTSIDE are
        true: fenced code, delimiters included)."""
        fence = self.fence
        if fence is not None:
            state = fence.end(line)
            if state == INSIDE:
                return INSIDE
            self.fence = None
            if state == CLOSING:
                return CLOSING
            # LEFT: the line is outside the fence's quote; it may open another fence.
        if "```" not in line and "~~~" not in line:
            return OUTSIDE
        self.fence = fence_opening(line)
        return OUTSIDE if self.fence is None else OPENING


def lines_outside_fences(lines: Iterable[str]) -> list[str]:
    """The lines that are not inside (or delimiting) fenced code."""
    out: list[str] = []
    fence: Fence | None = None
    for line in lines:
        if fence is not None:  # FenceTracker.feed, inlined: this runs on every line
            state = fence.end(line)
            if state == INSIDE:
                continue
            fence = None
            if state == CLOSING:
                continue
        if ("```" in line or "~~~" in line) and (fence := fence_opening(line)) is not None:
            continue
        out.append(line)
    return out

"""Find what `flashmark generate` works on in a note: code blocks, imports and sections.

Everything here works on the note's text with universal newlines (``\\r\\n`` and a lone
``\\r`` read as ``\\n``, as pytextgen reads files), so line numbers are the note's own;
`LfText` maps offsets back to the file's bytes for the writer.

* A block starts at `` ```Python`` + newline + ``# pytextgen generate data`` (or
  ``module``) and ends at the next `` ``` ``; its code is what follows the marker.
* ``# import REL.md`` lines (anywhere in a block) name notes whose module blocks run
  first, relative to the importing note's folder.
* A section is ``<!--pytextgen generate section="ID"-->`` (or ``'ID'``) up to the next
  ``<!--/pytextgen-->``. Malformed sections (never closed, another start before the
  close, an id used twice, a stray close) are reported with their line and left alone;
  the other sections of the note are still written.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from flashmark.model import ERROR, WARNING, Diagnostic

BLOCK_START = re.compile(r"```Python\n# pytextgen generate (data|module)")
BLOCK_STOP = re.compile(r"```")
IMPORT = re.compile(r"# *import +(.*?)$", re.MULTILINE)
SECTION_START = re.compile(r"""<!--pytextgen generate section=(['"])(.*?)\1-->""", re.DOTALL)
SECTION_END = "<!--/pytextgen-->"
DATA_MARKER = b"# pytextgen generate data"


class LfText:
    """A note's text with universal newlines, and the way back to file bytes."""

    __slots__ = ("_crlf", "_original", "text")

    def __init__(self, original: str) -> None:
        self._original = original
        if "\r" not in original:
            self.text = original
            self._crlf: list[int] = []
            return
        crlf: list[int] = []  # offsets in the LF text of each "\n" that was "\r\n"
        for removed, m in enumerate(re.finditer("\r\n", original)):
            crlf.append(m.start() - removed)
        self._crlf = crlf
        self.text = original.replace("\r\n", "\n").replace("\r", "\n")

    def original_offset(self, offset: int) -> int:
        """Character offset in the original text of LF-text ``offset``."""
        return offset + bisect_left(self._crlf, offset)

    def byte_offsets(self, offsets: list[int]) -> list[int]:
        """File byte offsets (UTF-8) of LF-text character offsets."""
        chars = [self.original_offset(o) for o in offsets]
        if self._original.isascii():
            return chars
        return [len(self._original[:c].encode("utf-8", "surrogatepass")) for c in chars]

    def line_of(self, offset: int) -> int:
        """0-based line of an offset."""
        return self.text.count("\n", 0, offset)


@dataclass(frozen=True, slots=True)
class Block:
    kind: str  # "data" or "module"
    index: int  # position among the note's blocks
    line: int  # 0-based line of the opening fence
    code: str  # the code after the marker (the rest of the marker's line first)
    code_line: int  # 0-based line the code starts on (the marker's line)
    imports: tuple[tuple[str, int], ...]  # (relative path, 0-based line)


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    line: int  # 0-based line of the start marker
    start: int  # offset of the start marker
    content_start: int  # just after the start marker
    content_end: int  # at the end marker
    end: int  # just after the end marker


def find_blocks(text: str) -> tuple[list[Block], list[Diagnostic]]:
    blocks: list[Block] = []
    problems: list[Diagnostic] = []
    start = BLOCK_START.search(text)
    while start is not None:
        line = text.count("\n", 0, start.start())
        stop = BLOCK_STOP.search(text, start.end())
        if stop is None:
            problems.append(Diagnostic("", line, ERROR, "unclosed-block",
                                       f"the {start[1]} block is never closed (no ``` "
                                       "after it): it cannot run"))
            break
        code = text[start.end():stop.start()]
        code_line = line + 1
        imports = tuple((m[1], code_line + code.count("\n", 0, m.start()))
                        for m in IMPORT.finditer(code))
        blocks.append(Block(start[1], len(blocks), line, code, code_line, imports))
        start = BLOCK_START.search(text, stop.end())
    return blocks, problems


def find_sections(text: str) -> tuple[dict[str, Section], list[Diagnostic], set[str]]:
    """The well-formed sections by id, the problems, and the ids that are unusable
    (malformed or duplicated: results for them are not reported again as unknown)."""
    tokens: list[tuple[int, re.Match[str] | None]] = [(m.start(), m)
                                                       for m in SECTION_START.finditer(text)]
    pos = text.find(SECTION_END)
    while pos >= 0:
        tokens.append((pos, None))
        pos = text.find(SECTION_END, pos + len(SECTION_END))
    tokens.sort(key=lambda t: t[0])
    found: list[Section] = []
    problems: list[Diagnostic] = []
    blocked: set[str] = set()
    current: re.Match[str] | None = None
    for pos, m in tokens:
        if m is not None:
            if current is not None:
                line = text.count("\n", 0, current.start())
                other = text.count("\n", 0, m.start())
                problems.append(Diagnostic(
                    "", line, ERROR, "unclosed-section",
                    f'section "{current[2]}" is not closed before the section '
                    f'"{m[2]}" on line {other + 1} starts (nested or unclosed '
                    "sections are left as they are)"))
                blocked.add(current[2])
            current = m
        elif current is None:
            problems.append(Diagnostic("", text.count("\n", 0, pos), WARNING, "stray-section-end",
                                       "a closing <!--/pytextgen--> without a section "
                                       "start: ignored"))
        else:
            found.append(Section(current[2], text.count("\n", 0, current.start()),
                                 current.start(), current.end(), pos,
                                 pos + len(SECTION_END)))
            current = None
    if current is not None:
        problems.append(Diagnostic(
            "", text.count("\n", 0, current.start()), ERROR, "unclosed-section",
            f'section "{current[2]}" is never closed (no <!--/pytextgen--> after it): left '
            "as it is"))
        blocked.add(current[2])
    sections: dict[str, Section] = {}
    first: dict[str, Section] = {}
    for s in found:
        if s.id in first:
            problems.append(Diagnostic(
                "", s.line, ERROR, "duplicate-section",
                f'section id "{s.id}" is used twice (also on line '
                f'{first[s.id].line + 1}): neither is written'))
            blocked.add(s.id)
            continue
        first[s.id] = s
    for s in found:
        if s.id not in blocked:
            sections[s.id] = s
    problems.sort(key=lambda p: p.line or 0)  # all have a line
    return sections, problems, blocked

"""Cut a note into questions (the rules, and where they differ from the plugin's:
docs/compatibility.md).

This follows the OSR plugin's line scanner so that the same notes give the same
questions, and fixes the extent bugs listed in docs/compatibility.md:

* an HTML comment hides exactly its own lines (OSR: the line after a one-line
  comment too, and everything after a multi-line comment);
* a one-line card right after a multi-line or cloze block ends that block instead
  of dropping it;
* a separator counts when any occurrence on the line is outside inline code;
* a bare "\\r" ends a line; a blank line inside ``$$`` display math does not end
  the block; fences follow CommonMark (``flashmark.syntax.blocks``), and may be
  indented or quoted;
* clozes inside inline code or fenced code are not deletions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from flashmark.config import ParserSettings
from flashmark.model import (
    ClozeParts,
    Deletion,
    Diagnostic,
    Question,
    QuestionType,
    Span,
    SrComment,
    make_question,
)
from flashmark.syntax.blocks import (
    CLOSING,
    FENCE_LINE_HEADS,
    INSIDE,
    LEFT,
    OPENING,
    Fence,
    FenceTracker,
    fence_opening,
    is_fence_line,
)
from flashmark.syntax.cloze import ClozeSyntax, compile_cloze, for_text
from flashmark.syntax.inline import code_spans, find_outside_code, in_spans
from flashmark.syntax.lines import LineTable
from flashmark.syntax.normalize import identity_text

_MARKERS = re.compile(r"^[ \t]*(?:>[ \t]?)*(?:[-*+][ \t]|\d+[.)][ \t])?")
_BLOCK_ID_TAIL = re.compile(r"[A-Za-z0-9-]+\s*")


@dataclass(slots=True)
class Block:
    """A question's raw extent before its text is interpreted."""

    type: QuestionType
    lines: list[int]  # line indexes that belong to the question (comment lines left out)
    separator_line: int = -1  # multi-line cards: the line holding the separator
    inline_at: int = -1  # one-line cards: column of the separator
    inline_separator: str = ""


class _Scanner:
    def __init__(self, table: LineTable, start: int, settings: ParserSettings,
                 cloze: ClozeSyntax) -> None:
        self.table = table
        self.lines = table.lines
        self.start = start
        self.cloze = cloze
        seps = [(settings.single_line_reversed_separator, QuestionType.REVERSIBLE),
                (settings.single_line_separator, QuestionType.ONE_SIDED)]
        seps.sort(key=lambda s: len(s[0]), reverse=True)  # the longest separator wins
        self.inline_separators = [s for s in seps if s[0]]
        # a substring of every separator (the shortest one, when it is): a line without
        # it has no separator
        shortest = min((s[0] for s in self.inline_separators), key=len, default="")
        self.sep_probe: str | None = (
            shortest if shortest and all(shortest in s[0] for s in self.inline_separators)
            else None)
        self.ml_sep = settings.multiline_separator
        self.mlr_sep = settings.multiline_reversed_separator
        self.blocks: list[Block] = []
        self.problems: list[Diagnostic] = []

    def _inline_separator(self, line: str) -> tuple[str, QuestionType, int] | None:
        for sep, qtype in self.inline_separators:
            if sep in line:
                pos = find_outside_code(line, sep)
                if pos >= 0:
                    return sep, qtype, pos
        return None

    def _has_cloze(self, line: str) -> bool:
        openers = self.cloze.openers
        if len(openers) == 1:
            if openers[0] not in line:
                return False
        elif not any(o in line for o in openers):
            return False
        if "`" not in line:
            return self.cloze.regex.search(line) is not None
        spans = code_spans(line)
        return any(not in_spans(m.start(), spans) for m in self.cloze.regex.finditer(line))

    def scan(self) -> list[Block]:
        lines = self.lines
        n = len(lines)
        i = self.start
        block: list[int] = []
        btype: QuestionType | None = None
        sep_line = -1
        in_math = False

        def flush() -> None:
            nonlocal block, btype, sep_line
            if btype is not None and block:
                self.blocks.append(Block(btype, block, sep_line))
            block, btype, sep_line = [], None, -1

        # Cheap pre-checks (substring tests) keep most lines away from the slower ones.
        sep_probe = self.sep_probe
        opener = self.cloze.openers[0] if len(self.cloze.openers) == 1 else None
        while i < n:
            line = lines[i]
            head = line.lstrip()
            if head.startswith("<!--") and not head.startswith("<!--SR:"):
                j = i
                pos = line.find("<!--") + 4
                while line.find("-->", pos) < 0:
                    j += 1
                    if j >= n:
                        self.problems.append(Diagnostic(
                            "", i, "warning", "unclosed-comment",
                            "HTML comment '<!--' is never closed with '-->': the rest of the "
                            "note is hidden"))
                        break
                    line, pos = lines[j], 0
                i = j + 1
                continue
            if not head and not in_math:
                flush()
                i += 1
                continue
            block.append(i)
            found = (self._inline_separator(line)
                     if sep_probe is None or sep_probe in line else None)
            if found is not None:
                sep, qtype, col = found
                if btype is not None and len(block) > 1:
                    block.pop()
                    flush()
                card = [i]
                if i + 1 < n and lines[i + 1].lstrip().startswith("<!--SR:"):
                    i += 1
                    card.append(i)
                self.blocks.append(Block(qtype, card, inline_at=col, inline_separator=sep))
                block, btype, sep_line, in_math = [], None, -1, False
                i += 1
                continue
            stripped = head.rstrip()
            if stripped == self.mlr_sep and self.mlr_sep:
                btype, sep_line = QuestionType.MULTILINE_REVERSIBLE, i
            elif stripped == self.ml_sep and self.ml_sep:
                btype, sep_line = QuestionType.MULTILINE, i
            else:
                # blocks.fence_opening's cheapest tests first (most lines fail them)
                c = head[:1]  # empty on a blank line inside display math
                if c == "`" or c == "~" or (c in FENCE_LINE_HEADS
                                            and ("```" in head or "~~~" in head)):
                    fence = fence_opening(line)
                    if fence is not None:
                        i = self._skip_fence(i, fence, block)
                        continue
                if btype is None and (opener is None or opener in line) and \
                        self._has_cloze(line):
                    btype = QuestionType.CLOZE
                if "$$" in line and line.count("$$") % 2 == 1:
                    in_math = False if in_math else self._opens_math(i)
            i += 1
        flush()
        return self.blocks

    def _opens_math(self, i: int) -> bool:
        """Does line ``i`` open ``$$`` display math that a later line closes?

        Only a line that starts with ``$$`` (after quote and list markers) opens a
        block; a stray ``$$`` in prose does not glue paragraphs together.
        """
        if not _MARKERS.sub("", self.lines[i]).lstrip().startswith("$$"):
            return False
        lines = self.lines
        for j in range(i + 1, len(lines)):
            later = lines[j]
            if "$$" in later and later.count("$$") % 2 == 1:
                return True
            if is_fence_line(later) or later.lstrip().startswith("#"):
                return False
        return False

    def _skip_fence(self, i: int, fence: Fence, block: list[int]) -> int:
        """Add the fence's lines to ``block``; return the line after its closing fence."""
        lines = self.lines
        end = fence.end
        for j in range(i + 1, len(lines)):
            state = end(lines[j])
            if state == LEFT:
                self.problems.append(Diagnostic(
                    "", i, "warning", "unclosed-fence",
                    f"code fence {fence.marker!r} is never closed: the "
                    f"rest of its quote (to line {j}) is code"))
                return j
            block.append(j)
            if state == CLOSING:
                return j + 1
        self.problems.append(Diagnostic("", i, "warning", "unclosed-fence",
                                     f"code fence {fence.marker!r} is never closed: the rest "
                                     "of the note is code"))
        return len(lines)


class _Builder:
    def __init__(self, table: LineTable, cloze: ClozeSyntax, deck: str | None,
                 flashcard_tags: tuple[str, ...]) -> None:
        self.table = table
        self.cloze = cloze
        self.deck = deck
        self.flashcard_tags = flashcard_tags
        self.problems: list[Diagnostic] = []
        self.parts_of = partial(cloze_parts, cloze)

    def build(self, block: Block) -> Question | None:
        """The question a block of lines makes (None: it asks nothing)."""
        table = self.table
        idx = block.lines
        first, last = idx[0], idx[-1]
        # Byte offsets are asked for in text order (start, SR comment, anchor, end): for
        # a non-ASCII note, table.byte_offset then only encodes the text in between.
        start_byte = table.byte_offset(first, 0)
        content = [table.lines[k] for k in idx]
        sr, sr_col, idx = self._take_sr_comment(content, idx)
        if not content:
            return None
        if len(content) > 1:
            self._check_second_sr_comment(content, idx)
        texts = [c.rstrip() for c in content]
        # A trailing block id (` ^id`) is a link target, not card text (like OSR).
        if "^" in texts[-1]:
            texts[-1] = _without_block_id(texts[-1])
        anchor, ends_with_fence = self._anchor(idx, sr_col)
        span = Span(start_byte, table.line_end_byte(last), first, last)
        deck, prefix_cut = self._own_deck(texts)
        qtext = "\n".join(texts) if len(texts) > 1 else texts[0]
        if not qtext.strip():
            return None
        return self._question(block, idx, texts, qtext, prefix_cut, span, sr, deck, anchor,
                              ends_with_fence)

    def _take_sr_comment(self, content: list[str], idx: list[int]
                         ) -> tuple[SrComment | None, int, list[int]]:
        """The block's SR comment, cut out of ``content`` (a line left empty goes, with
        its index); returns the comment, its column when it stays on the last content
        line (else -1) and the content lines' indexes.

        The SR comment sits at the end of the last line, or alone on the last line. Like
        OSR, a comment elsewhere in the block (a line added below it) is still the
        block's comment: it is read and written where it is, never duplicated."""
        at = len(content) - 1
        while at >= 0 and "<!--SR:" not in content[at]:
            at -= 1
        if at < 0:
            return None, -1, idx
        line_no = idx[at]
        text = content[at]
        sr_start = text.rfind("<!--SR:")
        sr_end = text.find("-->", sr_start + 7)
        if sr_end < 0:
            return None, -1, idx
        sr_end += 3
        start_b = self.table.byte_offset(line_no, sr_start)
        end_b = start_b + (sr_end - sr_start if text.isascii() else
                           len(text[sr_start:sr_end].encode("utf-8", "surrogatepass")))
        sr = SrComment(Span(start_b, end_b, line_no, line_no), text[sr_start + 7:sr_end - 3])
        if at != len(content) - 1:
            self.problems.append(Diagnostic(
                "", line_no, "warning", "misplaced-sr-comment",
                "the card's SR comment is not on its last line (a line was added "
                "below it?): it is still used, but move it to the end of the card"))
        rest = text[:sr_start].rstrip() + text[sr_end:]
        if rest.strip():
            content[at] = rest
            return sr, (sr_start if at == len(content) - 1 else -1), idx
        del content[at]
        return sr, -1, idx[:at] + idx[at + 1:]

    def _check_second_sr_comment(self, content: list[str], idx: list[int]) -> None:
        for k in range(len(content) - 1):
            if "<!--SR:" in content[k]:
                self.problems.append(Diagnostic(
                    "", idx[k], "error", "misplaced-sr-comment",
                    "a second SR comment in one card: flashmark uses only the last one "
                    "and leaves this one as it is"))

    def _anchor(self, idx: list[int], sr_col: int) -> tuple[int, bool]:
        """Where a new SR comment goes: the end of the last content line's text, before
        an SR comment already there, trailing spaces and a block id; and whether that
        line is a code fence (the comment then goes on a line of its own)."""
        content_last = idx[-1]
        last_line_text = self.table.lines[content_last]
        head = last_line_text[:sr_col].rstrip() if sr_col >= 0 else last_line_text.rstrip()
        if "^" in head:
            head = _without_block_id(head)
        ends_with_fence = content_last != idx[0] and is_fence_line(last_line_text)
        return self.table.byte_offset(content_last, len(head)), ends_with_fence

    def _own_deck(self, texts: list[str]) -> tuple[str | None, int]:
        """The card's deck, and how many characters its own deck tag took from the start
        of ``texts[0]`` (cut off there): a card's own deck tag sets its deck and is not
        part of its text (OSR)."""
        if self.flashcard_tags and texts[0].startswith("#"):
            tag = self._card_tag(texts[0])
            if tag is not None:
                rest = texts[0][len(tag) + 1:].lstrip()
                prefix_cut = len(texts[0]) - len(rest)
                texts[0] = rest
                return tag, prefix_cut
        return self.deck, 0

    def _question(self, block: Block, idx: list[int], texts: list[str], qtext: str,
                  prefix_cut: int, span: Span, sr: SrComment | None, deck: str | None,
                  anchor: int, ends_with_fence: bool) -> Question | None:
        """The question of its type: the cloze's card count, or the front and back."""
        front = back = ""
        qtype = block.type
        cloze_cards = 0
        parts_of: Callable[[str], ClozeParts] | None = None
        if qtype is QuestionType.CLOZE:
            cloze_cards, parts = self._cloze_cards(qtext, span.line)
            if not cloze_cards:
                return None
            parts_of = self.parts_of if parts is None else partial(_fixed, parts)
        elif qtype is QuestionType.ONE_SIDED or qtype is QuestionType.REVERSIBLE:
            one = texts[0]
            pos = block.inline_at - prefix_cut
            front = one[:pos].strip()
            back = one[pos + len(block.inline_separator):].strip()
            if "^" in back:
                back = _without_block_id(back)
        else:
            cut = idx.index(block.separator_line) if block.separator_line in idx else len(idx)
            front = "\n".join(texts[:cut]).strip("\n")
            back = "\n".join(texts[cut + 1:]).strip("\n")
        return make_question(qtype, span, qtext, front, back, sr, deck, anchor,
                             ends_with_fence, cloze_cards, parts_of, identity_text(qtext))

    def _cloze_cards(self, qtext: str, first_line: int) -> tuple[int, ClozeParts | None]:
        """How many cards a cloze block makes, and its parts when they are numbered
        (then they are needed now, to count the groups)."""
        cloze = self.cloze
        masked = _masked_ranges(qtext)
        probe = cloze.number_probe
        if probe is None or probe.search(qtext) is None:
            # No deletion can be numbered: one card per deletion, counted without
            # building match objects (most blocks of a large vault take this path).
            if not masked:
                return cloze.count(qtext), None
            return sum(1 for m in cloze.regex.finditer(qtext)
                       if not in_spans(m.start(), masked)), None
        found = [m for m in cloze.regex.finditer(qtext)
                 if not masked or not in_spans(m.start(), masked)]
        numbered = cloze.numbered
        if any(numbered(m) for m in found):
            parts = cloze_parts(cloze, qtext)
            self._number_gaps(parts, first_line)
            return len(parts[1]), parts
        return len(found), None

    def _card_tag(self, first_line: str) -> str | None:
        """A flashcard tag at the very start of a card's first line (without "#")."""
        tag = first_line[1:].split(None, 1)[0] if len(first_line) > 1 else ""
        for ft in self.flashcard_tags:
            if tag == ft or tag.startswith(ft + "/"):
                return tag
        return None

    def _number_gaps(self, parts: ClozeParts, first_line: int) -> None:
        top = len(parts[1])
        for n, group in enumerate(parts[1], start=1):
            if not group and n <= top:
                self.problems.append(Diagnostic("", first_line, "warning", "cloze-number-gap",
                                             f"no cloze is numbered {n}: card {n} of this "
                                             "block asks nothing"))


def _fixed(parts: ClozeParts, text: str) -> ClozeParts:
    return parts


def _without_block_id(text: str) -> str:
    """``text`` without a trailing block id (` ^id`).

    Only the last "^" can start one (what follows it has no "^"), so one ``rfind``
    replaces a regex search through the whole line.
    """
    cut = text.rfind("^")
    if cut > 0 and text[cut - 1].isspace() and _BLOCK_ID_TAIL.fullmatch(text, cut + 1):
        return text[:cut - 1].rstrip()
    return text


def _cloze_matches(cloze: ClozeSyntax, text: str) -> list[re.Match[str]]:
    """Cloze matches in ``text`` outside inline and fenced code."""
    masked = _masked_ranges(text)
    if not masked:
        return list(cloze.regex.finditer(text))
    return [m for m in cloze.regex.finditer(text) if not in_spans(m.start(), masked)]


def cloze_parts(cloze: ClozeSyntax, text: str) -> ClozeParts:
    """A cloze question's deletions and, per sibling, the deletions it asks.

    Unnumbered: one sibling per deletion, in text order. Numbered (`{@{2;;x}@}`): sibling
    k asks every deletion numbered k+1, up to the highest number (as the OSR plugin
    counts them, so existing SR comments keep their slots); unnumbered deletions in such
    a block follow, one sibling each.
    """
    fields = cloze.fields
    found: list[Deletion] = []
    for m in _cloze_matches(cloze, text):
        answer, hint, number = fields(m)
        found.append(Deletion(m.start(), m.end(), answer, hint, number))
    numbers = [d.number for d in found if d.number is not None]
    if not numbers:
        return tuple(found), tuple((k,) for k in range(len(found)))
    groups = [tuple(k for k, d in enumerate(found) if d.number == n)
              for n in range(1, max(numbers) + 1)]
    groups.extend((k,) for k, d in enumerate(found) if d.number is None)
    return tuple(found), tuple(groups)


def _masked_ranges(text: str) -> list[tuple[int, int]]:
    """Ranges of ``text`` inside inline code or fenced code."""
    if "`" not in text and "~~~" not in text:
        return []
    ranges: list[tuple[int, int]] = []
    pos = 0
    tracker = FenceTracker()
    fence_start = -1  # where the open fence starts; -1: none is open
    code_end = 0  # end of the last line of fenced code
    for line in text.split("\n"):
        end = pos + len(line)
        state = tracker.feed(line)
        if state == INSIDE:
            code_end = end
        elif state == CLOSING:
            ranges.append((fence_start, end))
            fence_start = -1
        else:
            if fence_start >= 0:  # the fence's quote ended before this line
                ranges.append((fence_start, code_end))
                fence_start = -1
            if state == OPENING:
                fence_start, code_end = pos, end
            elif "`" in line:
                ranges.extend((pos + a, pos + b) for a, b in code_spans(line))
        pos = end + 1
    if fence_start >= 0:
        ranges.append((fence_start, len(text)))
    return ranges


def scan(table: LineTable, start: int, settings: ParserSettings, deck: str | None
         ) -> tuple[list[Question], list[Diagnostic]]:
    cloze = for_text(compile_cloze(settings.cloze_patterns), settings.cloze_patterns, table.text)
    scanner = _Scanner(table, start, settings, cloze)
    blocks = scanner.scan()
    builder = _Builder(table, cloze, deck, settings.flashcard_tags)
    questions = [q for q in map(builder.build, blocks) if q is not None]
    return questions, scanner.problems + builder.problems


def lint_lines(table: LineTable, start: int, settings: ParserSettings) -> list[Diagnostic]:
    """Line-level mistakes: unbalanced cloze delimiters, misplaced multi-line separators."""
    cloze = compile_cloze(settings.cloze_patterns)
    pairs = [(p.head, p.tail) for p in cloze.parts]
    ml_seps = [s for s in (settings.multiline_reversed_separator, settings.multiline_separator)
               if s]
    inline_seps = [s for s in (settings.single_line_reversed_separator,
                               settings.single_line_separator) if s]
    problems: list[Diagnostic] = []
    in_code = FenceTracker().feed
    for i in range(start, len(table.lines)):
        line = table.lines[i]
        if in_code(line):
            continue
        if "`" in line:
            spans = code_spans(line)
            if spans:
                line = "".join(" " * (b - a) if k % 2 else line[a:b] for k, (a, b) in enumerate(
                    _complement(spans, len(line))))
        for head, tail in pairs:
            if head not in line and tail not in line:
                continue
            opened, closed = line.count(head), line.count(tail)
            if head == tail:
                if opened % 2:
                    problems.append(Diagnostic("", i, "error", "unbalanced-cloze",
                                            f"odd number of cloze markers {head!r} on this line: a "
                                            "deletion must open and close on the same line"))
            elif opened != closed:
                problems.append(Diagnostic(
                    "", i, "error", "unbalanced-cloze",
                    f"{opened} {head!r} but {closed} {tail!r} on this line: a deletion must open "
                    f"and close on the same line, like {head}answer{tail}"))
        stripped = line.strip()
        for sep in ml_seps:
            if (sep in stripped and stripped not in ml_seps
                    and not any(s in line for s in inline_seps)):
                problems.append(Diagnostic(
                    "", i, "warning", "separator-not-alone",
                    f"multi-line separator {sep!r} is not alone on its line, so it makes no "
                    f"card: put it on a line of its own between front and back"))
                break
    return problems


def _complement(spans: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Alternating (outside, inside, outside, ...) ranges covering ``0..length``."""
    out = []
    pos = 0
    for a, b in spans:
        out.append((pos, a))
        out.append((a, b))
        pos = b
    out.append((pos, length))
    return out

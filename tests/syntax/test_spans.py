"""Byte spans: a writer splices the file's bytes at ``Question.span``, ``SrComment.span``
and ``Question.anchor`` without decoding the note again, so every offset must be exact
for non-ASCII text, CRLF, bare CR and a BOM (model.py: offsets count the BOM's 3 bytes).

The expectations are computed here independently from the raw bytes.
"""

from __future__ import annotations

import re

import pytest

from flashmark.config import ParserSettings
from flashmark.model import Question
from flashmark.syntax import parse_note

SETTINGS = ParserSettings(flashcard_tags=("flashcard/active",))
_EOL = re.compile(rb"\r\n|\r|\n")
_BLOCK_ID = re.compile(rb"\s\^[A-Za-z0-9-]+$")

BODY = """\
---
tags:
  - flashcard/active/spans
---

# Überschrift mit Umlauten

plain question:@:plain answer

- liste {@{Äpfel}@} und {@{Birnen;;Obst}@}
  - tiefer {@{😀}@} emoji <!--SR:!2026-01-01,3,250!2026-01-02,4,250!2026-01-03,5,250-->

静夜思:@:李白 <!--SR:!2026-02-01,5,250-->

reversible 日本::@::語 ^blk-1

next line 中文:@:答案
<!--SR:!fsrs,2026-03-01T00:00:00.000Z,4,3.5,6.25,2,2,0,0,2026-02-25T00:00:00.000Z-->

Front über
?@?
```text
code ✓
```
<!--SR:!2026-04-01,6,250-->

The {@{émoji 🎉}@} cloze ^cloze-id

last::@::line ü without newline"""


def _variants() -> dict[str, bytes]:
    utf8 = BODY.encode("utf-8")
    return {
        "lf": utf8,
        "lf-trailing-newline": utf8 + b"\n",
        "crlf": utf8.replace(b"\n", b"\r\n") + b"\r\n",
        "bare-cr": utf8.replace(b"\n", b"\r"),
        "bom-lf": b"\xef\xbb\xbf" + utf8,
        "bom-crlf": b"\xef\xbb\xbf" + utf8.replace(b"\n", b"\r\n"),
    }


VARIANTS = _variants()


def _lines(data: bytes) -> list[tuple[int, int]]:
    """(start, end) byte offsets of each line's content."""
    out = []
    pos = 0
    for m in _EOL.finditer(data):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, len(data)))
    return out


def _parse(data: bytes) -> list[Question]:
    note = parse_note(data.decode("utf-8"), SETTINGS)
    assert note.is_flashcard_note
    return list(note.questions)


def _expected_anchor(data: bytes, lines: list[tuple[int, int]], q: Question) -> int:
    """End of the last content line, without the SR comment and a trailing ` ^id`."""
    last = q.span.end_line
    start, end = lines[last]
    content = data[start:end]
    if q.sr is not None:
        before = data[start:q.sr.span.start].rstrip()
        if not before:  # the comment stands alone on the line after the card
            last -= 1
            start, end = lines[last]
            content = data[start:end]
        else:
            content = before
    content = content.rstrip()
    m = _BLOCK_ID.search(content)
    if m is not None:
        content = content[:m.start()]
    return start + len(content)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_question_count(variant: str) -> None:
    questions = _parse(VARIANTS[variant])
    assert [q.type.value for q in questions] == [
        "one_sided", "cloze", "one_sided", "reversible", "one_sided", "multiline", "cloze",
        "reversible"]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_sr_span_is_exactly_the_comment(variant: str) -> None:
    data = VARIANTS[variant]
    lines = _lines(data)
    with_sr = [q for q in _parse(data) if q.sr is not None]
    assert len(with_sr) == 4
    for q in with_sr:
        assert q.sr is not None
        sr = q.sr
        raw = data[sr.span.start:sr.span.end]
        assert raw == b"<!--SR:" + sr.body.encode("utf-8") + b"-->"
        assert sr.span.line == sr.span.end_line == q.span.end_line
        start, end = lines[sr.span.line]
        assert start <= sr.span.start < sr.span.end <= end


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_question_span_covers_its_lines(variant: str) -> None:
    data = VARIANTS[variant]
    lines = _lines(data)
    previous_end = -1
    for q in _parse(data):
        assert q.span.line <= q.span.end_line
        assert q.span.start == lines[q.span.line][0]
        assert q.span.end == lines[q.span.end_line][1]
        assert q.span.start > previous_end  # questions are in order and do not overlap
        previous_end = q.span.end
        # the bytes of the span are the question's lines with the file's own line endings
        covered = data[q.span.start:q.span.end]
        own = [data[a:b] for a, b in lines[q.span.line:q.span.end_line + 1]]
        assert _EOL.split(covered) == own
        covered.decode("utf-8")  # never cuts a character in two


def test_spans_of_first_question_in_bom_file_count_the_bom() -> None:
    plain = _parse(VARIANTS["lf"])
    bom = _parse(VARIANTS["bom-lf"])
    for a, b in zip(plain, bom, strict=True):
        assert b.span.start == a.span.start + 3
        assert b.anchor == a.anchor + 3
        if a.sr is not None:
            assert b.sr is not None
            assert b.sr.span.start == a.sr.span.start + 3


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_anchor_without_comment(variant: str) -> None:
    data = VARIANTS[variant]
    lines = _lines(data)
    checked = 0
    for q in _parse(data):
        if q.sr is not None:
            continue
        assert q.anchor == _expected_anchor(data, lines, q)
        checked += 1
    assert checked == 4


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_anchor_before_block_id(variant: str) -> None:
    data = VARIANTS[variant]
    tails = []
    for q in _parse(data):
        if q.sr is None and b"^" in data[q.span.start:q.span.end]:
            tails.append(data[q.anchor:q.span.end])
    assert tails == [b" ^blk-1", b" ^cloze-id"]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_anchor_when_comment_is_on_the_next_line(variant: str) -> None:
    data = VARIANTS[variant]
    lines = _lines(data)
    next_line = [q for q in _parse(data)
                 if q.sr is not None and q.sr.span.start == lines[q.sr.span.line][0]]
    assert len(next_line) == 2
    for q in next_line:
        assert q.anchor == _expected_anchor(data, lines, q)
        assert q.anchor == lines[q.span.end_line - 1][1]


def test_card_ending_in_a_fence_is_flagged() -> None:
    questions = _parse(VARIANTS["crlf"])
    assert [q.ends_with_fence for q in questions] == [
        False, False, False, False, False, True, False, False]


def test_anchor_when_comment_is_on_the_same_line() -> None:
    data = b"---\ntags: [flashcard/active/x]\n---\nq:@:a <!--SR:!2026-01-01,3,250--> ^abc\n"
    (q,) = _parse(data)
    assert q.sr is not None
    assert data[q.anchor:q.sr.span.start] == b" "

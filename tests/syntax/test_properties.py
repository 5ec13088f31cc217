"""Property tests for the note parser: it never fails and its results are consistent."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flashmark.cards import cards_of
from flashmark.config import ParserSettings
from flashmark.syntax import parse_note

SETTINGS = ParserSettings(flashcard_tags=("flashcard/active",))
_EOL = re.compile(r"\r\n|\r|\n")

FRAGMENTS = ["{@{", "}@}", ":@:", "::@::", "?@?", "??@??", "```", "~~~", "<!--", "-->",
             "<!--SR:!2026-01-01,3,250-->", "$$", "`", "\n", "\r\n", "\r", "---",
             "#flashcard/active", " ", "x", "é", "^id",
             # a few more that reach other branches: hints, numbers, tags, lists, BOM
             ";;", "2;;", "<@<", ">@>", "- ", "  ", "#flashcard/active/a b", "tags: [x]",
             "\ufeff", "中", "😀", "\t", "<!--SR:2024-01-01,3,250-->", "<!--SR:!bad-->"]

fragment_texts = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)
# notes that certainly are flashcard notes, so that the scanner runs on the body
tagged_texts = fragment_texts.map(lambda body: "---\ntags: [flashcard/active/p]\n---\n" + body)
any_text = st.text(max_size=200)
texts = st.one_of(any_text, fragment_texts, tagged_texts,
                  any_text.map(lambda t: "#flashcard/active " + t))

PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(text: str, *, all_notes: bool) -> None:
    note = parse_note(text, SETTINGS, all_notes=all_notes, lint=True)
    data = text.encode("utf-8", "surrogatepass")
    n_lines = len(_EOL.split(text))
    last_end = -1
    for q in note.questions:
        span = q.span
        assert 0 <= span.line <= span.end_line < n_lines
        assert 0 <= span.start <= span.end <= len(data)
        assert span.start > last_end or (span.start == last_end == 0)
        last_end = span.end
        assert span.start <= q.anchor <= span.end
        assert q.card_count >= 1
        if q.sr is not None:
            sr = q.sr
            # usually on the last line; a comment a line was added below still belongs to
            # the question (scanner.py), so it may stand on any of its lines
            assert span.line <= sr.span.line == sr.span.end_line <= span.end_line
            assert span.start <= sr.span.start < sr.span.end <= span.end
            raw = data[sr.span.start:sr.span.end].decode("utf-8", "surrogatepass")
            assert raw.startswith("<!--SR:")
            assert raw.endswith("-->")
            assert raw == "<!--SR:" + sr.body + "-->"
        cards = cards_of(q, "note.md")
        assert len(cards) == q.card_count
    for p in note.problems:
        assert p.line is not None and 0 <= p.line < n_lines


@PROPS
@given(texts)
def test_parse_never_raises_and_spans_are_sane(text: str) -> None:
    _check(text, all_notes=False)


@PROPS
@given(st.one_of(any_text, fragment_texts))
def test_parse_all_notes_never_raises(text: str) -> None:
    _check(text, all_notes=True)


@example("x:@:x\n x:@:x")
@example("---\ntags: [flashcard/active/p]\n---\n- q:@:a\n\n  - q:@:a\n")
@PROPS
@given(texts)
def test_card_ids_are_unique_within_a_note(text: str) -> None:
    note = parse_note(text, SETTINGS, all_notes=True)
    ids = [c.id for q in note.questions for c in cards_of(q, "note.md")]
    assert len(ids) == len(set(ids))


CLOZE_BITS = ["{@{", "}@}", "{@", "}@", "@", "x", "\n", "==", "{{", "}}", "}", "{"]


@PROPS
@given(st.lists(st.sampled_from(CLOZE_BITS), max_size=40).map("".join),
       st.sampled_from(["{@{[123;;]answer[;;hint]}@}", "==answer==", "{{answer}}"]))
def test_cloze_count_is_the_regex_count(text: str, pattern: str) -> None:
    from flashmark.syntax.cloze import compile_cloze

    cloze = compile_cloze((pattern,))
    assert cloze.count(text) == len(cloze.regex.findall(text))

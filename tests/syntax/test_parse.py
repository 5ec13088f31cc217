"""Focused parser behaviours that the golden files do not show on their own."""

from __future__ import annotations

import pytest

from flashmark.cards import cards_of
from flashmark.config import PRESETS, ParserSettings
from flashmark.model import Question, QuestionType
from flashmark.syntax import parse_note

SETTINGS = ParserSettings(flashcard_tags=("flashcard/active",))
HEAD = "---\ntags: [flashcard/active/note]\n---\n"


def _questions(body: str, **kwargs: bool) -> list[Question]:
    return list(parse_note(HEAD + body, SETTINGS, **kwargs).questions)


def _codes(body: str, *, lint: bool = False) -> list[tuple[int, str]]:
    note = parse_note(HEAD + body, SETTINGS, lint=lint)
    return [(_one_based(p.line), p.code) for p in note.problems]


# --- decks ------------------------------------------------------------------------


def test_card_tag_sets_the_deck_of_that_card_only() -> None:
    qs = _questions("#flashcard/active/other q1:@:a1\nq2:@:a2\n\n"
                    "#flashcard/active/cz The {@{x}@} cloze\n\nlast:@:one\n")
    assert [q.deck for q in qs] == ["flashcard/active/other", "flashcard/active/note",
                                    "flashcard/active/cz", "flashcard/active/note"]


def test_other_tag_at_card_start_keeps_the_note_deck() -> None:
    (q,) = _questions("#other/tag q:@:a\n")
    assert q.deck == "flashcard/active/note"


def test_tag_that_only_shares_a_prefix_is_not_a_flashcard_tag() -> None:
    note = parse_note("---\ntags: [flashcard/activeX]\n---\nq:@:a\n", SETTINGS)
    assert not note.is_flashcard_note
    assert note.questions == ()


def test_flashcard_tag_itself_is_a_deck() -> None:
    note = parse_note("---\ntags: [flashcard/active]\n---\nq:@:a\n", SETTINGS)
    assert note.deck == "flashcard/active"
    assert note.questions[0].deck == "flashcard/active"


@pytest.mark.parametrize("front", [
    "---\ntags:\n  - \"#flashcard/active/q\"\n---\n",
    "---\ntags: '#flashcard/active/q'\n---\n",
    "---\ntag: flashcard/active/q\n---\n",
    "---\ntags: other, flashcard/active/q\n---\n",
    "---\ntitle: x\ntags:\n- other\n- flashcard/active/q\naliases: [a]\n---\n",
    "\ufeff---\ntags: [flashcard/active/q]\n---\n",
    "---\r\ntags: [flashcard/active/q]\r\n---\r\n",
])
def test_frontmatter_tag_shapes(front: str) -> None:
    note = parse_note(front + "q:@:a\n", SETTINGS)
    assert note.is_flashcard_note
    assert note.deck == "flashcard/active/q"
    assert len(note.questions) == 1


def test_unclosed_frontmatter_is_not_frontmatter() -> None:
    note = parse_note("---\ntags: [flashcard/active/q]\nq:@:a\n", SETTINGS)
    assert not note.is_flashcard_note


def test_inline_tag_inside_fenced_code_does_not_count() -> None:
    note = parse_note("```\n#flashcard/active/code\n```\nq:@:a\n", SETTINGS)
    assert not note.is_flashcard_note
    assert note.questions == ()


def test_without_flashcard_tags_every_note_has_cards() -> None:
    note = parse_note("q:@:a\n", ParserSettings())
    assert note.is_flashcard_note
    assert note.deck is None
    assert len(note.questions) == 1


# --- card sides -------------------------------------------------------------------


def test_block_id_is_not_part_of_a_one_line_card() -> None:
    (q,) = _questions("q::@::a <!--SR:!2026-01-01,1,250!2026-01-02,2,250--> ^abc\n")
    assert (q.front, q.back) == ("q", "a")
    assert [(c.front, c.back) for c in cards_of(q, "n.md")] == [("q", "a"), ("a", "q")]


@pytest.mark.parametrize(("body", "sides"), [
    ("The {@{tag}@} sets <!--SR:!2026-01-01,1,250--> ^abc\n",
     [("The [...] sets", "The tag sets")]),
    ("The {@{tag}@} sets ^abc\n", [("The [...] sets", "The tag sets")]),
    ("question\n?@?\nanswer ^abc\n", [("question", "answer")]),
])
def test_block_id_is_not_part_of_other_cards(body: str, sides: list[tuple[str, str]]) -> None:
    (q,) = _questions(body)
    assert [(c.front, c.back) for c in cards_of(q, "n.md")] == sides


def test_cloze_sides_show_other_deletions_and_hints() -> None:
    (q,) = _questions("{@{a}@} {@{b;;hint}@} {@{2;;c}@}\n")
    # numbered: card 1 asks nothing numbered 1 -> gap; card 2 asks c; then a and b
    assert q.groups == ((), (2,), (0,), (1,))
    cards = cards_of(q, "n.md")
    assert [c.front for c in cards] == ["a b c", "a b [...]", "[...] b c", "a [hint] c"]
    assert {c.back for c in cards} == {"a b c"}


def test_only_ascii_digits_number_a_cloze() -> None:
    # "²" and "٣" are digits to str.isdigit but not to the plugin's JavaScript \\d: they
    # are answers, not group numbers (this used to raise ValueError in int()).
    (q,) = _questions("{@{²;;x}@} {@{٣;;y}@} {@{2;;z}@}\n")
    assert [(d.answer, d.hint, d.number) for d in q.deletions] == [
        ("²", "x", None), ("٣", "y", None), ("z", None, 2)]
    assert q.card_count == 4  # gap for 1, group 2, then the two unnumbered


def test_unnumbered_blocks_count_one_card_per_deletion_outside_code() -> None:
    (q,) = _questions("{@{a}@} `{@{not}@}` {@{b}@} {@{c\n")
    assert q.card_count == 2
    assert [d.answer for d in q.deletions] == ["a", "b"]


def test_multiline_reversible_sides() -> None:
    (q,) = _questions("F1\nF2\n??@??\nB1\nB2\n")
    assert q.type is QuestionType.MULTILINE_REVERSIBLE
    cards = cards_of(q, "n.md")
    assert [(c.front, c.back) for c in cards] == [("F1\nF2", "B1\nB2"), ("B1\nB2", "F1\nF2")]


def test_card_entry_texts_follow_sibling_order() -> None:
    (q,) = _questions("a::@::b <!--SR:!2026-01-01,1,250!fsrs,2030-01-01T00:00:00.000Z,"
                      "3,2.5,5,2,1,0,0,--->\n")
    cards = cards_of(q, "n.md")
    assert [c.entry_text for c in cards] == [
        "2026-01-01,1,250", "fsrs,2030-01-01T00:00:00.000Z,3,2.5,5,2,1,0,0,-"]


# --- extents ----------------------------------------------------------------------


def test_heading_does_not_end_a_block() -> None:
    (q,) = _questions("# heading\n{@{x}@}\n")
    assert (q.span.line + 1, q.span.end_line + 1) == (4, 5)


def test_multiline_separator_must_be_alone_on_its_line() -> None:
    assert _questions("front ?@? back\nmore\n") == []
    assert (4, "separator-not-alone") in _codes("front ?@? back\nmore\n", lint=True)


def test_sr_comment_not_on_the_last_line_still_belongs_to_the_card() -> None:
    body = "Front\n?@?\nBack <!--SR:!2026-01-01,3,250-->\nadded later\n"
    (q,) = _questions(body)
    assert q.sr is not None
    assert q.sr.body == "!2026-01-01,3,250"
    assert q.sr.span.line + 1 == 6
    assert q.back == "Back\nadded later"
    assert (6, "misplaced-sr-comment") in _codes(body)


def test_unclosed_fence_hides_the_rest_and_warns() -> None:
    body = "```\nq:@:a\n"
    assert _questions(body) == []
    assert _codes(body) == [(4, "unclosed-fence")]


def test_fence_closes_only_with_the_same_character() -> None:
    qs = _questions("````\n~~~\nq:@:a\n```\n````\nr:@:b\n")
    assert [q.front for q in qs] == ["r"]


# --- problems ---------------------------------------------------------------------


def test_sr_count_mismatch_is_reported_on_the_comment_line() -> None:
    body = "{@{a}@} {@{b}@}\n{@{c}@}\n<!--SR:!2026-01-01,3,250-->\n"
    assert _codes(body) == [(6, "sr-count-mismatch")]
    extra = "q:@:a <!--SR:!2026-01-01,3,250!2026-01-02,3,250-->\n"
    assert _codes(extra) == [(4, "sr-count-mismatch")]


def test_malformed_entries_are_reported_when_linting() -> None:
    body = "q:@:a <!--SR:!bogus-->\n"
    assert _codes(body) == []
    assert _codes(body, lint=True) == [(4, "sr-malformed")]


def test_impossible_date_is_reported_when_linting() -> None:
    assert _codes("q:@:a <!--SR:!2026-13-01,3,250-->\n", lint=True) == [(4, "sr-malformed")]


def test_lint_finds_unbalanced_clozes_outside_code_only() -> None:
    body = "{@{x}@} {@{y}@\n\n`{@{` in code\n\n```\n{@{\n```\n"
    assert _codes(body, lint=True) == [(4, "unbalanced-cloze")]


def test_lint_warns_about_duplicates() -> None:
    assert (6, "duplicate-card") in _codes("q:@:a\n\nq:@:a\n", lint=True)


# --- other settings ---------------------------------------------------------------


def test_osr_preset() -> None:
    osr = PRESETS["osr"]
    text = ("---\ntags: [flashcards/x]\n---\n"
            "one::two\n\nrev:::erse\n\nA ==cloze== here\n\nQ\n?\nA\n\nQ2\n??\nA2\n")
    note = parse_note(text, osr)
    assert [(q.type.value, q.card_count) for q in note.questions] == [
        ("one_sided", 1), ("reversible", 2), ("cloze", 1), ("multiline", 1),
        ("multiline_reversible", 2)]
    assert note.questions[1].front == "rev"
    assert note.questions[2].deletions[0].answer == "cloze"


def _one_based(line: int | None) -> int:
    assert line is not None  # these problems are all on a line
    return line + 1

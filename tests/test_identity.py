"""Card ids (docs/card-identity.md): stable under edits that do not change the card,
different for different cards, unique within a note."""

from __future__ import annotations

import pytest

from flashmark.cards import cards_of
from flashmark.config import ParserSettings
from flashmark.identity import ID_LENGTH, card_id, card_ids
from flashmark.model import Question
from flashmark.syntax import parse_note

SETTINGS = ParserSettings(flashcard_tags=("flashcard/active",))
HEAD = "---\ntags: [flashcard/active/id]\n---\n"


def _questions(body: str, head: str = HEAD) -> list[Question]:
    return list(parse_note(head + body, SETTINGS).questions)


def _ids(body: str, path: str = "n.md", head: str = HEAD) -> list[list[str]]:
    return [list(card_ids(q, path)) for q in _questions(body, head)]


CLOZE = "- {@{a}@} first\n- {@{b}@} second\n"


def test_id_shape() -> None:
    (ids,) = _ids("q::@::a\n")
    assert len(ids) == 2
    assert all(len(i) == ID_LENGTH and int(i, 16) >= 0 for i in ids)
    assert ids[0] != ids[1]


def test_card_id_is_the_sibling_of_card_ids() -> None:
    for q in _questions("q::@::a\n\n{@{x}@} {@{y}@} {@{2;;z}@}\n\nfront\n?@?\nback\n"):
        ids = card_ids(q, "n.md")
        assert [card_id(q, "n.md", k) for k in range(len(ids))] == ids


def test_id_is_deterministic() -> None:
    assert _ids(CLOZE) == _ids(CLOZE)
    q = _questions(CLOZE)[0]
    assert [c.id for c in cards_of(q, "n.md")] == list(card_ids(q, "n.md"))


@pytest.mark.parametrize("variant", [
    "intro paragraph\n\n" + CLOZE,  # moved down, other text added
    CLOZE + "\nanother:@:card\n",  # other cards added
    "  - {@{a}@} first\n  - {@{b}@} second\n",  # nested deeper in a list
    "- {@{a}@} first   \n- {@{b}@} second\t\n",  # trailing spaces
    "- {@{a}@} first\n- {@{b}@} second <!--SR:!2026-01-01,3,250!2026-01-02,4,250-->\n",
    "- {@{a}@} first\n- {@{b}@} second\n<!--SR:!2026-01-01,3,250!2026-01-02,4,250-->\n",
    "- {@{a}@} first\n- {@{b}@} second ^block-1\n",  # block id added
])
def test_id_survives_edits_that_keep_the_card(variant: str) -> None:
    assert _ids(variant)[0] == _ids(CLOZE)[0]


def test_id_survives_crlf_conversion() -> None:
    crlf = _ids(CLOZE.replace("\n", "\r\n"), head=HEAD.replace("\n", "\r\n"))
    assert crlf[0] == _ids(CLOZE)[0]


@pytest.mark.parametrize("variant", [
    "- {@{a}@} first\n- {@{c}@} second\n",  # a deletion changed
    "- {@{a}@} first\n- {@{b}@} 2nd\n",  # context changed
    "- {@{a}@} first\n- {@{b;;hint}@} second\n",  # hint added
])
def test_id_changes_with_the_card_text(variant: str) -> None:
    old, new = _ids(CLOZE)[0], _ids(variant)[0]
    assert not set(old) & set(new)


def test_id_depends_on_the_note_path_and_type() -> None:
    assert _ids("q:@:a\n", "a.md") != _ids("q:@:a\n", "b.md")
    assert _ids("q:@:a\n")[0][0] not in _ids("q::@::a\n")[0]


def test_one_line_card_id_survives_indentation() -> None:
    assert _ids("- q:@:a\n") == _ids("    - q:@:a\n")


def test_identical_questions_get_different_ids() -> None:
    ids = _ids("q::@::a\n\nq::@::a\n\n{@{x}@}\n\n{@{x}@}\n")
    flat = [i for group in ids for i in group]
    assert len(flat) == 6
    assert len(set(flat)) == 6


@pytest.mark.parametrize("body", [
    "- q:@:a\n\n  - q:@:a\n",
    "q:@:a\n q:@:a\n",
    "- {@{a}@}\n- {@{b}@}\n\n  - {@{a}@}\n  - {@{b}@}\n",
])
def test_identical_questions_at_different_indentation_get_different_ids(body: str) -> None:
    """The ordinal is counted on the same normalized text the id hashes."""
    flat = [i for group in _ids(body) for i in group]
    assert len(set(flat)) == len(flat)

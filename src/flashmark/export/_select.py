"""Which notes and questions an export takes: ``--deck`` patterns on the tag-path deck
(see `flashmark.decks`), ``--tag`` on the note's tags."""

from __future__ import annotations

import functools
import re

from flashmark.decks import DeckSelection
from flashmark.model import ParsedNote
from flashmark.syntax import body_tags
from flashmark.syntax.blocks import body_offset, split_lines
from flashmark.vault.scan import NoteRecord, ScanResult

__all__ = ["deck_selected", "note_tags", "selected_records", "tag_selected"]


def deck_selected(deck: str | None, patterns: tuple[str, ...]) -> bool:
    """``--deck``: does any of the deck patterns select ``deck`` (see `flashmark.decks`)?"""
    return _selection(patterns).selects(deck)


@functools.lru_cache(maxsize=4)
def _selection(patterns: tuple[str, ...]) -> DeckSelection:
    return DeckSelection(patterns)


def selected_records(result: ScanResult, decks: tuple[str, ...]) -> list[NoteRecord]:
    """The flashcard notes that hold a card of a selected deck (all of them without
    ``decks``); the index knows every card's deck, so the other notes are not read.
    No card in the vault, or an unknown deck: the scan's / the selection's error."""
    records = result.flashcard_notes()
    if not result.has_cards():
        raise result.no_cards_error()
    if decks:
        selection = _selection(decks)
        selection.require_known(result.decks())
        records = [r for r in records if any(selection.selects(row[0]) for row in r.summary)]
    return records


def tag_selected(tags: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """``--tag``: does the note carry one of the ``wanted`` tags (or a sub-tag)?"""
    if not wanted:
        return True
    for w in wanted:
        w = w.strip().lstrip("#").rstrip("/")
        if any(t == w or t.startswith(w + "/") for t in tags):
            return True
    return False


_TAG_HINT = re.compile(r"#[^\s#]")  # a tag candidate; a tag also follows a space or a line start


def _may_have_tags(text: str, start: int) -> bool:
    for m in _TAG_HINT.finditer(text, start):
        if m.start() == 0 or text[m.start() - 1].isspace():
            return True
    return False


def note_tags(parsed: ParsedNote, text: str) -> tuple[str, ...]:
    """Frontmatter and inline tags (outside fenced code), in order, without repeats."""
    tags = list(parsed.tags)
    body_start = body_offset(text)
    if not _may_have_tags(text, body_start):
        return tuple(dict.fromkeys(tags))
    tags.extend(body_tags(split_lines(text[body_start:])))
    return tuple(dict.fromkeys(tags))

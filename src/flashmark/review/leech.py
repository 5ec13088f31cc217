"""Leeches: cards forgotten again and again (Anki's manual, "Leeches").

A lapse is an Again on a card in the review state. When a card's lapses reach
``review.leech_threshold`` (8 by default, as in Anki), and again every half threshold
after that (8, 12, 16, ... for 8), the card is a leech: a `Leech` event goes into the
review log, and with ``review.leech_action: suspend`` a `Suspend` event too (``tag``,
the default, only marks it). The reviewer says so each time (Anki's repeat warnings).

Lapses are the FSRS entry's own count; an SM-2 entry keeps none, so for it they are
counted from the review log (the Agains of the card while in review).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from flashmark.config import Settings
from flashmark.errors import FlashmarkError
from flashmark.identity import card_ids
from flashmark.model import STATE_REVIEW, WARNING, Diagnostic, FsrsEntry
from flashmark.syntax import parse_note, srcodec
from flashmark.vault.codec import Summary, key_and_state
from flashmark.vault.notefile import decode_note
from flashmark.vault.reviewlog import (
    LOG_PATH,
    Event,
    Leech,
    Review,
    follow_renames,
    in_effect,
    parse_line,
)


def is_lapse(rating: str, before: str | None) -> bool:
    """An Again on a card that was in the review state."""
    return rating == "again" and key_and_state(before)[1] == STATE_REVIEW


def leech_warning_due(lapses: int, threshold: int) -> bool:
    """Is a lapse that brings the card to ``lapses`` a leech warning? At the threshold,
    then every half threshold (at least 1) after it; never when ``threshold`` is 0."""
    if threshold <= 0 or lapses < threshold:
        return False
    return (lapses - threshold) % max(1, threshold // 2) == 0


def lapses_after(after: str, card_id: str, events: Iterable[Event]) -> int:
    """The card's lapses once the rating that wrote ``after`` is in: the FSRS entry's
    count, else the lapses of the card's reviews in the log (that rating included)."""
    entry = srcodec.parse_entry(after)
    if isinstance(entry, FsrsEntry):
        return entry.lapses
    return sum(1 for e in in_effect(follow_renames(list(events)))
               if isinstance(e, Review) and e.id == card_id and is_lapse(e.rating, e.before))




def logged_leeches(root: Path) -> dict[str, int]:
    """Card id (as the card is called now) -> lapses of its last `Leech` event not undone.
    Reads only the log's leech, renamed and undo lines: a long log is mostly reviews."""
    try:
        data = (root / LOG_PATH).read_bytes()
    except OSError:
        return {}
    events: list[Event] = []
    lines = data.split(b"\n")
    lines.pop()  # a torn last line, or the empty rest after the last newline
    for line in lines:
        if b'"leech"' in line or b'"renamed"' in line or b'"undo"' in line:
            event, _ = parse_line(line)
            if event is not None:
                events.append(event)
    return {e.id: e.lapses for e in in_effect(follow_renames(events)) if isinstance(e, Leech)}


def leech_findings(root: Path, settings: Settings, notes: Iterable[tuple[str, Summary]], *,
                   all_notes: bool = False) -> list[Diagnostic]:
    """A `leech` warning at the card's line for every leech still in the vault."""
    leeches = logged_leeches(root)
    if not leeches:
        return []
    out: list[Diagnostic] = []
    for rel, summary in notes:
        if not any(cid in leeches for _, _, cid, _ in summary):
            continue
        try:
            text = decode_note(rel, (root / rel).read_bytes()).text
        except (OSError, FlashmarkError):
            continue
        for q in parse_note(text, settings.parser, all_notes=all_notes).questions:
            for sibling, cid in enumerate(card_ids(q, rel)):
                if cid in leeches:
                    out.append(Diagnostic(
                        rel, q.span.line, WARNING, "leech",
                        f"card {cid} (card {sibling + 1} of the question) is a leech: "
                        f"forgotten {leeches[cid]} times; consider rewriting or splitting it"))
    return out


__all__ = ["is_lapse", "lapses_after", "leech_findings", "leech_warning_due",
           "logged_leeches"]

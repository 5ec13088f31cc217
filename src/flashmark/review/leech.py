"""Leeches: cards forgotten again and again (Anki's manual, "Leeches").

A lapse is an Again on a card in the review state. When a card's lapses reach
``review.leech_threshold`` (8 by default, as in Anki), and again every half threshold
after that (8, 12, 16, ... for 8), the card is a leech: a `Leech` event goes into the
review log, and with ``review.leech_action: suspend`` a `Suspend` event too (``tag``,
the default, only marks it). The reviewer says so each time (Anki's repeat warnings).

Lapses are the FSRS entry's own count; an SM-2 entry keeps none, so for it they are
counted from the review log (the Agains of the card while in review).

`note_leech` is the one place a rating becomes a leech: the reviewer and `flashmark
rate` both call it after a rating is written. Its events carry the rating's uid as their
``batch``, so an undo of the rating (the reviewer's `u`, `flashmark undo`) takes them
back with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flashmark.config import ReviewSettings, Settings
from flashmark.errors import FlashmarkError
from flashmark.identity import card_ids
from flashmark.model import LEECH_SUSPEND, STATE_REVIEW, WARNING, Diagnostic, FsrsEntry
from flashmark.syntax import parse_note, srcodec
from flashmark.vault.codec import Summary, key_and_state
from flashmark.vault.lock import vault_lock
from flashmark.vault.notefile import decode_note
from flashmark.vault.reviewlog import (
    LOG_PATH,
    Event,
    Leech,
    Review,
    ReviewLog,
    Suspend,
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


@dataclass(frozen=True, slots=True)
class LeechNotice:
    """A rating made its card a leech (again): the events logged and the warning."""

    lapses: int
    suspended: bool  # leech_action: suspend
    events: tuple[Leech | Suspend, ...]  # as logged, the `Leech` first

    @property
    def warning(self) -> str:
        """What the reviewer and `flashmark rate` say (Anki's leech message)."""
        if self.suspended:
            return f"Leech: forgotten {self.lapses} times; suspended"
        return f"Leech: forgotten {self.lapses} times; consider rewriting or splitting it"


def note_leech(root: Path, log: ReviewLog, review: ReviewSettings, rating: Review,
               now: dt.datetime) -> LeechNotice | None:
    """After ``rating`` (a committed `Review`) is written: when it is a lapse that brings
    the card's lapses to the threshold or another half of it (`leech_warning_due`), log a
    `Leech` event, and a `Suspend` with ``review.leech_action: suspend``, both in the
    rating's batch. None when the rating makes no leech. Takes the vault's lock to log."""
    threshold = review.leech_threshold
    if not threshold or not is_lapse(rating.rating, rating.before):
        return None
    lapses = lapses_after(rating.after, rating.id, log.events())
    if not leech_warning_due(lapses, threshold):
        return None
    when = srcodec.iso_ms(now)
    events: list[Leech | Suspend] = [Leech(time=when, id=rating.id, path=rating.path,
                                           lapses=lapses, batch=rating.uid)]
    suspend = review.leech_action == LEECH_SUSPEND
    if suspend:
        events.append(Suspend(time=when, id=rating.id, path=rating.path, batch=rating.uid))
    with vault_lock(root):
        log.append_all(events)  # one write: never a leech without its suspension
    return LeechNotice(lapses, suspend, tuple(events))


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


__all__ = ["LeechNotice", "is_lapse", "lapses_after", "leech_findings",
           "leech_warning_due", "logged_leeches", "note_leech"]

"""What each card is today: the one definition behind every count (docs/architecture.md).

`cards_today` gives every card of the vault one `CardToday` record whose ``status``
(a ``model.TodayStatus``) says what the card is today:

* ``new``: never reviewed and not held back; ``learning``: in (re)learning steps and due
  before today ends; ``due``: a review card due today, overdue included. These three are
  what waits today (``model.WAITING_TODAY``), before the daily limits
  (`review.limits`).
* ``later``: scheduled for a later day; ``unreadable``: an SR entry flashmark cannot read.
* ``suspended`` / ``buried``: a `suspend` / `bury` event of the review log in effect.
* ``sibling``: a new or due card another card of whose question was reviewed today,
  with ``review.bury_siblings`` on: it waits for the next day, as in Anki.

``leech`` is separate from the status (a suspended card can be a leech): a `leech`
event is in the log for the card (`review.leech`).

`scan`, `due`, `stats`, the reviewer's deck list and progress and the queue itself all
count from these records, so they agree; `flashmark search`'s ``is:`` filters read them
too: ``is:new`` / ``is:learn`` / ``is:review`` are the schedule ``state``
(``model.STATE_*``), ``is:due`` is `CardToday.is_due`, ``is:suspended`` /
``is:buried`` / ``is:leech`` the statuses and flag of the same names (``is:buried``
includes hidden siblings: `CardToday.is_buried`).

Which cards share a question is not in the index; it is read from the few notes that
hold a card reviewed today (``SiblingGroups``, by default `note_sibling_groups`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from flashmark.config import Settings
from flashmark.days import day_start
from flashmark.errors import FlashmarkError
from flashmark.identity import card_ids
from flashmark.model import (
    STATE_LEARNING,
    TODAY_BURIED,
    TODAY_DUE,
    TODAY_LATER,
    TODAY_LEARNING,
    TODAY_NEW,
    TODAY_SIBLING,
    TODAY_SUSPENDED,
    TODAY_UNREADABLE,
    WAITING_TODAY,
    CardState,
    TodayStatus,
)
from flashmark.parallel import gc_paused
from flashmark.stats import NO_DECK, DueCutoff
from flashmark.vault.codec import NEW, UNREADABLE, Summary

# note (vault-relative) -> the card ids of each of its questions with two cards or more
SiblingGroups = Callable[[str], list[list[str]]]


class CardToday(NamedTuple):
    """One card and what it is today (a tuple: the real vault has tens of thousands)."""

    id: str
    path: str  # the note, vault-relative
    deck: str | None
    key: str  # the due key (vault.codec.due_key): "" new, "?" unreadable, a date or instant
    state: CardState  # its schedule's state (model.STATE_*)
    status: TodayStatus  # what it is today (model.TODAY_*)
    leech: bool  # a `leech` event is logged for it
    ordinal: int  # position in the vault (note order, then card order), from 1

    @property
    def waiting(self) -> bool:
        """New, learning or due: in today's queue before the daily limits."""
        return self.status in WAITING_TODAY

    @property
    def is_due(self) -> bool:
        """Anki's ``is:due``: a review or learning card due today, not held back."""
        return self.status in (TODAY_DUE, TODAY_LEARNING)

    @property
    def is_buried(self) -> bool:
        """Anki's ``is:buried``: buried by hand, or as a sibling of today's review."""
        return self.status in (TODAY_BURIED, TODAY_SIBLING)


def cards_today(notes: Iterable[tuple[str, Summary]], *, cutoff: DueCutoff,
                suspended: Iterable[str] = (), buried: Iterable[str] = (),
                reviewed_today: Iterable[str] = (), leeches: Iterable[str] = (),
                bury_siblings: bool = True,
                siblings: SiblingGroups | None = None) -> list[CardToday]:
    """Every card of ``notes`` ((note, summary) pairs in vault order) with its status today.

    ``suspended``, ``buried``, ``reviewed_today`` and ``leeches`` are card ids from the
    review log (`review.queue.log_state`). Siblings are hidden only when ``siblings`` is
    given (it reads the notes holding a card reviewed today)."""
    reviewed = set(reviewed_today)
    out: list[CardToday] = []
    touched: dict[str, tuple[int, int]] = {}  # notes with a card reviewed today: slice
    with gc_paused():  # a tuple per card: the cyclic collector would walk them for nothing
        _classify(notes, out, touched, set(suspended), set(buried), reviewed, frozenset(leeches),
                  cutoff)
    if bury_siblings and siblings is not None:
        for rel, (start, end) in touched.items():
            _hide_siblings(out, start, end, siblings(rel), reviewed)
    return out


def _classify(notes: Iterable[tuple[str, Summary]], out: list[CardToday],
              touched: dict[str, tuple[int, int]], suspended: set[str], buried: set[str],
              reviewed: set[str], leech_ids: frozenset[str], cutoff: DueCutoff) -> None:
    end_of_day = cutoff.instant
    today = cutoff.today_text
    has_leeches = bool(leech_ids)  # a bool for every card's ``leech``
    append = out.append
    # tuple.__new__ skips the keyword handling of CardToday(...): 150k cards notice
    make = functools.partial(tuple.__new__, CardToday)
    ordinal = 0
    for rel, summary in notes:
        start = len(out)
        hit = False
        for deck, key, cid, state in summary:
            ordinal += 1
            status: TodayStatus
            if key == UNREADABLE:
                status = TODAY_UNREADABLE
            elif cid in suspended:
                status = TODAY_SUSPENDED
            elif cid in buried:
                status = TODAY_BURIED
            elif key == NEW:
                status = TODAY_NEW
            elif state == STATE_LEARNING:
                status = TODAY_LEARNING if key < end_of_day else TODAY_LATER
            elif len(key) == 10:  # a date: due on its day (DueCutoff.is_due, inlined)
                status = TODAY_DUE if key <= today else TODAY_LATER
            else:  # an instant: due before the next learner day starts
                status = TODAY_DUE if key < end_of_day else TODAY_LATER
            if reviewed and cid in reviewed:
                hit = True
            append(make((cid, rel, deck, key, state, status,
                         has_leeches and cid in leech_ids, ordinal)))
        if hit:
            touched[rel] = (start, len(out))


def _hide_siblings(cards: list[CardToday], start: int, end: int, groups: list[list[str]],
                   reviewed: set[str]) -> None:
    """Mark the new and due cards of ``cards[start:end]`` whose question has another card
    reviewed today (learning cards keep their steps, as with Anki's defaults)."""
    hidden = hidden_siblings(groups, reviewed)
    if not hidden:
        return
    for k in range(start, end):
        card = cards[k]
        if card.id in hidden and card.status in (TODAY_NEW, TODAY_DUE):
            cards[k] = card._replace(status=TODAY_SIBLING)


def hidden_siblings(groups: list[list[str]], reviewed: set[str]) -> set[str]:
    """The cards of a note's sibling ``groups`` that another card of their question,
    reviewed today, hides until tomorrow (if they are new or due)."""
    hidden: set[str] = set()
    for group in groups:
        if any(cid in reviewed for cid in group):
            hidden.update(cid for cid in group if cid not in reviewed)
    return hidden


def note_sibling_groups(root: Path, settings: Settings, *,
                        all_notes: bool = False) -> SiblingGroups:
    """`SiblingGroups` reading the note from disk (a note that cannot be read: none)."""
    from flashmark.syntax import parse_note
    from flashmark.vault.notefile import decode_note

    def groups(rel: str) -> list[list[str]]:
        try:
            data = (root / rel).read_bytes()
            text = decode_note(rel, data).text
        except (OSError, FlashmarkError):
            return []
        note = parse_note(text, settings.parser, all_notes=all_notes)
        return [list(card_ids(q, rel)) for q in note.questions if q.card_count > 1]

    return groups


# note (vault-relative) -> card id -> the interval in days of its SR entry
IntervalReader = Callable[[str], dict[str, int]]


def note_intervals(root: Path, settings: Settings, *,
                   all_notes: bool = False) -> IntervalReader:
    """`IntervalReader` reading the note from disk (a note that cannot be read: none)."""
    from flashmark.syntax import parse_note, srcodec
    from flashmark.vault.notefile import decode_note

    def intervals(rel: str) -> dict[str, int]:
        try:
            text = decode_note(rel, (root / rel).read_bytes()).text
        except (OSError, FlashmarkError):
            return {}
        out: dict[str, int] = {}
        for q in parse_note(text, settings.parser, all_notes=all_notes).questions:
            entries = q.sr.entry_texts if q.sr is not None else []
            for k, cid in enumerate(card_ids(q, rel)):
                entry = srcodec.parse_entry(entries[k]) if k < len(entries) else None
                interval = getattr(entry, "interval", None)
                if isinstance(interval, int):
                    out[cid] = interval
        return out

    return intervals


def relative_overdueness(key: str, interval: int, cutoff: DueCutoff) -> float:
    """How overdue a review card is for its interval: (days overdue + 1) / interval, as
    Anki's "relative overdueness" order (most overdue first) weighs it: a card one week
    late on a 3-day interval comes before one a month late on a 2-year interval."""
    day = cutoff.day_of(key)
    late = 0 if day is None else (cutoff.today - day).days
    return (late + 1) / max(1, interval)


# --- counting -------------------------------------------------------------------------


@dataclass(slots=True)
class TodayCounts:
    """Cards per status (and leeches) of some set of cards."""

    by_status: Counter[str] = field(default_factory=Counter)
    leeches: int = 0
    total: int = 0

    def add(self, card: CardToday) -> None:
        self.by_status[card.status] += 1
        self.leeches += card.leech
        self.total += 1

    def merge(self, other: TodayCounts) -> None:
        self.by_status.update(other.by_status)
        self.leeches += other.leeches
        self.total += other.total

    @property
    def new(self) -> int:
        return self.by_status[TODAY_NEW]

    @property
    def learning(self) -> int:
        return self.by_status[TODAY_LEARNING]

    @property
    def due(self) -> int:
        return self.by_status[TODAY_DUE]

    @property
    def suspended(self) -> int:
        return self.by_status[TODAY_SUSPENDED]

    @property
    def buried(self) -> int:
        """Buried by hand or as siblings."""
        return self.by_status[TODAY_BURIED] + self.by_status[TODAY_SIBLING]

    @property
    def unreadable(self) -> int:
        return self.by_status[TODAY_UNREADABLE]


def count_by_deck(cards: Iterable[CardToday]) -> dict[str, TodayCounts]:
    """`TodayCounts` per deck (NO_DECK for cards without one)."""
    out: dict[str, TodayCounts] = {}
    for card in cards:
        name = card.deck or NO_DECK
        counts = out.get(name)
        if counts is None:
            counts = out[name] = TodayCounts()
        counts.add(card)
    return out


def due_forecast(cards: Iterable[CardToday], cutoff: DueCutoff,
                 days: int) -> dict[dt.date, int]:
    """Cards falling due on each day from today to today + ``days``: today's bucket is
    exactly the learning and due cards (`is_due`); buried cards and hidden siblings come
    back tomorrow; suspended, new and unreadable cards are not counted."""
    out: dict[dt.date, int] = {}
    today = cutoff.today
    tomorrow = today + dt.timedelta(days=1)
    last = today + dt.timedelta(days=days)
    last_text = last.isoformat()
    beyond = DueCutoff(day_start(last, cutoff.day_boundary), cutoff.day_boundary).instant
    days_of: dict[str, dt.date | None] = {}  # most keys share a date, or a minute

    def day_of(key: str) -> dt.date | None:
        memo = key[:16]
        if memo not in days_of:
            days_of[memo] = cutoff.day_of(key)
        return days_of[memo]

    for card in cards:
        status = card.status
        key = card.key
        if status in (TODAY_DUE, TODAY_LEARNING):
            day = today
        elif status == TODAY_LATER or (status in (TODAY_BURIED, TODAY_SIBLING)
                                       and key not in (NEW, UNREADABLE)):
            if key > last_text if len(key) == 10 else key >= beyond:
                continue  # after the window
            found = day_of(key)
            if found is None:
                continue
            day = max(found, tomorrow)
        else:
            continue
        if day <= last:
            out[day] = out.get(day, 0) + 1
    return out


__all__ = ["CardToday", "IntervalReader", "SiblingGroups", "TodayCounts", "cards_today",
           "count_by_deck", "due_forecast", "note_intervals", "note_sibling_groups",
           "relative_overdueness"]

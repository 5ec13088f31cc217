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
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

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
from flashmark.vault import codec
from flashmark.vault.codec import NEW, UNREADABLE, Summary, Tally

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
                  cutoff, 0)
    if bury_siblings and siblings is not None:
        for rel, (start, end) in touched.items():
            _hide_siblings(out, start, end, siblings(rel), reviewed)
    return out


def _classify(notes: Iterable[tuple[str, Summary]], out: list[CardToday],
              touched: dict[str, tuple[int, int]], suspended: set[str], buried: set[str],
              reviewed: set[str], leech_ids: frozenset[str], cutoff: DueCutoff,
              ordinal: int) -> int:
    """Classify every card of ``notes`` into ``out`` (ordinals after ``ordinal``); the
    notes holding a card reviewed today go into ``touched`` with their slice of ``out``.
    Returns the last ordinal."""
    end_of_day = cutoff.instant
    today = cutoff.today_text
    has_leeches = bool(leech_ids)  # a bool for every card's ``leech``
    append = out.append
    # tuple.__new__ skips the keyword handling of CardToday(...): 150k cards notice
    make = functools.partial(tuple.__new__, CardToday)
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
    return ordinal


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
    later_learning: int = 0  # of the ``later`` cards, those in (re)learning steps

    def add(self, card: CardToday) -> None:
        self.by_status[card.status] += 1
        self.leeches += card.leech
        self.total += 1
        if card.status == TODAY_LATER and card.state == STATE_LEARNING:
            self.later_learning += 1

    def merge(self, other: TodayCounts) -> None:
        self.by_status.update(other.by_status)
        self.leeches += other.leeches
        self.total += other.total
        self.later_learning += other.later_learning

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


class _Window:
    """The forecast's days, today to today + ``days``, and the day each later key falls on."""

    __slots__ = ("_days_of", "beyond", "cutoff", "last", "last_text", "today", "tomorrow")

    def __init__(self, cutoff: DueCutoff, days: int) -> None:
        self.cutoff = cutoff
        self.today = cutoff.today
        self.tomorrow = self.today + dt.timedelta(days=1)
        self.last = self.today + dt.timedelta(days=days)
        self.last_text = self.last.isoformat()
        self.beyond = DueCutoff(day_start(self.last, cutoff.day_boundary),
                                cutoff.day_boundary).instant
        self._days_of: dict[str, dt.date | None] = {}  # most keys share a date, or a minute

    def later_day(self, key: str) -> dt.date | None:
        """The day a card due at ``key`` and not due today counts on (tomorrow at the
        earliest), or None when that is after the window (or ``key`` has no day)."""
        if key > self.last_text if len(key) == 10 else key >= self.beyond:
            return None  # after the window
        memo = key[:16]
        if memo not in self._days_of:
            self._days_of[memo] = self.cutoff.day_of(key)
        found = self._days_of[memo]
        if found is None:
            return None
        day = max(found, self.tomorrow)
        return day if day <= self.last else None


def due_forecast(cards: Iterable[CardToday], cutoff: DueCutoff,
                 days: int) -> dict[dt.date, int]:
    """Cards falling due on each day from today to today + ``days``: today's bucket is
    exactly the learning and due cards (`is_due`); buried cards and hidden siblings come
    back tomorrow; suspended, new and unreadable cards are not counted."""
    out: dict[dt.date, int] = {}
    window = _Window(cutoff, days)
    today = window.today
    later_day = window.later_day
    for card in cards:
        status = card.status
        key = card.key
        day: dt.date | None
        if status in (TODAY_DUE, TODAY_LEARNING):
            day = today
        elif status == TODAY_LATER or (status in (TODAY_BURIED, TODAY_SIBLING)
                                       and key not in (NEW, UNREADABLE)):
            day = later_day(key)
            if day is None:
                continue
        else:
            continue
        out[day] = out.get(day, 0) + 1
    return out


# --- counting from the index's per-note tallies (issue 17) ---------------------------
#
# `cards_today` makes a tuple per card: 1.4 million of them on a vault ten times the real
# one. Yet the log speaks of few cards, and a card it does not mention is classified by
# its due key and state alone (the branches of `_classify` below the log's). The index
# keeps, per note and deck, the cards' keys sorted by kind (`vault.codec.Tally`), so
# those branches become bisections: new and unreadable cards are counted, learning keys
# before the end of the day, review dates up to today and review instants before the
# end of the day are due, the rest later. `tally_today` counts every note the log does
# not touch that way and gives the others to `_classify`, card by card: the same rule,
# with the same numbers (tests/review/test_today.py compares the two on the real vault).


class NoteCards(Protocol):
    """A note as the index holds it (`vault.scan.NoteRecord`): its per-deck tally, at
    hand, and its per-card summary, read when asked."""

    @property
    def rel(self) -> str: ...

    @property
    def tally(self) -> Tally: ...

    @property
    def summary(self) -> Summary: ...

    def read_summary(self) -> Summary:
        """The summary, not kept by the note (read once)."""
        ...


@dataclass(frozen=True, slots=True)
class SummaryNote:
    """A note given by its summary alone (its tally is made from it)."""

    rel: str
    summary: Summary

    @property
    def tally(self) -> Tally:
        return codec.tally(self.summary)

    def read_summary(self) -> Summary:
        return self.summary


def as_note_cards(notes: Iterable[tuple[str, Summary]] | Iterable[NoteCards]
                  ) -> list[NoteCards]:
    """``notes`` as `NoteCards`: (note, summary) pairs are wrapped."""
    return [SummaryNote(n[0], n[1]) if isinstance(n, tuple) else n for n in notes]


# card ids -> the notes (vault-relative) holding any of them
NoteHolders = Callable[[set[str]], set[str]]


def holders_in_summaries(notes: Iterable[NoteCards]) -> NoteHolders:
    """`NoteHolders` reading every note's summary (without an index to ask)."""
    def holders(ids: set[str]) -> set[str]:
        return {n.rel for n in notes if any(card[2] in ids for card in n.summary)}
    return holders


# the kinds of sorted key lists of a tally row
_LEARN_KEYS, _DATE_KEYS, _INSTANT_KEYS = 0, 1, 2


@dataclass(slots=True)
class TodayTally:
    """What `cards_today` says of a vault, counted per deck: the cards of the notes the
    log touches (and, with ``waiting``, of every note with a card waiting today) are in
    ``cards``, classified one by one; the other notes are counted from their tallies."""

    decks: dict[str | None, TodayCounts]  # deck (None: none) -> counts of all its cards
    cards: list[CardToday]  # every card of the notes the log touches, classified
    waiting: bool  # every new, learning and due card is in ``cards`` or ``waiting_cards``
    logged: list[tuple[int, int]]  # slices of ``cards``: the notes the log touches

    def logged_cards(self) -> Iterator[CardToday]:
        """The cards of the notes the log touches (every card it names is one)."""
        for start, end in self.logged:
            yield from self.cards[start:end]
    # counted from tallies: per deck, the cards due or learning today, and the sorted due
    # keys of the cards scheduled after today, (keys, first later one, kind)
    tallied_today: dict[str | None, int] = field(default_factory=dict)
    tallied_later: dict[str | None, list[tuple[list[str], int, int]]] = field(
        default_factory=dict)
    # with ``waiting``: the new, learning and due cards of the notes the log does not
    # touch (counted from their tallies), in vault order; the log holds none back
    waiting_cards: list[CardToday] = field(default_factory=list)
    _by_deck: dict[str | None, list[CardToday]] | None = None  # ``cards`` per deck

    def _cards_by_deck(self) -> dict[str | None, list[CardToday]]:
        if self._by_deck is None:
            self._by_deck = {}
            for card in self.cards:
                self._by_deck.setdefault(card.deck, []).append(card)
        return self._by_deck

    def waiting_today(self) -> list[CardToday]:
        """Every card waiting today before the daily limits (new, learning, due), in
        vault order (with ``waiting``)."""
        logged = [c for c in self.cards if c.status in WAITING_TODAY]
        if not logged:
            return self.waiting_cards
        if not self.waiting_cards:
            return logged
        return sorted(logged + self.waiting_cards, key=_ordinal)

    def by_name(self, selects: Callable[[str | None], bool] | None = None
                ) -> dict[str, TodayCounts]:
        """Counts per deck name (NO_DECK for none), of the decks ``selects`` accepts."""
        out: dict[str, TodayCounts] = {}
        for deck, counts in self.decks.items():
            if selects is not None and not selects(deck):
                continue
            name = deck or NO_DECK
            found = out.get(name)
            if found is None:
                found = out[name] = TodayCounts()
            found.merge(counts)
        return out

    def forecast(self, cutoff: DueCutoff, days: int,
                 selects: Callable[[str | None], bool] | None = None) -> dict[dt.date, int]:
        """`due_forecast` of every card of the decks ``selects`` accepts."""
        if selects is None:
            cards = self.cards
        else:  # asked once per deck, not per card (`due` asks it for every deck listed)
            cards = [c for deck, of_deck in self._cards_by_deck().items() if selects(deck)
                     for c in of_deck]
        out = due_forecast(cards, cutoff, days)
        window = _Window(cutoff, days)
        today = window.today
        for deck, n in self.tallied_today.items():
            if n and (selects is None or selects(deck)):
                out[today] = out.get(today, 0) + n
        later_day = window.later_day
        for deck, runs in self.tallied_later.items():
            if selects is not None and not selects(deck):
                continue
            for keys, at, kind in runs:
                # dates and instants come in lists of their own kind: the window's end
                # cuts them; learning keys are few and tested one by one
                end = (bisect_right(keys, window.last_text, at) if kind == _DATE_KEYS
                       else bisect_left(keys, window.beyond, at) if kind == _INSTANT_KEYS
                       else len(keys))
                while at < end:
                    key = keys[at]
                    after = bisect_right(keys, key, at, end)  # the cards sharing the key
                    day = later_day(key)
                    if day is not None:
                        out[day] = out.get(day, 0) + after - at
                    at = after
        return out


def tally_today(notes: Iterable[NoteCards], *, cutoff: DueCutoff,
                suspended: Collection[str] = (), buried: Collection[str] = (),
                reviewed_today: Collection[str] = (), leeches: Collection[str] = (),
                bury_siblings: bool = True, siblings: SiblingGroups | None = None,
                holders: NoteHolders | None = None, waiting: bool = False) -> TodayTally:
    """`cards_today`'s classification of ``notes`` (in vault order), counted per deck
    (`TodayTally`). ``holders`` says which notes hold the log's cards (default: read
    every summary); ``waiting``: also list every card waiting today, for the queue's
    lists (`TodayTally.waiting_today`: at 10x the real vault, 180,000 of the 1.25 million
    cards of the notes holding one)."""
    notes = list(notes)
    reviewed = set(reviewed_today)
    leech_ids = frozenset(leeches)
    log_ids = set(suspended) | set(buried) | reviewed | leech_ids
    find = holders if holders is not None else holders_in_summaries(notes)
    by_log = find(log_ids) if log_ids else set()
    end_of_day = cutoff.instant
    today = cutoff.today_text
    out: list[CardToday] = []
    waiting_out: list[CardToday] = []
    logged: list[tuple[int, int]] = []
    touched: dict[str, tuple[int, int]] = {}
    # per deck: [new, unreadable, learning, due, later, later learning, total]
    counted: dict[str | None, list[int]] = {}
    tallied_today: dict[str | None, int] = {}
    tallied_later: dict[str | None, list[tuple[list[str], int, int]]] = {}
    suspended_ids, buried_ids = set(suspended), set(buried)
    first_seen: dict[str | None, None] = {}  # decks in vault order, as cards_today lists them
    ordinal = 0
    with gc_paused():
        for note in notes:
            rows = note.tally
            for row in rows:
                first_seen.setdefault(row[0])
            if note.rel in by_log:
                start = len(out)
                ordinal = _classify([(note.rel, note.summary)], out, touched, suspended_ids,
                                    buried_ids, reviewed, leech_ids, cutoff, ordinal)
                logged.append((start, len(out)))
                continue
            if waiting and _has_waiting(rows, end_of_day, today):
                _list_waiting(note.rel, note.read_summary(), waiting_out, cutoff, ordinal)
            for deck, n_new, n_unreadable, learn, dates, instants in rows:
                learning = bisect_left(learn, end_of_day)
                due_dates = bisect_right(dates, today)
                due_instants = bisect_left(instants, end_of_day)
                n = n_new + n_unreadable + len(learn) + len(dates) + len(instants)
                ordinal += n
                later_learning = len(learn) - learning
                due = due_dates + due_instants
                later = later_learning + len(dates) - due_dates + len(instants) - due_instants
                c = counted.get(deck)
                if c is None:
                    c = counted[deck] = [0, 0, 0, 0, 0, 0, 0]
                    tallied_today[deck] = 0
                    tallied_later[deck] = []
                c[0] += n_new
                c[1] += n_unreadable
                c[2] += learning
                c[3] += due
                c[4] += later
                c[5] += later_learning
                c[6] += n
                tallied_today[deck] += learning + due
                runs = tallied_later[deck]
                if later_learning:
                    runs.append((learn, learning, _LEARN_KEYS))
                if due_dates < len(dates):
                    runs.append((dates, due_dates, _DATE_KEYS))
                if due_instants < len(instants):
                    runs.append((instants, due_instants, _INSTANT_KEYS))
    if bury_siblings and siblings is not None:
        for rel, (start, end) in touched.items():
            _hide_siblings(out, start, end, siblings(rel), reviewed)
    decks = {deck: TodayCounts() for deck in first_seen}
    for deck, c in counted.items():
        counts = decks[deck]
        counts.total = c[6]
        counts.later_learning = c[5]
        for status, n in ((TODAY_NEW, c[0]), (TODAY_UNREADABLE, c[1]),
                          (TODAY_LEARNING, c[2]), (TODAY_DUE, c[3]), (TODAY_LATER, c[4])):
            if n:
                counts.by_status[status] = n
    # the cards classified one by one, counted per (deck, status) first: a method call
    # per card costs more (the reviewer classifies every waiting card: a million at 10x)
    for (deck, status), n in Counter((c.deck, c.status) for c in out).items():
        counts = decks[deck]
        counts.by_status[status] += n
        counts.total += n
    for deck, n in Counter(c.deck for c in out if c.leech).items():
        decks[deck].leeches += n
    for deck, n in Counter(c.deck for c in out
                           if c.status == TODAY_LATER and c.state == STATE_LEARNING).items():
        decks[deck].later_learning += n
    return TodayTally(decks, out, waiting, logged, tallied_today, tallied_later, waiting_out)


def _ordinal(card: CardToday) -> int:
    return card.ordinal


def _list_waiting(rel: str, summary: Summary, out: list[CardToday], cutoff: DueCutoff,
                  ordinal: int) -> None:
    """The new, learning and due cards of a note the log does not touch (ordinals after
    ``ordinal``): `_classify`'s rule without the log, and only the cards it would call
    waiting are made (most cards of such a note are scheduled later)."""
    end_of_day = cutoff.instant
    today = cutoff.today_text
    append = out.append
    make = functools.partial(tuple.__new__, CardToday)
    # Every waiting key sorts before the end of the day (new "" included, unreadable "?"
    # after every date): one comparison per card picks the few candidates.
    candidates = [(k, card) for k, card in enumerate(summary, ordinal + 1)
                  if card[1] < end_of_day]
    for k, (deck, key, cid, state) in candidates:
        if key == NEW:
            append(make((cid, rel, deck, key, state, TODAY_NEW, False, k)))
        elif key == UNREADABLE:
            continue
        elif state == STATE_LEARNING:
            if key < end_of_day:
                append(make((cid, rel, deck, key, state, TODAY_LEARNING, False, k)))
        elif key <= today if len(key) == 10 else key < end_of_day:
            append(make((cid, rel, deck, key, state, TODAY_DUE, False, k)))


def _has_waiting(rows: Tally, end_of_day: str, today: str) -> bool:
    """Does a note with these tally rows hold a new, learning or due card (if the log
    holds none of them back)?"""
    for _, n_new, _, learn, dates, instants in rows:
        if (n_new or (learn and learn[0] < end_of_day) or (dates and dates[0] <= today)
                or (instants and instants[0] < end_of_day)):
            return True
    return False


__all__ = ["CardToday", "IntervalReader", "NoteCards", "NoteHolders", "SiblingGroups",
           "SummaryNote", "TodayCounts", "TodayTally", "as_note_cards", "cards_today",
           "count_by_deck", "due_forecast", "holders_in_summaries", "note_intervals",
           "note_sibling_groups", "relative_overdueness", "tally_today"]

"""Today's review queue, built from the index's card summaries and the review log.

No note is read here: each card's deck, due key, id and state come from the index
(``vault.codec.Summary``), and the log says what happened today (new cards already
introduced, cards reviewed, buried or suspended). The clock is injected (``now``).

What is in the queue:

* learning: cards in (re)learning steps due before the end of the local day, by due
  time (the session shows each when it falls due);
* reviews: review cards due today (overdue included), in the configured order;
* new: new cards, in the configured order, as candidates; how many may be introduced
  today is ``budgets`` (per limit group, see ``review.settings``).

Left out: suspended cards (a ``suspend`` event not followed by ``unsuspend``), buried
cards (a ``bury`` event whose ``until`` has not passed), unreadable entries. Siblings of
cards reviewed today are left out by the session, which sees the question when it
shows a card (the index does not know which cards share a question).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from flashmark.config import Settings
from flashmark.decks import DeckPattern
from flashmark.model import LEARNING, NEW_CARD, REVIEW, STATE_LEARNING, QueueKind
from flashmark.review.settings import ReviewSettings
from flashmark.stats import NO_DECK, DueCutoff
from flashmark.vault.codec import NEW, UNREADABLE, Summary, due_key
from flashmark.vault.reviewlog import (
    LOG_NAME,
    Bury,
    Event,
    Review,
    Suspend,
    Unsuspend,
    follow_renames,
    in_effect,
    parse_line,
)
from flashmark.vault.scan import scan_vault


class QueueCard(NamedTuple):
    """One card waiting today (a tuple: the real vault queues tens of thousands)."""

    id: str
    path: str  # the note, vault-relative
    deck: str | None
    key: str  # the due key (vault.codec.due_key): "" new, a date, or an ISO instant
    kind: QueueKind  # NEW_CARD, LEARNING or REVIEW
    ordinal: int  # position in the vault (note order, then card order): a stable tiebreak

    @property
    def due_at(self) -> dt.datetime | None:
        """The exact due time of a learning card (None for dates and new cards)."""
        if len(self.key) > 10:
            return dt.datetime.fromisoformat(self.key)
        return None


# --- the review log, as far as the queue needs it ------------------------------------


@dataclass(slots=True)
class LogState:
    """What the review log says about today."""

    suspended: dict[str, Suspend] = field(default_factory=dict)  # id -> event
    buried: dict[str, Bury] = field(default_factory=dict)  # id -> event, in effect
    reviewed_today: Counter[str] = field(default_factory=Counter)  # id -> reviews today
    introduced_today: list[str] = field(default_factory=list)  # ids first reviewed today


def log_state(events: Iterable[Event], cutoff: DueCutoff) -> LogState:
    """Fold the log's events (oldest first) into today's state at ``cutoff.now``; a
    card whose text changed keeps its state (`vault.reviewlog.follow_renames`)."""
    state = LogState()
    now = cutoff.now
    for e in in_effect(follow_renames(list(events))):
        if isinstance(e, Review):
            if cutoff.day_of_moment(e.moment) != cutoff.today:
                continue
            state.reviewed_today[e.id] += 1
            if due_key(e.before) == NEW:
                state.introduced_today.append(e.id)
        elif isinstance(e, Bury):
            if e.until is None:  # no end given: buried for the day it was made
                if cutoff.day_of_moment(e.moment) != cutoff.today:
                    continue
                until = cutoff_end(cutoff)
            else:
                try:
                    until = _utc(e.until)
                except ValueError:
                    continue
            if until > now:
                state.buried[e.id] = e
        elif isinstance(e, Suspend):
            state.suspended[e.id] = e
        elif isinstance(e, Unsuspend):
            state.suspended.pop(e.id, None)
    return state


def _utc(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def cutoff_end(cutoff: DueCutoff) -> dt.datetime:
    """The end of the learner's day: when the next one starts (aware)."""
    return cutoff.end


def _utc_days(cutoff: DueCutoff) -> list[str]:
    """The UTC dates the learner's day overlaps (one or two)."""
    first = cutoff.start.astimezone(dt.UTC).date()
    last = (cutoff_end(cutoff) - dt.timedelta(microseconds=1)).astimezone(dt.UTC).date()
    days = [first.isoformat()]
    if last != first:
        days.append(last.isoformat())
    return days


_ALWAYS = (b'"event":"bury"', b'"event":"suspend"', b'"event":"unsuspend"',
           b'"event":"undo"', b'"event":"commit"', b'"event":"abort"')


def read_log_events(path: Path, cutoff: DueCutoff) -> list[Event]:
    """The events ``log_state`` needs, read fast: every bury, suspend, unsuspend, undo,
    commit and abort line, and only today's review lines (a long log is mostly old
    reviews, which are not even decoded). Lines are validated like `ReviewLog` does;
    those it would skip are skipped here too."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    days = [b'"time":"' + d.encode() for d in _utc_days(cutoff)]
    out: list[Event] = []
    lines = data.split(b"\n")
    lines.pop()  # a torn last line (or the empty rest after the last newline)
    for line in lines:
        if b'"event":"review"' in line:
            if not any(d in line for d in days):
                continue
        elif not (any(k in line for k in _ALWAYS) or b'"event": "' in line):
            continue
        event, _ = parse_line(line)
        if event is not None:
            out.append(event)
    return out


# --- the queue ------------------------------------------------------------------------


@dataclass(slots=True)
class DeckTally:
    """Per deck: cards waiting today (before new-card limits), and its limit group."""

    group: str
    new: int = 0
    learning: int = 0
    review: int = 0


@dataclass(slots=True)
class Queue:
    cutoff: DueCutoff
    settings: ReviewSettings
    state: LogState
    learning: list[QueueCard]
    reviews: list[QueueCard]
    new: list[QueueCard]
    budgets: dict[str, int]  # limit group -> new cards it may still introduce today
    decks: dict[str, DeckTally]  # deck (NO_DECK for none) -> what waits in it today
    suspended: int = 0  # cards left out because suspended
    buried: int = 0  # ... because buried
    total: int = 0  # cards considered (after the deck filter)

    @property
    def new_today(self) -> int:
        """New cards the limits allow today."""
        per_group: Counter[str] = Counter(self.settings.group_of(c.deck) for c in self.new)
        return sum(min(n, self.budgets.get(g, 0)) for g, n in per_group.items())

    def counts(self) -> tuple[int, int, int]:
        """(new within limits, learning, review) cards waiting today."""
        return self.new_today, len(self.learning), len(self.reviews)


def build_queue(notes: Iterable[tuple[str, Summary]], state: LogState, cutoff: DueCutoff,
                settings: ReviewSettings, *, deck: str | None = None,
                seed: int | None = None) -> Queue:
    """Today's queue for the cards of ``notes`` ((rel path, summary) pairs, vault order),
    only those of the decks the pattern ``deck`` selects when given (`flashmark.decks`).

    ``seed`` fixes the random order (default: the date, so a restart keeps it)."""
    learning: list[QueueCard] = []
    reviews: list[QueueCard] = []
    new: list[QueueCard] = []
    decks: dict[str, DeckTally] = {}
    suspended, buried = state.suspended, state.buried
    introduced = set(state.introduced_today)
    used: Counter[str] = Counter()
    end_of_day = cutoff.instant
    n_suspended = n_buried = total = 0
    ordinal = 0
    group_of = settings.group_of
    selected = None if deck is None else DeckPattern(deck).selects
    for rel, summary in notes:
        for card_deck, key, cid, st in summary:
            ordinal += 1
            if introduced and cid in introduced:
                used[group_of(card_deck)] += 1
            if selected is not None and not selected(card_deck):
                continue
            total += 1
            name = card_deck or NO_DECK
            tally = decks.get(name)
            if tally is None:  # every deck is listed, even with nothing to do today
                tally = decks[name] = DeckTally(group_of(card_deck))
            if key == UNREADABLE:
                continue
            if cid in suspended:
                n_suspended += 1
                continue
            if cid in buried:
                n_buried += 1
                continue
            kind: QueueKind
            if key == NEW:
                kind = NEW_CARD
            elif st == STATE_LEARNING:
                if key >= end_of_day:
                    continue
                kind = LEARNING
            elif cutoff.is_due(key):
                kind = REVIEW
            else:
                continue
            item = QueueCard(cid, rel, card_deck, key, kind, ordinal)
            if kind == NEW_CARD:
                tally.new += 1
                new.append(item)
            elif kind == LEARNING:
                tally.learning += 1
                learning.append(item)
            else:
                tally.review += 1
                reviews.append(item)
    learning.sort(key=lambda c: (c.key, c.ordinal))
    order = settings.order
    if order == "random":
        rng = random.Random(cutoff.today.toordinal() if seed is None else seed)
        rng.shuffle(reviews)
        rng.shuffle(new)
    elif order == "deck":
        reviews.sort(key=lambda c: (c.deck or "", c.key, c.ordinal))
        new.sort(key=lambda c: (c.deck or "", c.ordinal))
    else:
        reviews.sort(key=lambda c: (c.key, c.ordinal))
    budgets = {g: max(0, settings.limit_of(g) - used[g]) for g in settings.groups}
    return Queue(cutoff, settings, state, learning, reviews, new, budgets, decks,
                 n_suspended, n_buried, total)


@dataclass(frozen=True, slots=True)
class DeckNode:
    """What the deck list shows for one deck (sub-decks included)."""

    new: int  # within today's limits
    learning: int
    review: int


def deck_tree(queue: Queue) -> dict[str, DeckNode]:
    """Counts for every deck and every parent deck (each tag path prefix): new cards
    capped by the limit groups' budgets, as reviewing that deck would show them."""
    learning: Counter[str] = Counter()
    reviews: Counter[str] = Counter()
    new_avail: dict[str, Counter[str]] = {}
    for name, tally in queue.decks.items():
        parts = name.split("/") if name != NO_DECK else [NO_DECK]
        for k in range(1, len(parts) + 1):
            node = "/".join(parts[:k])
            learning[node] += tally.learning
            reviews[node] += tally.review
            if tally.new:
                new_avail.setdefault(node, Counter())[tally.group] += tally.new
    out = {}
    for node in learning.keys() | reviews.keys():
        groups = new_avail.get(node, Counter())
        shown_new = sum(min(n, queue.budgets.get(g, 0)) for g, n in groups.items())
        out[node] = DeckNode(shown_new, learning[node], reviews[node])
    return out


def scan_summaries(root: Path, settings: Settings, *, use_cache: bool = True,
                   all_notes: bool = False, require_cards: bool = False
                   ) -> list[tuple[str, Summary]]:
    """(note, summary) of every flashcard note, in vault order (a warm index reads no
    note). ``require_cards``: a vault without any card is a `NoCardsError` saying what
    flashmark looked for."""
    result = scan_vault(root, settings, use_cache=use_cache, all_notes=all_notes)
    try:
        notes = [(r.rel, r.summary) for r in result.flashcard_notes()]
        if require_cards and not any(summary for _, summary in notes):
            raise result.no_cards_error()
        return notes
    finally:
        result.close()


def load_queue(root: Path, settings: Settings, review: ReviewSettings, now: dt.datetime, *,
               deck: str | None = None, notes: list[tuple[str, Summary]] | None = None,
               use_cache: bool = True, all_notes: bool = False) -> Queue:
    """Today's queue of the vault at ``root`` (scanning it unless ``notes`` is given)."""
    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    if notes is None:
        notes = scan_summaries(root, settings, use_cache=use_cache, all_notes=all_notes)
    state = log_state(read_log_events(root / ".flashmark" / LOG_NAME, cutoff), cutoff)
    return build_queue(notes, state, cutoff, review, deck=deck)

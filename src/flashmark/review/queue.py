"""Today's review queue, built from the index's card summaries and the review log.

No note is read here: each card's deck, due key, id and state come from the index
(``vault.codec.Summary``), and the log says what happened today (new cards already
introduced, cards reviewed, buried or suspended). The clock is injected (``now``).

What is in the queue:

* learning: cards in (re)learning steps due before the end of the local day, by due
  time (the session shows each when it falls due);
* reviews: review cards due today (overdue included), in the configured order;
* new: new cards, in the configured order.

What each card is today (new, learning, due, suspended, buried, a hidden sibling...) is
`review.today.cards_today`, the one definition every count shares; the reviews and new
cards queued are those the daily limits let through (`review.limits`). ``budgets`` says
how many of the queued new cards each limit group (`ReviewSettings.group_of`) holds, for
the session's bookkeeping.

A queue over chosen cards (``only``: `flashmark review --search`, the browser's "review
these") is Anki's filtered deck / custom study: the chosen cards that are new, in
learning due today or review cards, due or not (reviewing ahead), with no daily limit.
Suspended, buried (hidden siblings included) and unreadable cards stay out, as they
stay out of Anki's filtered decks, and so do learning cards whose next step is on a
later day (a step is minutes long: it is not reviewed ahead).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from flashmark.config import Settings
from flashmark.decks import DeckPattern
from flashmark.model import (
    LEARNING,
    NEW_CARD,
    REVIEW,
    STATE_REVIEW,
    TODAY_DUE,
    TODAY_LATER,
    TODAY_LEARNING,
    TODAY_NEW,
    QueueKind,
)
from flashmark.parallel import gc_paused
from flashmark.review.limits import DailyLimits
from flashmark.review.settings import ReviewSettings
from flashmark.review.today import (
    CardToday,
    IntervalReader,
    NoteCards,
    NoteHolders,
    SiblingGroups,
    TodayCounts,
    TodayTally,
    as_note_cards,
    cards_today,
    count_by_deck,
    holders_in_summaries,
    note_intervals,
    note_sibling_groups,
    relative_overdueness,
    tally_today,
)
from flashmark.stats import NO_DECK, DueCutoff
from flashmark.vault.codec import NEW, Summary, key_and_state
from flashmark.vault.reviewlog import (
    LOG_NAME,
    Bury,
    Event,
    Leech,
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
    # ids first reviewed today as review cards (what counts against the review limit)
    due_reviewed_today: list[str] = field(default_factory=list)
    leeches: dict[str, Leech] = field(default_factory=dict)  # id -> its last leech event


def log_state(events: Iterable[Event], cutoff: DueCutoff) -> LogState:
    """Fold the log's events (oldest first) into today's state at ``cutoff.now``; a
    card whose text changed keeps its state (`vault.reviewlog.follow_renames`)."""
    state = LogState()
    now = cutoff.now
    for e in in_effect(follow_renames(list(events))):
        if isinstance(e, Review):
            if cutoff.day_of_time(e.time) != cutoff.today:
                continue
            state.reviewed_today[e.id] += 1
            if state.reviewed_today[e.id] == 1:
                key, schedule = key_and_state(e.before)
                if key == NEW:
                    state.introduced_today.append(e.id)
                elif schedule == STATE_REVIEW:
                    state.due_reviewed_today.append(e.id)
        elif isinstance(e, Leech):
            state.leeches[e.id] = e
        elif isinstance(e, Bury):
            if e.until is None:  # no end given: buried for the day it was made
                if cutoff.day_of_time(e.time) != cutoff.today:
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
           b'"event":"undo"', b'"event":"commit"', b'"event":"abort"', b'"event":"leech"')


def read_log_events(path: Path, cutoff: DueCutoff) -> list[Event]:
    """The events ``log_state`` needs, read fast: every bury, suspend, unsuspend, leech,
    undo, commit and abort line, and only today's review lines (a long log is mostly old
    reviews, which are not even decoded). Lines are validated like `ReviewLog` does;
    those it would skip are skipped here too."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    days = [b'"time":"' + d.encode() for d in _utc_days(cutoff)]
    # Only the lines holding one of these can be wanted: found by one regular expression
    # over the whole log (a year of reviews is 100,000 lines, nearly all skipped).
    marker = re.compile(b"|".join(re.escape(m) for m in (*days, *_ALWAYS, b'"event": "')))
    out: list[Event] = []
    limit = data.rfind(b"\n") + 1  # what follows the last newline is a torn line
    pos = 0
    while (found := marker.search(data, pos, limit)) is not None:
        start = data.rfind(b"\n", 0, found.start()) + 1
        end = data.find(b"\n", found.end())
        line = data[start:end]
        pos = end + 1
        if wanted_line(line, days):
            event, _ = parse_line(line)
            if event is not None:
                out.append(event)
    return out


def wanted_line(line: bytes, days: list[bytes]) -> bool:
    """Does `read_log_events` decode this log line? (``days``: today's time prefixes.)"""
    if b'"event":"review"' in line:
        return any(d in line for d in days)
    return any(k in line for k in _ALWAYS) or b'"event": "' in line


# --- the queue ------------------------------------------------------------------------


@dataclass(slots=True)
class Queue:
    cutoff: DueCutoff
    settings: ReviewSettings
    state: LogState
    learning: list[QueueCard]
    reviews: list[QueueCard]  # the due reviews today's limits let through, in order
    # every new card waiting, in order: the session takes them while ``budgets`` allow,
    # so that a buried new card gives its place to the next one
    new: list[QueueCard]
    budgets: dict[str, int]  # limit group (group_of) -> new cards it may introduce
    decks: dict[str, TodayCounts]  # deck (NO_DECK for none) -> its cards today
    limits: DailyLimits
    held_back: int = 0  # due reviews the review limits leave for another day
    suspended: int = 0  # cards left out because suspended
    buried: int = 0  # ... because buried by hand or as siblings of today's reviews
    total: int = 0  # cards considered (after the deck filter)
    leeches: int = 0  # of these, leeches
    rated_today: int = 0  # ratings today of the cards considered (the progress's start)

    @property
    def new_today(self) -> int:
        """New cards the limits allow today."""
        per_group: Counter[str] = Counter(self.settings.group_of(c.deck) for c in self.new)
        return sum(min(n, self.budgets.get(g, 0)) for g, n in per_group.items())

    def counts(self) -> tuple[int, int, int]:
        """(new within limits, learning, review within limits) cards waiting today."""
        return self.new_today, len(self.learning), len(self.reviews)


def _queue_card(card: CardToday, kind: QueueKind) -> QueueCard:
    return QueueCard(card.id, card.path, card.deck, card.key, kind, card.ordinal)


Notes = Iterable[tuple[str, Summary]] | Iterable[NoteCards]


def build_queue(notes: Notes, state: LogState, cutoff: DueCutoff,
                settings: ReviewSettings, *, deck: str | None = None,
                seed: int | None = None, siblings: SiblingGroups | None = None,
                tallied: TodayTally | None = None, holders: NoteHolders | None = None,
                intervals: IntervalReader | None = None, lists: bool = True,
                only: Collection[str] | None = None) -> Queue:
    """Today's queue for the cards of ``notes`` ((rel path, summary) pairs or
    `NoteCards`, vault order), only those of the decks the pattern ``deck`` selects when
    given (`flashmark.decks`).

    ``siblings`` reads which cards share a question (`review.today`): without it no
    sibling is hidden. ``intervals`` reads the due cards' intervals for ``order:
    overdue`` (without it, that order is ``due``). ``tallied``: `today_tally` of
    ``notes``, when already worked out (``holders``: see `review.today.tally_today`).
    ``lists=False``: only the per-deck counts and the limits (for `deck_counts`), no card
    lists. ``only``: the queue of these card ids as a filtered deck takes them (module
    docstring): review cards due later too, no daily limit; ``notes`` must then hold
    them. ``seed`` fixes the random order (default: the date, so a restart keeps it)."""
    with gc_paused():  # a tuple per queued card, no cycles
        chosen = None
        if only is not None:
            chosen = chosen_today(notes, only, state, cutoff, settings, siblings,
                                  holders=holders)
        if tallied is None or (lists and chosen is None and not tallied.waiting):
            tallied = today_tally(notes, state, cutoff, settings, siblings, holders=holders,
                                  waiting=lists and chosen is None)
        return _build_queue(tallied, state, cutoff, settings, deck=deck, seed=seed,
                            intervals=intervals, lists=lists, chosen=chosen)


def chosen_today(notes: Notes, only: Collection[str], state: LogState, cutoff: DueCutoff,
                 settings: ReviewSettings, siblings: SiblingGroups | None = None, *,
                 holders: NoteHolders | None = None) -> list[CardToday]:
    """The cards of ``only`` (ids) classified one by one (`today_cards`), in vault order:
    only the notes holding them are read."""
    ids = set(only)
    records = as_note_cards(notes)
    find = holders if holders is not None else holders_in_summaries(records)
    paths = find(ids) if ids else set()
    cards = today_cards(((n.rel, n.summary) for n in records if n.rel in paths), state,
                        cutoff, settings, siblings)
    return [c for c in cards if c.id in ids]


def _build_queue(tallied: TodayTally, state: LogState, cutoff: DueCutoff,
                 settings: ReviewSettings, *, deck: str | None, seed: int | None,
                 intervals: IntervalReader | None, lists: bool,
                 chosen: list[CardToday] | None) -> Queue:
    # The cards classified one by one hold every card the log names (and, with lists,
    # every card waiting today): the limits, the ratings and the lists come from them,
    # the per-deck counts from the tally. A filtered deck (``chosen``) lists and counts
    # its chosen cards only.
    by_id = {c.id: c.deck for c in tallied.logged_cards()} if (
        state.introduced_today or state.due_reviewed_today) else {}
    limits = DailyLimits(
        settings,
        new_done=[by_id[i] for i in state.introduced_today if i in by_id],
        reviews_done=[by_id[i] for i in state.due_reviewed_today if i in by_id])
    learning: list[QueueCard] = []
    reviews: list[QueueCard] = []
    new: list[QueueCard] = []
    selected = None if deck is None else DeckPattern(deck).selects
    listed: Iterable[CardToday]
    if chosen is None:
        decks = tallied.by_name(selected)
        listed = tallied.logged_cards()
    else:
        listed = chosen = [c for c in chosen if selected is None or selected(c.deck)]
        decks = count_by_deck(chosen)
    reviewed_today = state.reviewed_today
    rated_today = 0
    if reviewed_today:
        for card in listed:
            if card.id in reviewed_today and (selected is None or selected(card.deck)):
                rated_today += reviewed_today[card.id]
    for card in (tallied.waiting_today() if chosen is None else chosen) if lists else ():
        if selected is not None and not selected(card.deck):
            continue
        status = card.status
        if status == TODAY_NEW:
            new.append(_queue_card(card, NEW_CARD))
        elif status == TODAY_LEARNING:
            learning.append(_queue_card(card, LEARNING))
        elif status == TODAY_DUE or (chosen is not None and status == TODAY_LATER
                                     and card.state == STATE_REVIEW):
            reviews.append(_queue_card(card, REVIEW))  # (a filtered deck reviews ahead)
    learning.sort(key=lambda c: (c.key, c.ordinal))
    order = settings.order
    if order == "random":
        rng = random.Random(cutoff.today.toordinal() if seed is None else seed)
        rng.shuffle(reviews)
        rng.shuffle(new)
    elif order == "deck":
        reviews.sort(key=lambda c: (c.deck or "", c.key, c.ordinal))
        new.sort(key=lambda c: (c.deck or "", c.ordinal))
    elif order == "overdue" and intervals is not None:
        reviews = _by_relative_overdueness(reviews, cutoff, intervals)
    else:
        reviews.sort(key=lambda c: (c.key, c.ordinal))
    due_reviews = len(reviews)
    if chosen is None:
        reviews, new_taken = limits.gather(reviews, new)
    else:  # a filtered deck: no daily limit
        new_taken = new
    # Cards of one limit group share their groups (nested deck patterns), so the session
    # taking the first ``budgets[g]`` new cards of group g takes exactly ``new_taken``.
    budgets = dict.fromkeys(settings.groups, 0)
    for item in new_taken:
        budgets[settings.group_of(item.deck)] += 1
    total = TodayCounts()
    for tally in decks.values():
        total.merge(tally)
    return Queue(cutoff, settings, state, learning, reviews, new, budgets, decks, limits,
                 due_reviews - len(reviews), total.suspended, total.buried, total.total,
                 total.leeches, rated_today)


def _by_relative_overdueness(reviews: list[QueueCard], cutoff: DueCutoff,
                             intervals: IntervalReader) -> list[QueueCard]:
    """Most overdue for its interval first (`review.today.relative_overdueness`); ties,
    and cards whose interval cannot be read (last), oldest due first."""
    known: dict[str, int] = {}
    for path in dict.fromkeys(c.path for c in reviews):
        known.update(intervals(path))

    def weight(c: QueueCard) -> tuple[float, str, int]:
        interval = known.get(c.id)
        ratio = 0.0 if interval is None else relative_overdueness(c.key, interval, cutoff)
        return (-ratio, c.key, c.ordinal)

    return sorted(reviews, key=weight)


def today_tally(notes: Notes, state: LogState, cutoff: DueCutoff, settings: ReviewSettings,
                siblings: SiblingGroups | None = None, *, holders: NoteHolders | None = None,
                waiting: bool = False) -> TodayTally:
    """`review.today.tally_today` with what the review log says (``state``)."""
    return tally_today(as_note_cards(notes), cutoff=cutoff, suspended=state.suspended,
                       buried=state.buried, reviewed_today=state.reviewed_today,
                       leeches=state.leeches, bury_siblings=settings.bury_siblings,
                       siblings=siblings, holders=holders, waiting=waiting)


def today_cards(notes: Iterable[tuple[str, Summary]], state: LogState, cutoff: DueCutoff,
                settings: ReviewSettings, siblings: SiblingGroups | None = None
                ) -> list[CardToday]:
    """`review.today.cards_today` with what the review log says (``state``)."""
    return cards_today(notes, cutoff=cutoff, suspended=state.suspended, buried=state.buried,
                       reviewed_today=state.reviewed_today, leeches=state.leeches,
                       bury_siblings=settings.bury_siblings, siblings=siblings)


@dataclass(frozen=True, slots=True)
class DeckNode:
    """What the deck list shows for one deck (sub-decks included)."""

    new: int  # within today's limits
    learning: int
    review: int  # within today's limits
    leeches: int = 0


def limited_counts(limits: DailyLimits, decks: Iterable[tuple[str | None, int, int]]
                   ) -> tuple[int, int]:
    """(reviews, new) today's limits let through of ``decks`` ((deck, due reviews, new
    cards) each): the counts reviewing those decks would show. Cards of one deck share
    their limit groups, so counting needs no card, only each deck's numbers."""
    room = {g: [r.new, r.review] for g, r in limits.room.items()}
    capped = limits.capped
    decks = list(decks)
    reviews = new = 0
    for deck, n_reviews, _ in decks:
        groups = limits.pools_of(deck)
        take = min([n_reviews, *(room[g][1] for g in groups)])
        take = max(0, int(take))
        reviews += take
        for g in groups:
            room[g][1] -= take
            if capped:
                room[g][0] = min(room[g][0], room[g][1])
    for deck, _, n_new in decks:
        groups = limits.pools_of(deck)
        take = max(0, int(min([n_new, *(room[g][0] for g in groups)])))
        new += take
        for g in groups:
            room[g][0] -= take
            if capped:
                room[g][1] -= take
    return reviews, new


def deck_tree(queue: Queue) -> dict[str, DeckNode]:
    """Counts for every deck and every parent deck (each tag path prefix), after today's
    limits: what reviewing that deck would show."""
    under: dict[str, list[str]] = {}
    for name in queue.decks:
        parts = name.split("/") if name != NO_DECK else [NO_DECK]
        for k in range(1, len(parts) + 1):
            under.setdefault("/".join(parts[:k]), []).append(name)
    out = {}
    for node, names in under.items():
        tallies = [(None if n == NO_DECK else n, queue.decks[n]) for n in sorted(names)]
        reviews, new = limited_counts(queue.limits, [(d, t.due, t.new) for d, t in tallies])
        out[node] = DeckNode(new, sum(t.learning for _, t in tallies), reviews,
                             sum(t.leeches for _, t in tallies))
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
    return build_queue(notes, state, cutoff, review, deck=deck,
                       siblings=note_sibling_groups(root, settings, all_notes=all_notes),
                       intervals=note_intervals(root, settings, all_notes=all_notes))


def today_queue(root: Path, settings: Settings, now: dt.datetime, notes: Notes, *,
                all_notes: bool = False, holders: NoteHolders | None = None
                ) -> tuple[Queue, TodayTally]:
    """Today's queue over every deck of ``notes``, as the deck list shows it, and every
    card today, counted: what `due` and `scan` count (per deck, after limits:
    `deck_counts`). ``holders``: which notes hold given cards (`ScanResult.notes_holding`;
    default: read every note's summary)."""
    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    state = log_state(read_log_events(root / ".flashmark" / LOG_NAME, cutoff), cutoff)
    tallied = today_tally(notes, state, cutoff, settings.review,
                          note_sibling_groups(root, settings, all_notes=all_notes),
                          holders=holders)
    return build_queue((), state, cutoff, settings.review, tallied=tallied, lists=False), tallied


@dataclass(slots=True)
class DeckToday:
    """One row of `due` / `scan`: a deck with its sub-decks (or a set of decks)."""

    new: int = 0  # within today's limits
    learning: int = 0
    due: int = 0  # within today's limits
    new_waiting: int = 0  # before the limits
    due_waiting: int = 0
    suspended: int = 0
    buried: int = 0  # by hand or as siblings of today's reviews
    leeches: int = 0
    unreadable: int = 0
    total: int = 0


def deck_counts(queue: Queue, decks: list[str]) -> DeckToday:
    """What reviewing ``decks`` (names of ``queue.decks``) shows today, after limits."""
    out = DeckToday()
    rows = []
    for name in sorted(decks):
        t = queue.decks[name]
        rows.append((None if name == NO_DECK else name, t.due, t.new))
        out.learning += t.learning
        out.new_waiting += t.new
        out.due_waiting += t.due
        out.suspended += t.suspended
        out.buried += t.buried
        out.leeches += t.leeches
        out.unreadable += t.unreadable
        out.total += t.total
    out.due, out.new = limited_counts(queue.limits, rows)
    return out

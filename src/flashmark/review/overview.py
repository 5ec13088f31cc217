"""Opening a vault for reviewing, and the statistics report: what the TUI and the
`review` / `stats` commands load before they show anything (UI-free, no printing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from flashmark.config import Settings
from flashmark.decks import DeckSelection
from flashmark.model import (
    TODAY_BURIED,
    TODAY_DUE,
    TODAY_LATER,
    TODAY_LEARNING,
    TODAY_NEW,
    TODAY_SIBLING,
    TODAY_SUSPENDED,
    TODAY_UNREADABLE,
)
from flashmark.review.queue import (
    Queue,
    build_queue,
    deck_counts,
    log_state,
    read_log_events,
    today_tally,
)
from flashmark.review.session import Clock, ReviewSession, ShownCard
from flashmark.review.settings import ReviewSettings
from flashmark.review.today import (
    NoteCards,
    NoteHolders,
    TodayTally,
    as_note_cards,
    note_intervals,
    note_sibling_groups,
)
from flashmark.stats import NO_DECK, DueCutoff, Report, StateCounts, report
from flashmark.vault.codec import Summary
from flashmark.vault.reviewlog import LOG_NAME, CardEvent, ReviewLog
from flashmark.vault.scan import scan_vault


@dataclass(slots=True)
class Opened:
    overview: Queue  # all decks: what the deck list shows
    session: ReviewSession  # the deck being reviewed
    first: ShownCard | None  # the session's first card, already read from its note


def build_queues(root: Path, settings: Settings, review: ReviewSettings, now: dt.datetime, *,
                 deck: str | None = None, use_cache: bool = True, all_notes: bool = False,
                 notes: list[tuple[str, Summary]] | None = None,
                 search: str | None = None) -> tuple[Queue, Queue]:
    """Today's queues: every deck's (the deck list) and ``deck``'s (the same when None).
    Scans the vault unless ``notes`` is given (a warm index reads no note). With
    ``search`` (a `review.search` query), the second queue holds the cards it matches
    as a filtered deck takes them (`review.queue`: due or not, no daily limit).

    A vault without cards is a `NoCardsError`, a ``deck`` pattern that selects no deck
    an `UnknownDeckError` naming the closest decks: the reviewer refuses to start on them
    rather than say "nothing is due"."""
    if notes is not None:
        return _queues(root, settings, review, now, as_note_cards(notes), None, deck=deck,
                       all_notes=all_notes, search=search, use_cache=use_cache)
    result = scan_vault(root, settings, use_cache=use_cache, all_notes=all_notes)
    try:
        records = result.flashcard_notes()
        if not any(r.tally for r in records):
            raise result.no_cards_error()
        # the index is open meanwhile: it says which notes hold the log's cards
        return _queues(root, settings, review, now, records, result.notes_holding,
                       deck=deck, all_notes=all_notes, search=search, use_cache=use_cache)
    finally:
        result.close()


def _queues(root: Path, settings: Settings, review: ReviewSettings, now: dt.datetime,
            notes: Sequence[NoteCards], holders: NoteHolders | None, *, deck: str | None,
            all_notes: bool, search: str | None, use_cache: bool) -> tuple[Queue, Queue]:
    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    state = log_state(read_log_events(root / ".flashmark" / LOG_NAME, cutoff), cutoff)
    # the queue lists every card waiting today: the notes holding one are read card by
    # card, the others counted from their tallies
    siblings = note_sibling_groups(root, settings, all_notes=all_notes)
    tallied = today_tally(notes, state, cutoff, review, siblings, holders=holders,
                          waiting=True)
    intervals = note_intervals(root, settings, all_notes=all_notes)
    overview = build_queue((), state, cutoff, review, tallied=tallied, intervals=intervals)
    if deck is None and search is None:
        return overview, overview
    if deck is not None:
        DeckSelection(deck).require_known(d for d in overview.decks if d != NO_DECK)
    only = None if search is None else search_ids(root, settings, search, now,
                                                  use_cache=use_cache, all_notes=all_notes)
    return overview, build_queue(notes, state, cutoff, review, deck=deck, siblings=siblings,
                                 tallied=tallied, holders=holders, intervals=intervals,
                                 only=only)


def search_ids(root: Path, settings: Settings, query: str, now: dt.datetime, *,
               use_cache: bool = True, all_notes: bool = False) -> set[str]:
    """The ids of the cards ``query`` matches (`review.search`; a bad query is a
    `SearchError`)."""
    from flashmark.review.search import search_vault

    result = search_vault(root, settings, query, now, use_cache=use_cache,
                          all_notes=all_notes)
    return {row.id for row in result.rows}


def opened_from(root: Path, settings: Settings, clock: Clock, queues: tuple[Queue, Queue], *,
            all_notes: bool, first_card: bool) -> Opened:
    session = ReviewSession(root, settings, queues[1], clock=clock, all_notes=all_notes)
    first = session.next_card() if first_card else None
    return Opened(queues[0], session, first)


def open_review(root: Path, settings: Settings, review: ReviewSettings, clock: Clock, *,
                deck: str | None = None, use_cache: bool = True, all_notes: bool = False,
                notes: list[tuple[str, Summary]] | None = None,
                first_card: bool = True, search: str | None = None) -> Opened:
    """Everything the reviewer needs to paint its first card: today's queues and, unless
    told not to, the first card read from its note. ``search``: review the cards that
    query matches (`build_queues`)."""
    queues = build_queues(root, settings, review, clock(), deck=deck, use_cache=use_cache,
                          all_notes=all_notes, notes=notes, search=search)
    return opened_from(root, settings, clock, queues, all_notes=all_notes, first_card=first_card)


def vault_report(root: Path, settings: Settings, now: dt.datetime, *, days: int = 30,
                 use_cache: bool = True, all_notes: bool = False,
                 notes: Sequence[tuple[str, Summary]] | Sequence[NoteCards] | None = None,
                 deck: str | None = None, holders: NoteHolders | None = None) -> Report:
    """Reviews per day, retention, forecast and cards per state for the vault, or for
    the cards of the decks the pattern ``deck`` selects (an `UnknownDeckError` when it
    selects none; reviews then count when their card is in those decks today). Cards per
    state and the forecast are counted from `review.today`, like every other count
    (``holders``: see `review.today.tally_today`)."""
    if notes is None:
        result = scan_vault(root, settings, use_cache=use_cache, all_notes=all_notes)
        try:
            return vault_report(root, settings, now, days=days, all_notes=all_notes,
                                notes=result.flashcard_notes(), deck=deck,
                                holders=result.notes_holding)
        finally:
            result.close()
    note_cards = as_note_cards(notes)
    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    events = ReviewLog(root).events()
    state = log_state(events, cutoff)
    tallied = today_tally(note_cards, state, cutoff, settings.review,
                          note_sibling_groups(root, settings, all_notes=all_notes),
                          holders=holders)
    selects: Callable[[str | None], bool] | None = None
    if deck is not None:
        selection = DeckSelection(deck)
        selection.require_known(tallied.decks)
        selects = selection.selects
        ids = {cid for n in note_cards if any(selects(row[0]) for row in n.tally)
               for card_deck, _, cid, _ in n.summary if selects(card_deck)}
        events = [e for e in events if not isinstance(e, CardEvent) or e.id in ids]
    queue = build_queue((), state, cutoff, settings.review, deck=deck, tallied=tallied,
                        lists=False)
    base = report([], events, cutoff, settings.scheduling.desired_retention, days=days)
    forecast = tallied.forecast(cutoff, days, selects)
    window = [cutoff.today + dt.timedelta(days=k) for k in range(days + 1)]
    base.forecast = [(day, forecast.get(day, 0)) for day in window]
    base.states = states_today(tallied, queue, selects)
    return base


def states_today(tallied: TodayTally, queue: Queue,
                 selects: Callable[[str | None], bool] | None = None) -> StateCounts:
    """Cards per state from `review.today` (of the decks ``selects`` accepts):
    suspended and buried cards (hidden siblings included) as such, the others by their
    schedule's state (new cards are those waiting as new; learning ones are learning
    today or later); and what ``queue`` shows after today's limits."""
    out = StateCounts()
    for deck, counts in tallied.decks.items():
        if selects is not None and not selects(deck):
            continue
        by_status = counts.by_status
        out.total += counts.total
        out.leeches += counts.leeches
        out.suspended += by_status[TODAY_SUSPENDED]
        out.buried += by_status[TODAY_BURIED] + by_status[TODAY_SIBLING]
        out.unreadable += by_status[TODAY_UNREADABLE]
        out.new += by_status[TODAY_NEW]
        out.learning += by_status[TODAY_LEARNING] + counts.later_learning
        out.learning_today += by_status[TODAY_LEARNING]
        out.review += by_status[TODAY_DUE] + by_status[TODAY_LATER] - counts.later_learning
        out.due_today += by_status[TODAY_DUE]
    shown = deck_counts(queue, list(queue.decks))
    out.queue_new, out.queue_learning, out.queue_due = shown.new, shown.learning, shown.due
    return out

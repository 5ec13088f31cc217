"""Opening a vault for reviewing, and the statistics report: what the TUI and the
`review` / `stats` commands load before they show anything (UI-free, no printing)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from flashmark.config import Settings
from flashmark.decks import DeckSelection
from flashmark.model import (
    STATE_LEARNING,
    STATE_NEW,
    TODAY_DUE,
    TODAY_LEARNING,
    TODAY_SUSPENDED,
    TODAY_UNREADABLE,
)
from flashmark.review.queue import (
    Queue,
    build_queue,
    log_state,
    read_log_events,
    scan_summaries,
    today_cards,
)
from flashmark.review.session import Clock, ReviewSession, ShownCard
from flashmark.review.settings import ReviewSettings
from flashmark.review.today import (
    CardToday,
    due_forecast,
    note_intervals,
    note_sibling_groups,
)
from flashmark.stats import NO_DECK, DueCutoff, Report, StateCounts, report
from flashmark.vault.codec import Summary
from flashmark.vault.reviewlog import LOG_NAME, CardEvent, ReviewLog


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
    if notes is None:
        notes = scan_summaries(root, settings, use_cache=use_cache, all_notes=all_notes,
                               require_cards=True)
    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    state = log_state(read_log_events(root / ".flashmark" / LOG_NAME, cutoff), cutoff)
    cards = today_cards(notes, state, cutoff, review,
                        note_sibling_groups(root, settings, all_notes=all_notes))
    intervals = note_intervals(root, settings, all_notes=all_notes)
    overview = build_queue(notes, state, cutoff, review, cards=cards, intervals=intervals)
    if deck is None and search is None:
        return overview, overview
    if deck is not None:
        DeckSelection(deck).require_known(d for d in overview.decks if d != NO_DECK)
    only = None if search is None else search_ids(root, settings, search, now,
                                                  use_cache=use_cache, all_notes=all_notes)
    return overview, build_queue(notes, state, cutoff, review, deck=deck, cards=cards,
                                 intervals=intervals, only=only)


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
                 notes: list[tuple[str, Summary]] | None = None,
                 deck: str | None = None) -> Report:
    """Reviews per day, retention, forecast and cards per state for the vault, or for
    the cards of the decks the pattern ``deck`` selects (an `UnknownDeckError` when it
    selects none; reviews then count when their card is in those decks today). Cards per
    state and the forecast are counted from `review.today`, like every other count."""
    if notes is None:
        notes = scan_summaries(root, settings, use_cache=use_cache, all_notes=all_notes)
    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    events = ReviewLog(root).events()
    state = log_state(events, cutoff)
    cards = today_cards(notes, state, cutoff, settings.review,
                        note_sibling_groups(root, settings, all_notes=all_notes))
    if deck is not None:
        selection = DeckSelection(deck)
        selection.require_known(c.deck for c in cards)
        cards_all = cards
        cards = [c for c in cards if selection.selects(c.deck)]
        ids = {c.id for c in cards}
        events = [e for e in events if not isinstance(e, CardEvent) or e.id in ids]
    else:
        cards_all = cards
    queue = build_queue(notes, state, cutoff, settings.review, deck=deck, cards=cards_all)
    base = report([], events, cutoff, settings.scheduling.desired_retention, days=days)
    forecast = due_forecast(cards, cutoff, days)
    window = [cutoff.today + dt.timedelta(days=k) for k in range(days + 1)]
    base.forecast = [(day, forecast.get(day, 0)) for day in window]
    base.states = states_today(cards, queue)
    return base


def states_today(cards: list[CardToday], queue: Queue) -> StateCounts:
    """Cards per state from `review.today`: suspended and buried cards (hidden siblings
    included) as such, the others by their schedule's state; and what ``queue`` shows."""
    out = StateCounts()
    for card in cards:
        out.total += 1
        out.leeches += card.leech
        status = card.status
        if status == TODAY_SUSPENDED:
            out.suspended += 1
        elif card.is_buried:
            out.buried += 1
        elif status == TODAY_UNREADABLE:
            out.unreadable += 1
        elif card.state == STATE_NEW:
            out.new += 1
        elif card.state == STATE_LEARNING:
            out.learning += 1
            out.learning_today += status == TODAY_LEARNING
        else:
            out.review += 1
            out.due_today += status == TODAY_DUE
    out.queue_new, out.queue_learning, out.queue_due = queue.counts()
    return out


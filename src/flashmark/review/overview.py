"""Opening a vault for reviewing, and the statistics report: what the TUI and the
`review` / `stats` commands load before they show anything (UI-free, no printing)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from flashmark.config import Settings
from flashmark.review.queue import (
    Queue,
    build_queue,
    log_state,
    read_log_events,
    scan_summaries,
)
from flashmark.review.session import Clock, ReviewSession, ShownCard
from flashmark.review.settings import ReviewSettings
from flashmark.stats import DueCutoff, Report, report
from flashmark.vault.codec import Summary
from flashmark.vault.reviewlog import LOG_NAME, ReviewLog


@dataclass(slots=True)
class Opened:
    overview: Queue  # all decks: what the deck list shows
    session: ReviewSession  # the deck being reviewed
    first: ShownCard | None  # the session's first card, already read from its note


def build_queues(root: Path, settings: Settings, review: ReviewSettings, now: dt.datetime, *,
                 deck: str | None = None, use_cache: bool = True, all_notes: bool = False,
                 notes: list[tuple[str, Summary]] | None = None) -> tuple[Queue, Queue]:
    """Today's queues: every deck's (the deck list) and ``deck``'s (the same when None).
    Scans the vault unless ``notes`` is given (a warm index reads no note)."""
    if notes is None:
        notes = scan_summaries(root, settings, use_cache=use_cache, all_notes=all_notes)
    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    state = log_state(read_log_events(root / ".flashmark" / LOG_NAME, cutoff), cutoff)
    overview = build_queue(notes, state, cutoff, review)
    queue = overview if deck is None else build_queue(notes, state, cutoff, review, deck=deck)
    return overview, queue


def opened_from(root: Path, settings: Settings, clock: Clock, queues: tuple[Queue, Queue], *,
            all_notes: bool, first_card: bool) -> Opened:
    session = ReviewSession(root, settings, queues[1], clock=clock, all_notes=all_notes)
    first = session.next_card() if first_card else None
    return Opened(queues[0], session, first)


def open_review(root: Path, settings: Settings, review: ReviewSettings, clock: Clock, *,
                deck: str | None = None, use_cache: bool = True, all_notes: bool = False,
                notes: list[tuple[str, Summary]] | None = None,
                first_card: bool = True) -> Opened:
    """Everything the reviewer needs to paint its first card: today's queues and, unless
    told not to, the first card read from its note."""
    queues = build_queues(root, settings, review, clock(), deck=deck, use_cache=use_cache,
                          all_notes=all_notes, notes=notes)
    return opened_from(root, settings, clock, queues, all_notes=all_notes, first_card=first_card)


def vault_report(root: Path, settings: Settings, now: dt.datetime, *, days: int = 30,
                 use_cache: bool = True, all_notes: bool = False,
                 notes: list[tuple[str, Summary]] | None = None) -> Report:
    """Reviews per day, retention, forecast and cards per state for the vault."""
    if notes is None:
        notes = scan_summaries(root, settings, use_cache=use_cache, all_notes=all_notes)
    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    events = ReviewLog(root).events()
    state = log_state(events, cutoff)
    return report([s for _, s in notes], events, cutoff,
                  settings.scheduling.desired_retention, suspended=state.suspended,
                  buried=state.buried, days=days)

"""The load balancer's histogram for a vault: review cards per learner day, from the
index's card summaries (``vault.codec.Summary``: no note is read when the index is warm).

``flashmark rate`` builds it once per command, the reviewer once per session; both keep
it up to date with :func:`record_rating` as their ratings land. Whether to balance at
all is ``scheduling.load_balance`` (the plugin's ``loadBalance``), and it needs fuzz on:
the balancer chooses among the days fuzz would allow (``scheduling.load_balance``).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from pathlib import Path

from flashmark.config import Settings
from flashmark.days import day_start
from flashmark.identity import card_ids
from flashmark.model import STATE_REVIEW, Question
from flashmark.scheduling.load_balance import HORIZON_DAYS, LoadBalancer
from flashmark.stats import DueCutoff
from flashmark.syntax.srcodec import iso_ms
from flashmark.vault.codec import Summary, Tally, key_and_state, tally

__all__ = ["balancer_from_summaries", "balancing", "record_rating", "review_day_counts",
           "sibling_days", "vault_balancer"]


def balancing(settings: Settings) -> bool:
    """Does this vault balance its review intervals?"""
    s = settings.scheduling
    return s.load_balance and s.fuzz


def balancer_from_summaries(notes: Iterable[tuple[str, Summary]], settings: Settings,
                            now: dt.datetime) -> LoadBalancer:
    """The histogram of the review cards of ``notes`` ((rel, summary) pairs), from the
    learner day of ``now`` on."""
    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    easy = dict(enumerate(settings.scheduling.easy_days))
    counts = review_day_counts((tally(summary) for _, summary in notes), cutoff)
    return LoadBalancer(counts, start=cutoff.today, easy_days=easy)


def vault_balancer(root: Path, settings: Settings, now: dt.datetime, *,
                   all_notes: bool = False) -> LoadBalancer:
    """The histogram of the vault at ``root``, read (a scan: the index answers when
    warm) only when a rating first needs it: most long intervals are never balanced."""
    from flashmark.vault.scan import scan_vault

    cutoff = DueCutoff(now, settings.scheduling.day_boundary)

    def load() -> dict[dt.date, int]:
        result = scan_vault(root, settings, all_notes=all_notes)
        try:
            return review_day_counts((r.tally for r in result.flashcard_notes()), cutoff)
        finally:
            result.close()

    return LoadBalancer(load, start=cutoff.today,
                        easy_days=dict(enumerate(settings.scheduling.easy_days)))


def review_day_counts(tallies: Iterable[Tally], cutoff: DueCutoff,
                      days: int = HORIZON_DAYS) -> dict[dt.date, int]:
    """Review cards due on each of the ``days`` learner days from today, counted from
    the notes' tallies (`vault.codec.tally`: each deck's review dates and instants,
    sorted): a bisection per day a note has cards on, no card decoded. An instant falls
    on the learner day whose start (`flashmark.days.day_start`) it follows, as
    `DueCutoff.day_of` says."""
    window = [cutoff.today + dt.timedelta(days=k) for k in range(days + 1)]
    date_texts = [d.isoformat() for d in window]
    date_index = {text: k for k, text in enumerate(date_texts[:-1])}
    starts = [iso_ms(day_start(d, cutoff.day_boundary)) for d in window]
    first_date, end_date = date_texts[0], date_texts[-1]
    first_start, end_start = starts[0], starts[-1]
    counts = [0] * days
    for rows in tallies:
        for _deck, _new, _unreadable, _learn, dates, instants in rows:
            if dates:
                at, end = bisect_left(dates, first_date), bisect_left(dates, end_date)
                while at < end:
                    after = bisect_right(dates, dates[at], at, end)  # one day's cards
                    k = date_index.get(dates[at])
                    if k is not None:
                        counts[k] += after - at
                    at = after
            if instants:
                at, end = bisect_left(instants, first_start), bisect_left(instants, end_start)
                for key in instants[at:end]:
                    counts[bisect_right(starts, key) - 1] += 1
    return {window[k]: n for k, n in enumerate(counts) if n}


def sibling_days(question: Question, rel: str, card_id: str, settings: Settings,
                 now: dt.datetime) -> tuple[dt.date, ...]:
    """The learner days on which the other cards of ``card_id``'s question are due as
    review cards (the balancer keeps a card off them), from the question's entries."""
    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    entries = question.sr.entry_texts if question.sr is not None else []
    days: list[dt.date] = []
    for k, cid in enumerate(card_ids(question, rel)):
        if cid == card_id or k >= len(entries):
            continue
        key, state = key_and_state(entries[k])
        day = cutoff.day_of(key) if state == STATE_REVIEW else None
        if day is not None:
            days.append(day)
    return tuple(days)


def review_day(settings: Settings, entry_text: str | None, now: dt.datetime
               ) -> dt.date | None:
    """The learner day a card with this entry is due as a review card (None: not one)."""
    key, state = key_and_state(entry_text)
    if state != STATE_REVIEW:
        return None
    return DueCutoff(now, settings.scheduling.day_boundary).day_of(key)


def record_rating(balancer: LoadBalancer, settings: Settings, before: str | None,
                  after: str | None, now: dt.datetime) -> None:
    """A card's entry went from ``before`` to ``after``: move it from the day the one was
    due to the day the other is (in or out of the histogram when not a review card)."""
    balancer.move(review_day(settings, before, now), review_day(settings, after, now))

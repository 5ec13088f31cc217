"""The load balancer's histogram for a vault: review cards per learner day, from the
index's card summaries (``vault.codec.Summary``: no note is read when the index is warm).

``flashmark rate`` builds it once per command, the reviewer once per session; both keep
it up to date with :func:`record_rating` as their ratings land. Whether to balance at
all is ``scheduling.load_balance`` (the plugin's ``loadBalance``), and it needs fuzz on:
the balancer chooses among the days fuzz would allow (``scheduling.load_balance``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from flashmark.config import Settings
from flashmark.model import STATE_REVIEW
from flashmark.scheduling.load_balance import LoadBalancer
from flashmark.stats import DueCutoff
from flashmark.vault.codec import Summary, key_and_state

__all__ = ["balancer_from_summaries", "balancing", "record_rating", "vault_balancer"]


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
    return LoadBalancer(_review_days(notes, cutoff), start=cutoff.today, easy_days=easy)


def vault_balancer(root: Path, settings: Settings, now: dt.datetime, *,
                   all_notes: bool = False) -> LoadBalancer:
    """The histogram of the vault at ``root``, read (a scan: the index answers when
    warm) only when a rating first needs it: most long intervals are never balanced."""
    from flashmark.review.queue import scan_summaries

    cutoff = DueCutoff(now, settings.scheduling.day_boundary)

    def load() -> list[tuple[str, dt.date]]:
        notes = scan_summaries(root, settings, all_notes=all_notes)
        return _review_days(notes, cutoff)

    return LoadBalancer(load, start=cutoff.today,
                        easy_days=dict(enumerate(settings.scheduling.easy_days)))


def _review_days(notes: Iterable[tuple[str, Summary]], cutoff: DueCutoff
                 ) -> list[tuple[str, dt.date]]:
    due: list[tuple[str, dt.date]] = []
    for _rel, summary in notes:
        for _deck, key, card_id, state in summary:
            if state == STATE_REVIEW:
                day = cutoff.day_of(key)
                if day is not None and day >= cutoff.today:
                    due.append((card_id, day))
    return due


def record_rating(balancer: LoadBalancer, settings: Settings, card_id: str,
                  entry_text: str | None, now: dt.datetime) -> None:
    """Move ``card_id`` to the day its new entry is due (out, when not in review)."""
    key, state = key_and_state(entry_text)
    day = None
    if state == STATE_REVIEW:
        day = DueCutoff(now, settings.scheduling.day_boundary).day_of(key)
    balancer.add(card_id, day)

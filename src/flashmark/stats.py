"""Counts and forecasts over the index's card summaries (no note is read)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from flashmark.syntax import srcodec
from flashmark.vault.codec import NEW, UNREADABLE, Summary

NO_DECK = "(no deck)"


class DueCutoff:
    """Is a due key (see ``vault.codec.due_key``) due today?

    Review cards are due for the whole local day they fall on (like Anki): a legacy
    date is due when it is today or earlier, an FSRS instant when it is before the end
    of today (the next local midnight). Day boundaries are local midnight.
    """

    def __init__(self, now: dt.datetime) -> None:
        local = now.astimezone()
        self.now = local
        self.today = local.date()
        self.today_text = self.today.isoformat()
        tomorrow = dt.datetime.combine(self.today + dt.timedelta(days=1), dt.time(),
                                       tzinfo=local.tzinfo)
        self.instant = srcodec.iso_ms(tomorrow)

    def is_due(self, key: str) -> bool:
        if key in (NEW, UNREADABLE):
            return False
        if len(key) == 10:
            return key <= self.today_text
        return key < self.instant

    def day_of(self, key: str) -> dt.date | None:
        """The local date a due key falls on (None for new or unreadable)."""
        if key in (NEW, UNREADABLE):
            return None
        if len(key) == 10:
            return dt.date.fromisoformat(key)
        return dt.datetime.fromisoformat(key).astimezone(self.now.tzinfo).date()


@dataclass(slots=True)
class DeckCounts:
    new: int = 0
    due: int = 0  # review cards due today (overdue included)
    learning: int = 0  # cards in (re)learning steps
    total: int = 0
    unreadable: int = 0
    forecast: dict[dt.date, int] = field(default_factory=dict)

    def add(self, other: DeckCounts) -> None:
        self.new += other.new
        self.due += other.due
        self.learning += other.learning
        self.total += other.total
        self.unreadable += other.unreadable
        for day, n in other.forecast.items():
            self.forecast[day] = self.forecast.get(day, 0) + n


def deck_matches(deck: str | None, wanted: str | None) -> bool:
    if wanted is None:
        return True
    wanted = wanted.lstrip("#").rstrip("/")
    return deck is not None and (deck == wanted or deck.startswith(wanted + "/"))


def count_decks(summaries: Iterable[Summary], cutoff: DueCutoff, *, forecast_days: int = 0,
                deck: str | None = None) -> dict[str, DeckCounts]:
    """Per deck: new / due / learning / total, and due cards per day for the next days."""
    counts: dict[str, DeckCounts] = defaultdict(DeckCounts)
    last_day = cutoff.today + dt.timedelta(days=forecast_days)
    for summary in summaries:
        for card_deck, key, _, state in summary:
            if deck is not None and not deck_matches(card_deck, deck):
                continue
            c = counts[card_deck or NO_DECK]
            c.total += 1
            if key == NEW:
                c.new += 1
                continue
            if key == UNREADABLE:
                c.unreadable += 1
                continue
            if state == "l":
                c.learning += 1
            elif cutoff.is_due(key):
                c.due += 1
            if forecast_days:
                day = cutoff.day_of(key)
                if day is not None and day <= last_day:
                    day = max(day, cutoff.today)
                    c.forecast[day] = c.forecast.get(day, 0) + 1
    return dict(counts)


def group_decks(counts: dict[str, DeckCounts], depth: int, max_rows: int = 40
                ) -> tuple[dict[str, DeckCounts], int]:
    """Merge decks to tag depth ``depth`` (0: the deepest that fits in ``max_rows``)."""
    def at(deck: str, level: int) -> str:
        return deck if deck == NO_DECK else "/".join(deck.split("/")[:level])

    if depth <= 0:
        deepest = max((len(d.split("/")) for d in counts), default=1)
        depth = 1
        for level in range(deepest, 0, -1):
            if len({at(d, level) for d in counts}) <= max_rows:
                depth = level
                break
    grouped: dict[str, DeckCounts] = defaultdict(DeckCounts)
    for deck, c in counts.items():
        grouped[at(deck, depth)].add(c)
    return dict(grouped), depth

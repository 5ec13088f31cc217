"""Counts and forecasts over the index's card summaries (no note is read)."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flashmark.days import DEFAULT_DAY_BOUNDARY, day_start, learner_day
from flashmark.decks import DeckSelection
from flashmark.model import STATE_LEARNING, STATE_NEW, STATE_REVIEW
from flashmark.syntax import srcodec
from flashmark.vault.codec import NEW, UNREADABLE, Summary, Tally, due_key, key_and_state, tally
from flashmark.vault.reviewlog import (
    AnkiReview,
    Event,
    Review,
    follow_renames,
    in_effect,
)

NO_DECK = "(no deck)"


def _aware(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


class DueCutoff:
    """Is a due key (see ``vault.codec.due_key``) due today?

    "Today" is the learner's day (``flashmark.days``): it starts at ``day_boundary``
    o'clock local time (4 by default, like Anki), so a review at 03:00 counts to the day
    before. Review cards are due for the whole day they fall on: a legacy date is due
    when it is today or earlier, an FSRS instant when it is before the start of the next
    learner day.
    """

    def __init__(self, now: dt.datetime, day_boundary: int = DEFAULT_DAY_BOUNDARY) -> None:
        local = now.astimezone()
        self.now = local
        self.day_boundary = day_boundary
        self.today = learner_day(local, day_boundary)
        self.today_text = self.today.isoformat()
        self.start = day_start(self.today, day_boundary)  # when today began
        self.end = day_start(self.today + dt.timedelta(days=1), day_boundary)
        self.instant = srcodec.iso_ms(self.end)
        self._days: dict[str, dt.date] = {}  # `day_of_time`'s answers by minute

    def is_due(self, key: str) -> bool:
        if key in (NEW, UNREADABLE):
            return False
        if len(key) == 10:
            return key <= self.today_text
        return key < self.instant

    def day_of(self, key: str) -> dt.date | None:
        """The learner's day a due key falls on (None for new or unreadable)."""
        if key in (NEW, UNREADABLE):
            return None
        if len(key) == 10:
            return dt.date.fromisoformat(key)
        return self.day_of_moment(dt.datetime.fromisoformat(key))

    def day_of_moment(self, moment: dt.datetime) -> dt.date:
        """The learner's day an instant (a review, a bury) falls in."""
        return learner_day(moment, self.day_boundary)

    def day_of_time(self, text: str) -> dt.date:
        """`day_of_moment` of a log event's ``time`` (ISO; already validated). A year of
        reviews is 100,000 of them: the answer is kept per minute of flashmark's own
        form (``YYYY-MM-DDTHH:MM:SS.mmmZ``), as a learner's day starts on a whole hour
        of a time zone whose offset is whole minutes."""
        if len(text) == 24 and text[-1] == "Z" and text[16] == ":":
            minute = text[:16]
            day = self._days.get(minute)
            if day is None:
                day = self._days[minute] = self.day_of_moment(_aware(text))
            return day
        return self.day_of_moment(_aware(text))


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


def count_decks(tallies: Iterable[Tally], cutoff: DueCutoff, *, forecast_days: int = 0,
                decks: DeckSelection | None = None) -> dict[str, DeckCounts]:
    """Per deck: new / due / learning / total, and due cards per day for the next days
    (only the decks ``decks`` selects, when given).

    ``tallies``: per note, what ``vault.codec.tally`` makes of its cards (the index keeps
    it); ``tally(summary)`` turns a card summary into one.
    """
    counts: dict[str, DeckCounts] = defaultdict(DeckCounts)
    today = cutoff.today_text
    instant = cutoff.instant
    last_day = cutoff.today + dt.timedelta(days=forecast_days)
    last_day_text = last_day.isoformat()
    for note_tally in tallies:
        for card_deck, new, unreadable, learning, dates, instants in note_tally:
            if decks and not decks.selects(card_deck):
                continue
            c = counts[card_deck or NO_DECK]
            c.new += new
            c.unreadable += unreadable
            c.learning += len(learning)
            c.due += bisect_right(dates, today) + bisect_left(instants, instant)
            c.total += new + unreadable + len(learning) + len(dates) + len(instants)
            if forecast_days:
                _forecast(c, learning, cutoff, last_day)
                _forecast(c, dates[:bisect_right(dates, last_day_text)], cutoff, last_day)
                _forecast(c, instants, cutoff, last_day)
    return dict(counts)


def _forecast(c: DeckCounts, keys: list[str], cutoff: DueCutoff, last_day: dt.date) -> None:
    """Add ``keys`` (sorted) falling due up to ``last_day`` to the forecast (overdue: today)."""
    for key in keys:
        day = cutoff.day_of(key)
        if day is None:
            continue
        if day > last_day:
            break
        day = max(day, cutoff.today)
        c.forecast[day] = c.forecast.get(day, 0) + 1


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


# --- the review log: reviews per day, retention, cards per state ----------------------

Rated = Review | AnkiReview  # a rating done here, or one done in Anki and imported


def live_reviews(events: Iterable[Event]) -> list[tuple[dt.datetime, Rated]]:
    """The ratings in effect (see `vault.reviewlog.in_effect`), here and in Anki
    (`flashmark import-anki`), with their time, each under the id its card has now
    (`vault.reviewlog.follow_renames`)."""
    return [(e.moment, e) for e in in_effect(follow_renames(list(events)))
            if isinstance(e, Review | AnkiReview)]


@dataclass(slots=True)
class DayReviews:
    day: dt.date
    again: int = 0
    hard: int = 0
    good: int = 0
    easy: int = 0
    new: int = 0  # of these, first reviews of new cards

    @property
    def total(self) -> int:
        return self.again + self.hard + self.good + self.easy


def _was_new(before: object) -> bool:
    return due_key(before if isinstance(before, str) else None) == NEW


def reviews_per_day(events: Iterable[Event], cutoff: DueCutoff,
                    days: int = 30) -> list[DayReviews]:
    """Ratings per learner day for the last ``days`` days (today last)."""
    first = cutoff.today - dt.timedelta(days=days - 1)
    out = {first + dt.timedelta(days=k): DayReviews(first + dt.timedelta(days=k))
           for k in range(days)}
    for _, e in live_reviews(events):
        row = out.get(cutoff.day_of_time(e.time))
        if row is None:
            continue
        setattr(row, e.rating, getattr(row, e.rating) + 1)
        if isinstance(e, Review) and _was_new(e.before):
            row.new += 1
    return list(out.values())


@dataclass(frozen=True, slots=True)
class Retention:
    desired: float
    passed: int  # reviews of cards in review state not rated again
    total: int  # reviews of cards in review state
    days: int

    @property
    def actual(self) -> float | None:
        return self.passed / self.total if self.total else None


def _was_review(before: object) -> bool:
    """Was the card in the review state (not new, not in a learning step)?"""
    if not isinstance(before, str):
        return False
    return key_and_state(before)[1] == STATE_REVIEW


def actual_retention(events: Iterable[Event], cutoff: DueCutoff, desired: float,
                     days: int = 30) -> Retention:
    """True retention over the last ``days`` days: of the reviews of cards in the review
    state, the share not rated Again (what FSRS aims at with the desired retention)."""
    first = cutoff.today - dt.timedelta(days=days - 1)
    passed = total = 0
    for _, e in live_reviews(events):
        in_review = (e.anki_type == "review" if isinstance(e, AnkiReview)
                     else _was_review(e.before))
        if cutoff.day_of_time(e.time) < first or not in_review:
            continue
        total += 1
        if e.rating != "again":
            passed += 1
    return Retention(desired, passed, total, days)


@dataclass(slots=True)
class StateCounts:
    new: int = 0
    learning: int = 0
    review: int = 0
    due_today: int = 0  # review cards due today (overdue included); learning not counted
    suspended: int = 0
    buried: int = 0  # buried by hand, or as siblings of today's reviews
    unreadable: int = 0
    total: int = 0
    learning_today: int = 0  # learning cards due before today ends
    leeches: int = 0
    # what reviewing shows today, after the daily limits (review.limits): New / Learn / Due
    queue_new: int = 0
    queue_learning: int = 0
    queue_due: int = 0


def state_counts(summaries: Iterable[Summary], cutoff: DueCutoff, *,
                 suspended: Iterable[str] = (), buried: Iterable[str] = ()) -> StateCounts:
    """Cards per state. Suspended and buried cards (ids from the review log) are counted
    as such, not in their schedule's state."""
    out = StateCounts()
    suspended, buried = set(suspended), set(buried)
    for summary in summaries:
        for _, key, cid, state in summary:
            out.total += 1
            if cid in suspended:
                out.suspended += 1
            elif cid in buried:
                out.buried += 1
            elif state == STATE_NEW:
                out.new += 1
            elif state == STATE_LEARNING:
                out.learning += 1
            elif state == STATE_REVIEW:
                out.review += 1
                if cutoff.is_due(key):
                    out.due_today += 1
            else:
                out.unreadable += 1
    return out


def due_forecast(summaries: Iterable[Summary], cutoff: DueCutoff,
                 days: int = 30) -> list[tuple[dt.date, int]]:
    """Cards falling due on each day from today (overdue counted today) to today + days."""
    counts = count_decks((tally(s) for s in summaries), cutoff, forecast_days=days)
    total: dict[dt.date, int] = {}
    for c in counts.values():
        for day, n in c.forecast.items():
            total[day] = total.get(day, 0) + n
    window = [cutoff.today + dt.timedelta(days=k) for k in range(days + 1)]
    return [(day, total.get(day, 0)) for day in window]


@dataclass(slots=True)
class Report:
    """Everything the stats screen and `flashmark stats --json` show."""

    today: dt.date
    per_day: list[DayReviews]
    retention: Retention
    forecast: list[tuple[dt.date, int]]
    states: StateCounts

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "reviews_per_day": [
                {"date": d.day.isoformat(), "again": d.again, "hard": d.hard, "good": d.good,
                 "easy": d.easy, "new": d.new, "total": d.total} for d in self.per_day],
            "retention": {"desired": self.retention.desired, "actual": self.retention.actual,
                          "passed": self.retention.passed, "reviews": self.retention.total,
                          "days": self.retention.days},
            "forecast": [{"date": day.isoformat(), "count": n} for day, n in self.forecast],
            "states": {"new": self.states.new, "learning": self.states.learning,
                       "review": self.states.review, "due_today": self.states.due_today,
                       "suspended": self.states.suspended, "buried": self.states.buried,
                       "unreadable": self.states.unreadable, "total": self.states.total,
                       "learning_today": self.states.learning_today,
                       "leeches": self.states.leeches},
            "queue": {"new": self.states.queue_new, "learn": self.states.queue_learning,
                      "due": self.states.queue_due},
        }


def report(summaries: list[Summary], events: list[Event], cutoff: DueCutoff,
           desired_retention: float, *, suspended: Iterable[str] = (),
           buried: Iterable[str] = (), days: int = 30) -> Report:
    """The stats report: reviews per day and retention over the last ``days`` days,
    the due forecast over the next ``days`` days, and cards per state."""
    return Report(cutoff.today, reviews_per_day(events, cutoff, days),
                  actual_retention(events, cutoff, desired_retention, days),
                  due_forecast(summaries, cutoff, days),
                  state_counts(summaries, cutoff, suspended=suspended, buried=buried))

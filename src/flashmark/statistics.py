"""The statistics worth looking at, for the collection or a selection of decks: a review
heatmap, reviews per day by rating and by card state, time spent, true retention per
period (young / mature, as Anki's FSRS statistics), answer buttons, an hourly breakdown,
histograms of interval, stability, difficulty and current retrievability, cards per
state, cards first seen per day, leeches.

Pure: everything comes from the review log's events (`vault.reviewlog.in_effect` of
`follow_renames`, through `stats.live_reviews`) and from the cards' SR entries as the
notes hold them; nothing is printed and nothing is drawn (the stats screen in
`tui.stats_screen` and `flashmark stats --json` show it). `load_statistics` is the one
place that reads them from a vault.

Definitions (the same as Anki's where Anki has one):

- A review's card state is the state *before* the rating: ``new`` (no entry, the
  placeholder, an FSRS entry in state 0), ``learning`` / ``relearning`` (FSRS states 1
  and 3), ``young`` / ``mature`` (in review with an interval under / at least
  `MATURE_DAYS` days). An Anki review brought in by `import-anki` takes its state from
  Anki's revlog type; its interval before is the interval of the card's previous Anki
  review (young when there is none).
- True retention: of the reviews of young or mature cards, the share not rated Again.
- Time spent: the ``duration_ms`` the reviewer logs with each rating; a review without
  one (older logs, `flashmark rate`) counts as untimed, never as some guessed time.
- First seen: the day of a card's first event in the log (the log records no creation
  date; a card never reviewed, buried or suspended has not been seen yet).
- Leech: a card with a `leech` event in effect in the log (`review.leech`: its lapses
  reached ``review.leech_threshold``), as the deck list, `check` and `search is:leech`
  count them.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from flashmark.config import Settings
from flashmark.decks import DeckSelection
from flashmark.identity import card_ids
from flashmark.model import PLACEHOLDER_TEXT, FsrsEntry, ParsedNote, Sm2Entry
from flashmark.stats import DueCutoff, live_reviews
from flashmark.syntax import srcodec
from flashmark.vault.reviewlog import AnkiReview, CardEvent, Event, Review

MATURE_DAYS = 21  # Anki: a review card is mature from an interval of 21 days
HEATMAP_DAYS = 365
RATINGS = ("again", "hard", "good", "easy")

ReviewState = Literal["new", "learning", "relearning", "young", "mature"]
REVIEW_STATES: tuple[ReviewState, ...] = ("new", "learning", "relearning", "young", "mature")

# Retention periods: name -> days back from today (today counted); None is all time.
PERIODS: tuple[tuple[str, int | None], ...] = (
    ("today", 1), ("yesterday", 1), ("week", 7), ("month", 30), ("year", 365), ("all", None))

# Histogram buckets: (label, upper bound included). The last bucket takes the rest.
DAY_BUCKETS: tuple[tuple[str, float], ...] = (
    ("≤1d", 1), ("2d", 2), ("3d", 3), ("4-7d", 7), ("8-14d", 14), ("15-30d", 30),
    ("1-3m", 90), ("3-6m", 180), ("6-12m", 365), (">1y", math.inf))
DIFFICULTY_BUCKETS: tuple[tuple[str, float], ...] = tuple(
    (f"{k}-{k + 1}", float(k + 1)) for k in range(1, 10))  # D in [1, 10]: 1-2 .. 9-10
RETRIEVABILITY_BUCKETS: tuple[tuple[str, float], ...] = tuple(
    (f"{k * 10}-{k * 10 + 10}%", (k + 1) / 10) for k in range(10))


# --- the cards -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CardFact:
    """One card as its note holds it."""

    deck: str | None
    id: str
    entry: str | None  # the SR entry text, None for a card without one


def card_facts(parsed: Mapping[str, ParsedNote]) -> list[CardFact]:
    """Every card of the parsed notes (note path -> parse), with its entry text."""
    out: list[CardFact] = []
    for rel, note in parsed.items():
        for q in note.questions:
            entries = q.sr.entry_texts if q.sr is not None else ()
            for k, cid in enumerate(card_ids(q, rel)):
                out.append(CardFact(q.deck, cid, entries[k] if k < len(entries) else None))
    return out


@dataclass(slots=True)
class Histogram:
    labels: tuple[str, ...]
    bounds: tuple[float, ...]
    counts: list[int]
    total: float = 0.0  # sum of the values, for the mean

    @classmethod
    def of(cls, buckets: Sequence[tuple[str, float]]) -> Histogram:
        return cls(tuple(b[0] for b in buckets), tuple(b[1] for b in buckets),
                   [0] * len(buckets))

    def add(self, value: float) -> None:
        k = min(bisect_left(self.bounds, value), len(self.counts) - 1)
        self.counts[k] += 1
        self.total += value

    @property
    def cards(self) -> int:
        return sum(self.counts)

    @property
    def mean(self) -> float | None:
        return self.total / self.cards if self.cards else None

    def to_json(self) -> dict[str, Any]:
        mean = self.mean
        return {"cards": self.cards, "mean": None if mean is None else round(mean, 4),
                "buckets": [{"label": label, "count": n}
                            for label, n in zip(self.labels, self.counts, strict=True)]}


@dataclass(slots=True)
class CardStates:
    new: int = 0
    learning: int = 0
    relearning: int = 0
    young: int = 0
    mature: int = 0
    suspended: int = 0
    buried: int = 0
    unreadable: int = 0
    total: int = 0

    def to_json(self) -> dict[str, int]:
        return {"new": self.new, "learning": self.learning, "relearning": self.relearning,
                "young": self.young, "mature": self.mature, "suspended": self.suspended,
                "buried": self.buried, "unreadable": self.unreadable, "total": self.total}


class _Memory:
    """Stability, difficulty and retrievability of entries: the entry becomes py-fsrs's
    card through the FSRS adapter (the card it schedules), and py-fsrs computes the
    retrievability with the vault's weights. Imported on first use: py-fsrs is not
    needed before a card has a schedule."""

    def __init__(self, settings: Settings | None, now: dt.datetime) -> None:
        import fsrs

        from flashmark.scheduling.fsrs_adapter import FsrsScheduler, SchedulerConfig

        config = (SchedulerConfig.from_settings(settings.scheduling) if settings is not None
                  else SchedulerConfig())
        self.adapter = FsrsScheduler(config)
        # The retrievability depends on the weights only (the decay, w20).
        self.fsrs = fsrs.Scheduler(parameters=config.parameters, enable_fuzzing=False)
        self.now = now
        self._known: dict[str, tuple[float, float, float | None] | None] = {}

    def of(self, entry: Sm2Entry | FsrsEntry) -> tuple[float, float, float | None] | None:
        if entry.text in self._known:  # a legacy entry's text is often shared
            return self._known[entry.text]
        found = self._of(entry)
        self._known[entry.text] = found
        return found

    def _of(self, entry: Sm2Entry | FsrsEntry) -> tuple[float, float, float | None] | None:
        card = self.adapter.to_fsrs_card(entry, 0, self.now)
        if card.stability is None or card.difficulty is None:
            return None
        r = (None if card.last_review is None
             else float(self.fsrs.get_card_retrievability(card, self.now)))
        return float(card.stability), float(card.difficulty), r


def _is_new(entry: Sm2Entry | FsrsEntry) -> bool:
    """Never reviewed: the placeholder date, or the plugin's FSRS Reset without a memory
    state (the adapter schedules both as new cards)."""
    if isinstance(entry, Sm2Entry):
        return entry.is_new
    return entry.state == 0 and not entry.stability > 0


def _entry_state(entry: Sm2Entry | FsrsEntry) -> ReviewState:
    if _is_new(entry):
        return "new"
    if isinstance(entry, FsrsEntry) and entry.state in (1, 3):
        return "learning" if entry.state == 1 else "relearning"
    return "mature" if entry.interval >= MATURE_DAYS else "young"


def _parse(text: str | None) -> Sm2Entry | FsrsEntry | None:
    """The entry of ``text``; None for no entry, the placeholder or an unreadable one."""
    if text is None or text == PLACEHOLDER_TEXT:
        return None
    entry = srcodec.parse_entry(text)
    return entry if isinstance(entry, Sm2Entry | FsrsEntry) else None


# --- the reviews -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RatedReview:
    """A rating in effect, with the card's state before it."""

    moment: dt.datetime
    day: dt.date
    card: str
    rating: str
    state: ReviewState
    duration_ms: int | None


def rated_reviews(events: Iterable[Event], cutoff: DueCutoff) -> list[RatedReview]:
    """The ratings in effect, here and imported from Anki, oldest first."""
    out: list[RatedReview] = []
    anki_interval: dict[str, int] = {}  # card -> interval of its latest Anki review
    for when, e in sorted(live_reviews(events), key=lambda pair: pair[0]):
        if isinstance(e, Review):
            entry = _parse(e.before)
            state: ReviewState = "new" if entry is None else _entry_state(entry)
        else:
            state = _anki_state(e, anki_interval.get(e.id))
            if e.interval is not None:
                anki_interval[e.id] = e.interval
        out.append(RatedReview(when, cutoff.day_of_time(e.time), e.id, e.rating, state,
                               e.duration_ms))
    return out


def _anki_state(e: AnkiReview, interval_before: int | None) -> ReviewState:
    if e.anki_type == "relearn":
        return "relearning"
    if e.anki_type == "learn":
        return "new" if interval_before is None else "learning"
    if interval_before is not None and interval_before >= MATURE_DAYS:
        return "mature"
    return "young"


@dataclass(slots=True)
class Day:
    day: dt.date
    ratings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RATINGS, 0))
    states: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REVIEW_STATES, 0))
    timed: int = 0  # reviews with a logged answer time
    milliseconds: int = 0  # their time, summed
    first_seen: int = 0  # cards whose first log event falls on this day

    @property
    def total(self) -> int:
        return sum(self.ratings.values())

    def to_json(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), **self.ratings, **self.states,
                "total": self.total, "timed": self.timed,
                "seconds": round(self.milliseconds / 1000, 3)}


@dataclass(slots=True)
class PassRate:
    passed: int = 0
    failed: int = 0

    def add(self, rating: str) -> None:
        if rating == "again":
            self.failed += 1
        else:
            self.passed += 1

    @property
    def retention(self) -> float | None:
        total = self.passed + self.failed
        return self.passed / total if total else None

    def to_json(self) -> dict[str, Any]:
        r = self.retention
        return {"passed": self.passed, "failed": self.failed,
                "retention": None if r is None else round(r, 4)}


@dataclass(slots=True)
class PeriodRetention:
    young: PassRate = field(default_factory=PassRate)
    mature: PassRate = field(default_factory=PassRate)

    @property
    def total(self) -> PassRate:
        return PassRate(self.young.passed + self.mature.passed,
                        self.young.failed + self.mature.failed)

    def to_json(self) -> dict[str, Any]:
        return {"young": self.young.to_json(), "mature": self.mature.to_json(),
                "total": self.total.to_json()}


@dataclass(slots=True)
class Statistics:
    """Everything the stats screen draws; ``to_json`` adds to `flashmark stats --json`."""

    today: dt.date
    deck: str | None
    days: list[Day]  # the last ``len(days)`` days, today last
    heatmap: dict[dt.date, int]  # reviews per day over the last HEATMAP_DAYS days (not 0)
    retention: dict[str, PeriodRetention]
    buttons: dict[str, dict[str, int]]  # learning / young / mature -> rating -> count
    hours: list[PassRate]  # 24 local hours, over ``days``
    cards: CardStates
    intervals: Histogram
    stability: Histogram
    difficulty: Histogram
    retrievability: Histogram
    leeches: int
    timed_all: int = 0  # every review in effect with a time, ever
    untimed_all: int = 0

    @property
    def heatmap_first(self) -> dt.date:
        return self.today - dt.timedelta(days=HEATMAP_DAYS - 1)

    def to_json(self) -> dict[str, Any]:
        timed = sum(d.timed for d in self.days)
        ms = sum(d.milliseconds for d in self.days)
        reviews = sum(d.total for d in self.days)
        return {
            "heatmap": {"first": self.heatmap_first.isoformat(),
                        "last": self.today.isoformat(),
                        "total": sum(self.heatmap.values()),
                        "days_studied": len(self.heatmap),
                        "counts": {d.isoformat(): n for d, n in sorted(self.heatmap.items())}},
            "review_days": [d.to_json() for d in self.days],
            "time": {"days": len(self.days), "reviews": reviews, "timed": timed,
                     "untimed": reviews - timed, "seconds": round(ms / 1000, 3),
                     "seconds_per_review": round(ms / 1000 / timed, 3) if timed else None,
                     "timed_all_time": self.timed_all, "untimed_all_time": self.untimed_all},
            "true_retention": {name: r.to_json() for name, r in self.retention.items()},
            "buttons": {"days": len(self.days), **self.buttons},
            "hours": [{"hour": h, "reviews": p.passed + p.failed, "passed": p.passed}
                      for h, p in enumerate(self.hours)],
            "cards": self.cards.to_json(),
            "added_per_day": [{"date": d.day.isoformat(), "count": d.first_seen}
                              for d in self.days],
            "histograms": {"interval": self.intervals.to_json(),
                           "stability": self.stability.to_json(),
                           "difficulty": self.difficulty.to_json(),
                           "retrievability": self.retrievability.to_json()},
            "leeches": {"count": self.leeches},
        }


def statistics(cards: Sequence[CardFact], events: Sequence[Event], cutoff: DueCutoff, *,
               settings: Settings | None = None, suspended: Iterable[str] = (),
               buried: Iterable[str] = (), leeches: Iterable[str] = (), days: int = 30,
               deck: str | None = None) -> Statistics:
    """The statistics of ``cards`` (all of them: select decks before) and of the events
    of those cards (events of other cards are ignored), at ``cutoff.now``."""
    days = max(1, days)
    today = cutoff.today
    ids = {c.id for c in cards}
    reviews = [r for r in rated_reviews(events, cutoff) if r.card in ids]

    first_day = today - dt.timedelta(days=days - 1)
    window = [Day(first_day + dt.timedelta(days=k)) for k in range(days)]
    heat_first = today - dt.timedelta(days=HEATMAP_DAYS - 1)
    heatmap: dict[dt.date, int] = {}
    retention = {name: PeriodRetention() for name, _ in PERIODS}
    buttons = {group: dict.fromkeys(RATINGS, 0) for group in ("learning", "young", "mature")}
    hours = [PassRate() for _ in range(24)]
    timed_all = untimed_all = 0
    for r in reviews:
        if r.duration_ms is None:
            untimed_all += 1
        else:
            timed_all += 1
        age = (today - r.day).days
        if heat_first <= r.day <= today:
            heatmap[r.day] = heatmap.get(r.day, 0) + 1
        if r.state in ("young", "mature"):
            for name, span in PERIODS:
                if age == 1 if name == "yesterday" else span is None or 0 <= age < span:
                    period = retention[name]
                    (period.young if r.state == "young" else period.mature).add(r.rating)
        if 0 <= age < days:
            d = window[days - 1 - age]
            d.ratings[r.rating] += 1
            d.states[r.state] += 1
            if r.duration_ms is not None:
                d.timed += 1
                d.milliseconds += r.duration_ms
            group = r.state if r.state in ("young", "mature") else "learning"
            buttons[group][r.rating] += 1
            hours[r.moment.astimezone().hour].add(r.rating)

    seen: set[str] = set()
    for e in _card_events(events):
        if e.id in seen or e.id not in ids:
            continue
        seen.add(e.id)
        age = (today - cutoff.day_of_time(e.time)).days
        if 0 <= age < days:
            window[days - 1 - age].first_seen += 1

    states = CardStates()
    suspended, buried = set(suspended), set(buried)
    intervals = Histogram.of(DAY_BUCKETS)
    stability = Histogram.of(DAY_BUCKETS)
    difficulty = Histogram.of(DIFFICULTY_BUCKETS)
    retrievability = Histogram.of(RETRIEVABILITY_BUCKETS)
    memory: _Memory | None = None
    leech_ids = set(leeches)
    leech_count = 0
    for card in cards:
        states.total += 1
        entry = _parse(card.entry)
        unreadable = entry is None and card.entry not in (None, PLACEHOLDER_TEXT)
        state = None if entry is None else _entry_state(entry)
        if card.id in suspended:
            states.suspended += 1
        elif card.id in buried:
            states.buried += 1
        elif unreadable:
            states.unreadable += 1
        else:
            setattr(states, state or "new", getattr(states, state or "new") + 1)
        if card.id in leech_ids:
            leech_count += 1
        if entry is None or _is_new(entry):
            continue
        intervals.add(entry.interval)
        memory = memory or _Memory(settings, cutoff.now)
        known = memory.of(entry)
        if known is None:
            continue
        s_value, d_value, r_now = known
        stability.add(s_value)
        difficulty.add(d_value)
        if r_now is not None:
            retrievability.add(r_now)
    return Statistics(today, deck, window, heatmap, retention, buttons, hours, states,
                      intervals, stability, difficulty, retrievability, leech_count,
                      timed_all, untimed_all)


def _card_events(events: Sequence[Event]) -> list[CardEvent]:
    """The card events in effect, under the ids the cards have now, oldest first."""
    from flashmark.vault.reviewlog import follow_renames, in_effect

    found = [e for e in in_effect(follow_renames(events)) if isinstance(e, CardEvent)]
    return sorted(found, key=lambda e: e.moment)


# --- reading a vault -------------------------------------------------------------------

def load_statistics(root: Path, settings: Settings, now: dt.datetime, *, days: int = 30,
                    deck: str | None = None, use_cache: bool = True,
                    all_notes: bool = False) -> Statistics:
    """The statistics of the vault at ``root``, or of the decks ``deck`` selects (an
    `UnknownDeckError` when it selects none). Reads every flashcard note (the index
    keeps no interval, stability or difficulty) and the review log."""
    from flashmark.vault.reviewlog import ReviewLog
    from flashmark.vault.scan import scan_vault

    result = scan_vault(root, settings, use_cache=use_cache, all_notes=all_notes)
    try:
        cards = card_facts(result.parsed())
    finally:
        result.close()
    return statistics_of(cards, ReviewLog(root).events(), settings, now, days=days,
                         deck=deck)


def statistics_of(cards: list[CardFact], events: list[Event], settings: Settings,
                  now: dt.datetime, *, days: int = 30, deck: str | None = None
                  ) -> Statistics:
    """`statistics` of ``cards`` (those of the decks ``deck`` selects) with the day
    boundary of ``settings`` and the suspended and buried cards of the log."""
    from flashmark.review.queue import log_state

    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    if deck is not None:
        selection = DeckSelection(deck)
        selection.require_known(c.deck for c in cards)
        cards = [c for c in cards if selection.selects(c.deck)]
    state = log_state(events, cutoff)
    return statistics(cards, events, cutoff, settings=settings, suspended=state.suspended,
                      buried=state.buried, leeches=state.leeches, days=days, deck=deck)

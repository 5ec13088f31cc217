"""Load balancing: among the days fuzz could give a review interval, prefer the days with
fewer cards due (the behaviour of Anki 24.11's FSRS load balancer, written anew here).

How a day is chosen for an interval ``ivl`` (a float, in days, before any fuzz):

* Intervals over ``MAX_BALANCED_INTERVAL`` (90) days, or with a minimum over it, are not
  balanced (the caller fuzzes them as usual): far out, a day more or less evens nothing.
* The candidate days are Anki's fuzz range for ``ivl`` (:func:`fuzz_bounds`), kept within
  ``[minimum, maximum]``: 2..4 days for 2.5, 5..9 for 7, 14..20 for 17, 33..41 for 37.
* Each candidate day ``d`` (in days from today) with ``n`` review cards due gets the weight
  ``1`` when ``n == 0``, else ``(1/n)**2 * (1/d) * sibling * easy``: fewer cards weigh
  much more, and a shorter interval a little more (without that term the balancer drifts
  towards later days). ``sibling`` is 0.001 when another card of the same question is
  due that day (siblings apart), else 1; ``easy`` is the easy-days factor below.
* One day is drawn with probability proportional to its weight, from a random number
  seeded by the card and the review time: the same review always picks the same day.

Easy days (``scheduling.easy_days``): a fraction per weekday, 1 normal (default), 0 as
few reviews as possible, anything between "reduced". A minimum day weighs 0.0001; a
reduced day weighs like a normal one unless its count, doubled, exceeds the average
load of the other candidate days (their cards over their summed fractions), then like a
minimum day. As in Anki a day with no card due keeps the weight 1 whatever its weekday.

The histogram counts review cards per learner day (the index's due keys), built once
per process or review session and kept up to date as ratings land (:meth:`move`).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "MAX_BALANCED_INTERVAL",
    "Balance",
    "Choice",
    "DayCounts",
    "LoadBalancer",
    "choose_day",
    "day_weights",
    "easy_day_factors",
    "fuzz_bounds",
]

MAX_BALANCED_INTERVAL = 90
# Anki keeps 10% more days than the longest balanced interval: a range reaches past it.
HORIZON_DAYS = int(MAX_BALANCED_INTERVAL * 1.1)
SIBLING_PENALTY = 0.001
MINIMUM_LOAD = 0.0001  # an easy day at 0%: almost never chosen, never exactly 0
REDUCED_LOAD = 0.5

# (from, to, extra days of fuzz per day of interval in that stretch), as Anki and py-fsrs
_FUZZ_RANGES = ((2.5, 7.0, 0.15), (7.0, 20.0, 0.1), (20.0, math.inf, 0.05))


def _round_half_up(x: float) -> int:
    # Anki rounds half away from zero (Rust's f32::round); Python's round() is banker's.
    return math.floor(x + 0.5)


def fuzz_bounds(interval: float, minimum: int, maximum: int) -> tuple[int, int]:
    """The fuzz range of ``interval`` days within ``[minimum, maximum]`` (Anki's
    ``constrained_fuzz_bounds``): 1 day either side from 2.5 days on, plus 15% of the
    days between 2.5 and 7, 10% of those between 7 and 20 and 5% of those over 20; a
    range of one day over 2 widens to two when the maximum allows."""
    minimum = min(minimum, maximum)
    interval = min(max(interval, float(minimum)), float(maximum))
    if interval < 2.5:
        delta = 0.0
    else:
        delta = 1.0 + sum(f * max(min(interval, end) - start, 0.0)
                          for start, end, f in _FUZZ_RANGES)
    lower = min(max(_round_half_up(interval - delta), minimum), maximum)
    upper = min(max(_round_half_up(interval + delta), minimum), maximum)
    if upper == lower and 2 < upper < maximum:
        upper = lower + 1
    return lower, upper


def easy_day_factors(fractions: Mapping[int, float], weekdays: list[int],
                     counts: list[int]) -> list[float]:
    """The easy-days factor of each candidate day (``weekdays``: 0 = Monday; ``counts``:
    its review cards; ``fractions``: weekday -> share of a normal day's load)."""

    def load(weekday: int) -> float:
        f = fractions.get(weekday, 1.0)
        return 1.0 if f == 1.0 else MINIMUM_LOAD if f == 0.0 else REDUCED_LOAD

    total_count = sum(counts)
    total_load = sum(load(w) for w in weekdays)
    out = []
    for weekday, count in zip(weekdays, counts, strict=True):
        factor = load(weekday)
        if factor == REDUCED_LOAD:
            others_count = total_count - count
            others_load = total_load - REDUCED_LOAD
            # Anki divides in floating point: x/0 is inf (or NaN), and "more than that"
            # is false, so the day stays normal.
            threshold = others_count / others_load if others_load else math.inf
            factor = MINIMUM_LOAD if count / REDUCED_LOAD > threshold else 1.0
        out.append(factor)
    return out


def day_weights(lower: int, counts: list[int], siblings: list[bool],
                easy: list[float]) -> list[tuple[int, float]]:
    """(interval, weight) of each candidate day ``lower``, ``lower + 1``, ..."""
    out = []
    for k, count in enumerate(counts):
        interval = lower + k
        if count == 0:
            weight = 1.0
        else:
            weight = ((1.0 / count) ** 2 * (1.0 / interval)
                      * (SIBLING_PENALTY if siblings[k] else 1.0) * easy[k])
        out.append((interval, weight))
    return out


def choose_day(weighted: list[tuple[int, float]], draw: float) -> int:
    """The interval ``draw`` (uniform in [0, 1)) selects: the first whose cumulative weight
    exceeds ``draw`` times the total (how a weighted index samples)."""
    total = sum(w for _, w in weighted)
    target = draw * total
    running = 0.0
    for interval, weight in weighted:
        running += weight
        if target < running:
            return interval
    return weighted[-1][0]


@dataclass(frozen=True, slots=True)
class Balance:
    """What the scheduler needs to balance one card: the histogram, and the learner days
    on which the card's siblings (the other cards of its question) are due as review
    cards, kept off those days."""

    balancer: LoadBalancer
    sibling_days: tuple[dt.date, ...] = ()


@dataclass(frozen=True, slots=True)
class Choice:
    """What the balancer weighed, for tests and for ``--explain``-style messages."""

    interval: int
    candidates: tuple[tuple[int, float], ...]


DayCounts = Mapping[dt.date, int]  # learner day -> review cards due that day


class LoadBalancer:
    """Review cards per learner day, and the choice of a day for a new interval."""

    def __init__(self, due: DayCounts | Callable[[], DayCounts], *, start: dt.date,
                 easy_days: Mapping[int, float] | None = None) -> None:
        """``due``: review cards per learner day, or a function giving them, called when
        a day is first needed (a rating whose interval is not balanced never reads the
        vault's histogram). Days before ``start`` or ``HORIZON_DAYS`` after it are not
        kept (never asked for). Counts, not cards: at ten times the real vault the
        histogram holds a million review cards, and a rating only ever moves one (its
        old and new days are in its entries: :meth:`move`)."""
        self.start = start
        self.end = start + dt.timedelta(days=HORIZON_DAYS)
        self.easy_days: dict[int, float] = dict(easy_days or {})
        self._counts: dict[dt.date, int] = {}
        self._load = due if callable(due) else None
        if not callable(due):
            self._add_all(due)

    def _add_all(self, due: DayCounts) -> None:
        for day, n in due.items():
            if self.start <= day < self.end:
                self._counts[day] = self._counts.get(day, 0) + n

    @property
    def loaded(self) -> bool:
        return self._load is None

    def _ensure(self) -> None:
        if self._load is not None:
            load, self._load = self._load, None
            self._add_all(load())

    def count(self, day: dt.date) -> int:
        self._ensure()
        return self._counts.get(day, 0)

    def move(self, old: dt.date | None, new: dt.date | None) -> None:
        """Record that a review card due on ``old`` (None: it was not a review card) is
        now due on ``new`` (None: not a review card any more). Before the histogram is
        loaded there is nothing to update: the load will read the card as it is then."""
        if self._load is not None or old == new:
            return
        if old is not None and self._counts.get(old, 0) > 0:
            self._counts[old] -= 1
        if new is not None and self.start <= new < self.end:
            self._counts[new] = self._counts.get(new, 0) + 1

    def choose(self, interval: float, minimum: int, maximum: int, *, today: dt.date,
               seed: int, sibling_days: Iterable[dt.date] = ()) -> Choice | None:
        """The balanced interval in days for a card rated on learner day ``today``, or
        None when this interval is not balanced (the caller fuzzes it)."""
        # (whole days compared, as Anki does: 90.7 is still balanced)
        if int(interval) > MAX_BALANCED_INTERVAL or minimum > MAX_BALANCED_INTERVAL:
            return None
        lower, upper = fuzz_bounds(interval, minimum, maximum)
        days = [today + dt.timedelta(days=d) for d in range(lower, upper + 1)]
        if today < self.start or days[-1] >= self.end:
            return None  # outside what the histogram holds (a session past midnight...)
        self._ensure()
        siblings_due = set(sibling_days)
        counts = [self.count(day) for day in days]
        near = [day in siblings_due for day in days]
        easy = easy_day_factors(self.easy_days, [day.weekday() for day in days], counts)
        weighted = day_weights(lower, counts, near, easy)
        chosen = choose_day(weighted, random.Random(seed).random())
        return Choice(chosen, tuple(weighted))

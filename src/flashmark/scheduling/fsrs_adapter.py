"""FSRS scheduling through py-fsrs (entry formats and the SM-2 migration: docs/compatibility.md).

py-fsrs 6.x ships type hints (``py.typed``), but its card fields are optional
(``stability: float | None``) and a few module constants are untyped: values that come
out of it are narrowed to plain ``float``/``int``/``datetime`` here.

State numbers: OSR (ts-fsrs) writes 0 New, 1 Learning, 2 Review, 3 Relearning.
py-fsrs has no New state: a new card is ``State.Learning`` at step 0 with no
stability/difficulty, and its Learning/Review/Relearning use the same numbers 1..3.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import math
import random
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata

import fsrs
import fsrs.scheduler as _fsrs_scheduler

from flashmark import days
from flashmark.config import SchedulingSettings
from flashmark.errors import ConfigError
from flashmark.model import FsrsEntry, Rating, Sm2Entry
from flashmark.scheduling.load_balance import Balance
from flashmark.syntax import srcodec

__all__ = [
    "DEFAULT_WEIGHTS",
    "EASE_MAX",
    "EASE_MIN",
    "FsrsScheduler",
    "SchedulableEntry",
    "SchedulerConfig",
    "ease_from_memory_state",
    "memory_state_from_sm2",
    "stability_for_interval",
]

SchedulableEntry = Sm2Entry | FsrsEntry | None

DEFAULT_WEIGHTS: tuple[float, ...] = tuple(float(w) for w in _fsrs_scheduler.DEFAULT_PARAMETERS)
# FSRS-5 weights (19 values) become FSRS-6 ones with w19 = 0 (no same-day stability
# exponent) and w20 = 0.5 (FSRS-5's fixed decay).
_FSRS5_TAIL = (0.0, 0.5)

_STABILITY_MIN = float(_fsrs_scheduler.STABILITY_MIN)

EASE_MIN = 130  # OSR's minimum SM-2 ease (x100)
EASE_MAX = 1000

_STATE_NEW, _STATE_LEARNING, _STATE_REVIEW, _STATE_RELEARNING = 0, 1, 2, 3
_FSRS_RATING = {
    Rating.AGAIN: fsrs.Rating.Again,
    Rating.HARD: fsrs.Rating.Hard,
    Rating.GOOD: fsrs.Rating.Good,
    Rating.EASY: fsrs.Rating.Easy,
}
_UTC_MIDNIGHT = dt.time(0, 0, tzinfo=dt.UTC)
# Due time given to a card that has none (never reviewed, no entry): due at once.
_NEW_CARD_DUE = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_ADAPTER_REVISION = 1


def _fsrs_version() -> str:
    try:
        return metadata.version("fsrs")
    except metadata.PackageNotFoundError:  # pragma: no cover - fsrs is a dependency
        return "unknown"


# --- configuration ------------------------------------------------------------------


def _check_weights(weights: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(w) for w in weights)
    if len(values) == len(DEFAULT_WEIGHTS) - len(_FSRS5_TAIL):
        values = values + _FSRS5_TAIL
    if len(values) != len(DEFAULT_WEIGHTS):
        raise ConfigError(
            f"FSRS weights: expected {len(DEFAULT_WEIGHTS)} values (FSRS-6) or "
            f"{len(DEFAULT_WEIGHTS) - len(_FSRS5_TAIL)} (FSRS-5), got {len(values)}")
    if not all(math.isfinite(w) for w in values):
        raise ConfigError("FSRS weights must be finite numbers")
    try:
        fsrs.Scheduler(parameters=values)
    except ValueError as exc:
        raise ConfigError(f"FSRS weights: {exc}") from exc
    return values


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    """How cards are scheduled. The defaults are py-fsrs's, with fuzz off."""

    desired_retention: float = 0.9
    maximum_interval: int = 36500  # days
    learning_steps: tuple[dt.timedelta, ...] = (dt.timedelta(minutes=1),
                                                dt.timedelta(minutes=10))
    relearning_steps: tuple[dt.timedelta, ...] = (dt.timedelta(minutes=10),)
    # Fuzz spreads review intervals a little; when on it is seeded by the card key and
    # the review time, so the same review always gives the same result.
    enable_fuzzing: bool = False
    # None: py-fsrs's default FSRS-6 weights (21 values). 19 FSRS-5 weights are accepted.
    weights: tuple[float, ...] | None = field(default=None)
    # How elapsed days are counted (flashmark.days): learner days starting at
    # day_boundary o'clock local time, or the plugin's UTC calendar days ("utc").
    day_boundary: int = days.DEFAULT_DAY_BOUNDARY
    elapsed_days: str = days.LEARNER

    def __post_init__(self) -> None:
        r = self.desired_retention
        if isinstance(r, bool) or not isinstance(r, int | float) or not 0.0 < r < 1.0:
            raise ConfigError(f"desired retention must be a number between 0 and 1 "
                              f"(exclusive), got {r!r}", hint="0.9 is the usual choice")
        m = self.maximum_interval
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            raise ConfigError(f"maximum interval must be a whole number of days >= 1, got {m!r}")
        for name in ("learning_steps", "relearning_steps"):
            steps = getattr(self, name)
            if not all(isinstance(s, dt.timedelta) and s > dt.timedelta(0) for s in steps):
                raise ConfigError(f"{name.replace('_', ' ')} must be positive durations")
        if self.weights is not None:
            object.__setattr__(self, "weights", _check_weights(self.weights))
        b = self.day_boundary
        if isinstance(b, bool) or not isinstance(b, int) or not 0 <= b <= 23:
            raise ConfigError(f"day boundary must be an hour from 0 to 23, got {b!r}")
        if self.elapsed_days not in days.ELAPSED_DAYS_RULES:
            raise ConfigError(f"elapsed days must be one of "
                              f"{', '.join(days.ELAPSED_DAYS_RULES)}, got {self.elapsed_days!r}")

    @property
    def parameters(self) -> tuple[float, ...]:
        """The 21 FSRS-6 weights in use."""
        return self.weights if self.weights is not None else DEFAULT_WEIGHTS

    @classmethod
    def from_settings(cls, s: SchedulingSettings) -> SchedulerConfig:
        """Map the vault's scheduling settings (flashmark.yaml, the plugin's data.json,
        fitted weights)."""
        from flashmark.config import parse_duration

        return cls(
            desired_retention=s.desired_retention, maximum_interval=s.maximum_interval,
            learning_steps=tuple(parse_duration(v, "learning_steps")
                                 for v in s.learning_steps),
            relearning_steps=tuple(parse_duration(v, "relearning_steps")
                                   for v in s.relearning_steps),
            enable_fuzzing=s.fuzz, weights=s.weights, day_boundary=s.day_boundary,
            elapsed_days=s.elapsed_days)


# --- SM-2 <-> FSRS memory state -------------------------------------------------------


def _decay_and_factor(weights: Sequence[float]) -> tuple[float, float]:
    decay = -float(weights[20])
    return decay, float(0.9 ** (1.0 / decay)) - 1.0


def stability_for_interval(interval: float, retention: float,
                           weights: Sequence[float] = DEFAULT_WEIGHTS) -> float:
    """The stability whose forgetting curve falls to ``retention`` after ``interval`` days.

    FSRS-6's curve is ``R(t) = (1 + F * t / S) ** -w20`` with ``F = 0.9 ** (-1/w20) - 1``,
    so ``R(interval) = r`` gives ``S = interval * F / (r ** (-1/w20) - 1)``; at r = 0.9 this
    is the interval itself (returned exactly, without rounding error).
    """
    interval = max(float(interval), _STABILITY_MIN)
    if abs(retention - 0.9) < 1e-12:
        return interval
    decay, factor = _decay_and_factor(weights)
    return interval * factor / (float(retention ** (1.0 / decay)) - 1.0)


def _recall_gain(stability: float, retention: float, weights: Sequence[float]) -> float:
    """``exp(w8) * S^-w9 * expm1((1 - r) * w10)``: stability growth per unit of (11 - D)."""
    w8, w9, w10 = float(weights[8]), float(weights[9]), float(weights[10])
    return math.exp(w8) * float(stability ** (-w9)) * math.expm1((1.0 - retention) * w10)


def memory_state_from_sm2(ease: float, interval: float, retention: float,
                          weights: Sequence[float] = DEFAULT_WEIGHTS) -> tuple[float, float]:
    """(stability, difficulty) of an SM-2 card, the way Anki/fsrs-rs derive it.

    Behaviour of fsrs-rs ``FSRS::memory_state_from_sm2`` (FSRS-6 branch, used by Anki when
    a card has no usable review history), with ``r`` = the retention the SM-2 intervals
    are assumed to give and ``ease`` the factor (2.30, not 230):

    - ``S = interval * F / (r ** (-1/w20) - 1)`` (:func:`stability_for_interval`):
      the card's recall probability is ``r`` when it falls due; ``S = interval`` at 0.9.
    - A successful review at that moment multiplies S by
      ``1 + exp(w8) * (11 - D) * S^-w9 * expm1((1 - r) * w10)``; equating that to the
      SM-2 ease gives ``D = 11 - (ease - 1) / (exp(w8) * S^-w9 * expm1((1 - r) * w10))``,
      clamped to [1, 10].

    flashmark passes the desired retention as ``r`` (Anki passes the collection's
    historical retention, 0.9 by default).
    """
    stability = stability_for_interval(interval, retention, weights)
    difficulty = 11.0 - (ease - 1.0) / _recall_gain(stability, retention, weights)
    if not (math.isfinite(stability) and math.isfinite(difficulty)):
        raise ValueError(f"no FSRS memory state for ease {ease}, interval {interval}")
    return stability, min(max(difficulty, 1.0), 10.0)


def ease_from_memory_state(stability: float, difficulty: float, retention: float,
                           weights: Sequence[float] = DEFAULT_WEIGHTS) -> int:
    """The SM-2 ease (x100) that :func:`memory_state_from_sm2` maps back to ``difficulty``.

    ``ease = 1 + (11 - D) * exp(w8) * S^-w9 * expm1((1 - r) * w10)``, rounded half up to
    a whole percent and clamped to [EASE_MIN, EASE_MAX]. ``stability`` must be the one the
    reader will derive, i.e. ``stability_for_interval(written interval)``.
    """
    ease = 1.0 + (11.0 - difficulty) * _recall_gain(stability, retention, weights)
    return min(max(math.floor(ease * 100.0 + 0.5), EASE_MIN), EASE_MAX)


# --- seeded fuzz ----------------------------------------------------------------------

_FUZZ_LOCK = threading.Lock()


@contextmanager
def _seeded_fuzz(seed: int) -> Iterator[None]:
    """Run py-fsrs's fuzz on a private RNG seeded with ``seed``.

    py-fsrs draws its fuzz from ``fsrs.scheduler.random`` (``from random import random``,
    i.e. the global RNG). For the duration of the block that name points at a local
    ``random.Random(seed)``; the global RNG is neither used nor reseeded.
    """
    saved = getattr(_fsrs_scheduler, "random", None)
    if not callable(saved):  # pragma: no cover - guards a future py-fsrs
        raise RuntimeError("this py-fsrs version draws fuzz differently; "
                           "seeded fuzz needs updating (turn fuzzing off meanwhile)")
    rng = random.Random(seed)
    with _FUZZ_LOCK:
        saved = getattr(_fsrs_scheduler, "random")  # noqa: B009 - re-read under the lock
        setattr(_fsrs_scheduler, "random", rng.random)  # noqa: B010
        try:
            yield
        finally:
            setattr(_fsrs_scheduler, "random", saved)  # noqa: B010


def fuzz_seed(card_key: int, when: dt.datetime) -> int:
    """A seed that depends only on the card and the review time (to the millisecond)."""
    blob = f"{card_key}|{srcodec.iso_ms(when)}".encode()
    return int.from_bytes(hashlib.blake2b(blob, digest_size=8).digest(), "big")


# --- the scheduler --------------------------------------------------------------------


def _aware_utc(now: dt.datetime, what: str = "now") -> dt.datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {now!r}")
    return now.astimezone(dt.UTC)


def _reviewed_memory(card: fsrs.Card) -> tuple[float, float]:
    """(stability, difficulty) of a card py-fsrs has just reviewed: always set."""
    if card.stability is None or card.difficulty is None:  # pragma: no cover
        raise RuntimeError("py-fsrs returned a reviewed card without a memory state")
    return float(card.stability), float(card.difficulty)


def _utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, _UTC_MIDNIGHT)


def _days_before(day: dt.date, days: int) -> dt.date:
    # A corrupt entry (`!0001-01-05,99999,250`) must not overflow: stop at date.min.
    return day - dt.timedelta(days=min(days, (day - dt.date.min).days))


class FsrsScheduler:
    """Schedules one card at a time: entries in, new entries out, no side effects."""

    def __init__(self, config: SchedulerConfig | None = None) -> None:
        self.config = config if config is not None else SchedulerConfig()
        self.version = f"fsrs-{_fsrs_version()}/flashmark-{_ADAPTER_REVISION}"
        self._weights = self.config.parameters
        self._scheduler = fsrs.Scheduler(
            parameters=self._weights,
            desired_retention=self.config.desired_retention,
            learning_steps=self.config.learning_steps,
            relearning_steps=self.config.relearning_steps,
            maximum_interval=self.config.maximum_interval,
            enable_fuzzing=self.config.enable_fuzzing,
        )

    # -- entries -> py-fsrs cards

    def _new_card(self, card_key: int, due: dt.datetime) -> fsrs.Card:
        return fsrs.Card(card_id=card_key, state=fsrs.State.Learning, step=0, stability=None,
                         difficulty=None, due=due, last_review=None)

    def to_fsrs_card(self, entry: SchedulableEntry, card_key: int,
                     now: dt.datetime | None = None) -> fsrs.Card:
        """The py-fsrs ``Card`` for an entry (reviewed at ``now``, when given).

        - None, an entry dated 2000-01-01 (the placeholder ``!2000-01-01,1,250``), an
          FSRS entry in state 0 (the plugin's Reset; or one without a positive
          stability): a new card.
        - Legacy ``!DATE,IVL,EASE``: a Review card with the memory state of
          :func:`memory_state_from_sm2` (ease 230 -> 2.30, r = desired retention),
          ``last_review`` = UTC midnight of DATE - IVL days, ``due`` = UTC midnight of DATE.
          IVL 0 (the plugin's SM-2 Again: a lapsed card) is taken as 1 day, as the
          plugin does when it moves such an entry to FSRS (``sm2ScheduleToFsrsCard``).
        - FSRS entry: its state, step, stability, difficulty, due and last review as they
          are (a Review card's step is None in py-fsrs; a difficulty outside [1, 10],
          which FSRS never writes, is clamped).
        - With ``now``: ``last_review`` is moved so that py-fsrs, which counts elapsed
          days as whole 24-hour periods, sees the days of the configured rule
          (:func:`flashmark.days.elapsed_days`).
        """
        card = self._card_of(entry, card_key)
        if now is None or card.last_review is None:
            return card
        last: dt.datetime | dt.date = card.last_review
        if isinstance(entry, Sm2Entry):
            last = _days_before(entry.due, max(1, entry.interval))
        when = _aware_utc(now)
        elapsed = days.elapsed_days(last, when, day_boundary=self.config.day_boundary,
                                    rule=self.config.elapsed_days)
        elapsed = min(elapsed, (when.date() - dt.date.min).days - 1)
        card = copy.copy(card)
        card.last_review = when - dt.timedelta(days=elapsed)
        return card

    def _card_of(self, entry: SchedulableEntry, card_key: int) -> fsrs.Card:
        if entry is None:
            return self._new_card(card_key, _NEW_CARD_DUE)
        if isinstance(entry, Sm2Entry):
            due = _utc_midnight(entry.due)
            if entry.is_new:
                return self._new_card(card_key, due)
            interval = max(1, entry.interval)
            stability, difficulty = memory_state_from_sm2(
                entry.ease / 100.0, interval, self.config.desired_retention, self._weights)
            last = _utc_midnight(_days_before(entry.due, interval))
            return fsrs.Card(card_id=card_key, state=fsrs.State.Review, step=None,
                             stability=stability, difficulty=difficulty, due=due,
                             last_review=last)
        if isinstance(entry, FsrsEntry):
            if entry.state == _STATE_NEW or not entry.stability > 0.0:
                return self._new_card(card_key, entry.due)
            state = fsrs.State(entry.state)
            return fsrs.Card(
                card_id=card_key, state=state,
                step=None if entry.state == _STATE_REVIEW else entry.step,
                stability=entry.stability,
                difficulty=min(max(entry.difficulty, 1.0), 10.0),
                due=entry.due, last_review=entry.last_review)
        raise TypeError(f"cannot schedule {type(entry).__name__}: expected an SM-2 or FSRS "
                        f"entry or None")

    # -- reviewing

    def _py_review(self, card: fsrs.Card, rating: Rating, when: dt.datetime,
                   card_key: int) -> fsrs.Card:
        fsrs_rating = _FSRS_RATING[Rating(rating)]
        if self.config.enable_fuzzing:
            with _seeded_fuzz(fuzz_seed(card_key, when)):
                new_card, _log = self._scheduler.review_card(card, fsrs_rating, when)
        else:
            new_card, _log = self._scheduler.review_card(card, fsrs_rating, when)
        return new_card

    def _review_card(self, card: fsrs.Card, rating: Rating, when: dt.datetime,
                     card_key: int, balance: Balance | None = None) -> fsrs.Card:
        """py-fsrs's review, then two corrections of a whole-day interval: the load
        balancer's choice of day (with ``balance`` and fuzz on: it replaces the fuzz, as
        in Anki), and, for a card that was in review, Hard < Good < Easy in days (py-fsrs
        fuzzes each rating on its own, so Hard and Good could land on one day; Anki keeps
        each at least a day above the one before)."""
        new_card = self._py_review(card, rating, when, card_key)
        if new_card.state != fsrs.State.Review:
            return new_card
        rating = Rating(rating)
        ordered = card.state == fsrs.State.Review and rating in (Rating.GOOD, Rating.EASY)
        balancing = balance is not None and self.config.enable_fuzzing
        if not (ordered or balancing):
            return new_card
        interval = self._interval_days(card, rating, new_card, when, card_key, balance)
        new_card = copy.copy(new_card)
        new_card.due = when + dt.timedelta(days=interval)
        return new_card

    def _interval_days(self, card: fsrs.Card, rating: Rating, new_card: fsrs.Card,
                       when: dt.datetime, card_key: int, balance: Balance | None) -> int:
        minimum = 1
        if card.state == fsrs.State.Review and rating in (Rating.GOOD, Rating.EASY):
            below = Rating.HARD if rating is Rating.GOOD else Rating.GOOD
            below_card = self._py_review(card, below, when, card_key)
            minimum = self._interval_days(card, below, below_card, when, card_key,
                                          balance) + 1
        maximum = self.config.maximum_interval
        if balance is not None and self.config.enable_fuzzing:
            stability = _reviewed_memory(new_card)[0]
            choice = balance.balancer.choose(
                self.interval_of(stability), minimum, maximum,
                today=days.learner_day(when, self.config.day_boundary),
                seed=fuzz_seed(card_key, when), sibling_days=balance.sibling_days)
            if choice is not None:
                return choice.interval
        fuzzed = (new_card.due - when).days
        return min(max(fuzzed, min(minimum, maximum)), maximum)

    def interval_of(self, stability: float) -> float:
        """The interval in days (unrounded, unfuzzed) after which recall falls to the
        desired retention: the inverse of :func:`stability_for_interval`."""
        decay, factor = _decay_and_factor(self._weights)
        return stability / factor * (float(self.config.desired_retention ** (1.0 / decay))
                                     - 1.0)

    def review(self, entry: SchedulableEntry, rating: Rating, now: dt.datetime,
               card_key: int, balance: Balance | None = None) -> FsrsEntry:
        """Rate the card at ``now`` (timezone-aware) and return its new FSRS entry.

        The interval field is the whole days from ``now`` to the new due time (0 for a
        (re)learning step), as OSR writes it. Reps: +1 on every review; lapses: +1 on
        Again while in Review state. A legacy entry starts from 0 reps and 0 lapses
        (the SM-2 triple does not record them).
        """
        when = _aware_utc(now)
        card = self.to_fsrs_card(entry, card_key, when)
        was_review = card.state == fsrs.State.Review
        new_card = self._review_card(card, rating, when, card_key, balance)
        reps, lapses = (entry.reps, entry.lapses) if isinstance(entry, FsrsEntry) else (0, 0)
        due: dt.datetime = new_card.due
        step = new_card.step
        stability, difficulty = _reviewed_memory(new_card)
        return srcodec.fsrs_entry(
            due=due,
            interval=max(0, (due - when).days),
            stability=stability,
            difficulty=difficulty,
            state=int(new_card.state),
            reps=reps + 1,
            lapses=lapses + (1 if was_review and Rating(rating) is Rating.AGAIN else 0),
            step=0 if step is None else int(step),
            last_review=when,
        )

    def review_as_sm2(self, entry: SchedulableEntry, rating: Rating, now: dt.datetime,
                      card_key: int, balance: Balance | None = None) -> Sm2Entry:
        """Rate with FSRS and write the legacy ``DATE,IVL,EASE`` triple (state_format sm2).

        - DATE: the due date in ``now``'s timezone (pass a local ``now`` for local dates).
        - IVL: days from ``now``'s date to DATE, at least 1 (the format has no sub-day
          steps and 0 would read back as "new"; a 10-minute step is written as due today).
        - EASE: :func:`ease_from_memory_state` for the new difficulty and the stability a
          reader derives from IVL, so reading the entry back gives S = the interval scaled
          to the desired retention (the new S up to rounding to whole days) and about the
          new D (exactly up to the 1% rounding of EASE, unless EASE hits its clamp).
        """
        when = _aware_utc(now)
        local_tz = now.tzinfo or dt.UTC  # never None here: _aware_utc checked it
        card = self.to_fsrs_card(entry, card_key, when)
        new_card = self._review_card(card, rating, when, card_key, balance)
        due: dt.datetime = new_card.due
        due_date = due.astimezone(local_tz).date()
        interval = max(1, (due_date - now.date()).days)
        read_back_stability = stability_for_interval(
            interval, self.config.desired_retention, self._weights)
        ease = ease_from_memory_state(read_back_stability, _reviewed_memory(new_card)[1],
                                      self.config.desired_retention, self._weights)
        return srcodec.sm2_entry(due_date, interval, ease)

    def preview(self, entry: SchedulableEntry, now: dt.datetime,
                card_key: int, balance: Balance | None = None) -> dict[Rating, dt.timedelta]:
        """Time until due for each rating if the card were rated at ``now``."""
        when = _aware_utc(now)
        card = self.to_fsrs_card(entry, card_key, when)
        out: dict[Rating, dt.timedelta] = {}
        for rating in Rating:
            due: dt.datetime = self._review_card(card, rating, when, card_key, balance).due
            out[rating] = due - when
        return out

    def retrievability(self, entry: SchedulableEntry, now: dt.datetime) -> float | None:
        """Predicted recall probability at ``now``; None for a card never reviewed."""
        when = _aware_utc(now)
        card = self.to_fsrs_card(entry, 0, when)
        if card.stability is None or card.last_review is None:
            return None
        return float(self._scheduler.get_card_retrievability(card, when))

    def memory_state(self, entry: SchedulableEntry) -> tuple[float, float] | None:
        """(stability, difficulty) of an entry, None for a new card."""
        card = self.to_fsrs_card(entry, 0)
        if card.stability is None or card.difficulty is None:
            return None
        return float(card.stability), float(card.difficulty)

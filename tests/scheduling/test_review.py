"""Reviewing FSRS entries, new cards, steps, lapses, caps, fuzz and the configuration."""

from __future__ import annotations

import datetime as dt
import math
import random

import fsrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashmark.config import SchedulingSettings
from flashmark.days import elapsed_days
from flashmark.errors import ConfigError, FlashmarkError
from flashmark.model import FsrsEntry, Rating, Sm2Entry
from flashmark.scheduling import DEFAULT_WEIGHTS, FsrsScheduler, SchedulerConfig
from flashmark.syntax.srcodec import fsrs_entry, parse_entry

UTC = dt.UTC
W = fsrs.scheduler.DEFAULT_PARAMETERS
KEY = 0xA1B2C3D4
MIN = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)

# Real entries from the vault.
VAULT_158 = "fsrs,2026-11-11T05:23:41.873Z,158,158.26026301,1,2,5,0,0,2026-06-06T05:23:41.873Z"
VAULT_1963 = ("fsrs,2031-11-26T00:00:00.000Z,1963,1962.84850637,4.98215312,2,11,0,0,"
              "2026-07-12T00:00:00.000Z")
LEARNING = "fsrs,2026-01-01T00:10:00.000Z,0,2.3065,2.11810397,1,1,0,1,2026-01-01T00:00:00.000Z"
RELEARNING = ("fsrs,2026-02-01T00:10:00.000Z,0,12.5,6.2,3,9,2,0,2026-02-01T00:00:00.000Z")


def fe(text: str) -> FsrsEntry:
    entry = parse_entry(text)
    assert isinstance(entry, FsrsEntry)
    return entry


def card_by_hand(entry: FsrsEntry) -> fsrs.Card:
    """The py-fsrs card for an OSR entry, from its fields (state 1..3 are py-fsrs's)."""
    return fsrs.Card(card_id=KEY, state=fsrs.State(entry.state),
                     step=None if entry.state == 2 else entry.step,
                     stability=entry.stability, difficulty=entry.difficulty,
                     due=entry.due, last_review=entry.last_review)


# --- FSRS entries ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [VAULT_158, VAULT_1963, LEARNING, RELEARNING])
def test_fsrs_entry_round_trips_losslessly(text: str) -> None:
    entry = fe(text)
    card = FsrsScheduler().to_fsrs_card(entry, KEY)
    assert card.card_id == KEY
    assert int(card.state) == entry.state
    assert card.step == (None if entry.state == 2 else entry.step)
    assert card.stability == entry.stability
    assert card.difficulty == entry.difficulty
    assert card.due == entry.due
    assert card.last_review == entry.last_review
    again = fsrs_entry(due=card.due, interval=entry.interval, stability=card.stability,
                       difficulty=card.difficulty, state=int(card.state), reps=entry.reps,
                       lapses=entry.lapses, step=card.step or 0, last_review=card.last_review)
    assert again.text == text


def test_vault_entry_fields() -> None:
    card = FsrsScheduler().to_fsrs_card(fe(VAULT_158), KEY)
    assert card.state == fsrs.State.Review
    assert card.stability == 158.26026301
    assert card.difficulty == 1.0
    assert card.due == dt.datetime(2026, 11, 11, 5, 23, 41, 873000, tzinfo=UTC)
    assert card.last_review == dt.datetime(2026, 6, 6, 5, 23, 41, 873000, tzinfo=UTC)


@pytest.mark.parametrize("text", [VAULT_158, VAULT_1963, LEARNING, RELEARNING])
@pytest.mark.parametrize("rating", list(Rating))
@pytest.mark.parametrize("days_after_due", [-3, 0, 0.5, 40])
def test_review_equals_py_fsrs(text: str, rating: Rating, days_after_due: float) -> None:
    entry = fe(text)
    now = entry.due + dt.timedelta(days=days_after_due)
    new = FsrsScheduler().review(entry, rating, now, KEY)
    fsrs_rating = fsrs.Rating[rating.value.capitalize()]
    # py-fsrs counts elapsed days as 24-hour periods since the last review; flashmark
    # gives it the learner's days (flashmark.days, day boundary 4): the same card with
    # its last review that many whole days before now.
    by_hand = card_by_hand(entry)
    assert entry.last_review is not None
    by_hand.last_review = now - dt.timedelta(days=elapsed_days(entry.last_review, now))
    expected, _ = fsrs.Scheduler(enable_fuzzing=False).review_card(by_hand, fsrs_rating, now)
    assert new.due == expected.due.replace(microsecond=expected.due.microsecond // 1000 * 1000)
    assert new.stability == pytest.approx(expected.stability, abs=5e-9)
    assert new.difficulty == pytest.approx(expected.difficulty, abs=5e-9)
    assert new.state == int(expected.state)
    assert new.step == (expected.step or 0)
    assert new.interval == max(0, (expected.due - now).days)
    assert new.last_review == now.replace(microsecond=now.microsecond // 1000 * 1000)
    assert new.reps == entry.reps + 1
    lapsed = entry.state == 2 and rating is Rating.AGAIN
    assert new.lapses == entry.lapses + (1 if lapsed else 0)


def test_vault_158_good_on_due_time() -> None:
    entry = fe(VAULT_158)
    new = FsrsScheduler().review(entry, Rating.GOOD, entry.due, KEY)
    # Written out: R after 158 whole days, then the FSRS-6 recall stability for D = 1.
    factor = 0.9 ** (-1 / W[20]) - 1
    r = (1 + factor * 158 / 158.26026301) ** -W[20]
    s = 158.26026301 * (1 + math.exp(W[8]) * (11 - 1.0) * 158.26026301 ** -W[9]
                        * math.expm1((1 - r) * W[10]))
    assert new.stability == pytest.approx(s, abs=5e-9)
    assert new.interval == round(s) == 525
    assert new.text.startswith("fsrs,2028-04-19T05:23:41.873Z,525,")


def test_retrievability() -> None:
    entry = fe(VAULT_158)
    sched = FsrsScheduler()
    factor = 0.9 ** (-1 / W[20]) - 1
    for days in (0, 1, 158, 400):
        expected = (1 + factor * days / 158.26026301) ** -W[20]
        assert entry.last_review is not None
        at = entry.last_review + dt.timedelta(days=days, hours=3)
        assert sched.retrievability(entry, at) == pytest.approx(expected, abs=1e-12)
    assert sched.retrievability(None, entry.due) is None


# --- new cards and learning steps -----------------------------------------------------------


def test_new_card_previews() -> None:
    now = dt.datetime(2026, 3, 13, 9, 0, tzinfo=UTC)
    previews = FsrsScheduler().preview(None, now, KEY)
    assert previews == {
        Rating.AGAIN: 1 * MIN,  # first learning step
        Rating.HARD: (1 * MIN + 10 * MIN) / 2,  # halfway to the second step
        Rating.GOOD: 10 * MIN,  # second step
        Rating.EASY: round(W[3]) * DAY,  # graduates at once: S0(Easy) = w3 = 8.2956
    }
    assert round(W[3]) == 8


def test_learning_steps_within_a_day() -> None:
    sched = FsrsScheduler()
    t0 = dt.datetime(2026, 3, 13, 9, 0, tzinfo=UTC)
    e1 = sched.review(None, Rating.GOOD, t0, KEY)
    assert (e1.state, e1.step, e1.interval, e1.due) == (1, 1, 0, t0 + 10 * MIN)
    e2 = sched.review(e1, Rating.AGAIN, e1.due, KEY)
    assert (e2.state, e2.step, e2.interval, e2.due) == (1, 0, 0, e1.due + MIN)
    assert e2.lapses == 0  # not a lapse: the card was still learning
    e3 = sched.review(e2, Rating.GOOD, e2.due, KEY)
    assert (e3.state, e3.step, e3.due) == (1, 1, e2.due + 10 * MIN)
    e4 = sched.review(e3, Rating.GOOD, e3.due, KEY)
    assert e4.state == 2 and e4.step == 0
    assert e4.interval >= 1
    assert e4.due == e3.due + e4.interval * DAY
    assert e4.interval == round(e4.stability)  # at r = 0.9 the interval is S, rounded
    assert (e1.reps, e2.reps, e3.reps, e4.reps) == (1, 2, 3, 4)
    # All same-day reviews: S only moved by the short-term formula, D by the usual update.
    assert e4.stability < 10


def test_again_on_review_card_lapses_into_relearning() -> None:
    entry = fe(VAULT_1963)
    now = entry.due + dt.timedelta(hours=5)
    new = FsrsScheduler().review(entry, Rating.AGAIN, now, KEY)
    assert new.state == 3
    assert new.step == 0
    assert new.lapses == entry.lapses + 1 == 1
    assert new.reps == 12
    assert new.due == now + 10 * MIN
    assert new.interval == 0
    assert new.stability < entry.stability
    # Relearning: Good at the last step goes back to Review.
    back = FsrsScheduler().review(new, Rating.GOOD, new.due, KEY)
    assert back.state == 2 and back.lapses == 1 and back.interval >= 1


def test_again_on_legacy_entry_counts_a_lapse() -> None:
    entry = parse_entry("2026-03-13,394,230")
    assert isinstance(entry, Sm2Entry)
    new = FsrsScheduler().review(entry, Rating.AGAIN, dt.datetime(2026, 3, 13, 12, tzinfo=UTC),
                                 KEY)
    assert (new.state, new.reps, new.lapses) == (3, 1, 1)


def test_maximum_interval_caps() -> None:
    entry = parse_entry("2026-03-13,394,230")
    assert isinstance(entry, Sm2Entry)
    now = dt.datetime(2026, 3, 13, 12, tzinfo=UTC)
    capped = FsrsScheduler(SchedulerConfig(maximum_interval=100))
    new = capped.review(entry, Rating.GOOD, now, KEY)
    assert new.interval == 100
    assert new.due == now + 100 * DAY
    assert new.stability == pytest.approx(394 * 2.3, abs=1e-8)  # S itself is not capped
    assert max(capped.preview(entry, now, KEY).values()) == 100 * DAY


def test_preview_matches_review_and_has_no_side_effects() -> None:
    sched = FsrsScheduler()
    entry = fe(VAULT_1963)
    now = entry.due
    before = fe(VAULT_1963)
    previews = sched.preview(entry, now, KEY)
    assert entry == before
    for rating, delta in previews.items():
        assert sched.review(entry, rating, now, KEY).due == now + delta
    assert previews[Rating.AGAIN] < previews[Rating.HARD] < previews[Rating.GOOD] \
        < previews[Rating.EASY]


@pytest.mark.parametrize("call", ["review", "review_as_sm2", "preview", "retrievability"])
def test_naive_datetime_raises(call: str) -> None:
    sched = FsrsScheduler()
    naive = dt.datetime(2026, 3, 13, 12)
    with pytest.raises(ValueError, match="timezone-aware"):
        if call == "review":
            sched.review(None, Rating.GOOD, naive, KEY)
        elif call == "review_as_sm2":
            sched.review_as_sm2(None, Rating.GOOD, naive, KEY)
        elif call == "preview":
            sched.preview(None, naive, KEY)
        else:
            sched.retrievability(fe(VAULT_158), naive)


def test_non_utc_now_is_converted() -> None:
    sched = FsrsScheduler()
    paris = dt.timezone(dt.timedelta(hours=1))
    now = dt.datetime(2026, 3, 13, 13, 0, tzinfo=paris)
    a = sched.review(fe(VAULT_1963), Rating.GOOD, now, KEY)
    b = sched.review(fe(VAULT_1963), Rating.GOOD, now.astimezone(UTC), KEY)
    assert a == b
    assert a.last_review == dt.datetime(2026, 3, 13, 12, 0, tzinfo=UTC)


# --- fuzz ---------------------------------------------------------------------------------


def py_fsrs_fuzz_range(days: int, maximum: int = 36500) -> tuple[int, int]:
    """py-fsrs 6.x fuzz ranges written out: 15% of 2.5..7 d, 10% of 7..20 d, 5% above."""
    delta = 1.0 + 0.15 * max(min(days, 7) - 2.5, 0) + 0.1 * max(min(days, 20) - 7, 0) \
        + 0.05 * max(days - 20, 0)
    return max(2, round(days - delta)), min(round(days + delta), maximum)


def test_fuzz_is_deterministic_and_in_range() -> None:
    entry = parse_entry("2026-03-13,394,230")
    assert isinstance(entry, Sm2Entry)
    fuzzed = FsrsScheduler(SchedulerConfig(enable_fuzzing=True))
    now = dt.datetime(2026, 3, 13, 12, tzinfo=UTC)
    lo, hi = py_fsrs_fuzz_range(906)
    assert (lo, hi) == (859, 953)
    state = random.getstate()
    seen = set()
    for key in range(1, 41):
        first = fuzzed.review(entry, Rating.GOOD, now, key)
        assert fuzzed.review(entry, Rating.GOOD, now, key) == first  # same key, same time
        assert FsrsScheduler(SchedulerConfig(enable_fuzzing=True)).review(
            entry, Rating.GOOD, now, key) == first  # also in a new scheduler
        assert fuzzed.preview(entry, now, key)[Rating.GOOD] == first.interval * DAY
        assert lo <= first.interval <= hi
        # Fuzz only moves the due date, not the memory state.
        assert first.stability == pytest.approx(394 * 2.3, abs=1e-8)
        seen.add(first.interval)
    assert len(seen) > 5  # it does fuzz
    assert random.getstate() == state  # the global RNG was neither used nor reseeded
    other_time = {fuzzed.review(entry, Rating.GOOD, now + dt.timedelta(seconds=s), 7).interval
                  for s in range(20)}
    assert len(other_time) > 1


def test_no_fuzz_for_learning_steps() -> None:
    fuzzed = FsrsScheduler(SchedulerConfig(enable_fuzzing=True))
    now = dt.datetime(2026, 3, 13, 12, tzinfo=UTC)
    assert fuzzed.preview(None, now, KEY)[Rating.GOOD] == 10 * MIN


# --- configuration ------------------------------------------------------------------------


def test_from_settings_and_version() -> None:
    cfg = SchedulerConfig.from_settings(
        SchedulingSettings(desired_retention=0.85, maximum_interval=365))
    assert (cfg.desired_retention, cfg.maximum_interval, cfg.enable_fuzzing) == (0.85, 365, True)
    assert cfg.parameters == DEFAULT_WEIGHTS == tuple(W)
    assert cfg.learning_steps == (dt.timedelta(minutes=1), dt.timedelta(minutes=10))
    custom = SchedulerConfig.from_settings(SchedulingSettings(
        fuzz=False, learning_steps=("30s", "1h"), relearning_steps=("1d",),
        weights=tuple(W[:19])))
    assert custom.learning_steps == (dt.timedelta(seconds=30), dt.timedelta(hours=1))
    assert custom.relearning_steps == (dt.timedelta(days=1),)
    assert not custom.enable_fuzzing and custom.parameters[:19] == tuple(W[:19])
    version = FsrsScheduler(cfg).version
    assert version == f"fsrs-{fsrs_version()}/flashmark-1"


def fsrs_version() -> str:
    from importlib.metadata import version

    return version("fsrs")


@pytest.mark.parametrize("kwargs", [
    {"desired_retention": 1.0}, {"desired_retention": 0.0}, {"desired_retention": 1.5},
    {"maximum_interval": 0}, {"weights": (0.1, 0.2)},
    {"weights": (*W[:20], 5.0)},  # w20 out of py-fsrs's bounds
    {"learning_steps": (dt.timedelta(0),)},
])
def test_bad_config_is_a_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as info:
        SchedulerConfig(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, FlashmarkError)


def test_custom_and_fsrs5_weights() -> None:
    fsrs5 = tuple(W[:19])
    cfg = SchedulerConfig(weights=fsrs5)
    assert cfg.weights == (*fsrs5, 0.0, 0.5)
    custom = (*W[:2], 3.5, *W[3:])
    now = dt.datetime(2026, 3, 13, 9, tzinfo=UTC)
    new = FsrsScheduler(SchedulerConfig(weights=custom)).review(None, Rating.GOOD, now, KEY)
    assert new.stability == 3.5  # initial stability for Good is w2


def test_no_learning_steps_graduates_at_once() -> None:
    sched = FsrsScheduler(SchedulerConfig(learning_steps=()))
    now = dt.datetime(2026, 3, 13, 9, tzinfo=UTC)
    new = sched.review(None, Rating.GOOD, now, KEY)
    assert new.state == 2 and new.interval == round(W[2])


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(state=st.sampled_from([1, 2, 3]), stability=st.floats(0.01, 36500),
       difficulty=st.floats(1, 10), step=st.integers(0, 3),
       last_days_ago=st.integers(0, 3000), minutes_after=st.integers(0, 24 * 60 * 3),
       fuzz=st.booleans())
def test_any_fsrs_entry_reviews(state: int, stability: float, difficulty: float, step: int,
                                last_days_ago: int, minutes_after: int, fuzz: bool) -> None:
    now = dt.datetime(2026, 3, 13, 12, tzinfo=UTC)
    last = now - dt.timedelta(days=last_days_ago, minutes=minutes_after)
    entry = fsrs_entry(due=last + dt.timedelta(days=1), interval=1, stability=stability,
                       difficulty=difficulty, state=state, reps=3, lapses=1, step=step,
                       last_review=last)
    sched = FsrsScheduler(SchedulerConfig(enable_fuzzing=fuzz))
    for rating in Rating:
        new = sched.review(entry, rating, now, KEY)
        assert new.stability > 0 and 1 <= new.difficulty <= 10
        assert new.due > now and new.interval >= 0
        assert new.reps == 4

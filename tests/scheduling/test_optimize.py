"""Log loss of FSRS predictions, and the refusal paths of `optimize`."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import fsrs
import pytest

import flashmark.scheduling.optimizer as opt
from flashmark.errors import FlashmarkError
from flashmark.model import Rating
from flashmark.scheduling import (
    MIN_REVIEWS,
    NotEnoughReviewsError,
    OptimizerUnavailableError,
    ReviewRecord,
    SchedulerConfig,
    log_loss,
    optimize,
    optimizer_available,
)

UTC = dt.UTC
W = fsrs.scheduler.DEFAULT_PARAMETERS
T0 = dt.datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
FACTOR = 0.9 ** (-1 / W[20]) - 1


def p_recall(days: float, stability: float, w20: float = W[20]) -> float:
    """FSRS-6 forgetting curve, written out."""
    factor = 0.9 ** (-1 / w20) - 1
    return float((1 + factor * days / stability) ** -w20)


def at(days: float, hours: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, hours=hours)


# Four cards whose one scored review follows the first one, so p has a closed form:
# after the first rating S = w[rating - 1].
TWO_STEP = [
    ReviewRecord(1, Rating.GOOD, at(0)), ReviewRecord(1, Rating.GOOD, at(3, 2)),  # 3 whole days
    ReviewRecord(2, Rating.AGAIN, at(0)), ReviewRecord(2, Rating.AGAIN, at(2)),
    ReviewRecord(3, Rating.HARD, at(0)), ReviewRecord(3, Rating.GOOD, at(5), 4200),
    ReviewRecord(4, Rating.EASY, at(0)), ReviewRecord(4, Rating.GOOD, at(0, 20)),  # same day
]


def test_log_loss_closed_form() -> None:
    p1 = p_recall(3, W[2])  # Good first: S = w2, recalled after 3 days
    p2 = p_recall(2, W[0])  # Again first: S = w0, forgotten after 2 days
    p3 = p_recall(5, W[1])  # Hard first: S = w1, recalled after 5 days
    expected = -(math.log(p1) + math.log(1 - p2) + math.log(p3)) / 3
    result = log_loss(TWO_STEP)
    assert result.count == 3  # card 4's second review is on the same day: not scored
    assert result.value == pytest.approx(expected, abs=1e-12)
    # Order of the records does not matter.
    assert log_loss(list(reversed(TWO_STEP))) == result


def test_log_loss_longer_history_matches_direct_replay() -> None:
    times = [at(0), at(0, 0.2), at(4), at(15), at(16, 1), at(60)]
    ratings = [Rating.GOOD, Rating.GOOD, Rating.GOOD, Rating.AGAIN, Rating.GOOD, Rating.EASY]
    records = [ReviewRecord(9, r, t) for r, t in zip(ratings, times, strict=True)]
    sched = fsrs.Scheduler(enable_fuzzing=False)
    card = fsrs.Card(card_id=9, due=times[0])
    terms = []
    for r, t in zip(ratings, times, strict=True):
        if card.last_review is not None and (t - card.last_review).days >= 1:
            assert card.stability is not None
            p = p_recall((t - card.last_review).days, card.stability)
            terms.append(math.log(p) if r is not Rating.AGAIN else math.log(1 - p))
        card, _ = sched.review_card(card, fsrs.Rating[r.value.capitalize()], t)
    assert len(terms) == 4
    result = log_loss(records)
    assert result.count == 4
    assert result.value == pytest.approx(-sum(terms) / len(terms), abs=1e-12)


def test_log_loss_with_other_weights() -> None:
    weights = (*W[:20], 0.3)  # another decay
    expected = -(math.log(p_recall(3, W[2], 0.3)) + math.log(1 - p_recall(2, W[0], 0.3))
                 + math.log(p_recall(5, W[1], 0.3))) / 3
    assert log_loss(TWO_STEP, weights).value == pytest.approx(expected, abs=1e-12)


def test_log_loss_of_nothing_is_nan() -> None:
    result = log_loss([ReviewRecord(1, Rating.GOOD, T0)])
    assert result.count == 0 and math.isnan(result.value)


def test_log_loss_rejects_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        log_loss([ReviewRecord(1, Rating.GOOD, dt.datetime(2026, 1, 1))])


def synthetic(cards: int) -> list[ReviewRecord]:
    """Each card: Good, then Good 3 days later, then Again or Good 10 days after that."""
    out: list[ReviewRecord] = []
    for key in range(1, cards + 1):
        out += [ReviewRecord(key, Rating.GOOD, at(0, key / 100)),
                ReviewRecord(key, Rating.GOOD, at(3, key / 100)),
                ReviewRecord(key, Rating.AGAIN if key % 5 == 0 else Rating.GOOD,
                             at(13, key / 100))]
    return out


def test_optimize_refuses_too_few_reviews() -> None:
    reviews = synthetic(150)  # 300 scored reviews
    assert log_loss(reviews).count == 300 < MIN_REVIEWS == 400
    with pytest.raises(NotEnoughReviewsError) as info:
        optimize(reviews)
    assert isinstance(info.value, FlashmarkError)
    assert "300 usable review(s)" in str(info.value)
    assert "at least 400" in str(info.value)


def test_optimize_without_an_optimizer_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opt, "_rs_available", lambda: False)
    monkeypatch.setattr(opt, "_torch_available", lambda: False)
    assert not optimizer_available()
    reviews = synthetic(210)  # 420 scored reviews: enough
    with pytest.raises(OptimizerUnavailableError) as info:
        optimize(reviews)
    assert isinstance(info.value, FlashmarkError)
    assert "install flashmark[optimizer]" in str(info.value)
    with pytest.raises(OptimizerUnavailableError):
        optimize(TWO_STEP, min_reviews=1)


def test_optimize_wiring_with_a_stand_in_optimizer(monkeypatch: pytest.MonkeyPatch) -> None:
    fitted = (0.5, 1.5, 3.0, 9.0, *W[4:])
    received: list[Any] = []

    class FakeOptimizer:
        def __init__(self, logs: list[Any]) -> None:
            received.extend(logs)

        def compute_optimal_parameters(self) -> list[float]:
            return list(fitted)

    monkeypatch.setattr(opt, "_load_optimizer", lambda: FakeOptimizer)
    result = optimize(TWO_STEP, min_reviews=3, force_torch=True)
    assert result.weights == fitted
    assert (result.review_count, result.card_count, result.scored_count) == (8, 4, 3)
    assert result.log_loss_before == log_loss(TWO_STEP).value
    assert result.log_loss_after == log_loss(TWO_STEP, fitted).value
    assert result.improved == (result.log_loss_after < result.log_loss_before)
    assert len(received) == 8
    first = received[4]
    assert (first.card_id, first.rating, first.review_datetime, first.review_duration) == (
        3, fsrs.Rating.Hard, at(0), None)
    assert received[5].review_duration == 4200
    # "before" uses the configured weights.
    custom = (*W[:2], 3.5, *W[3:])
    again = optimize(TWO_STEP, SchedulerConfig(weights=custom), min_reviews=3,
                     force_torch=True)
    assert again.log_loss_before == log_loss(TWO_STEP, custom).value


def simulated_learner(cards: int, seed: int = 7) -> list[ReviewRecord]:
    """A learner who forgets faster than FSRS's default weights expect: each card is
    reviewed at growing gaps and recalled with probability 0.9 ** (days / 2)."""
    import random

    rng = random.Random(seed)
    out: list[ReviewRecord] = []
    for key in range(1, cards + 1):
        day = 0.0
        out.append(ReviewRecord(key, Rating.GOOD, at(0, key / 1000)))
        gap = 2.0
        for _ in range(5):
            day += gap
            recalled = rng.random() < 0.9 ** (gap / 2)
            out.append(ReviewRecord(key, Rating.GOOD if recalled else Rating.AGAIN,
                                    at(int(day), key / 1000)))
            gap = gap * 2.5 if recalled else 1.0
    return out


@pytest.mark.skipif(not opt._rs_available(), reason="fsrs-rs-python (the optimizer extra) "
                                                    "is not installed")
def test_optimize_with_fsrs_rs_fits_a_learner_better_than_the_defaults() -> None:
    reviews = simulated_learner(120)  # 600 scored reviews
    result = optimize(reviews)
    assert result.scored_count == 600 and result.card_count == 120
    assert len(result.weights) == 21 and result.weights != tuple(W)
    assert result.improved
    assert result.log_loss_after < result.log_loss_before - 0.01
    assert result.log_loss_after == log_loss(reviews, result.weights).value

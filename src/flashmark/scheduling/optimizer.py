"""Fitting FSRS weights to the user's own review log, and measuring the fit.

py-fsrs's ``Optimizer`` needs torch (``pip install "fsrs[optimizer]"``); without it
:func:`optimize` refuses with :class:`OptimizerUnavailableError`. :func:`log_loss` needs
nothing beyond py-fsrs and is what :func:`optimize` reports before and after fitting.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import fsrs

from flashmark.errors import FlashmarkError
from flashmark.model import Rating
from flashmark.scheduling.fsrs_adapter import (
    _FSRS_RATING,
    DEFAULT_WEIGHTS,
    SchedulerConfig,
    _aware_utc,
    _check_weights,
)

__all__ = [
    "MIN_REVIEWS",
    "LogLoss",
    "NotEnoughReviewsError",
    "OptimizeResult",
    "OptimizerUnavailableError",
    "ReviewRecord",
    "log_loss",
    "optimize",
    "optimizer_available",
]

# Reviews that carry signal (see LogLoss.count) needed before fitting is allowed. FSRS's
# 21 weights fitted on fewer reviews overfit; Anki asks for a few hundred reviews before
# it optimises, and 400 is the figure we use.
MIN_REVIEWS = 400

# Predictions are clipped away from 0 and 1 so one confident miss cannot make the loss
# infinite (torch's BCELoss clamps log() at -100 for the same reason).
_P_EPSILON = 1e-9


class OptimizerUnavailableError(FlashmarkError):
    """py-fsrs's optimizer needs torch, which is not installed."""


class NotEnoughReviewsError(FlashmarkError):
    """Too few reviews to fit FSRS weights reliably."""


class ReviewRecord(NamedTuple):
    """One rating from the review log."""

    card_key: int  # int(card_id, 16)
    rating: Rating
    reviewed_at: dt.datetime  # timezone-aware
    duration_ms: int | None = None


@dataclass(frozen=True, slots=True)
class LogLoss:
    """Binary cross-entropy of the predicted recall probability against recall.

    ``count``: the reviews scored, i.e. every review of a card on a later day (by whole
    24-hour periods, as py-fsrs counts) than its previous review; first and same-day
    reviews carry no prediction. ``value`` is NaN when ``count`` is 0.
    """

    value: float
    count: int


@dataclass(frozen=True, slots=True)
class OptimizeResult:
    weights: tuple[float, ...]  # the fitted FSRS-6 weights (21)
    review_count: int  # reviews given
    card_count: int
    scored_count: int  # reviews that count in the loss (LogLoss.count)
    log_loss_before: float  # with the weights in use before fitting
    log_loss_after: float  # with the fitted weights, on the same reviews

    @property
    def improved(self) -> bool:
        return self.log_loss_after < self.log_loss_before


def _histories(reviews: Iterable[ReviewRecord]) -> dict[int, list[tuple[dt.datetime, Rating]]]:
    by_card: dict[int, list[tuple[dt.datetime, Rating]]] = {}
    for rec in reviews:
        when = _aware_utc(rec.reviewed_at, "review time")
        by_card.setdefault(int(rec.card_key), []).append((when, Rating(rec.rating)))
    for history in by_card.values():
        history.sort(key=lambda item: item[0])  # stable: equal times keep their order
    return by_card


def log_loss(reviews: Sequence[ReviewRecord],
             weights: Sequence[float] | None = None) -> LogLoss:
    """Replay each card's reviews with FSRS and score the predictions.

    Each card starts new at its first review. Before every later review on another day
    the scheduler's retrievability ``p`` is the prediction and ``y = rating != Again``
    the outcome; the loss is ``-mean(y log p + (1 - y) log(1 - p))``.
    """
    params = DEFAULT_WEIGHTS if weights is None else _check_weights(weights)
    scheduler = fsrs.Scheduler(parameters=params, enable_fuzzing=False)
    total = 0.0
    count = 0
    for key, history in _histories(reviews).items():
        card = fsrs.Card(card_id=key, due=history[0][0])
        for when, rating in history:
            last: dt.datetime | None = card.last_review
            if last is not None and (when - last).days > 0:
                p = float(scheduler.get_card_retrievability(card, when))
                p = min(max(p, _P_EPSILON), 1.0 - _P_EPSILON)
                total += math.log(p) if rating is not Rating.AGAIN else math.log(1.0 - p)
                count += 1
            card, _log = scheduler.review_card(card, _FSRS_RATING[rating], when)
    return LogLoss(-total / count if count else math.nan, count)


def _rs_available() -> bool:
    return importlib.util.find_spec("fsrs_rs_python") is not None


def _torch_available() -> bool:
    return all(importlib.util.find_spec(name) is not None
               for name in ("torch", "pandas", "tqdm"))


def optimizer_available() -> bool:
    """True when weights can be fitted: fsrs-rs-python (the `optimizer` extra, a small
    wheel, preferred) or py-fsrs's own Optimizer (needs torch) is installed."""
    return _rs_available() or _torch_available()


def _fit_with_fsrs_rs(reviews: list[ReviewRecord], start: Sequence[float]) -> list[float]:
    """fsrs-rs (Rust, no torch): one training item per review after a card's first,
    holding the card's history up to it with whole days between reviews."""
    import fsrs_rs_python as rs

    items = []
    for history in _histories(reviews).values():
        steps = []
        previous: dt.datetime | None = None
        for when, rating in history:
            delta = 0 if previous is None else max(0, (when - previous).days)
            steps.append(rs.FSRSReview(int(_FSRS_RATING[rating]), delta))
            previous = when
            if len(steps) > 1:
                items.append(rs.FSRSItem(list(steps)))
    return [float(w) for w in rs.FSRS(list(start)).compute_parameters(items)]


def _load_optimizer() -> Any:
    if not _torch_available():
        raise OptimizerUnavailableError(
            "fitting FSRS weights needs fsrs-rs-python or py-fsrs's optimizer (torch): "
            "install flashmark[optimizer] (pip install \"flashmark[optimizer]\", a small "
            "wheel)", hint="scheduling works without it, with the default FSRS-6 weights")
    from fsrs.optimizer import Optimizer

    return Optimizer


def optimize(reviews: list[ReviewRecord], config: SchedulerConfig | None = None, *,
             min_reviews: int = MIN_REVIEWS, force_torch: bool = False) -> OptimizeResult:
    """Fit FSRS weights to ``reviews`` with fsrs-rs-python (or py-fsrs's Optimizer).

    Refuses (NotEnoughReviewsError) with fewer than ``min_reviews`` scored reviews, then
    (OptimizerUnavailableError) when no optimizer is installed. The log loss before uses
    the config's weights (py-fsrs's defaults when it has none).
    """
    before_weights = (config or SchedulerConfig()).parameters
    before = log_loss(reviews, before_weights)
    if before.count < min_reviews:
        raise NotEnoughReviewsError(
            f"not enough reviews to fit FSRS weights: {before.count} usable review(s) "
            f"(a card reviewed again on a later day), at least {min_reviews} needed",
            hint="keep reviewing with the default weights and try again later")
    if _rs_available() and not force_torch:
        fitted = _fit_with_fsrs_rs(reviews, before_weights)
    else:
        optimizer_cls = _load_optimizer()
        logs = [fsrs.ReviewLog(card_id=int(r.card_key),
                               rating=_FSRS_RATING[Rating(r.rating)],
                               review_datetime=_aware_utc(r.reviewed_at, "review time"),
                               review_duration=r.duration_ms)
                for r in reviews]
        fitted = [float(w) for w in optimizer_cls(logs).compute_optimal_parameters()]
    weights = _check_weights(fitted)
    after = log_loss(reviews, weights)
    return OptimizeResult(weights=weights, review_count=len(reviews),
                          card_count=len({int(r.card_key) for r in reviews}),
                          scored_count=before.count, log_loss_before=before.value,
                          log_loss_after=after.value)

"""Scheduling: FSRS through py-fsrs, legacy SM-2 entries migrated the way Anki does it.

Importing this package imports py-fsrs (not torch); nothing here prints or touches files.
"""

from flashmark.scheduling.display import format_interval
from flashmark.scheduling.fsrs_adapter import (
    DEFAULT_WEIGHTS,
    EASE_MAX,
    EASE_MIN,
    FsrsScheduler,
    SchedulableEntry,
    SchedulerConfig,
    ease_from_memory_state,
    memory_state_from_sm2,
    stability_for_interval,
)
from flashmark.scheduling.optimizer import (
    MIN_REVIEWS,
    LogLoss,
    NotEnoughReviewsError,
    OptimizeResult,
    OptimizerUnavailableError,
    ReviewRecord,
    log_loss,
    optimize,
    optimizer_available,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "EASE_MAX",
    "EASE_MIN",
    "MIN_REVIEWS",
    "FsrsScheduler",
    "LogLoss",
    "NotEnoughReviewsError",
    "OptimizeResult",
    "OptimizerUnavailableError",
    "ReviewRecord",
    "SchedulableEntry",
    "SchedulerConfig",
    "ease_from_memory_state",
    "format_interval",
    "log_loss",
    "memory_state_from_sm2",
    "optimize",
    "optimizer_available",
    "stability_for_interval",
]

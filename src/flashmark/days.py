"""What day it is for the learner: the one rule for elapsed days, same-day reviews and
"due today" (scheduling.day_boundary, scheduling.elapsed_days).

A learner's day starts at ``day_boundary`` o'clock local time, not at midnight (Anki's
"next day starts at", 4 by default): a review at 03:00 belongs to the day before, so a
late-night session and the next evening's are one day apart, not two. Local time is the
system's time zone, whatever offset a ``--now`` was written with.

The OSR plugin (through ts-fsrs) counts elapsed days as UTC calendar days instead
(``dateDiffInDays``: the difference of the two UTC dates); ``elapsed_days: utc`` uses
that rule for the scheduler, for vaults reviewed with both tools.
"""

from __future__ import annotations

import datetime as dt

DEFAULT_DAY_BOUNDARY = 4  # o'clock, like Anki
LEARNER = "learner"
UTC = "utc"
ELAPSED_DAYS_RULES = (LEARNER, UTC)


def learner_day(moment: dt.datetime, day_boundary: int = DEFAULT_DAY_BOUNDARY) -> dt.date:
    """The learner's day ``moment`` (aware) falls in."""
    local = moment.astimezone()
    # Wall-clock arithmetic: 03:00 with boundary 4 is 23:00 of the day before.
    return (local.replace(tzinfo=None) - dt.timedelta(hours=day_boundary)).date()


def day_start(day: dt.date, day_boundary: int = DEFAULT_DAY_BOUNDARY) -> dt.datetime:
    """When the learner's day ``day`` starts (aware, in the system's time zone, with the
    offset in force on that day)."""
    return dt.datetime.combine(day, dt.time(day_boundary)).astimezone()


def elapsed_days(last_review: dt.datetime | dt.date, now: dt.datetime, *,
                 day_boundary: int = DEFAULT_DAY_BOUNDARY, rule: str = LEARNER) -> int:
    """Days between the last review and ``now`` (never negative).

    ``last_review`` is an instant (FSRS entries) or already a day (a legacy entry's
    ``DATE - INTERVAL``, a day in either rule).
    """
    if rule == UTC:
        today = now.astimezone(dt.UTC).date()
        last = (last_review.astimezone(dt.UTC).date()
                if isinstance(last_review, dt.datetime) else last_review)
    else:
        today = learner_day(now, day_boundary)
        last = (learner_day(last_review, day_boundary)
                if isinstance(last_review, dt.datetime) else last_review)
    return max(0, (today - last).days)

"""Reviews per day, actual retention and cards per state (stats.py additions)."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator

import pytest

from flashmark.stats import (
    DueCutoff,
    actual_retention,
    due_forecast,
    report,
    reviews_per_day,
    state_counts,
)
from flashmark.syntax import srcodec
from flashmark.vault.codec import Summary
from flashmark.vault.reviewlog import Event, event_from_json

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def _review(uid: str, when: str, rating: str, before: str | None) -> Event:
    return event_from_json({"event": "review", "uid": uid, "time": when, "id": "a" * 12,
                            "path": "n.md", "sibling": 0, "rating": rating, "before": before,
                            "after": "x"})


EVENTS = [
    _review("1", "2026-11-23T08:00:00.000Z", "good", "2026-11-20,10,250"),
    _review("2", "2026-11-23T08:01:00.000Z", "again", "2026-11-20,10,250"),
    _review("3", "2026-11-23T08:02:00.000Z", "easy", None),  # a new card
    _review("4", "2026-11-22T08:02:00.000Z", "hard",
            "fsrs,2026-11-22T00:00:00.000Z,3,3.1,5.0,2,3,0,0,2026-11-19T00:00:00.000Z"),
    _review("5", "2026-11-22T08:03:00.000Z", "again",  # in a learning step: not counted
            "fsrs,2026-11-22T08:00:00.000Z,0,1.1,5.0,1,1,0,0,2026-11-22T07:50:00.000Z"),
    _review("6", "2026-11-23T08:04:00.000Z", "again", "2026-11-20,10,250"),
    event_from_json({"event": "undo", "uid": "7", "of": "6", "time": "2026-11-23T08:05:00.000Z"}),
    _review("8", "2026-09-01T08:00:00.000Z", "again", "2026-08-20,10,250"),  # too old
    event_from_json({"event": "bury", "uid": "9", "time": "2026-11-23T08:00:00.000Z",
                     "id": "b" * 12, "path": "n.md"}),
]


def test_reviews_per_day() -> None:
    days = reviews_per_day(EVENTS, DueCutoff(NOW), days=7)
    assert days[0].day == dt.date(2026, 11, 17) and days[-1].day == NOW.date()
    today, yesterday = days[-1], days[-2]
    assert (today.again, today.hard, today.good, today.easy, today.new, today.total) == (
        1, 0, 1, 1, 1, 3)
    assert (yesterday.hard, yesterday.again, yesterday.total) == (1, 1, 2)
    assert sum(d.total for d in days) == 5


def test_actual_retention() -> None:
    r = actual_retention(EVENTS, DueCutoff(NOW), desired=0.9, days=30)
    assert (r.total, r.passed) == (3, 2)  # good, again today; hard yesterday
    assert r.actual == pytest.approx(2 / 3)
    assert actual_retention([], DueCutoff(NOW), 0.9).actual is None


def test_state_counts_and_forecast() -> None:
    summary: Summary = [
        ("d", "", "a" * 12, "n"),
        ("d", "2026-11-23T09:30:00.000Z", "b" * 12, "l"),
        ("d", "2026-11-20", "c" * 12, "r"),
        ("d", "2026-11-25", "d" * 12, "r"),
        ("d", "2026-11-20", "e" * 12, "r"),
        ("d", "?", "f" * 12, "?"),
    ]
    s = state_counts([summary], DueCutoff(NOW), suspended={"e" * 12}, buried=())
    assert (s.new, s.learning, s.review, s.due_today, s.suspended, s.unreadable, s.total) == (
        1, 1, 2, 1, 1, 1, 6)
    forecast = due_forecast([summary], DueCutoff(NOW), days=3)
    assert forecast == [(dt.date(2026, 11, 23), 3), (dt.date(2026, 11, 24), 0),
                        (dt.date(2026, 11, 25), 1), (dt.date(2026, 11, 26), 0)]
    data = report([summary], EVENTS, DueCutoff(NOW), 0.9, days=3).to_json()
    assert data["states"]["review"] == 3 and len(data["reviews_per_day"]) == 3


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/New_York",
                                  "Australia/Lord_Howe"])  # +5:30; DST; a 30-minute DST
def test_day_of_time_is_day_of_moment_in_every_zone(zone: str) -> None:
    """The per-minute memo of `DueCutoff.day_of_time` gives what parsing each time does,
    around every day's start, across time changes, in flashmark's form and others."""
    import random

    os.environ["TZ"] = zone
    time.tzset()
    rng = random.Random(zone)
    for boundary in (0, 4, 23):
        cutoff = DueCutoff(NOW, boundary)
        texts = []
        for k in range(-200, 200):  # days around NOW: Lord Howe and New York change in them
            start = dt.datetime.combine(NOW.date() + dt.timedelta(days=k),
                                        dt.time(boundary)).astimezone(dt.UTC)
            for delta in (-60_001, -1, 0, 1, 59_999, rng.randrange(86_400_000)):
                moment = start + dt.timedelta(milliseconds=delta)
                texts.append(srcodec.iso_ms(moment))
        texts += ["2026-11-23T09:00:00+05:30", "2026-11-23T03:59:59.999+00:00",
                  "2026-11-23T04:00:00"]
        rng.shuffle(texts)
        for text in texts + texts:  # the second time from the memo
            moment = dt.datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            assert cutoff.day_of_time(text) == cutoff.day_of_moment(moment), (zone, text)

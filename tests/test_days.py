"""Day counting (flashmark.days): the learner's day starts at scheduling.day_boundary;
scheduling.elapsed_days: utc is the plugin's (ts-fsrs) UTC calendar-day rule."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import fsrs
import pytest

from flashmark.config import load_settings
from flashmark.days import elapsed_days, learner_day
from flashmark.errors import ConfigError
from flashmark.model import FsrsEntry, Rating
from flashmark.review.queue import log_state
from flashmark.scheduling import FsrsScheduler, SchedulerConfig
from flashmark.stats import DueCutoff
from flashmark.syntax.srcodec import parse_entry
from flashmark.vault.reviewlog import Review

UTC = dt.UTC


@pytest.fixture
def hong_kong(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Hong_Kong")  # UTC+8, no daylight saving
    time.tzset()
    yield
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_a_review_at_three_counts_to_the_previous_day(hong_kong: None) -> None:
    assert learner_day(local(2026, 11, 23, 3)) == dt.date(2026, 11, 22)
    assert learner_day(local(2026, 11, 23, 4)) == dt.date(2026, 11, 23)
    assert learner_day(local(2026, 11, 23, 3), 0) == dt.date(2026, 11, 23)
    # the system's zone decides, whatever offset the instant is written with
    assert learner_day(dt.datetime(2026, 11, 22, 19, 30, tzinfo=UTC)) == dt.date(2026, 11, 22)


def test_same_day_reviews_and_due_today_follow_the_boundary(hong_kong: None) -> None:
    now = local(2026, 11, 23, 10)
    cutoff = DueCutoff(now)
    assert cutoff.today == dt.date(2026, 11, 23)
    assert cutoff.end == local(2026, 11, 24, 4)
    assert cutoff.is_due("2026-11-23T19:59:00.000Z")  # 03:59 tomorrow local: still today
    assert not cutoff.is_due("2026-11-23T20:00:00.000Z")
    events = [Review(time=t, id=cid, path="n.md", sibling=0, rating="good", duration_ms=None,
                     before="2026-11-01,3,250", after="x", scheduler="s", edit=None)
              for t, cid in (("2026-11-22T19:00:00.000Z", "aaaaaaaaaaa1"),  # 03:00 local
                             ("2026-11-22T20:30:00.000Z", "aaaaaaaaaaa2"))]  # 04:30 local
    assert list(log_state(events, cutoff).reviewed_today) == ["aaaaaaaaaaa2"]
    at_three = DueCutoff(local(2026, 11, 24, 3))  # 03:00 the next morning: still the 23rd
    assert at_three.today == dt.date(2026, 11, 23)
    assert sorted(log_state(events, at_three).reviewed_today) == ["aaaaaaaaaaa2"]


def test_elapsed_days_learner_and_utc(hong_kong: None) -> None:
    last = dt.datetime(2026, 11, 22, 20, 30, tzinfo=UTC)  # 04:30 local on the 23rd
    now = dt.datetime(2026, 11, 23, 19, 30, tzinfo=UTC)  # 03:30 local on the 24th, 23 h later
    assert elapsed_days(last, now) == 0  # one learner day
    assert elapsed_days(last, now, rule="utc") == 1  # crosses UTC midnight
    assert elapsed_days(last, now, day_boundary=0) == 1  # crosses local midnight
    assert elapsed_days(dt.date(2026, 11, 20), now) == 3  # a legacy review day


def test_again_after_23_hours_across_utc_midnight(hong_kong: None) -> None:
    """The issue's case: S 723, Again 23 hours later across UTC midnight. The learner's
    rule sees a same-day review (short-term stability); the plugin's UTC rule a lapse
    one day later. Each equals py-fsrs given that many elapsed days."""
    entry = parse_entry("fsrs,2028-11-14T20:30:00.000Z,723,723,5,2,9,0,0,"
                        "2026-11-22T20:30:00.000Z")
    assert isinstance(entry, FsrsEntry)
    now = dt.datetime(2026, 11, 23, 19, 30, tzinfo=UTC)
    results = {}
    for rule, days in (("learner", 0), ("utc", 1)):
        sched = FsrsScheduler(SchedulerConfig(enable_fuzzing=False, elapsed_days=rule))
        new = sched.review(entry, Rating.AGAIN, now, 1)
        card = fsrs.Card(card_id=1, state=fsrs.State.Review, step=None, stability=723.0,
                         difficulty=5.0, due=entry.due,
                         last_review=now - dt.timedelta(days=days))
        expected, _ = fsrs.Scheduler(enable_fuzzing=False).review_card(
            card, fsrs.Rating.Again, now)
        assert new.stability == pytest.approx(expected.stability, abs=5e-9)
        results[rule] = new.stability
    assert results["learner"] > 100 > 10 > results["utc"]


def test_config_keys(tmp_path: Path) -> None:
    (tmp_path / "flashmark.yaml").write_text(
        "scheduling:\n  day_boundary: 0\n  elapsed_days: utc\n")
    s = load_settings(tmp_path).scheduling
    assert (s.day_boundary, s.elapsed_days) == (0, "utc")
    config = SchedulerConfig.from_settings(s)
    assert (config.day_boundary, config.elapsed_days) == (0, "utc")
    assert load_settings(tmp_path / "nothing").scheduling.day_boundary == 4
    for bad in ("day_boundary: 24", "day_boundary: '4'", "elapsed_days: local"):
        (tmp_path / "flashmark.yaml").write_text(f"scheduling:\n  {bad}\n")
        with pytest.raises(ConfigError):
            load_settings(tmp_path)

"""Load balancing, checked against Anki 24.11's load balancer on a fixed due histogram
(every expected number is derived below from the algorithm, not printed from our code),
then through the scheduler and `flashmark rate` on a real vault."""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from flashmark.config import ParserSettings, SchedulingSettings, Settings, load_settings
from flashmark.model import FsrsEntry, Rating
from flashmark.review.balance import balancer_from_summaries
from flashmark.review.queue import scan_summaries
from flashmark.scheduling import FsrsScheduler, SchedulerConfig
from flashmark.scheduling.load_balance import (
    HORIZON_DAYS,
    Balance,
    LoadBalancer,
    choose_day,
    day_weights,
    easy_day_factors,
    fuzz_bounds,
)
from flashmark.syntax import srcodec

TODAY = dt.date(2026, 11, 23)  # a Monday


def test_fuzz_bounds_are_ankis() -> None:
    # Anki's own table (fuzz.rs tests): 2.5 -> 2..4, 7 -> 5..9, 17 -> 14..20, 37 -> 33..41;
    # under 2.5 no fuzz; a one-day range over 2 widens; limits respected.
    assert fuzz_bounds(2.49, 1, 1000) == (2, 2)
    assert fuzz_bounds(2.5, 1, 1000) == (2, 4)
    assert fuzz_bounds(7.0, 1, 1000) == (5, 9)
    assert fuzz_bounds(17.0, 1, 1000) == (14, 20)
    assert fuzz_bounds(37.0, 1, 1000) == (33, 41)
    assert fuzz_bounds(2.0, 3, 1000) == (3, 4)
    assert fuzz_bounds(100.0, 101, 1000) == (101, 108)
    assert fuzz_bounds(100.0, 1, 99) == (92, 99)
    # half away from zero, not to even: 19.9 -> delta 2.665+... -> 17..23 (Anki: 17, 23)
    assert fuzz_bounds(19.9, 3, 1000) == (17, 23)


# The fixed histogram: review cards due 5..9 days from TODAY (Sat..Wed).
COUNTS = [10, 4, 0, 2, 5]


def test_weights_on_a_fixed_histogram() -> None:
    # interval 7.0: delta = 1 + 0.15 * (7 - 2.5) = 1.675 -> days 5..9.
    # weight = 1 for an empty day, else (1/count)^2 * (1/days):
    #   5: (1/10)^2 / 5 = 0.002        6: (1/4)^2 / 6 = 0.0104166...
    #   7: empty -> 1.0                8: (1/2)^2 / 8 = 0.03125      9: (1/5)^2 / 9 = 0.00444...
    weights = day_weights(5, COUNTS, [False] * 5, [1.0] * 5)
    assert [d for d, _ in weights] == [5, 6, 7, 8, 9]
    assert [w for _, w in weights] == pytest.approx([0.002, 1 / 96, 1.0, 0.03125, 1 / 225])
    # Sampling: draw * total (1.0481111) against the running sums
    # 0.002, 0.0124167, 1.0124167, 1.0436667, 1.0481111.
    assert choose_day(weights, 0.0) == 5
    assert choose_day(weights, 0.005) == 6    # 0.00524: past 0.002, before 0.0124
    assert choose_day(weights, 0.5) == 7
    assert choose_day(weights, 0.97) == 8     # 1.01666: past 1.01242, before 1.04367
    assert choose_day(weights, 0.999) == 9    # 1.04706
    # A sibling due on day 8 divides its weight by 1000.
    sib = day_weights(5, COUNTS, [False, False, False, True, False], [1.0] * 5)
    assert sib[3][1] == pytest.approx(0.03125 * 0.001)


def test_easy_days_on_a_fixed_histogram() -> None:
    # Days 5..9 from Monday TODAY are Sat, Sun, Mon, Tue, Wed (weekday 5, 6, 0, 1, 2).
    weekdays = [(TODAY + dt.timedelta(days=d)).weekday() for d in range(5, 10)]
    assert weekdays == [5, 6, 0, 1, 2]
    fractions = {5: 0.5, 6: 0.0}  # Saturday reduced, Sunday minimum
    # loads: Sat 0.5, Sun 0.0001, others 1 -> total 3.5001; cards: 21.
    # Saturday: other days' cards 11 over other days' load 3.0001 = 3.6665; its count
    # 10 doubled (20) is above that -> minimum (0.0001). Sunday: minimum.
    assert easy_day_factors(fractions, weekdays, COUNTS) == [0.0001, 0.0001, 1.0, 1.0, 1.0]
    # With 1 card on Saturday: 2 <= 14 / 3.0001 = 4.67 -> Saturday stays normal.
    assert easy_day_factors(fractions, weekdays, [1, 4, 3, 2, 5]) == [1.0, 0.0001, 1, 1, 1]
    # One candidate day, reduced: the other days' load is 0 (Anki: x/0, never exceeded).
    assert easy_day_factors({5: 0.5}, [5], [7]) == [1.0]
    # An empty easy day keeps the weight 1 (Anki weighs an empty day 1, whatever else).
    assert day_weights(5, [0, 3], [False, False], [0.0001, 1.0])[0][1] == 1.0


def _balancer(counts: dict[int, int], easy: dict[int, float] | None = None) -> LoadBalancer:
    return LoadBalancer({TODAY + dt.timedelta(days=d): n for d, n in counts.items()},
                        start=TODAY, easy_days=easy)


def test_the_balancer_draws_with_the_seed() -> None:
    lb = _balancer(dict(zip(range(5, 10), COUNTS, strict=True)))
    for seed in range(40):
        choice = lb.choose(7.0, 1, 36500, today=TODAY, seed=seed)
        assert choice is not None
        draw = random.Random(seed).random()
        expected = 5 if draw < 0.002 / 1.0481111 else 6 if draw < 0.0124167 / 1.0481111 \
            else 7 if draw < 1.0124167 / 1.0481111 else 8 if draw < 1.0436667 / 1.0481111 else 9
        assert choice.interval == expected, seed
    # Over 90 days (or a minimum over 90): not balanced, the caller fuzzes.
    assert lb.choose(91.0, 1, 36500, today=TODAY, seed=1) is None
    assert lb.choose(90.7, 1, 36500, today=TODAY, seed=1) is not None
    assert lb.choose(30.0, 91, 36500, today=TODAY, seed=1) is None
    # Moving a card updates the histogram.
    day7, day8 = TODAY + dt.timedelta(days=7), TODAY + dt.timedelta(days=8)
    lb.move(None, day7)
    assert lb.count(day7) == COUNTS[2] + 1
    lb.move(day7, day8)
    assert (lb.count(day7), lb.count(day8)) == (COUNTS[2], COUNTS[3] + 1)
    lb.move(day8, None)
    assert lb.count(day8) == COUNTS[3]
    far = TODAY + dt.timedelta(days=HORIZON_DAYS)
    lb.move(None, far)  # past the horizon: not kept
    assert lb.count(far) == 0


REVIEW_ENTRY = srcodec.fsrs_entry(
    due=dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC), interval=30, stability=30.0,
    difficulty=5.0, state=2, reps=5, lapses=0, step=0,
    last_review=dt.datetime(2026, 10, 24, 8, 0, tzinfo=dt.UTC))


# Reviewed again a day after its last review, hard: py-fsrs gives Hard and Good one day.
TIE_ENTRY = srcodec.fsrs_entry(
    due=dt.datetime(2026, 12, 22, 8, 0, tzinfo=dt.UTC), interval=30, stability=30.0,
    difficulty=9.0, state=2, reps=5, lapses=0, step=0,
    last_review=dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC))


@pytest.mark.parametrize("entry", [REVIEW_ENTRY, TIE_ENTRY], ids=["due", "early"])
def test_hard_good_easy_stay_apart_in_days(entry: FsrsEntry) -> None:
    scheduler = FsrsScheduler(SchedulerConfig(enable_fuzzing=True))
    key = 0x1234567890AB
    raw_ties = 0
    lb = _balancer({d: (d * 7) % 11 for d in range(1, 99)})
    for minute in range(100):
        now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=minute)
        for balance in (None, Balance(lb)):
            days = {r: d.days for r, d in scheduler.preview(entry, now, key, balance).items()}
            assert days[Rating.HARD] < days[Rating.GOOD] < days[Rating.EASY], (now, days)
            written = scheduler.review(entry, Rating.GOOD, now, key, balance)
            assert written.due - now == dt.timedelta(days=days[Rating.GOOD])
        # py-fsrs alone fuzzes each rating separately: the case the rule is for happens.
        card = scheduler.to_fsrs_card(entry, key, now)
        hard = scheduler._py_review(card, Rating.HARD, now, key).due
        good = scheduler._py_review(card, Rating.GOOD, now, key).due
        raw_ties += (hard - now).days >= (good - now).days
    assert raw_ties == (100 if entry is TIE_ENTRY else 0)


def test_the_scheduler_lands_on_the_balanced_day() -> None:
    scheduler = FsrsScheduler(SchedulerConfig(enable_fuzzing=True))
    key = 0xABCDEF012345
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    card = scheduler.to_fsrs_card(REVIEW_ENTRY, key, now)
    good = scheduler._py_review(card, Rating.GOOD, now, key)
    assert good.stability is not None
    ivl = scheduler.interval_of(good.stability)
    lower, upper = fuzz_bounds(ivl, 1, 36500)
    # every candidate day full but one: that one is (almost surely) chosen
    empty = (lower + upper) // 2
    lb = _balancer({d: 0 if d == empty else 50 for d in range(lower, upper + 1)})
    entry = scheduler.review(REVIEW_ENTRY, Rating.GOOD, now, key, Balance(lb))
    assert (entry.due - now).days == empty
    assert entry.due - now == dt.timedelta(days=empty)
    # without the balancer: py-fsrs's own fuzz, as before
    plain = scheduler.review(REVIEW_ENTRY, Rating.GOOD, now, key)
    assert plain.due == good.due
    # fuzz off: nothing to balance among, the interval is exact
    exact = FsrsScheduler(SchedulerConfig(enable_fuzzing=False))
    assert exact.review(REVIEW_ENTRY, Rating.GOOD, now, key, Balance(lb)).due == \
        exact.review(REVIEW_ENTRY, Rating.GOOD, now, key).due


def test_flashmark_rate_balances_with_the_vault_histogram(tmp_path: Path, utc: None) -> None:
    """A real vault and `flashmark rate` in a process: the card lands on the one day of
    its fuzz range that has no card due; with load balancing off, on py-fsrs's day."""
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    scheduler = FsrsScheduler(SchedulerConfig(enable_fuzzing=True))
    card_line = f"What is balanced:@:the load <!--SR:!{REVIEW_ENTRY.text}-->"
    root = tmp_path / "vault"
    root.mkdir()
    (root / "rated.md").write_text(f"#flashcard\n\n{card_line}\n", encoding="utf-8")
    (root / "flashmark.yaml").write_text(
        "parser:\n  flashcard_tags: [flashcard]\nscheduling:\n  load_balance: true\n",
        encoding="utf-8")
    settings = load_settings(root)
    scan = subprocess.run([sys.executable, "-m", "flashmark", "scan", "--json", str(root)],
                          capture_output=True, text=True, check=True)
    card_id = json.loads(scan.stdout.splitlines()[0])["id"]
    key = int(card_id, 16)
    card = scheduler.to_fsrs_card(REVIEW_ENTRY, key, now)
    good = scheduler._py_review(card, Rating.GOOD, now, key)
    assert good.stability is not None
    lower, upper = fuzz_bounds(scheduler.interval_of(good.stability), 1, 36500)
    raw = (good.due - now).days
    empty = next(d for d in range(lower, upper + 1) if d != raw)
    lines = []
    for d in range(lower, upper + 1):
        if d == empty:
            continue
        due = srcodec.iso_ms(now + dt.timedelta(days=d))
        lines += [f"Filler {d} {k}:@:x <!--SR:!fsrs,{due},{d},30.0000,5.0000,2,5,0,0,"
                  f"{srcodec.iso_ms(now)}-->" for k in range(30)]
    (root / "load.md").write_text("#flashcard\n\n" + "\n".join(lines) + "\n",
                                  encoding="utf-8")
    notes = scan_summaries(root, settings)
    lb = balancer_from_summaries(notes, settings, now)
    assert lb.count(now.date() + dt.timedelta(days=empty)) == 0
    assert lb.count(now.date() + dt.timedelta(days=raw)) == 30
    done = subprocess.run([sys.executable, "-m", "flashmark", "rate", card_id, "good",
                           str(root), "--json", "--now", now.isoformat()],
                          capture_output=True, text=True, check=True)
    after = srcodec.parse_entry(json.loads(done.stdout)["after"])
    assert isinstance(after, type(REVIEW_ENTRY))
    assert (after.due - now).days == empty != raw
    # load_balance off: py-fsrs's fuzzed day, on a fresh copy of the card
    (root / "flashmark.yaml").write_text("parser:\n  flashcard_tags: [flashcard]\n",
                                         encoding="utf-8")
    (root / "rated.md").write_text(f"#flashcard\n\n{card_line}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "flashmark", "rate", card_id, "good",
                           str(root), "--json", "--now", now.isoformat()],
                          capture_output=True, text=True, check=True)
    after = srcodec.parse_entry(json.loads(done.stdout)["after"])
    assert isinstance(after, type(REVIEW_ENTRY))
    assert (after.due - now).days == raw


def test_settings_schema_for_load_balancing(tmp_path: Path) -> None:
    from flashmark.config import settings_from_yaml
    from flashmark.errors import ConfigError

    s = settings_from_yaml({"scheduling": {"load_balance": True,
                                           "easy_days": {"Saturday": 0.5, "sunday": 0}}})
    assert s.scheduling.load_balance
    assert s.scheduling.easy_days == (1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0)
    for bad in ({"easy_days": {"funday": 1}}, {"easy_days": {"sunday": 2}},
                {"easy_days": [1, 2]}, {"load_balance": "yes"}):
        with pytest.raises(ConfigError):
            settings_from_yaml({"scheduling": bad})
    assert Settings(ParserSettings(), SchedulingSettings()).scheduling.load_balance is False

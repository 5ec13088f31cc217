"""The load balancer's histogram counted from the notes' tallies equals the per-card
days (`DueCutoff.day_of` of every review card), across a daylight-saving change and on
the real vault; ratings and their undo move one card each."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flashmark.config import ParserSettings, SchedulingSettings, Settings, load_settings
from flashmark.identity import card_ids
from flashmark.model import STATE_LEARNING, STATE_NEW, STATE_REVIEW
from flashmark.review.balance import (
    balancer_from_summaries,
    record_rating,
    review_day_counts,
    sibling_days,
)
from flashmark.scheduling.load_balance import HORIZON_DAYS
from flashmark.stats import DueCutoff
from flashmark.syntax import parse_note, srcodec
from flashmark.vault.codec import NEW, UNREADABLE, Summary, tally
from flashmark.vault.scan import scan_vault
from tests.review.test_today import CORPUS, corpus


def per_card_days(summaries: list[Summary], cutoff: DueCutoff) -> dict[dt.date, int]:
    """What the balancer counted before: every review card's learner day in the window."""
    end = cutoff.today + dt.timedelta(days=HORIZON_DAYS)
    days: Counter[dt.date] = Counter()
    for summary in summaries:
        for _deck, key, _cid, state in summary:
            if state == STATE_REVIEW:
                day = cutoff.day_of(key)
                if day is not None and cutoff.today <= day < end:
                    days[day] += 1
    return dict(days)


@pytest.fixture
def new_york() -> Iterator[None]:
    """Local time with a daylight-saving change (2026-11-01) in the window."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def _instant(moment: dt.datetime) -> str:
    return srcodec.iso_ms(moment)


def test_day_counts_at_day_starts_across_a_time_change(new_york: None) -> None:
    now = dt.datetime(2026, 10, 20, 15, 0).astimezone()
    cutoff = DueCutoff(now, day_boundary=4)
    starts = [dt.datetime.combine(cutoff.today + dt.timedelta(days=k), dt.time(4)).astimezone()
              for k in range(HORIZON_DAYS + 2)]
    ms = dt.timedelta(milliseconds=1)
    cards: Summary = []
    for k, start in enumerate(starts):
        # instants just before and at each day's start, and dates on each day, in
        # numbers that differ from day to day (a card put on the wrong day shows)
        cards += [("d", _instant(start - ms), f"a{k}-{j}", STATE_REVIEW)
                  for j in range(k % 2 + 1)]
        cards += [("d", _instant(start), f"b{k}-{j}", STATE_REVIEW) for j in range(k % 3 + 1)]
        cards += [("e", (cutoff.today + dt.timedelta(days=k)).isoformat(), f"c{k}-{j}",
                   STATE_REVIEW) for j in range(k % 5 + 1)]
    cards += [("d", "2026-01-01", "old", STATE_REVIEW), ("d", NEW, "n", STATE_NEW),
              ("d", UNREADABLE, "u", STATE_REVIEW),
              ("d", _instant(starts[3]), "l", STATE_LEARNING),
              ("e", "2099-01-01", "far", STATE_REVIEW)]
    summaries = [cards[: len(cards) // 2], cards[len(cards) // 2:]]
    counted = review_day_counts([tally(s) for s in summaries], cutoff)
    assert counted == per_card_days(summaries, cutoff)
    # each day k: the instants at its start, its dates, the instants just before the
    # next day's start; those just before today's start are yesterday's (not counted)
    for k in range(HORIZON_DAYS):
        day = cutoff.today + dt.timedelta(days=k)
        assert counted[day] == k % 3 + 1 + k % 5 + 1 + (k + 1) % 2 + 1, day
    assert dt.date(2026, 11, 1) - cutoff.today < dt.timedelta(days=HORIZON_DAYS)


@pytest.fixture(scope="module")
def corpus_summaries(tmp_path_factory: pytest.TempPathFactory,
                     writable_copy: Callable[[Path, Path], Path]) -> list[Summary]:
    root = writable_copy(CORPUS, tmp_path_factory.mktemp("balance") / "vault")
    settings = load_settings(root)
    result = scan_vault(root, settings)
    try:
        return [n.summary for n in result.flashcard_notes()]
    finally:
        result.close()


@corpus
@pytest.mark.corpus
def test_day_counts_on_the_real_vault(corpus_summaries: list[Summary]) -> None:
    keys = sorted(key for s in corpus_summaries for _, key, _, state in s
                  if state == STATE_REVIEW and key != UNREADABLE)
    # "now" at several points of the vault's due dates: the window holds many cards
    for quantile in (0.1, 0.5, 0.9):
        key = keys[int(len(keys) * quantile)]
        now = dt.datetime.fromisoformat(key[:10] + "T12:00:00+00:00")
        cutoff = DueCutoff(now)
        expected = per_card_days(corpus_summaries, cutoff)
        assert sum(expected.values()) > 100
        assert review_day_counts([tally(s) for s in corpus_summaries], cutoff) == expected


def test_a_rating_and_its_undo_move_one_card() -> None:
    settings = Settings(ParserSettings(), SchedulingSettings(load_balance=True))
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    day = dt.date(2026, 11, 30)
    summary: Summary = [("d", day.isoformat(), "x", STATE_REVIEW),
                        ("d", day.isoformat(), "y", STATE_REVIEW)]
    lb = balancer_from_summaries([("n.md", summary)], settings, now)
    assert lb.count(day) == 2
    later = "2026-12-05,10,250"  # a legacy entry due on Dec 5
    record_rating(lb, settings, "2026-11-30,7,250", later, now)
    assert (lb.count(day), lb.count(dt.date(2026, 12, 5))) == (1, 1)
    record_rating(lb, settings, later, "2026-11-30,7,250", now)  # the undo
    assert (lb.count(day), lb.count(dt.date(2026, 12, 5))) == (2, 0)
    record_rating(lb, settings, None, "2026-12-01,1,250", now)  # a new card graduates
    assert lb.count(dt.date(2026, 12, 1)) == 1


def test_sibling_days_read_the_other_cards_entries() -> None:
    text = ("#flashcard\n\nA {@{one}@} and {@{two}@} and {@{three}@} "
            "<!--SR:!2026-12-01,5,250!2026-12-09,9,250-->\n")
    note = parse_note(text, ParserSettings(flashcard_tags=("flashcard",)))
    [question] = note.questions
    ids = card_ids(question, "n.md")
    assert len(ids) == 3
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    settings = Settings(ParserSettings(), SchedulingSettings())
    # the third card has no entry (new): only the second's day is a sibling's
    assert sibling_days(question, "n.md", ids[0], settings, now) == (dt.date(2026, 12, 9),)
    assert sibling_days(question, "n.md", ids[2], settings, now) == (
        dt.date(2026, 12, 1), dt.date(2026, 12, 9))

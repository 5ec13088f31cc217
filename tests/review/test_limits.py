"""Golden tests of the daily-limit arithmetic against Anki's documented rules.

The rules (Anki manual, "Deck Options" > "Daily Limits", and the v3 scheduler):
  R1 "Maximum reviews/day": at most that many review cards a day.
  R2 The review limit also applies to new cards: "if the review limit is 200 and 190
     reviews are waiting, at most 10 new cards" are shown; none once it is reached.
  R3 "New cards ignore review limit": then new cards are bounded by their own limit only.
  R4 A subdeck's limits bound the cards gathered from it; the limits of the deck above
     bound the total of it and its subdecks (flashmark applies every group's limits
     whichever deck is reviewed: Anki's "limits start from the top").
  R5 What was done today counts: today's reviews use review room; today's new cards use
     new room and, under R2, review room.
Every expected number is worked out by hand in the comment above it. Both the per-card
`DailyLimits.gather` (the queue) and the per-deck `limited_counts` (deck list, due, scan)
must give it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import pytest

from flashmark.config import DeckLimit, ReviewSettings, load_settings
from flashmark.review.limits import DailyLimits
from flashmark.review.queue import limited_counts, load_queue

PARENT = "lang"
CHILD = "lang/words"
OTHER = "math"


class C(NamedTuple):
    deck: str | None


def both(settings: ReviewSettings, reviews: dict[str | None, int], new: dict[str | None, int],
         *, new_done: Sequence[str | None] = (), reviews_done: Sequence[str | None] = ()
         ) -> tuple[int, int]:
    """(reviews, new) let through, checked to be the same per card and per deck."""
    limits = DailyLimits(settings, new_done=new_done, reviews_done=reviews_done)
    due = [C(d) for d, n in reviews.items() for _ in range(n)]
    fresh = [C(d) for d, n in new.items() for _ in range(n)]
    taken_reviews, taken_new = limits.gather(due, fresh)
    decks = sorted(reviews.keys() | new.keys(), key=lambda d: d or "")
    per_deck = limited_counts(limits, [(d, reviews.get(d, 0), new.get(d, 0)) for d in decks])
    assert per_deck == (len(taken_reviews), len(taken_new))
    return per_deck


def test_review_limit_bounds_new_cards_r1_r2() -> None:
    s = ReviewSettings(new_per_day=20, max_reviews_per_day=200)
    # R2, the manual's own example: 200 - 190 = 10 new cards
    assert both(s, {OTHER: 190}, {OTHER: 50}) == (190, 10)
    # R1 + R2: 250 reviews waiting -> 200 shown, the limit is reached: 0 new
    assert both(s, {OTHER: 250}, {OTHER: 50}) == (200, 0)
    # few reviews: the new limit (20) is what binds
    assert both(s, {OTHER: 5}, {OTHER: 50}) == (5, 20)


def test_new_cards_ignore_review_limit_r3() -> None:
    s = ReviewSettings(new_per_day=20, max_reviews_per_day=200, new_ignores_review_limit=True)
    # R3: 190 waiting reviews leave new cards alone: min(20, 50) = 20
    assert both(s, {OTHER: 190}, {OTHER: 50}) == (190, 20)
    # and 250 reviews: 200 reviews, still 20 new
    assert both(s, {OTHER: 250}, {OTHER: 50}) == (200, 20)


def test_what_was_done_today_counts_r5() -> None:
    s = ReviewSettings(new_per_day=20, max_reviews_per_day=200)
    done: dict[str, Sequence[str | None]] = {"reviews_done": [OTHER] * 30,
                                             "new_done": [OTHER] * 5}
    # review room: 200 - 30 reviews - 5 new (R2) = 165; new room: min(20 - 5, 165) = 15
    # 300 waiting -> 165 reviews; no review room left -> 0 new
    assert both(s, {OTHER: 300}, {OTHER: 50}, **done) == (165, 0)
    # 100 waiting -> 100 reviews; room 65 left, new min(15, 65) = 15
    assert both(s, {OTHER: 100}, {OTHER: 50}, **done) == (100, 15)
    # R3: today's new cards do not use review room: 200 - 30 = 170 reviews; 20 - 5 = 15 new
    s3 = ReviewSettings(new_per_day=20, max_reviews_per_day=200, new_ignores_review_limit=True)
    assert both(s3, {OTHER: 300}, {OTHER: 50}, **done) == (170, 15)


def test_parent_limits_bound_the_children_r4() -> None:
    s = ReviewSettings(new_per_day=99, max_reviews_per_day=None, deck_limits=(
        (PARENT, DeckLimit(new_per_day=10, max_reviews_per_day=50)),
        (CHILD, DeckLimit(new_per_day=20, max_reviews_per_day=30))))
    # the child alone: its own 30 reviews of 40 (R1); new: its own 20, the parent's 10
    # (R4), and review room left: child 30 - 30 = 0 (R2) -> 0 new
    assert both(s, {CHILD: 40}, {CHILD: 40}) == (30, 0)
    # 10 child reviews: child room 20 left, parent 40 left; new min(20, 10, 20, 40) = 10
    assert both(s, {CHILD: 10}, {CHILD: 40}) == (10, 10)
    # parent and child: the child gives at most 30 reviews, both together at most 50;
    # the parent's review room is then 0 -> no new cards from either
    assert both(s, {PARENT: 40, CHILD: 40}, {PARENT: 5, CHILD: 5}) == (50, 0)
    # a deck in no configured group is bounded by the shared limits only (no review
    # limit, 99 new)
    assert both(s, {OTHER: 500}, {OTHER: 500}) == (500, 99)


def test_parent_limits_with_new_cards_ignoring_the_review_limit_r3_r4() -> None:
    s = ReviewSettings(new_per_day=99, new_ignores_review_limit=True, deck_limits=(
        (PARENT, DeckLimit(new_per_day=10, max_reviews_per_day=50)),
        (CHILD, DeckLimit(new_per_day=20, max_reviews_per_day=30))))
    # reviews as before: 50; new: the child's 20 bounded by the parent's 10 -> 10 in all
    assert both(s, {PARENT: 40, CHILD: 40}, {PARENT: 5, CHILD: 40}) == (50, 10)
    # the old form, a number: the deck's new-card limit (reviews: the global, none here)
    old = ReviewSettings(new_per_day=99, deck_limits=((PARENT, 4), (CHILD, 3)))
    assert both(old, {CHILD: 100}, {PARENT: 10, CHILD: 10}) == (100, 4)
    assert both(old, {}, {CHILD: 10}) == (0, 3)


def test_zero_limits() -> None:
    s = ReviewSettings(new_per_day=0, max_reviews_per_day=0)
    assert both(s, {OTHER: 10}, {OTHER: 10}) == (0, 0)


@pytest.mark.parametrize(("text", "expected"), [
    ("review:\n  max_reviews_per_day: 150\n", ReviewSettings(max_reviews_per_day=150)),
    ("review:\n  decks:\n    lang: 5\n    lang/words: {max_reviews_per_day: 40}\n",
     ReviewSettings(deck_limits=(("lang", 5),
                                 ("lang/words", DeckLimit(max_reviews_per_day=40))))),
    ("review:\n  new_ignores_review_limit: true\n  leech_threshold: 4\n"
     "  leech_action: suspend\n",
     ReviewSettings(new_ignores_review_limit=True, leech_threshold=4, leech_action="suspend")),
])
def test_the_settings_read(text: str, expected: ReviewSettings) -> None:
    import yaml

    from flashmark.review.settings import review_settings_from

    assert review_settings_from(yaml.safe_load(text)["review"]) == expected


def test_a_wrong_deck_limit_names_its_key() -> None:
    from flashmark.errors import ConfigError
    from flashmark.review.settings import review_settings_from

    with pytest.raises(ConfigError, match=r"review\.decks\.lang: unknown limit\(s\) new"):
        review_settings_from({"decks": {"lang": {"new": 3}}})
    with pytest.raises(ConfigError, match=r"review\.decks\.lang: max_reviews_per_day must"):
        review_settings_from({"decks": {"lang": {"max_reviews_per_day": -1}}})


# --- learning cards (Anki's v3 scheduler) ------------------------------------------------
# R6 Intraday learning cards (a step within the day) are not limited, and use no room:
#    Anki's manual, "Daily Limits": the limits bound new and review cards.
# R7 Anki limits *interday* learning cards (a step that crosses the day boundary) with
#    the review limit (Anki 2.1.47); flashmark does not tell them apart and counts them
#    as Learn, unlimited (docs/compatibility.md, "Daily limits and Anki's v3 scheduler").

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)  # learner's day: 2026-11-23 (UTC)


def _learning(due: str, last: str) -> str:
    return f"!fsrs,{due},0,0.4,6.0,1,1,0,1,{last}"


def _queue_counts(tmp_path: Path, review: str, learning: str) -> tuple[int, int, int]:
    root = tmp_path / "v"
    root.mkdir()
    (root / "flashmark.yaml").write_text(review)
    (root / "cards.md").write_text(
        f"learning :@: step <!--SR:{learning}-->\n\n"
        "due one :@: a <!--SR:!2026-11-20,3,250-->\n\n"
        "due two :@: b <!--SR:!2026-11-21,3,250-->\n\n"
        "new one :@: c\n")
    settings = load_settings(root)
    return load_queue(root, settings, settings.review, NOW).counts()


@pytest.mark.parametrize(("limit", "expected"), [
    # R6, R1, R2: the learning card is shown whatever the limit; 1 review fills a limit
    # of 1 and leaves no room for the new card; a limit of 3 takes both reviews, 1 new
    (0, (0, 1, 0)), (1, (0, 1, 1)), (2, (0, 1, 2)), (3, (1, 1, 2))])
def test_intraday_learning_cards_are_not_limited_r6(tmp_path: Path, utc: None, limit: int,
                                                    expected: tuple[int, int, int]) -> None:
    in_ten_minutes = _learning("2026-11-23T09:10:00.000Z", "2026-11-23T09:00:00.000Z")
    assert _queue_counts(tmp_path, f"review:\n  max_reviews_per_day: {limit}\n",
                         in_ten_minutes) == expected


def test_interday_learning_cards_are_not_limited_either_r7(tmp_path: Path, utc: None) -> None:
    # a one-day step begun yesterday: Anki would take it against the review limit of 1
    # (Learn 1, Due 0); flashmark shows it as Learn, unlimited, and one review (Due 1)
    one_day_step = _learning("2026-11-23T08:00:00.000Z", "2026-11-22T08:00:00.000Z")
    assert _queue_counts(tmp_path, "review:\n  max_reviews_per_day: 1\n",
                         one_day_step) == (0, 1, 1)

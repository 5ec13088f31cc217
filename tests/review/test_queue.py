"""Today's queue from index summaries + the review log; the `review:` settings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from flashmark.config import load_settings
from flashmark.errors import ConfigError
from flashmark.model import LEARNING, NEW_CARD, REVIEW
from flashmark.review.queue import (
    build_queue,
    deck_tree,
    load_queue,
    log_state,
    read_log_events,
    scan_summaries,
)
from flashmark.review.settings import (
    SHARED,
    ReviewSettings,
    load_review_settings,
    review_settings_from,
)
from flashmark.stats import DueCutoff, count_decks
from flashmark.vault.codec import Summary, tally
from flashmark.vault.reviewlog import Event, ReviewLog, event_from_json

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
CUTOFF = DueCutoff(NOW)
CUSTOMERS = "flashcard/active/business/customers"


def _notes(vault: Path) -> list[tuple[str, Summary]]:
    return scan_summaries(vault, load_settings(vault))


def _event(kind: str, card: str, time: str = "2026-11-23T08:00:00.000Z", **extra: Any
           ) -> Event:
    """A log line as `ReviewLog` reads it (validated)."""
    if kind == "review":
        extra = {"sibling": 0, "rating": "good", "before": None, "after": "x", **extra}
    return event_from_json({"v": 1, "uid": extra.pop("uid", f"{kind}-{card}-{time}"),
                            "event": kind, "time": time, "id": card, "path": "x.md", **extra})


def _undo(uid: str, of: str) -> Event:
    return event_from_json({"v": 1, "uid": uid, "event": "undo", "of": of,
                            "time": "2026-11-23T08:40:00.000Z"})


# --- the queue from the index alone --------------------------------------------------


def test_queue_matches_the_deck_counts_and_caps_new_cards(vault: Path) -> None:
    notes = _notes(vault)
    queue = build_queue(notes, log_state([], CUTOFF), CUTOFF, ReviewSettings())
    counts = count_decks((tally(s) for _, s in notes), CUTOFF)
    assert len(queue.reviews) == sum(c.due for c in counts.values()) == 33
    assert len(queue.learning) == sum(c.learning for c in counts.values()) == 0
    assert len(queue.new) == sum(c.new for c in counts.values()) == 107
    assert queue.counts() == (20, 0, 33)  # new cards: the default 20 a day
    assert all(c.kind == REVIEW for c in queue.reviews)
    assert all(c.kind == NEW_CARD for c in queue.new)
    # due order: oldest due first, ties in vault order
    keys = [(c.key, c.ordinal) for c in queue.reviews]
    assert keys == sorted(keys)
    # new cards in note order
    assert [c.ordinal for c in queue.new] == sorted(c.ordinal for c in queue.new)


def test_deck_filter_and_tree(vault: Path) -> None:
    notes = _notes(vault)
    everything = build_queue(notes, log_state([], CUTOFF), CUTOFF, ReviewSettings())
    only = build_queue(notes, log_state([], CUTOFF), CUTOFF, ReviewSettings(),
                       deck="#" + CUSTOMERS + "/")
    assert only.reviews and all(c.deck and c.deck.startswith(CUSTOMERS + "/")
                                for c in only.reviews + only.new)
    tree = deck_tree(everything)
    assert tree["flashcard"] == tree["flashcard/active/business"]
    assert tree["flashcard"].review == 33 and tree["flashcard"].new == 20
    assert tree[CUSTOMERS].review == len(only.reviews)
    # a leaf deck shows its own new cards, capped by the shared budget
    jobs = tree[CUSTOMERS + "/customer_jobs"]
    assert jobs.new == 16 and jobs.review == 4


def test_random_and_deck_orders(vault: Path) -> None:
    notes = _notes(vault)
    state = log_state([], CUTOFF)
    by_due = build_queue(notes, state, CUTOFF, ReviewSettings())
    shuffled = build_queue(notes, state, CUTOFF, ReviewSettings(order="random"))
    again = build_queue(notes, state, CUTOFF, ReviewSettings(order="random"))
    other_seed = build_queue(notes, state, CUTOFF, ReviewSettings(order="random"), seed=7)
    assert sorted(c.id for c in shuffled.reviews) == sorted(c.id for c in by_due.reviews)
    assert [c.id for c in shuffled.reviews] != [c.id for c in by_due.reviews]
    assert [c.id for c in shuffled.reviews] == [c.id for c in again.reviews]  # same day
    assert [c.id for c in other_seed.reviews] != [c.id for c in shuffled.reviews]
    by_deck = build_queue(notes, state, CUTOFF, ReviewSettings(order="deck"))
    decks = [c.deck or "" for c in by_deck.reviews]
    assert decks == sorted(decks)


def test_learning_cards_today_in_due_order_later_ones_left_out() -> None:
    summary: Summary = [
        ("d", "2026-11-23T09:30:00.000Z", "aaaaaaaaaaa1", "l"),
        ("d", "2026-11-23T08:50:00.000Z", "aaaaaaaaaaa2", "l"),
        # tomorrow: the next learner day starts at 04:00 (the default day boundary)
        ("d", "2026-11-24T04:10:00.000Z", "aaaaaaaaaaa3", "l"),
        ("d", "2026-11-23T23:00:00.000Z", "aaaaaaaaaaa4", "r"),  # review: all day
        ("d", "2026-11-24", "aaaaaaaaaaa5", "r"),
        ("d", "?", "aaaaaaaaaaa6", "?"),
    ]
    queue = build_queue([("n.md", summary)], log_state([], CUTOFF), CUTOFF, ReviewSettings())
    assert [c.id for c in queue.learning] == ["aaaaaaaaaaa2", "aaaaaaaaaaa1"]
    assert all(c.kind == LEARNING for c in queue.learning)
    assert queue.learning[0].due_at == dt.datetime(2026, 11, 23, 8, 50, tzinfo=dt.UTC)
    assert [c.id for c in queue.reviews] == ["aaaaaaaaaaa4"]


# --- what the log changes --------------------------------------------------------------


def test_new_cards_introduced_today_use_up_the_limit(vault: Path) -> None:
    notes = _notes(vault)
    new_ids = [cid for _, s in notes for _, key, cid, _ in s if key == ""]
    events = [_event("review", cid, before=None, after="x", rating="good")
              for cid in new_ids[:5]]
    events.append(_event("review", new_ids[5], before="2000-01-01,1,250", rating="good",
                         uid="r6"))
    events.append(_undo("u6", "r6"))
    # yesterday's new cards do not count
    events.append(_event("review", new_ids[6], "2026-11-22T23:59:00.000Z", before=None))
    state = log_state(events, CUTOFF)
    assert sorted(state.introduced_today) == sorted(new_ids[:5])
    queue = build_queue(notes, state, CUTOFF, ReviewSettings())
    assert queue.budgets == {SHARED: 15}
    assert queue.counts()[0] == 15


def test_a_parent_decks_limit_bounds_its_sub_decks(vault: Path) -> None:
    notes = _notes(vault)
    settings = ReviewSettings(new_per_day=5, deck_limits=((CUSTOMERS, 0),
                                                          (CUSTOMERS + "/customer_jobs", 3)))
    assert settings.group_of(CUSTOMERS + "/customer_jobs") == CUSTOMERS + "/customer_jobs"
    assert settings.group_of(CUSTOMERS + "/personas") == CUSTOMERS
    assert settings.group_of("flashcard/active/business/value_proposition/x") == SHARED
    assert settings.pools_of(CUSTOMERS + "/customer_jobs") == (
        CUSTOMERS, CUSTOMERS + "/customer_jobs")
    queue = build_queue(notes, log_state([], CUTOFF), CUTOFF, settings)
    # customer_jobs' own 3 are bounded by its parent's 0, as in Anki
    assert queue.budgets == {SHARED: 5, CUSTOMERS: 0, CUSTOMERS + "/customer_jobs": 0}
    assert queue.counts()[0] == 5
    tree = deck_tree(queue)
    assert tree[CUSTOMERS].new == tree[CUSTOMERS + "/customer_jobs"].new == 0
    assert tree["flashcard"].new == 5
    # parent 4, child 3: the child gives at most 3, the parent's sub-decks 4 together
    settings = ReviewSettings(new_per_day=5, deck_limits=((CUSTOMERS, 4),
                                                          (CUSTOMERS + "/customer_jobs", 3)))
    tree = deck_tree(build_queue(notes, log_state([], CUTOFF), CUTOFF, settings))
    assert tree[CUSTOMERS + "/customer_jobs"].new == 3
    assert tree[CUSTOMERS].new == 4
    assert tree["flashcard"].new == 4 + 5


def test_bury_suspend_unsuspend_and_undo() -> None:
    a, b, c, d, e = ("aaaaaaaaaaa1", "aaaaaaaaaaa2", "aaaaaaaaaaa3", "aaaaaaaaaaa4",
                     "aaaaaaaaaaa5")
    events = [
        _event("bury", a, until="2026-11-24T00:00:00.000Z"),
        _event("bury", b, "2026-11-22T10:00:00.000Z", until="2026-11-23T00:00:00.000Z"),
        _event("bury", e, until="2026-11-24T00:00:00.000Z", uid="be"),
        _undo("ue", "be"),
        _event("suspend", c),
        _event("suspend", d, uid="sd"),
        _event("unsuspend", d, "2026-11-23T08:30:00.000Z"),
    ]
    state = log_state(events, CUTOFF)
    assert set(state.buried) == {a}  # b's bury is over, e's was undone
    assert set(state.suspended) == {c}
    summary: Summary = [("d", "2026-11-20", cid, "r") for cid in (a, b, c, d, e)]
    queue = build_queue([("n.md", summary)], state, CUTOFF, ReviewSettings())
    assert [x.id for x in queue.reviews] == [b, d, e]
    assert (queue.buried, queue.suspended) == (1, 1)
    # tomorrow the bury is over; the suspension is not
    tomorrow = DueCutoff(NOW + dt.timedelta(days=1))
    later = build_queue([("n.md", summary)], log_state(events, tomorrow), tomorrow,
                        ReviewSettings())
    assert [x.id for x in later.reviews] == [a, b, d, e]


def test_fast_log_reader_keeps_what_log_state_needs(tmp_path: Path) -> None:
    log = ReviewLog(tmp_path)
    log.append(_event("review", "aaaaaaaaaaa1", "2026-11-01T10:00:00.000Z"))
    today = log.append(_event("review", "aaaaaaaaaaa2", "2026-11-23T08:00:00.000Z"))
    log.append(_event("bury", "aaaaaaaaaaa3", "2026-11-23T08:01:00.000Z",
                      until="2026-11-24T00:00:00.000Z"))
    log.append(_event("suspend", "aaaaaaaaaaa4", "2026-10-01T08:01:00.000Z"))
    with open(log.path, "ab") as fh:
        fh.write(b'{"torn line\n')
    fast = read_log_events(log.path, CUTOFF)
    assert [e.kind for e in fast] == ["review", "bury", "suspend"]
    assert fast[0].uid == today.uid
    full = log_state(log.events(), CUTOFF)
    quick = log_state(fast, CUTOFF)
    assert (quick.reviewed_today, quick.introduced_today, quick.buried.keys(),
            quick.suspended.keys()) == (full.reviewed_today, full.introduced_today,
                                        full.buried.keys(), full.suspended.keys())
    assert read_log_events(tmp_path / "missing.jsonl", CUTOFF) == []


def _reference_read(data: bytes, cutoff: DueCutoff) -> list[Event]:
    """`read_log_events` as it was written first: every complete line looked at."""
    from flashmark.review.queue import _utc_days, wanted_line
    from flashmark.vault.reviewlog import parse_line

    days = [b'"time":"' + d.encode() for d in _utc_days(cutoff)]
    events = (parse_line(line)[0] for line in data.split(b"\n")[:-1]
              if wanted_line(line, days))
    return [e for e in events if e is not None]


@pytest.mark.parametrize("seed", range(6))
def test_the_log_reader_finds_the_lines_a_line_by_line_reading_would(
        tmp_path: Path, seed: int) -> None:
    """A long log of every kind of line: compact and spaced JSON (a hand-edited or
    merged line), reviews of many days and of today, buries, suspensions, undos,
    leeches, garbage, a line with two markers, an empty line, a torn last line."""
    import random

    rng = random.Random(seed)
    days = ["2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"]
    lines: list[bytes] = []
    for k in range(400):
        card = f"{rng.randrange(16 ** 12):012x}"
        time = f"{rng.choice(days)}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00.000Z"
        kind = rng.choice(["review"] * 6 + ["bury", "suspend", "unsuspend", "leech",
                                            "undo", "garbage", "empty"])
        obj: dict[str, Any] = {"v": 1, "uid": f"u{k}", "event": kind, "time": time,
                               "id": card, "path": "x.md"}
        if kind == "review":
            obj.update(sibling=0, rating="good", before=None, after="x")
        elif kind == "bury":
            obj["until"] = "2026-11-24T00:00:00.000Z"
        elif kind == "leech":
            obj["lapses"] = 8
        elif kind == "undo":
            obj = {"v": 1, "uid": f"u{k}", "event": "undo", "of": f"u{k - 1}", "time": time}
        if kind == "garbage":
            lines.append(b'{"event":"review","time":"2026-11-23T' + bytes(rng.randrange(256)
                                                                        for _ in range(8)))
        elif kind == "empty":
            lines.append(b"")
        else:
            spaced = rng.random() < 0.2
            text = json.dumps(obj, separators=(", ", ": ") if spaced else (",", ":"))
            if rng.random() < 0.05:  # a marker in a text field too
                text = text[:-1] + ', "note": "\\"event\\":\\"bury\\""}'
            lines.append(text.encode())
    data = b"\n".join(lines) + b"\n" + b'{"v":1,"event":"bury","time":"2026-11-23'
    log = tmp_path / "reviews.jsonl"
    log.write_bytes(data)
    expected = _reference_read(data, CUTOFF)
    assert len(expected) > 50
    assert read_log_events(log, CUTOFF) == expected
    log.write_bytes(data[:data.rfind(b"\n") + 1])  # no torn line: the same events
    assert read_log_events(log, CUTOFF) == expected


def test_local_day_spans_two_utc_dates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time as time_module

    # UTC+8: the learner's day starts at 04:00 local, 20:00 UTC the day before
    monkeypatch.setenv("TZ", "Asia/Hong_Kong")
    time_module.tzset()
    try:
        now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)  # 17:00 local on 11-23
        cutoff = DueCutoff(now)
        log = ReviewLog(tmp_path)
        for time, cid in (("2026-11-22T19:59:00.000Z", "aaaaaaaaaaa1"),  # 03:59 local: 11-22
                          ("2026-11-22T20:01:00.000Z", "aaaaaaaaaaa2"),  # 04:01 local: 11-23
                          ("2026-11-23T08:00:00.000Z", "aaaaaaaaaaa3")):
            log.append(_event("review", cid, time))
        state = log_state(read_log_events(log.path, cutoff), cutoff)
        assert sorted(state.reviewed_today) == ["aaaaaaaaaaa2", "aaaaaaaaaaa3"]
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time_module.tzset()


def test_load_queue_reads_the_vault(vault: Path) -> None:
    settings = load_settings(vault)
    queue = load_queue(vault, settings, load_review_settings(vault), NOW)
    assert queue.counts() == (20, 0, 33)
    assert queue.total == 224


# --- settings ------------------------------------------------------------------------


def test_review_settings_from_yaml(vault: Path) -> None:
    (vault / "flashmark.yaml").write_text(
        (vault / "flashmark.yaml").read_text() + "\nreview:\n  new_per_day: 7\n"
        "  decks:\n    '#flashcard/active/business/customers/': 2\n"
        "  bury_siblings: false\n  order: random\n  learn_ahead: 5m\n")
    settings = load_review_settings(vault)
    assert settings == ReviewSettings(new_per_day=7, deck_limits=((CUSTOMERS, 2),),
                                      bury_siblings=False, order="random",
                                      learn_ahead=dt.timedelta(minutes=5))
    load_settings(vault)  # the main settings accept the review: key


def test_review_settings_defaults(tmp_path: Path) -> None:
    assert load_review_settings(tmp_path) == ReviewSettings()
    assert review_settings_from(None) == ReviewSettings()
    assert review_settings_from({"learn_ahead": 0}).learn_ahead == dt.timedelta(0)


@pytest.mark.parametrize(("value", "message"), [
    ([1], "'review' must be a mapping"),
    ({"new_per_dya": 3}, "unknown review setting(s) new_per_dya"),
    ({"new_per_day": -1}, "review.new_per_day must be a whole number"),
    ({"new_per_day": True}, "review.new_per_day must be a whole number"),
    ({"decks": ["a"]}, "review.decks must map deck names to limits"),
    ({"decks": {"a/b": "lots"}}, "review.decks.a/b must be a whole number"),
    ({"decks": {"#/": 3}}, "is not a deck name"),
    ({"bury_siblings": "yes"}, "review.bury_siblings must be true or false"),
    ({"order": "oldest"}, "review.order must be one of due, random, deck"),
    ({"learn_ahead": "soon"}, "review.learn_ahead: 'soon' is not a duration"),
])
def test_review_settings_errors(value: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        review_settings_from(value)
    assert message in str(info.value)
    assert "flashmark.yaml" in str(info.value)


def test_unreadable_yaml_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "flashmark.yaml").write_text("review: [unclosed\n")
    with pytest.raises(ConfigError):
        load_review_settings(tmp_path)
    (tmp_path / "flashmark.yaml").write_text(json.dumps([1, 2]))
    with pytest.raises(ConfigError, match="mapping at the top level"):
        load_review_settings(tmp_path)


def test_a_queue_over_chosen_cards_is_a_filtered_deck(tmp_path: Path) -> None:
    """`review --search`: the matching cards that are new, learning today or in review,
    due or not (review ahead), without the daily limits; suspended, buried and other
    cards stay out. Built by `review.overview.build_queues` as the reviewer does."""
    from flashmark.review.overview import build_queues, search_ids
    from tests.review.search_support import make_vault

    vault = tmp_path / "vault"
    ids = make_vault(vault)
    (vault / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard"]\n'
                                          "review:\n  new_per_day: 0\n"
                                          "  max_reviews_per_day: 1\n")
    settings = load_settings(vault)
    review = load_review_settings(vault)
    matched = search_ids(vault, settings, "-deck:flashcard/b/sub or suspended or buried",
                         NOW)
    assert {ids["suspended due"], ids["buried due"], ids["new one"]} <= matched
    overview, queue = build_queues(vault, settings, review, NOW,
                                   search="-deck:flashcard/b/sub or suspended or buried")
    assert [c.id for c in queue.learning] == [ids["learning fsrs"]]
    assert {c.id for c in queue.reviews} == {ids["due legacy"], ids["later fsrs"],
                                            ids["leech card"]}
    assert [c.id for c in queue.new] == [ids["new one"]] and queue.new_today == 1
    assert {c.kind for c in queue.reviews} == {REVIEW} and queue.held_back == 0
    # today's queue of the same vault: the limits hold, nothing is reviewed ahead
    assert overview.new_today == 0 and overview.held_back == 3 and not overview.reviews
    assert ids["later fsrs"] not in {c.id for c in overview.reviews}

"""Leeches (review.leech) and what a card is today (review.today) on small real vaults:
ratings through the session, the log read back, `check` run as a command."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from flashmark.config import load_settings
from flashmark.model import TODAY_DUE, TODAY_NEW, TODAY_SIBLING, TODAY_SUSPENDED, Rating
from flashmark.review.leech import leech_warning_due, logged_leeches
from flashmark.review.queue import load_queue, log_state, read_log_events, today_cards
from flashmark.review.session import ReviewSession
from flashmark.review.settings import ReviewSettings
from flashmark.review.today import note_sibling_groups
from flashmark.stats import DueCutoff
from flashmark.vault.reviewlog import LOG_NAME, Leech, ReviewLog, Suspend

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def _entry(lapses: int) -> str:
    """An FSRS review card due two days ago with ``lapses`` lapses."""
    return (f"!fsrs,2026-11-21T09:00:00.000Z,10,10.0,5.0,2,{lapses + 3},{lapses},0,"
            "2026-11-11T09:00:00.000Z")


def _vault(tmp_path: Path, lapses: int, review: str = "") -> Path:
    root = tmp_path / "v"
    root.mkdir()
    (root / "flashmark.yaml").write_text(review)
    (root / "cards.md").write_text(
        "# cards\n\n"
        f"hard word :@: its meaning <!--SR:{_entry(lapses)}-->\n\n"
        "north ::@:: south <!--SR:!2026-11-22,3,250!2026-11-22,3,250-->\n")
    return root


def _rate_first(root: Path, rating: Rating, review: ReviewSettings) -> tuple[ReviewSession,
                                                                            str | None]:
    settings = load_settings(root)
    queue = load_queue(root, settings, review, NOW)
    session = ReviewSession(root, settings, queue, clock=lambda: NOW)
    card = session.next_card()
    assert card is not None and card.card.question.front == "hard word"
    session.reveal()
    result = session.rate(rating)
    assert result.rated
    return session, result.leech


@pytest.mark.parametrize(("threshold", "lapses", "warn"), [
    (8, 7, False), (8, 8, True), (8, 9, False), (8, 11, False), (8, 12, True),
    (8, 16, True), (5, 5, True), (5, 6, False), (5, 7, True), (1, 3, True), (0, 8, False)])
def test_anki_repeat_warnings(threshold: int, lapses: int, warn: bool) -> None:
    # at the threshold, then every half threshold (5 // 2 = 2: 5, 7, 9...), 0: never
    assert leech_warning_due(lapses, threshold) is warn


def test_the_eighth_lapse_tags_a_leech(tmp_path: Path) -> None:
    root = _vault(tmp_path, lapses=7)
    session, leech = _rate_first(root, Rating.AGAIN, ReviewSettings())
    assert leech is not None and "8 times" in leech
    events = ReviewLog(root).events()
    assert [e.lapses for e in events if isinstance(e, Leech)] == [8]
    assert not any(isinstance(e, Suspend) for e in events)  # leech_action: tag
    assert logged_leeches(root) == {session._history[-1].item.id: 8}
    # the card is still in today's learning queue, and counted as a leech
    queue = load_queue(root, load_settings(root), ReviewSettings(), NOW)
    assert queue.leeches == 1 and len(queue.learning) == 1


def test_leech_action_suspend(tmp_path: Path) -> None:
    root = _vault(tmp_path, lapses=7)
    review = ReviewSettings(leech_action="suspend")
    session, leech = _rate_first(root, Rating.AGAIN, review)
    assert leech is not None and "suspended" in leech
    assert not session.learning  # not asked again today
    queue = load_queue(root, load_settings(root), review, NOW)
    assert queue.suspended == 1 and not queue.learning


@pytest.mark.parametrize(("lapses", "rating"), [(6, Rating.AGAIN), (7, Rating.GOOD)])
def test_no_leech_below_the_threshold_or_without_a_lapse(tmp_path: Path, lapses: int,
                                                          rating: Rating) -> None:
    root = _vault(tmp_path, lapses=lapses)
    _, leech = _rate_first(root, rating, ReviewSettings())
    assert leech is None and logged_leeches(root) == {}


def test_check_reports_a_leech_at_its_line(tmp_path: Path) -> None:
    root = _vault(tmp_path, lapses=7)
    _rate_first(root, Rating.AGAIN, ReviewSettings())
    run = subprocess.run([sys.executable, "-m", "flashmark", "check", str(root), "--json"],
                         capture_output=True, text=True, check=False)
    found = [json.loads(line) for line in run.stdout.splitlines()]
    leeches = [f for f in found if f["code"] == "leech"]
    assert len(leeches) == 1 and leeches[0]["path"] == "cards.md"
    assert leeches[0]["line"] == 3 and leeches[0]["severity"] == "warning"
    assert run.returncode == 0  # a warning, not an error


def test_a_reviewed_reversible_hides_its_sibling_everywhere(tmp_path: Path) -> None:
    root = _vault(tmp_path, lapses=0)
    settings = load_settings(root)
    cutoff = DueCutoff(NOW)

    def statuses() -> list[str]:
        from flashmark.review.queue import scan_summaries

        notes = scan_summaries(root, settings)
        state = log_state(read_log_events(root / ".flashmark" / LOG_NAME, cutoff), cutoff)
        return [c.status for c in today_cards(notes, state, cutoff, ReviewSettings(),
                                               note_sibling_groups(root, settings))]

    assert statuses() == [TODAY_DUE, TODAY_DUE, TODAY_DUE]
    session = ReviewSession(root, settings, load_queue(root, settings, ReviewSettings(), NOW),
                            clock=lambda: NOW)
    session.next_card()
    session.suspend()  # the hard word
    card = session.next_card()
    assert card is not None and card.card.question.front == "north"
    session.reveal()
    session.rate(Rating.GOOD)
    assert statuses() == [TODAY_SUSPENDED, "later", TODAY_SIBLING]
    assert session.next_card() is None  # the session agrees
    # bury_siblings off: the backward card is due again
    off = ReviewSettings(bury_siblings=False)
    queue = load_queue(root, settings, off, NOW)
    assert queue.counts() == (0, 0, 1)
    assert TODAY_NEW not in statuses()


def test_overdue_order_is_relative_overdueness(tmp_path: Path) -> None:
    root = tmp_path / "v"
    root.mkdir()
    (root / "n.md").write_text(
        "a :@: 1 <!--SR:!2026-11-13,100,250-->\n\n"  # 10 days late, interval 100: 11/100
        "b :@: 2 <!--SR:!2026-11-21,2,250-->\n\n"  # 2 days late, interval 2: 3/2
        "c :@: 3 <!--SR:!2026-11-22,30,250-->\n")  # 1 day late, interval 30: 2/30
    settings = load_settings(root)

    def fronts(order: str) -> list[str]:
        queue = load_queue(root, settings, ReviewSettings(order=order), NOW)
        return ["abc"[c.ordinal - 1] for c in queue.reviews]  # the cards in note order

    assert fronts("due") == ["a", "b", "c"]
    assert fronts("overdue") == ["b", "a", "c"]


def test_undoing_the_lapse_takes_the_leech_back(tmp_path: Path) -> None:
    root = _vault(tmp_path, lapses=7)
    review = ReviewSettings(leech_action="suspend")
    session, leech = _rate_first(root, Rating.AGAIN, review)
    assert leech is not None and logged_leeches(root)
    session.undo()
    assert logged_leeches(root) == {}
    queue = load_queue(root, load_settings(root), review, NOW)
    assert queue.suspended == 0 and queue.leeches == 0 and queue.counts() == (0, 0, 3)


def test_prefetched_queue_keeps_suspended_buried_and_leeches(tmp_path: Path) -> None:
    # The forked queue builder sends the queue through marshal: log events must cross.
    from flashmark.review.prefetch import Prefetch

    root = _vault(tmp_path, lapses=7)
    review = ReviewSettings()
    session, _ = _rate_first(root, Rating.AGAIN, review)  # a leech, in learning
    card = session.next_card()
    assert card is not None
    session.bury()  # north -> south; its sibling is due too
    opened = Prefetch(root, load_settings(root), review, lambda: NOW).opened()
    direct = load_queue(root, load_settings(root), review, NOW)
    got = opened.overview
    assert (got.leeches, got.buried, got.counts()) == (1, 1, direct.counts())
    assert (direct.leeches, direct.buried) == (1, 1)
    assert set(got.state.leeches) == set(direct.state.leeches)
    assert set(got.state.buried) == set(direct.state.buried)

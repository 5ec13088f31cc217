"""The reviewer beside other writers (issue 12), driven with Textual's Pilot on a copy of
notes/: the note edited while a card is shown, the card rated by another process
(`flashmark rate`), the card deleted before its rating, a read-only note, two sessions on
one vault; and the answer timer under an injected clock."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

from flashmark.config import load_settings
from flashmark.model import Rating
from flashmark.review.overview import open_review
from flashmark.review.settings import load_review_settings
from flashmark.tui.app import FlashmarkApp
from flashmark.tui.rated_elsewhere_screen import RatedElsewhereScreen
from flashmark.tui.review_screen import ReviewScreen
from flashmark.vault.reviewlog import Event, Pending, ReviewLog, in_effect, reviews
from tests.tui.tui_support import NOW, Clock, drive, ready, review_session, shown


def _events(vault: Path) -> list[Event]:
    return ReviewLog(vault).events()


def _messages(app: FlashmarkApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def _flashmark_rate(vault: Path, card_id: str, rating: str = "good") -> None:
    subprocess.run([sys.executable, "-m", "flashmark", "rate", card_id, rating, str(vault),
                    "--now", NOW.isoformat()], check=True, capture_output=True, text=True)


def test_edit_of_the_note_while_shown(vault: Path) -> None:
    """Another part of the note is edited while the card is up: the card is re-read,
    the rating lands in the edited note (the edit kept), one review."""
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        card = shown(app)
        path = vault / card.path
        edited = path.read_bytes() + b"\nA line added by another editor.\n"
        path.write_bytes(edited)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await screen._check_disk()  # what the one-second timer does
        await pilot.pause()
        assert any("changed on disk" in m for m in _messages(app))
        await pilot.press("space", "3")
        await ready(pilot)
        text = path.read_bytes()
        assert text.endswith(b"\nA line added by another editor.\n")
        rated = reviews(_events(vault))
        assert [r.id for r in rated] == [card.id]
        assert rated[0].after.encode() in text

    drive(vault, steps)


def test_card_rated_by_another_process_while_shown(vault: Path) -> None:
    """`flashmark rate` rates the card on screen: rating it is not silently a second
    review: the reviewer tells and asks; s skips (one review in the log), and for the
    next such card r rates anyway (a second review, from the note's new entry)."""
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        card = shown(app)
        _flashmark_rate(vault, card.id)
        assert len(reviews(_events(vault))) == 1
        await pilot.press("space", "3")
        await ready(pilot)
        assert isinstance(app.screen, RatedElsewhereScreen)
        assert "rated elsewhere" in app.screen.message
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        assert shown(app).id != card.id
        assert [r.id for r in reviews(_events(vault))] == [card.id]

        second = shown(app)
        _flashmark_rate(vault, second.id, "hard")
        await pilot.press("space", "4")
        await ready(pilot)
        assert isinstance(app.screen, RatedElsewhereScreen)
        await pilot.press("r")
        await pilot.pause()
        rated = [r for r in reviews(in_effect(_events(vault))) if r.id == second.id]
        assert [r.rating for r in rated] == ["hard", "easy"]
        assert rated[1].before == rated[0].after  # rated from what the other one wrote

    drive(vault, steps)


def test_card_reviewed_elsewhere_since_queued_is_skipped(vault: Path) -> None:
    """Cards rated by another process after the queue was built and before they are
    shown are skipped with a notice (they are no longer due)."""
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        session = review_session(app)
        upcoming = session.reviews[:2]
        assert len(upcoming) == 2
        for item in upcoming:
            _flashmark_rate(vault, item.id, "easy")
        await pilot.press("space", "3")
        await ready(pilot)
        on_screen = shown(app)
        assert on_screen.id not in {item.id for item in upcoming}
        notices = [m for m in _messages(app) if "reviewed elsewhere" in m]
        assert len(notices) == 2
        ids = [r.id for r in reviews(_events(vault))]
        assert sorted(ids[:2]) == sorted(i.id for i in upcoming) and len(ids) == 3

    drive(vault, steps)


def test_card_deleted_then_rated_keeps_the_rating_as_pending(vault: Path) -> None:
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        card = shown(app)
        path = vault / card.path
        data = path.read_bytes()
        start, end = card.card.question.span.start, card.card.question.span.end
        path.write_bytes(data[:start] + data[end:])
        await pilot.press("space", "2")
        await ready(pilot)
        assert any("no longer in its note" in m and "pending" in m for m in _messages(app))
        pending = [e for e in _events(vault) if isinstance(e, Pending)]
        assert [(p.id, p.rating) for p in pending] == [(card.id, "hard")]
        assert pending[0].before == card.card.entry_text and pending[0].after
        assert not reviews(_events(vault))
        assert shown(app).id != card.id

    drive(vault, steps)


def test_read_only_note_is_never_replaced(vault: Path) -> None:
    """chmod 444: refused with a clear message, the rating kept as pending. flashmark goes
    by the permission bits, so this holds when the tests run as root (CI) too."""
    holder: dict[str, Any] = {}

    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        card = shown(app)
        path = vault / card.path
        before = path.read_bytes()
        inode = path.stat().st_ino
        path.chmod(0o444)
        holder["path"] = path
        await pilot.press("space", "3")
        await ready(pilot)
        assert any("read-only" in m and "pending" in m for m in _messages(app)), _messages(app)
        assert path.read_bytes() == before and path.stat().st_ino == inode
        assert stat.S_IMODE(path.stat().st_mode) == 0o444
        pending = [e for e in _events(vault) if isinstance(e, Pending)]
        assert [p.id for p in pending] == [card.id]
        assert not reviews(in_effect(_events(vault)))  # staged, then aborted

    try:
        drive(vault, steps)
    finally:
        if "path" in holder:
            os.chmod(holder["path"], 0o644)


def test_two_sessions_on_one_vault(vault: Path) -> None:
    """A second reviewer (the same session code the other window runs) rates the card
    this one shows: this one asks before rating it again; skipping writes nothing."""
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        card = shown(app)
        other = open_review(vault, load_settings(vault), load_review_settings(vault), Clock())
        assert other.first is not None and other.first.id == card.id
        other.session.reveal()
        assert other.session.rate(Rating.GOOD).rated
        # the other session goes on to the next card; so does this one after asking
        await pilot.press("space", "3")
        await ready(pilot)
        assert isinstance(app.screen, RatedElsewhereScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert [r.id for r in reviews(_events(vault))] == [card.id]
        # the card the other session shows next is rated here first: it asks there too
        nxt = other.session.next_card()
        assert nxt is not None and nxt.id == shown(app).id
        await pilot.press("space", "3")
        await ready(pilot)
        other.session.reveal()
        result = other.session.rate(Rating.GOOD)
        assert result.conflict and not result.rated
        assert [r.id for r in reviews(_events(vault))] == [card.id, nxt.id]

    drive(vault, steps)


def test_timer_and_todays_study_in_the_header(vault: Path) -> None:
    """The timer follows the injected clock (still under a fixed one), stops at
    review.max_answer_seconds, and the capped time is what the log records."""
    clock = Clock()

    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        info = screen.query_one("#cardinfo", Static)
        screen._tick()
        assert "0:00 · today 0 cards, 0 min" in str(info.render())
        clock.now = NOW + dt.timedelta(seconds=42)
        screen._tick()
        assert "0:42 · today 0 cards, 0 min" in str(info.render())
        clock.now = NOW + dt.timedelta(seconds=75)
        screen._tick()
        assert "1:00 · today 0 cards" in str(info.render())  # capped at 60 s
        await pilot.press("space", "3")
        await ready(pilot)
        rated = reviews(_events(vault))
        assert [r.duration_ms for r in rated] == [60000]
        screen._tick()
        assert "0:00 · today 1 card, 1 min" in str(info.render())

    drive(vault, steps, clock=clock)
    # a new session counts today's study from the log
    reopened = open_review(vault, load_settings(vault), load_review_settings(vault), clock)
    assert (reopened.session.studied_today, reopened.session.studied_ms) == (1, 60000)


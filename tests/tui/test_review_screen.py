"""The reviewer's state and its rating worker: what shows follows the state's CSS
classes; a rating is written in a thread, and keys pressed while it is written wait
for it (held here with a gate, so "while" is certain, not a matter of timing)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from flashmark.model import Rating
from flashmark.review.session import RateResult, ReviewSession
from flashmark.tui.app import FlashmarkApp
from flashmark.tui.review_screen import ReviewScreen
from flashmark.vault.reviewlog import ReviewLog, Undo, reviews
from tests.tui.tui_support import drive, ready, review_session, shown


def _screen(app: FlashmarkApp) -> ReviewScreen:
    screen = app.screen
    assert isinstance(screen, ReviewScreen)
    return screen


def _gate(session: ReviewSession, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Hold the session's ratings (in the worker's thread) until the event is set."""
    gate = threading.Event()
    rate = session.rate

    def held(rating: Rating, *, force: bool = False) -> RateResult:
        assert threading.current_thread() is not threading.main_thread()
        gate.wait(timeout=30)
        return rate(rating, force=force)

    monkeypatch.setattr(session, "rate", held)
    return gate


VIEW = "#front, #show, #back, #divider, #message, .rating"
RATING_BUTTONS = {"rate-again", "rate-hard", "rate-good", "rate-easy"}


def _visible(screen: ReviewScreen) -> set[str | None]:
    return {w.id for w in screen.query(VIEW) if w.display}


def test_state_classes_show_front_answer_and_message(vault: Path) -> None:
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        screen = _screen(app)
        assert not shown(app).is_cloze
        assert not (screen.has_class("-revealed") or screen.has_class("-finished"))
        assert _visible(screen) == {"front", "show"}
        await pilot.press("space")
        await pilot.pause()
        assert screen.has_class("-revealed") and not screen.has_class("-cloze")
        assert _visible(screen) == {"front", "divider", "back", *RATING_BUTTONS}
        await pilot.press("3")
        await ready(pilot)
        assert screen.has_class("-finished") and not screen.has_class("-revealed")
        assert _visible(screen) == {"message"}

    drive(vault, steps, deck="flashcard/active/business/customers/personas")


def test_a_cloze_is_answered_in_place(vault: Path) -> None:
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        screen = _screen(app)
        assert shown(app).is_cloze and _visible(screen) == {"front", "show"}
        await pilot.press("space")
        await pilot.pause()
        assert screen.has_class("-revealed") and screen.has_class("-cloze")
        assert _visible(screen) == {"front", *RATING_BUTTONS}

    drive(vault, steps)


def test_a_rating_pressed_twice_quickly_rates_once(vault: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        session = review_session(app)
        gate = _gate(session, monkeypatch)
        card = shown(app)
        await pilot.press("space", "3", "3")
        # the first 3 is being written (held); the second waits for it
        assert session.current is card and len(reviews(ReviewLog(vault).events())) == 0
        gate.set()
        await ready(pilot)
        rated = reviews(ReviewLog(vault).events())
        assert [(r.id, r.rating) for r in rated] == [(card.id, "good")]
        # the second 3 met the next card, whose answer was not shown: not rated
        assert shown(app).id != card.id and not session.revealed
        assert any("Show the answer first" in str(n.message) for n in app._notifications)

    drive(vault, steps)


def test_undo_pressed_during_the_write_undoes_that_rating(
        vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        session = review_session(app)
        gate = _gate(session, monkeypatch)
        card = shown(app)
        before = (vault / card.path).read_bytes()
        await pilot.press("space", "4", "u")
        assert len(reviews(ReviewLog(vault).events())) == 0
        gate.set()
        await ready(pilot)
        events = ReviewLog(vault).events()
        rated = reviews(events)
        assert [r.id for r in rated] == [card.id]
        undo = [e for e in events if isinstance(e, Undo)]
        assert [u.of for u in undo] == [rated[0].uid]
        assert shown(app).id == card.id and (vault / card.path).read_bytes() == before

    drive(vault, steps)


def test_the_arrow_keys_scroll_a_card_longer_than_the_screen(tmp_path: Path) -> None:
    """The card is focused from the start: ↓, PgDn and End scroll a long card, Home
    brings it back (the keys the help lists under "Scroll")."""
    root = tmp_path / "long"
    root.mkdir()
    lines = "\n".join(f"line {k} of a long answer" for k in range(60))
    (root / "long.md").write_text(f"#flashcard\n\nA long question\n?@?\n{lines}\n",
                                  encoding="utf-8")
    (root / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard"]\n',
                                         encoding="utf-8")
    seen: list[float] = []

    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        from textual.containers import VerticalScroll

        card = app.screen.query_one("#card", VerticalScroll)
        assert app.focused is card
        await pilot.press("space")  # the answer: longer than the screen
        await ready(pilot)
        for key in ("down", "pagedown", "end", "home"):
            await pilot.press(key)
            await pilot.pause()
            seen.append(card.scroll_y)

    drive(root, steps)
    down, page, end, home = seen
    assert 0 < down < page < end and home == 0

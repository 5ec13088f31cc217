"""Key `i` in the reviewer: the card info screen of the card on screen, after a rating
in this session shows it in the history; esc goes back to the same card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from flashmark.tui.app import FlashmarkApp
from flashmark.tui.cardinfo_screen import CardInfoScreen
from flashmark.tui.review_screen import ReviewScreen
from tests.tui.tui_support import drive, ready, shown


def test_info_of_the_card_on_screen(vault: Path) -> None:
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        first = shown(app)
        await pilot.press("space", "1")  # Again: the card comes back later today
        await ready(pilot)
        await pilot.press("u")  # undo: the same card is shown again
        await pilot.pause()
        card = shown(app)
        assert card.id == first.id
        await pilot.press("i")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CardInfoScreen)
        assert screen.info.id == card.id and screen.info.path == card.path
        text = str(screen.query_one("#cardinfo-text").render())
        assert f"note:            {card.path}:{card.line}" in text
        assert "esc closes" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen) and shown(app).id == card.id

    drive(vault, steps)

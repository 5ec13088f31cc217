"""The suspended cards list: each card by its front (as the browser lists it), its note
and since when; enter un-suspends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable

from flashmark.tui._shared import _one_line
from flashmark.tui.app import FlashmarkApp
from flashmark.tui.suspended_screen import FRONT_WIDTH, SuspendedScreen
from flashmark.vault.reviewlog import ReviewLog, Unsuspend
from tests.tui.tui_support import drive, ready, shown


def test_the_list_shows_each_cards_front(vault: Path) -> None:
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        first = shown(app)
        await pilot.press("exclamation_mark")
        await pilot.pause()
        second = shown(app)
        await pilot.press("exclamation_mark", "escape")
        await ready(pilot)
        await pilot.press("exclamation_mark")
        await ready(pilot)
        assert isinstance(app.screen, SuspendedScreen)
        table = app.screen.query_one(DataTable)
        rows = [table.get_row_at(k) for k in range(table.row_count)]
        fronts = [row[0].plain if isinstance(row[0], Text) else row[0] for row in rows]
        assert fronts == [_one_line(first.card.front, FRONT_WIDTH),
                          _one_line(second.card.front, FRONT_WIDTH)]
        assert all(f and first.id not in f and second.id not in f for f in fronts)
        assert [row[1] for row in rows] == [first.path, second.path]
        await pilot.press("down", "enter")
        await pilot.pause()
        last = ReviewLog(vault).events()[-1]
        assert isinstance(last, Unsuspend) and last.id == second.id
        assert table.row_count == 1

    drive(vault, steps)

"""The browser (key `b`) driven with Pilot on a copy of notes/: search, sort, the card
drawn beside the table, each action on the marked cards or the cursor's, and undo; the
notes get their exact bytes back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from flashmark.config import load_settings
from flashmark.review.card_view import render_text
from flashmark.review.search import search_vault
from flashmark.tui.app import FlashmarkApp
from flashmark.tui.browser_screen import BrowserScreen
from flashmark.tui.cardinfo_screen import CardInfoScreen
from flashmark.vault.reviewlog import Flag, Forget, ReviewLog, SetDue, Suspend, in_effect
from tests.tui.tui_support import NOW, drive, ready


async def _browse(pilot: Pilot[Any], app: FlashmarkApp, query: str) -> BrowserScreen:
    await pilot.press("b")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, BrowserScreen)
    screen.query_one("#browser-search", Input).value = query
    screen.query_one("#browser-search", Input).focus()
    await pilot.press("enter")
    await ready(pilot)
    return screen


def _effective(vault: Path) -> list[Any]:
    return in_effect(ReviewLog(vault).events())


def test_search_mark_act_and_undo(vault: Path) -> None:
    notes = {p: p.read_bytes() for p in vault.rglob("*.md")}
    expected = search_vault(vault, load_settings(vault), "is:review", NOW, texts=True).rows

    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        screen = await _browse(pilot, app, "is:review")
        table = screen.query_one("#browser-table", DataTable)
        assert table.row_count == len(expected) > 5
        status = str(screen.query_one("#browser-status", Static).render())
        assert status.startswith(f"{len(expected)} of ")
        card = render_text(screen.shown_card, width=60, color=False)
        assert f"{expected[0].path}:{expected[0].line}" in card
        # mark two cards, suspend both, undo both
        await pilot.press("space", "space", "exclamation_mark")
        await pilot.pause()
        suspended = [e.id for e in _effective(vault) if isinstance(e, Suspend)]
        assert suspended == [expected[0].id, expected[1].id]
        await pilot.press("u")
        await pilot.pause()
        assert not any(isinstance(e, Suspend) for e in _effective(vault))
        # flag the card under the cursor
        table.move_cursor(row=2)
        await pilot.press("3")
        await pilot.pause()
        flags = [e for e in _effective(vault) if isinstance(e, Flag)]
        assert [(e.id, e.flag) for e in flags] == [(expected[2].id, 3)]
        # set the due date through the prompt, then forget; undo both
        await pilot.press("D")
        await pilot.pause()
        days = screen.query_one("#browser-days", Input)
        assert days.display and days.has_focus
        await pilot.press("5", "enter")
        await pilot.pause()
        assert [e.id for e in _effective(vault) if isinstance(e, SetDue)] == [expected[2].id]
        await pilot.press("F")
        await pilot.pause()
        assert [e.id for e in _effective(vault) if isinstance(e, Forget)] == [expected[2].id]
        assert {p: p.read_bytes() for p in vault.rglob("*.md")} != notes
        await pilot.press("u", "u", "u")
        await pilot.pause()
        assert not [e for e in _effective(vault) if isinstance(e, Flag | SetDue | Forget)]
        # sorting by a header (twice: descending), info of the card, and back
        columns = list(table.columns.values())
        x = sum(c.get_render_width(table) for c in columns[:2]) + 1  # the Ivl header
        intervals = sorted(r.interval for r in expected if r.interval is not None)
        for order in (intervals, intervals[::-1]):
            await pilot.click("#browser-table", offset=(x, 0))
            await pilot.pause()
            column = [table.get_row_at(k)[2] for k in range(table.row_count)]
            assert column == order
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, CardInfoScreen)
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, BrowserScreen)

    drive(vault, steps)
    assert {p: p.read_bytes() for p in vault.rglob("*.md")} == notes


def test_a_bad_query_is_shown_not_raised(vault: Path) -> None:
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        await pilot.press("b")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        screen.query_one("#browser-search", Input).value = "prop:ivl>x"
        screen.query_one("#browser-search", Input).focus()
        await pilot.press("enter")
        for _ in range(100):
            await pilot.pause(0.02)
            status = str(screen.query_one("#browser-status", Static).render())
            if "column" in status:
                break
        assert status == "search 'prop:ivl>x', column 10: 'x' is not a number"

    drive(vault, steps)

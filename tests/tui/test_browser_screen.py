"""The browser (key `b`) driven with Pilot on a copy of notes/: search, sort, the card
drawn beside the table, each action on the marked cards or the cursor's (reschedule
too), and undo; the notes get their exact bytes back. Editing a card's note, reviewing
the search's cards (and `review --search`), and SVG snapshots of the browser and of card
info at 80x24 and 120x40 in both themes (update with `--snapshot-update` and look at
tests/tui/__snapshots__/test_browser_screen/ before committing)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from flashmark.config import load_settings
from flashmark.review.card_view import render_text
from flashmark.review.search import search_vault
from flashmark.tui.app import FlashmarkApp
from flashmark.tui.browser_screen import BrowserScreen
from flashmark.tui.cardinfo_screen import CardInfoScreen
from flashmark.tui.review_screen import ReviewScreen
from flashmark.vault.reviewlog import (
    Flag,
    Forget,
    Review,
    ReviewLog,
    SetDue,
    Suspend,
    in_effect,
)
from tests.tui.tui_support import NOW, drive, make_app, ready, review_session, shown

Snap = Callable[..., bool]


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
            column = [table.get_row_at(k)[2].value for k in range(table.row_count)]
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


def test_reschedule_then_undo(vault: Path) -> None:
    """`R` on the marked cards: FSRS review cards whose interval is not the one their
    stability gives at the desired retention move (here: a retention of 0.85); `u`
    takes the whole command back, bytes and all."""
    config = vault / "flashmark.yaml"
    config.write_text(config.read_text() + "\nscheduling:\n  desired_retention: 0.85\n")
    notes = {p: p.read_bytes() for p in vault.rglob("*.md")}
    expected = search_vault(vault, load_settings(vault), "is:review", NOW, texts=True).rows
    fsrs = [r.id for r in expected[:3] if (r.entry_text or "").startswith("fsrs,")]
    assert fsrs

    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        screen = await _browse(pilot, app, "is:review")
        await pilot.press("space", "space", "space", "R")
        await ready(pilot)
        moved = [e for e in _effective(vault) if isinstance(e, SetDue)]
        assert sorted(e.id for e in moved) == sorted(fsrs)
        assert {e.days for e in moved} == {"reschedule"} and len({e.batch for e in moved}) == 1
        assert {p: p.read_bytes() for p in vault.rglob("*.md")} != notes
        assert not screen.marked  # the marks are spent
        await pilot.press("u")
        await ready(pilot)
        assert not any(isinstance(e, SetDue) for e in _effective(vault))

    drive(vault, steps, start="decks")
    assert {p: p.read_bytes() for p in vault.rglob("*.md")} == notes


EDITOR = """\
import sys
path = sys.argv[-1]
with open(path, encoding="utf-8") as f:
    text = f.read()
with open(path, "w", encoding="utf-8") as f:
    f.write(text.replace(sys.argv[1], sys.argv[2], 1))
"""


def test_edit_opens_the_note_at_the_card_then_searches_again(
        vault: Path, tmp_path: Path, monkeypatch: Any) -> None:
    """`e` runs $EDITOR with the card's note and line (review.session.editor_command); the
    table shows the edited front when the editor returns."""
    row = search_vault(vault, load_settings(vault), "is:review", NOW, texts=True).rows[0]
    word = row.front.split()[0]
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    # the fake editor replaces the first word of the card's front with EDITED; it is
    # given `+LINE PATH` after its own two arguments
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script} {word} EDITED")

    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        screen = await _browse(pilot, app, "is:review")
        assert screen._current() is not None and screen._current().id == row.id  # type: ignore[union-attr]
        await pilot.press("e")
        await ready(pilot)
        fronts = [screen._texts(r)[0] for r in screen.rows.values()]
        assert any(f.startswith("EDITED") for f in fronts)
        cell = screen.query_one("#browser-table", DataTable).get_row_at(0)[0]
        assert str(cell).startswith("EDITED")

    drive(vault, steps, start="decks")
    assert "EDITED" in (vault / row.path).read_text()


def test_review_these_reviews_exactly_the_matches_ahead_too(vault: Path) -> None:
    """`r` in the browser opens the reviewer on the cards the search matches, as a
    filtered deck: review cards not due yet included; a rating is written as usual."""
    settings = load_settings(vault)
    query = "is:review -is:due"
    expected = {r.id for r in search_vault(vault, settings, query, NOW).rows}
    assert expected

    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        await _browse(pilot, app, query)
        await pilot.press("r")
        await ready(pilot)
        assert isinstance(app.screen, ReviewScreen)
        session = review_session(app)
        queued = {c.id for c in session.reviews} | {shown(app).id}
        assert queued == expected and not session.new and not session.learning
        card = shown(app)
        before = (vault / card.path).read_bytes()
        await pilot.press("space", "3")
        await ready(pilot)
        reviews = [e for e in _effective(vault) if isinstance(e, Review)]
        assert [e.id for e in reviews] == [card.id]
        assert (vault / card.path).read_bytes() != before

    drive(vault, steps, start="decks")


def test_review_search_from_the_command_line_queue(vault: Path) -> None:
    """`flashmark review --search QUERY` starts the app with ``search``: the first card
    is one of the matches, the queue holds them all (new ones beyond the daily limit)."""
    settings = load_settings(vault)
    query = "is:new deck:flashcard/active/business/customers"
    expected = {r.id for r in search_vault(vault, settings, query, NOW).rows}
    assert len(expected) > settings.review.new_per_day

    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        session = review_session(app)
        assert {c.id for c in session.new} | {shown(app).id} == expected
        assert sum(session.counts()) == len(expected)

    drive(vault, steps, search=query)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_snapshot_browser(vault: Path, snap_compare: Snap, size: tuple[int, int],
                          theme: str) -> None:
    """The browser on `is:review`, two cards marked, the cursor on the third."""
    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await _browse(pilot, pilot.app, "is:review")  # type: ignore[arg-type]
        await pilot.press("space", "space")
        await ready(pilot)

    assert snap_compare(make_app(vault, start="decks", theme=theme), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_snapshot_card_info(vault: Path, snap_compare: Snap, size: tuple[int, int],
                            theme: str) -> None:
    """Card info (`i`) of the browser's first `is:review` card."""
    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await _browse(pilot, pilot.app, "is:review")  # type: ignore[arg-type]
        await pilot.press("i")
        await ready(pilot)

    assert snap_compare(make_app(vault, start="decks", theme=theme), terminal_size=size,
                        run_before=run_before)


def test_rows_are_added_in_chunks_and_a_sort_takes_them_all(
        vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first rows go in at once, the rest in chunks after (here 10, then 25 at a
    time); a sort asked for before the last chunk adds every row first."""
    from flashmark.tui import browser_screen

    monkeypatch.setattr(browser_screen, "FIRST_ROWS", 10)
    monkeypatch.setattr(browser_screen, "CHUNK_ROWS", 25)
    expected = search_vault(vault, load_settings(vault), "is:review", NOW).rows
    assert len(expected) > 60

    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        screen = await _browse(pilot, app, "is:review")
        table = screen.query_one("#browser-table", DataTable)
        assert table.row_count == len(expected)
        assert [str(k.value) for k in table.rows] == [r.id for r in expected]
        # a new search, sorted by Ivl before its chunks are all in
        screen.run_search("is:review")
        await app.workers.wait_for_complete([w for w in app.workers if w.group == "browser"])
        await pilot.pause(0)
        x = sum(c.get_render_width(table) for c in list(table.columns.values())[:2]) + 1
        await pilot.click("#browser-table", offset=(x, 0))
        await ready(pilot)
        assert table.row_count == len(expected)
        ivls = [table.get_row_at(k)[2].value for k in range(table.row_count)]
        assert ivls == sorted(r.interval or 0 for r in expected)

    drive(vault, steps, start="decks")


def test_sorting_by_front_puts_a_marked_card_in_its_alphabetical_place(vault: Path) -> None:
    """The mark of a marked card is drawn before its front, not sorted with it: a sort
    by Front orders the fronts' texts (before, "● " sorted after every letter)."""
    from flashmark.tui._shared import _one_line
    from flashmark.tui.browser_screen import FRONT_WIDTH

    expected = search_vault(vault, load_settings(vault), "is:review", NOW, texts=True).rows
    fronts = {r.id: _one_line(r.front, FRONT_WIDTH) for r in expected}
    in_order = sorted(fronts.values(), key=str.casefold)
    # the card whose front comes first: marked, it must stay first
    first = min(expected, key=lambda r: (fronts[r.id].casefold(), r.ordinal))
    assert first.id != expected[0].id  # (not first already in vault order)

    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        screen = await _browse(pilot, app, "is:review")
        table = screen.query_one("#browser-table", DataTable)
        table.move_cursor(row=table.get_row_index(first.id))
        await pilot.press("space")
        await pilot.pause()
        assert screen.marked == {first.id}
        await pilot.click("#browser-table", offset=(2, 0))  # the Front header
        await pilot.pause()
        column = [table.get_row_at(k)[0] for k in range(table.row_count)]
        assert [c.value for c in column] == in_order
        assert str(table.get_row_at(0)[0]) == "● " + fronts[first.id]
        assert [str(c).startswith("● ") for c in column].count(True) == 1
        await pilot.click("#browser-table", offset=(2, 0))  # descending: it goes last
        await pilot.pause()
        assert str(table.get_row_at(table.row_count - 1)[0]) == "● " + fronts[first.id]

    drive(vault, steps)

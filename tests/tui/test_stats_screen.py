"""The stats screen (tui/stats_screen.py): Pilot tests of what it shows, per deck and for
the whole collection, and SVG snapshots at 80x24 and 120x40 in both themes, over the
sample vault with a fixed year of reviews (tests/tui/stats_log.py) and a fixed clock.

Update the snapshots with `pytest tests/tui/test_stats_screen.py --snapshot-update` and
look at the SVGs in tests/tui/__snapshots__/test_stats_screen/ before committing.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from flashmark.config import load_settings
from flashmark.tui.stats_screen import Graph, StatsScreen
from flashmark.vault.scan import scan_vault
from tests.tui.stats_log import write_year_of_reviews
from tests.tui.tui_support import NOW, make_app, ready

Snap = Callable[..., bool]
DECK = "flashcard/active/business/customers/customer_pains_and_gains"


def _text(screen: Any, widget_id: str) -> str:
    graph = screen.query_one(f"#{widget_id}", Graph)
    return str(graph.render()) if graph.draw is None else _plain(graph)


def _plain(graph: Graph) -> str:
    console = Console(width=graph.size.width or 120, record=True, file=io.StringIO())
    console.print(graph.render())
    return console.export_text()


async def _open_stats(pilot: Pilot[Any]) -> StatsScreen:
    await ready(pilot)
    await pilot.press("s")
    await ready(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, StatsScreen) and screen.stats is not None
    return screen


def test_figures_on_screen(vault: Path) -> None:
    """The heatmap's totals are the log's, counted here from its lines; the time spent
    is the durations' sum; the tabs switch with the arrows and the digits."""
    write_year_of_reviews(vault, NOW)
    lines = [json.loads(line) for line in
             (vault / ".flashmark" / "reviews.jsonl").read_text().splitlines()]
    days = Counter(line["time"][:10] for line in lines)  # all after 04:00: the same day
    app = make_app(vault, start="decks")

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await _open_stats(pilot)
            assert f"({len(lines)} on {len(days)} days)" in _text(screen, "heatmap")
            assert f"busiest day {max(days.values())}" in _text(screen, "heatmap")
            assert "(224 in all" in _text(screen, "states")
            tabs = screen.query_one(TabbedContent)
            assert tabs.active == "overview"
            await pilot.press("right")
            assert tabs.active == "reviews"
            await pilot.press("3")
            assert tabs.active == "cards"
            await pilot.press("left", "left")
            assert tabs.active == "overview"

    asyncio.run(run())


def test_no_recorded_times_said_so(vault: Path) -> None:
    write_year_of_reviews(vault, NOW, timed=False)
    app = make_app(vault, start="decks")

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _open_stats(pilot)
            assert "unknown: the log records no answer time" in _text(screen, "time")

    asyncio.run(run())


def test_per_deck_and_back_to_all(vault: Path) -> None:
    """Opened from a deck's review the screen shows that deck; a shows every deck."""
    write_year_of_reviews(vault, NOW)
    result = scan_vault(vault, load_settings(vault))
    in_deck = sum(1 for n in result.flashcard_notes() for deck, *_ in n.summary
                  if deck is not None and deck.startswith(DECK))
    result.close()
    assert 0 < in_deck < 224
    app = make_app(vault, deck=DECK)

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await _open_stats(pilot)
            title = str(screen.query_one("#stats-title").render())
            assert title.endswith(DECK)
            assert screen.stats is not None and screen.stats.cards.total == in_deck
            assert f"({in_deck} in all" in _text(screen, "states")
            await pilot.press("a")
            await ready(pilot)
            assert str(screen.query_one("#stats-title").render()).endswith("all decks")
            assert screen.stats is not None and screen.stats.cards.total == 224
            assert "(224 in all" in _text(screen, "states")

    asyncio.run(run())


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("tab", ["1", "2", "3"], ids=["overview", "reviews", "cards"])
def test_snapshot(vault: Path, snap_compare: Snap, size: tuple[int, int], theme: str,
                  tab: str) -> None:
    write_year_of_reviews(vault, NOW)

    async def run_before(pilot: Pilot[Any]) -> None:
        await _open_stats(pilot)
        await pilot.press(tab)
        await ready(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(vault, start="decks", theme=theme), terminal_size=size,
                        run_before=run_before)

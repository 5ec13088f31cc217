"""SVG snapshots of the screens at 80x24 with a fixed clock (pytest-textual-snapshot).

Update them with `pytest tests/tui/test_snapshots.py --snapshot-update` and look at
the SVGs in tests/tui/__snapshots__/ before committing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from flashmark.tui.review_screen import ReviewScreen
from tests.tui.tui_support import SIZE, make_app, ready

Snap = Callable[..., bool]






async def settle(pilot: Pilot[Any]) -> None:
    """No toasts (they time out) and nothing pending."""
    pilot.app.clear_notifications()
    await pilot.pause()


def test_deck_screen(vault: Path, snap_compare: Snap) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("down", "right")  # unfold "customers"
        await settle(pilot)

    assert snap_compare(make_app(vault, start="decks"), terminal_size=SIZE,
                        run_before=run_before)


def test_cloze_front(vault: Path, snap_compare: Snap) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReviewScreen) and screen.session is not None
        assert screen.session.current is not None and screen.session.current.is_cloze
        await settle(pilot)

    assert snap_compare(make_app(vault), terminal_size=SIZE, run_before=run_before)


def test_revealed_reversible_card(vault: Path, snap_compare: Snap) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReviewScreen) and screen.session is not None
        for _ in range(10):  # bury until the reversed multi-line card is on screen
            current = screen.session.current
            assert current is not None
            if current.reversed:
                break
            await pilot.press("minus")
            await pilot.pause()
        await pilot.press("space")
        await settle(pilot)

    app = make_app(vault, deck="flashcard/active/business/customers/customer_pains_and_gains")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_math_card_light_theme(vault: Path, snap_compare: Snap) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReviewScreen) and screen.session is not None
        for _ in range(20):  # bury until the card with the display math is on screen
            current = screen.session.current
            assert current is not None
            if "> `" in current.back:  # display math
                break
            await pilot.press("minus")
            await pilot.pause()
        await pilot.press("space")
        await settle(pilot)

    app = make_app(vault, deck="flashcard/active/business/value_proposition/"
                              "testing_value_propositions", theme="light")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# The stats screen's snapshots: tests/tui/test_stats_screen.py

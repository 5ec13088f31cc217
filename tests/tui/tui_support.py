"""Helpers shared by the TUI tests (imported as a plain module: pytest puts this folder
on sys.path, as it does for tests/generate/gen_support.py)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from flashmark.tui.app import FlashmarkApp


async def ready(pilot: Pilot[Any]) -> None:
    """Wait until the app has loaded its queue and painted its first screen."""
    app = pilot.app
    assert isinstance(app, FlashmarkApp)
    for _ in range(500):
        if app.ready:
            break
        await pilot.pause(0.01)
    assert app.ready, "the app did not finish loading"
    await pilot.pause()

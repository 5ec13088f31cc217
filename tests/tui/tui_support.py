"""Helpers shared by the TUI tests: one way to build the app, one way to wait for it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.worker import WorkerState

from flashmark.config import load_settings
from flashmark.review.settings import load_review_settings
from flashmark.tui.app import Context, FlashmarkApp, StartScreen

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
SIZE = (80, 24)


class Clock:
    """A settable clock for the app (``clock.now = ...`` moves time)."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def make_app(vault: Path, *, start: StartScreen = "review", deck: str | None = None,
             clock: Clock | None = None, theme: str | None = None) -> FlashmarkApp:
    ctx = Context(vault, load_settings(vault), load_review_settings(vault), clock or Clock())
    return FlashmarkApp(ctx, start=start, deck=deck, theme=theme)


_BUSY = (WorkerState.PENDING, WorkerState.RUNNING)


async def ready(pilot: Pilot[Any], *, rounds: int = 200) -> None:
    """Wait until the app's workers (the queue's load, a screen's data) have finished and
    what they delivered is painted. Workers can start further workers (the load starts
    the prefetch), hence the rounds."""
    app = pilot.app
    await pilot.pause()
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.state in _BUSY for w in app.workers):
            await pilot.pause()
            return
    raise AssertionError("the app's workers did not finish")

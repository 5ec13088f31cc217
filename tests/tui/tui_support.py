"""Helpers shared by the TUI tests: one way to build the app, one way to wait for it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.worker import WorkerState

from flashmark.config import load_settings
from flashmark.review.session import ReviewSession, ShownCard
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
             clock: Clock | None = None, theme: str | None = None,
             search: str | None = None) -> FlashmarkApp:
    ctx = Context(vault, load_settings(vault), load_review_settings(vault), clock or Clock())
    return FlashmarkApp(ctx, start=start, deck=deck, theme=theme, search=search)


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


Steps = Callable[[Pilot[Any], FlashmarkApp], Awaitable[None]]


def drive(vault: Path, steps: Steps, **kwargs: Any) -> FlashmarkApp:
    """Run the app on ``vault`` (`make_app`'s keywords) at `SIZE`, once its workers are
    done, through ``steps``."""
    app = make_app(vault, **kwargs)

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await steps(pilot, app)

    asyncio.run(main())
    return app


def review_session(app: FlashmarkApp) -> ReviewSession:
    """The session of the review screen (under a question put over it, if any)."""
    from flashmark.tui.review_screen import ReviewScreen

    for screen in reversed(app.screen_stack):
        if isinstance(screen, ReviewScreen):
            assert screen.session is not None
            return screen.session
    raise AssertionError("no review screen")


def shown(app: FlashmarkApp) -> ShownCard:
    """The card on the review screen."""
    card = review_session(app).current
    assert card is not None
    return card

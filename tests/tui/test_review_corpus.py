"""The reviewer on a copy of the real vault: the first card shows, ratings land in the
notes as the scheduler computes them, undo restores the exact bytes."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flashmark.config import load_settings
from flashmark.model import Rating
from flashmark.review.settings import load_review_settings
from flashmark.tui.app import Context, FlashmarkApp
from flashmark.tui.review_screen import ReviewScreen
from flashmark.vault.reviewlog import ReviewLog, reviews
from tests.tui.tui_support import ready

CORPUS = Path(os.environ.get("FLASHMARK_CORPUS") or
              Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "information")
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")]


def test_review_on_the_real_vault(tmp_path: Path, expect_in: Any,
                                  writable_copy: Callable[[Path, Path], Path]) -> None:
    root = writable_copy(CORPUS, tmp_path / "vault")
    expect = expect_in(root)
    ctx = Context(root, load_settings(root), load_review_settings(root), lambda: NOW)
    app = FlashmarkApp(ctx)

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await ready(pilot)
            screen = app.screen
            assert isinstance(screen, ReviewScreen) and screen.session is not None
            session = screen.session
            assert session.counts()[2] > 10_000  # the vault has >16,000 reviews due
            originals: list[tuple[Path, bytes]] = []
            for k, (key, rating) in enumerate(zip("34213", [Rating.GOOD, Rating.EASY,
                                                           Rating.HARD, Rating.AGAIN,
                                                           Rating.GOOD], strict=True)):
                card = session.current
                assert card is not None, f"no card at step {k}"
                note = root / card.path
                originals.append((note, note.read_bytes()))
                expected, after = expect.rating(card.id, card.path, rating, NOW)
                await pilot.press("space", key)
                await ready(pilot)
                assert note.read_bytes() == expected
                assert reviews(ReviewLog(root).effective())[-1].after == after
            for note, data in reversed(originals):
                await pilot.press("u")
                await pilot.pause()
                assert note.read_bytes() == data

    asyncio.run(main())

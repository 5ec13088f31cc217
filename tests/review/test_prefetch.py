"""The queues built in a forked process are the ones built in this one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flashmark.config import load_settings
from flashmark.errors import FlashmarkError
from flashmark.review.overview import open_review
from flashmark.review.prefetch import Prefetch
from flashmark.review.settings import ReviewSettings

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
DECK = "flashcard/active/business/customers"


@pytest.mark.parametrize("deck", [None, DECK])
def test_prefetch_matches_open_review(vault: Path, deck: str | None) -> None:
    settings = load_settings(vault)
    review = ReviewSettings(deck_limits=((DECK + "/customer_jobs", 3),))
    here = open_review(vault, settings, review, lambda: NOW, deck=deck)
    there = Prefetch(vault, settings, review, lambda: NOW, deck=deck).opened()
    assert here.overview.reviews == there.overview.reviews
    assert here.session.reviews == there.session.reviews  # (the first card is taken)
    for a, b in ((here.overview, there.overview), (here.session, there.session)):
        assert a.new == b.new and a.learning == b.learning and a.budgets == b.budgets
    assert here.overview.decks == there.overview.decks
    assert here.overview.state == there.overview.state
    assert there.first is not None and here.first is not None
    assert there.first.id == here.first.id


def test_prefetch_relays_errors(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    prefetch = Prefetch(tmp_path / "missing", settings, ReviewSettings(), lambda: NOW)
    with pytest.raises(FlashmarkError, match="does not exist") as info:
        prefetch.opened()
    assert info.value.exit_code == 3

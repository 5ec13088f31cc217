"""Rate many random cards of a copy of the real vault, undo them all: every note must be
byte-identical to the original. 1,000 cards with FLASHMARK_FULL_CORPUS=1 (or
in CI), a 200-card slice otherwise."""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from flashmark.config import load_settings
from flashmark.model import Rating
from flashmark.review.rating import CardFinder, rate_card, undo_last
from flashmark.vault.scan import scan_vault

CORPUS = Path(os.environ.get("FLASHMARK_CORPUS") or
              Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "information")

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")]


def test_random_ratings_then_undo_leave_every_note_identical(
        tmp_path: Path, writable_copy: Callable[[Path, Path], Path]) -> None:
    root = writable_copy(CORPUS, tmp_path / "vault")
    originals = {p: p.read_bytes() for p in root.rglob("*.md")}
    settings = load_settings(root)
    result = scan_vault(root, settings)
    ids = [cid for note in result.flashcard_notes() for _, _, cid, _ in note.summary]
    result.close()
    full = bool(os.environ.get("FLASHMARK_FULL_CORPUS") or os.environ.get("CI"))
    count = 1000 if full else 200
    rng = random.Random(20261123)
    chosen = rng.sample(ids, count)
    finder = CardFinder(root, settings)
    now = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
    touched: set[str] = set()
    for k, cid in enumerate(chosen):
        outcome = rate_card(root, settings, cid, rng.choice(list(Rating)),
                            now + dt.timedelta(seconds=37 * k), finder=finder)
        touched.add(outcome.rel)
    changed = {p for p, data in originals.items() if p.read_bytes() != data}
    assert {p.relative_to(root).as_posix() for p in changed} == touched
    for _ in range(count):
        undo_last(root, settings, now, finder.log)
    assert not [p for p, data in originals.items() if p.read_bytes() != data]
    assert not list(root.rglob("*.flashmark-tmp"))

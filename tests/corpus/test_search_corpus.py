"""`flashmark search` on a copy of the real vault agrees with `scan --json`: the same
cards for a deck and is:due at a fixed --now, warm (from the card table) and with
--no-cache (every note parsed)."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from flashmark.cli.main import main
from flashmark.decks import DeckPattern
from flashmark.stats import DueCutoff

CORPUS = Path(os.environ.get("FLASHMARK_CORPUS") or
              Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "information")

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")]

NOW = "2026-11-23T09:00:00+00:00"
QUERY = "deck:flashcard/active/general/* is:due"


def _lines(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    assert main(list(argv)) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _due(schedule: dict[str, object] | None, cutoff: DueCutoff) -> bool:
    """is:due restated from `scan --json`'s schedule (the copy has no review log, so no
    card is suspended or buried)."""
    if schedule is None or schedule["kind"] == "invalid":
        return False
    due = str(schedule["due"])
    if schedule["kind"] == "sm2":
        return dt.date.fromisoformat(due) <= cutoff.today
    moment = dt.datetime.fromisoformat(due.replace("Z", "+00:00"))
    if schedule["state"] in (1, 3):  # (re)learning: due before the day ends
        return moment < cutoff.end
    return cutoff.day_of_moment(moment) <= cutoff.today


def test_search_equals_the_selection_from_scan(
        tmp_path: Path, writable_copy: Callable[[Path, Path], Path],
        capsys: pytest.CaptureFixture[str], utc: None) -> None:
    root = writable_copy(CORPUS, tmp_path / "vault")
    cutoff = DueCutoff(dt.datetime.fromisoformat(NOW))
    deck = DeckPattern("flashcard/active/general/*")
    scanned = _lines(capsys, "scan", str(root), "--json")
    expected = [(c["id"], c["path"], c["line"]) for c in scanned
                if deck.selects(c["deck"])  # type: ignore[arg-type]
                and _due(c["schedule"], cutoff)]  # type: ignore[arg-type]
    assert len(expected) > 1000  # the query selects something real
    for extra in ([], [], ["--no-cache"]):  # cold table, warm table, no index at all
        found = _lines(capsys, "search", QUERY, str(root), "--json", "--now", NOW, *extra)
        assert [(c["id"], c["path"], c["line"]) for c in found] == expected
        wanted = {c["id"]: c for c in scanned}
        assert all({k: c[k] for k in wanted[c["id"]]} == wanted[c["id"]]
                   for c in found[:200])


def test_fast_retrievability_is_the_adapters_on_the_vault(
        tmp_path: Path, writable_copy: Callable[[Path, Path], Path], utc: None) -> None:
    import random

    from flashmark.config import load_settings
    from flashmark.model import FsrsEntry, Sm2Entry
    from flashmark.review.search import search_vault
    from flashmark.scheduling import FsrsScheduler, SchedulerConfig
    from flashmark.syntax import srcodec

    root = writable_copy(CORPUS, tmp_path / "vault")
    settings = load_settings(root)
    now = dt.datetime.fromisoformat(NOW)
    result = search_vault(root, settings, "-is:new", now)
    scheduler = FsrsScheduler(SchedulerConfig.from_settings(settings.scheduling))
    for row in random.Random(5).sample(result.rows, 3000):
        entry = srcodec.parse_entry(row.entry_text) if row.entry_text else None
        if not isinstance(entry, Sm2Entry | FsrsEntry):
            continue
        expected = scheduler.retrievability(entry, now)
        got = result.recall(row)
        assert got == (None if expected is None else pytest.approx(expected, abs=1e-12))

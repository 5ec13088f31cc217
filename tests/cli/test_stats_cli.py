"""`flashmark stats` (text and --json) and `flashmark review` without a terminal.

The commands are registered through their own register() here (cli/main.py registers
them once integrated)."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from flashmark.cli import review, stats
from flashmark.config import load_settings
from flashmark.errors import UsageError
from flashmark.model import Rating
from flashmark.review.rating import rate_card
from flashmark.vault.scan import scan_vault

NOW = "2026-11-23T09:00:00+00:00"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flashmark")
    sub = parser.add_subparsers()
    review.register(sub)
    stats.register(sub)
    return parser


def _run(*argv: str) -> str:
    args = _parser().parse_args(list(argv))
    out = io.StringIO()
    assert args.run(args, out) == 0
    return out.getvalue()


def test_stats_json(vault: Path, utc: None) -> None:
    settings = load_settings(vault)
    result = scan_vault(vault, settings)
    ids = [cid for n in result.flashcard_notes() for _, key, cid, _ in n.summary if key][:3]
    result.close()
    now = dt.datetime.fromisoformat(NOW)
    for cid, rating in zip(ids, (Rating.GOOD, Rating.AGAIN, Rating.EASY), strict=True):
        rate_card(vault, settings, cid, rating, now)
    data = json.loads(_run("stats", str(vault), "--json", "--now", NOW))
    assert data["today"] == "2026-11-23"
    today = data["reviews_per_day"][-1]
    assert (today["date"], today["again"], today["good"], today["easy"], today["total"]) == (
        "2026-11-23", 1, 1, 1, 3)
    assert len(data["reviews_per_day"]) == 30
    assert data["retention"]["desired"] == 0.9
    assert data["retention"]["reviews"] == 3 and data["retention"]["passed"] == 2
    # one of the rated cards has a new sibling: hidden for today (bury_siblings), it
    # counts as buried, not new
    assert data["states"]["total"] == 224 and data["states"]["new"] == 106
    assert data["states"]["buried"] == 1
    assert data["states"]["learning"] == 1  # the card rated again
    assert len(data["forecast"]) == 31 and data["forecast"][0]["date"] == "2026-11-23"
    text = _run("stats", str(vault), "--now", NOW)
    assert "3 reviews (again 1, hard 0, good 1, easy 1; 0 new)" in text
    assert "66.7% actual (2 of 3 reviews" in text


def test_review_needs_a_terminal(vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    args = _parser().parse_args(["review", str(vault)])
    with pytest.raises(UsageError, match="needs a terminal"):
        args.run(args)


def test_review_missing_vault(tmp_path: Path) -> None:
    from flashmark.errors import VaultError

    args = _parser().parse_args(["review", str(tmp_path / "nope")])
    with pytest.raises(VaultError):
        args.run(args)

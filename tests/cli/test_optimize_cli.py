"""`flashmark optimize` on a review log: refuses below the minimum, fits and saves above it,
and later ratings use the saved weights."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest

from flashmark.cli.main import main
from flashmark.config import load_settings


def _write_log(root: Path, cards: int, reviews_per_card: int) -> None:
    rng = random.Random(3)
    start = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)
    lines = []
    for k in range(cards):
        cid = f"{k:012x}"
        day, gap = 0.0, 2.0
        for n in range(reviews_per_card):
            recalled = n == 0 or rng.random() < 0.9 ** (gap / 3)
            lines.append({"v": 1, "uid": f"u{k}-{n}", "event": "review",
                          "time": (start + dt.timedelta(days=day)).isoformat(),
                          "id": cid, "path": "n.md", "sibling": 0, "before": None, "after": "x",
                          "rating": "good" if recalled else "again", "duration_ms": 4000})
            gap = gap * 2.5 if recalled else 1.0
            day += gap
    log = root / ".flashmark" / "reviews.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text("".join(json.dumps(e) + "\n" for e in lines))


def test_too_few_reviews_is_refused_with_a_clear_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_log(tmp_path, 20, 3)
    assert main(["optimize", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "40 usable review(s)" in err and "at least 400" in err
    assert "Traceback" not in err


def test_fit_save_and_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("fsrs_rs_python")
    _write_log(tmp_path, 150, 4)  # 450 scored reviews
    assert main(["optimize", str(tmp_path), "--json", "--save"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["scored"] == 450 and result["cards"] == 150
    assert result["log_loss_after"] < result["log_loss_before"]
    assert result["saved"] is True
    saved = json.loads((tmp_path / ".flashmark" / "weights.json").read_text())
    assert saved["weights"] == result["weights"]
    settings = load_settings(tmp_path)
    assert settings.scheduling.weights == tuple(result["weights"])
    assert settings.scheduling.weights_source == ".flashmark/weights.json"

"""Card info: `flashmark info` over the vault with cards in every state
(search_support): the schedule from the note, the history from the log, or from the SR
entry when the log has none; and the reviewer's `i` screen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flashmark.cli.main import main
from tests.review.search_support import NOW, make_vault


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "vault"
    return root, make_vault(root)


def _info(root: Path, card: str, capsys: pytest.CaptureFixture[str],
          now: str = NOW.isoformat()) -> dict[str, object]:
    assert main(["info", card, str(root), "--json", "--now", now]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_a_card_the_plugin_reviewed_has_its_entry_as_history(
        sample: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]) -> None:
    root, ids = sample
    info = _info(root, ids["due legacy"], capsys)
    assert info["path"] == "a.md" and info["line"] == 9 and info["deck"] == "flashcard/a"
    assert info["state"] == "review" and info["due"] == "2026-11-20"
    assert info["interval"] == 10 and info["history_source"] == "note"
    assert info["added"] is None  # never in the log
    assert info["first_review"] == info["latest_review"] == "2026-11-10"
    assert info["stability"] == pytest.approx(10.0)
    assert 0.8 < info["retrievability"] < 0.95  # type: ignore[operator]
    assert info["history"] == [{"time": "2026-11-10", "event": "note", "interval": 10,
                                "stability": pytest.approx(10.0),
                                "difficulty": info["difficulty"],
                                "detail": "the SR entry in the note (reviewed before "
                                          "flashmark's log)"}]
    assert not info["suspended"] and not info["leech"] and info["flag"] == 0


def test_history_from_the_log_with_the_entry_before_it(
        sample: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]) -> None:
    root, ids = sample
    info = _info(root, ids["leech card"], capsys)
    assert info["history_source"] == "log" and info["leech"] and info["lapses"] == 9
    assert info["reps"] == 20 and info["difficulty"] == 9.5 and info["stability"] == 2.0
    history = info["history"]
    assert isinstance(history, list)
    # the leech event flashmark logged at the eighth lapse is in the history too
    assert [h["event"] for h in history] == ["note", "leech", "review"]
    assert history[2] == {"time": "2026-11-20T12:00:00.000Z", "event": "review",
                          "rating": "again", "interval": 2, "stability": 2.0,
                          "difficulty": 9.5}
    assert info["first_review"] == "2026-11-14T00:00:00.000Z"  # the entry before the log
    assert info["latest_review"] == "2026-11-20T12:00:00.000Z"


def test_states_and_a_rating_then_undo(sample: tuple[Path, dict[str, str]],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    root, ids = sample
    assert _info(root, ids["suspended due"], capsys)["suspended"] is True
    assert _info(root, ids["buried due"], capsys)["buried"] is True
    new = _info(root, ids["new one"], capsys)
    assert new["state"] == "new" and new["history"] == [] and new["reps"] == 0
    assert new["retrievability"] is None and new["due"] is None
    assert main(["rate", ids["new one"], "good", str(root), "--now", NOW.isoformat()]) == 0
    capsys.readouterr()
    rated = _info(root, ids["new one"], capsys)
    assert rated["state"] == "learning" and rated["reps"] == 1
    assert rated["added"] == rated["first_review"] == "2026-11-23T09:00:00.000Z"
    history = rated["history"]
    assert isinstance(history, list) and [h["rating"] for h in history] == ["good"]
    assert main(["undo", str(root), "--now", NOW.isoformat()]) == 0
    capsys.readouterr()
    assert _info(root, ids["new one"], capsys)["history"] == []


def test_text_output_and_an_unknown_card(sample: tuple[Path, dict[str, str]],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    root, ids = sample
    assert main(["info", ids["learning fsrs"], str(root), "--now", NOW.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "note:            a.md:13\n" in out
    assert "state:           learning\n" in out
    assert "history (from the review log):" in out and "3.1s" in out
    assert main(["info", "abcdef123456", str(root)]) == 3
    assert "no card with id abcdef123456" in capsys.readouterr().err

"""History follows the card: a card rated, edited in place (same note, same SR comment,
new text: a new id) and rated again has one history of two ratings, which statistics,
the queue's log state, the optimizer's input and `check --verbose` see under its new id."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from flashmark.cards import cards_of
from flashmark.cli.main import main
from flashmark.cli.optimize import optimizer_reviews
from flashmark.config import ParserSettings, SchedulingSettings, Settings
from flashmark.model import Rating
from flashmark.review.queue import log_state
from flashmark.review.rating import rate_card
from flashmark.stats import DueCutoff, live_reviews
from flashmark.syntax import parse_note
from flashmark.vault.reviewlog import (
    Renamed,
    ReviewLog,
    follow_renames,
    joined_histories,
    rename_map,
    reviews,
)

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
SETTINGS = Settings(parser=ParserSettings(), scheduling=SchedulingSettings(fuzz=False))
NOTE = ("---\ntags: [flashcard/test]\n---\n\n"
        "the capital of France:@:Paris\n\n"
        "the capital of Italy:@:Rome\n")


def _ids(root: Path) -> dict[str, str]:
    text = (root / "n.md").read_text()
    return {q.text: cards_of(q, "n.md")[0].id
            for q in parse_note(text, SETTINGS.parser).questions}


def test_edit_in_place_joins_the_history(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "vault"
    root.mkdir()
    (root / "n.md").write_text(NOTE)
    old_id = _ids(root)["the capital of France:@:Paris"]
    other_id = _ids(root)["the capital of Italy:@:Rome"]
    first = rate_card(root, SETTINGS, old_id, Rating.GOOD, NOW)
    rate_card(root, SETTINGS, other_id, Rating.AGAIN, NOW)
    # the card's text is edited in place: its SR comment stays, its id changes
    note = root / "n.md"
    note.write_text(note.read_text().replace("France:@:Paris", "France:@:Paris (Île-de-France)"))
    new_id = _ids(root)["the capital of France:@:Paris (Île-de-France)"]
    assert new_id != old_id
    later = NOW + dt.timedelta(days=3)
    second = rate_card(root, SETTINGS, new_id, Rating.GOOD, later)
    assert second.before == first.after  # the schedule stayed with the card

    events = ReviewLog(root).effective()
    renamed = [e for e in events if isinstance(e, Renamed)]
    assert [(e.id, e.to, e.path, e.via) for e in renamed] == [(old_id, new_id, "n.md", "edit")]
    assert not [e for e in events if e.kind == "external"]  # not another tool's change
    assert rename_map(events) == {old_id: new_id}
    # one history of two ratings, under the new id
    history = [e for e in reviews(follow_renames(events)) if e.id == new_id]
    assert [(e.rating, e.before, e.after) for e in history] == [
        ("good", None, first.after), ("good", first.after, second.after)]
    assert [e.id for _, e in live_reviews(events)] == [new_id, other_id, new_id]
    fitted = [e.id for e in optimizer_reviews(root)]
    assert fitted.count(new_id) == 2 and old_id not in fitted
    state = log_state(events, DueCutoff(later))
    assert state.reviewed_today == {new_id: 1}
    assert joined_histories(events) == {new_id: renamed}

    # check --verbose lists it (and plain check does not)
    assert main(["check", str(root)]) == 0
    assert "history-joined" not in capsys.readouterr().out
    assert main(["check", str(root), "--verbose", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["code"], r["card"], r["previous"]) for r in rows] == [
        ("history-joined", new_id, [old_id])]


def test_no_join_without_a_vanished_card(tmp_path: Path) -> None:
    """A new card whose entry happens to equal another card's last rating is not joined
    while that card is still in the note."""
    root = tmp_path / "vault"
    root.mkdir()
    (root / "n.md").write_text(NOTE)
    ids = _ids(root)
    first = rate_card(root, SETTINGS, ids["the capital of France:@:Paris"], Rating.GOOD, NOW)
    note = root / "n.md"
    # the other card gets the same entry by hand (a copy-paste); both cards remain
    text = note.read_text().replace("Italy:@:Rome", f"Italy:@:Rome <!--SR:!{first.after}-->")
    note.write_text(text)
    rate_card(root, SETTINGS, ids["the capital of Italy:@:Rome"], Rating.GOOD,
              NOW + dt.timedelta(days=3))
    assert not [e for e in ReviewLog(root).events() if isinstance(e, Renamed)]


def test_renamed_event_is_validated() -> None:
    from flashmark.vault.reviewlog import parse_line

    good = {"v": 1, "uid": "u", "event": "renamed", "time": "2026-11-23T12:00:00.000Z",
            "id": "aaaaaaaaaaaa", "to": "bbbbbbbbbbbb", "path": "n.md", "via": "edit"}
    event, problem = parse_line(json.dumps(good).encode())
    assert isinstance(event, Renamed) and problem is None
    for broken, why in ((dict(good, to=3), "'to' should be str"),
                        ({k: v for k, v in good.items() if k != "via"}, "without 'via'"),
                        (dict(good, to="aaaaaaaaaaaa"), "to itself")):
        event, problem = parse_line(json.dumps(broken).encode())
        assert event is None and problem is not None and why in problem


def test_rename_chains_and_loops() -> None:
    def r(a: str, b: str) -> Renamed:
        return Renamed(time="2026-11-23T12:00:00.000Z", id=a, to=b, path="n.md", via="edit")

    assert rename_map([r("a", "b"), r("b", "c")]) == {"a": "c", "b": "c"}
    # a text changed back: the card is "a" again, with the history it had as "b"
    assert rename_map([r("a", "b"), r("b", "a")]) == {"b": "a"}
    assert rename_map([r("a", "b"), r("c", "d"), r("b", "e")]) == {"a": "e", "b": "e",
                                                                    "c": "d"}

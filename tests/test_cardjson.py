"""`scan --json`'s fast path (flashmark.cardjson.note_json_lines) writes exactly what
``json.dumps(card_json(card), ensure_ascii=False)`` writes, and the index serves the
lines only while they are right (issue 17)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashmark.cardjson import _schedule_text, card_json, note_json_lines, schedule_json
from flashmark.cards import cards_of
from flashmark.cli.main import main
from flashmark.config import load_settings
from flashmark.syntax import parse_note


def _reference(text: str, rel: str = "n.md") -> tuple[str, str]:
    note = parse_note(text, load_settings(Path("/nonexistent")).parser, all_notes=True)
    slow = "".join(json.dumps(card_json(c), ensure_ascii=False) + "\n"
                   for q in note.questions for c in cards_of(q, rel))
    return slow, note_json_lines(note.questions, rel)


def test_sample_vault_notes(vault: Path) -> None:
    settings = load_settings(vault).parser
    cards = 0
    for path in sorted(vault.rglob("*.md")):
        rel = path.relative_to(vault).as_posix()
        note = parse_note(path.read_text(encoding="utf-8"), settings, all_notes=True)
        slow = [json.dumps(card_json(c), ensure_ascii=False) + "\n"
                for q in note.questions for c in cards_of(q, rel)]
        cards += len(slow)
        assert note_json_lines(note.questions, rel) == "".join(slow), rel
    assert cards > 20


@pytest.mark.parametrize("entry", [
    "2026-12-05,3,250", "2000-01-01,1,250", "2027-02-30,3,250", " 2026-12-05,3,250",
    "2026-12-05,3.5,250", "2026-12-05,03,250", "05-12-2026,3,250", "Sat Dec 05 2026,3,250",
    "2026-12-05,3,250,extra",
    "fsrs,2030-03-17T00:00:00.000Z,3,2.5,5.1,2,4,0,0,2030-03-14T00:00:00.000Z",
    "fsrs,2030-03-17T00:00:00.000Z,3,2.50,5,2,4,0,0,-",
    "fsrs,2030-03-17T00:00:00.000Z,3,2.5,5.1,0,0,0,0,-",
    "fsrs,2030-03-17T08:00:00+08:00,3,2.5,5.1,1,1,0,1,-",
    "fsrs,2030-02-30T00:00:00.000Z,3,2.5,5.1,2,4,0,0,-",
    "fsrs,2030-03-17T00:00:00.000Z,3,2e9,5.1,2,4,0,0,-",
    "fsrs,2030-03-17T00:00:00.000Z,3,20000000000.5,5.1,2,4,0,0,-",
    "fsrs,2030-03-17T00:00:00.000Z,3,2.5,5.1,2,4,0,0,-,more",
    "fsrs,nonsense", "garbage",
])
def test_schedule_fast_path_agrees(entry: str) -> None:
    assert _schedule_text(entry) == json.dumps(schedule_json(entry), ensure_ascii=False)


_TEXT = st.text(st.characters(blacklist_categories=["Cs"],
                              blacklist_characters="{}@:\n\r"), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT, st.one_of(st.none(), _TEXT)), min_size=1, max_size=4),
       _TEXT)
def test_cloze_sides_with_any_characters(parts: list[tuple[str, str, str | None]],
                                         tail: str) -> None:
    body = "".join(f"{before}{{@{{{answer}{';;' + hint if hint else ''}}}@}}"
                   for before, answer, hint in parts) + tail
    slow, fast = _reference(f"{body}\n\nq \\ \"x\" \t:@: a\u2028\x01b\n")
    assert fast == slow


def _scan_json(vault: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["scan", "--json", str(vault), *extra]) == 0
    return capsys.readouterr().out


def test_index_serves_the_lines_and_drops_them_when_wrong(
        vault: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(vault)]) == 0  # a plain scan stores no lines
    capsys.readouterr()
    reference = _scan_json(vault, capsys, "--no-cache")
    assert _scan_json(vault, capsys) == reference  # made now, and stored
    db = sqlite3.connect(vault / ".flashmark" / "cache" / "index.sqlite3")
    stored = db.execute("SELECT count(*) FROM notes WHERE cards_json IS NOT NULL "
                        "AND tally != x''").fetchone()[0]
    assert stored > 0
    # Damaged stored lines (a flipped byte: zlib's checksum) are made again.
    path, blob = db.execute("SELECT path, cards_json FROM notes WHERE length(cards_json) > 40 "
                            "ORDER BY path LIMIT 1").fetchone()
    db.execute("UPDATE notes SET cards_json=? WHERE path=?",
               (blob[:-6] + bytes([blob[-6] ^ 0xFF]) + blob[-5:], path))
    db.commit()
    assert _scan_json(vault, capsys) == reference
    # An edited note: its lines change with it.
    note = vault / path
    note.write_text(note.read_text(encoding="utf-8").replace(":@:", ":@: changed", 1)
                    if ":@:" in note.read_text(encoding="utf-8")
                    else note.read_text(encoding="utf-8") + "\nnew :@: card\n",
                    encoding="utf-8")
    os.utime(note, ns=(0, 1_000_000_000))
    edited = _scan_json(vault, capsys)
    assert edited != reference
    assert edited == _scan_json(vault, capsys, "--no-cache")
    db.close()


def test_partly_selected_note_is_filtered_by_line(
        vault: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (vault / "mixed.md").write_text(
        "#flashcard/active/alpha\n\none :@: 1\n\n#flashcard/active/beta two :@: 2\n",
        encoding="utf-8")
    for _ in range(2):  # cold, then from the index
        lines = [json.loads(line) for line in
                 _scan_json(vault, capsys, "--deck", "flashcard/active/beta").splitlines()]
        mixed = [line for line in lines if line["path"] == "mixed.md"]
        assert [(c["front"], c["deck"]) for c in mixed] == [("two", "flashcard/active/beta")]

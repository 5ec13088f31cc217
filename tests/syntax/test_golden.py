"""Golden files: every ``fixtures/NAME.md`` is parsed and compared with ``NAME.json``.

The JSON files are the specification of how flashmark cuts notes into questions
(the plugin's rules): each one was checked by hand. To regenerate them after a deliberate
change, run

    FLASHMARK_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/syntax/test_golden.py

and review the diff line by line before committing it. Fixtures listed in
``KNOWN_BUGS`` hold the *correct* expectation (written by hand) and are not
overwritten by regeneration; they are strict xfails until the bug is fixed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from flashmark.cards import cards_of
from flashmark.config import ParserSettings
from flashmark.model import ParsedNote, Question
from flashmark.syntax import parse_note

FIXTURES = Path(__file__).parent / "fixtures"
SETTINGS = ParserSettings(flashcard_tags=("flashcard/active",))
REGEN = os.environ.get("FLASHMARK_REGEN_GOLDEN") == "1"

KNOWN_BUGS: dict[str, str] = {}
# A fix for a known bug may legitimately change card ids (the card text changes), so the
# hand-written expectations of those fixtures leave the ids out; regenerate the file and
# drop the fixture from KNOWN_BUGS once the bug is fixed.


def project_question(q: Question, note_path: str) -> dict[str, Any]:
    return {
        "type": q.type.value,
        "line": q.span.line + 1,
        "end_line": q.span.end_line + 1,
        "front": q.front,
        "back": q.back,
        "deletions": [[d.answer, d.hint, d.number] for d in q.deletions],  # answer, hint, number
        "groups": [list(g) for g in q.groups],
        "sr": None if q.sr is None else q.sr.body,
        "deck": q.deck,
        "card_count": q.card_count,
        "anchor": q.anchor,
        "ends_with_fence": q.ends_with_fence,
        "cards": [{"id": c.id, "front": c.front, "back": c.back} for c in cards_of(q, note_path)],
    }


def project_note(note: ParsedNote, note_path: str) -> dict[str, Any]:
    return {
        "is_flashcard_note": note.is_flashcard_note,
        "deck": note.deck,
        "questions": [project_question(q, note_path) for q in note.questions],
        "problems": [{"line": _one_based(p.line), "code": p.code, "severity": p.severity}
                     for p in note.problems],
    }


def project(name: str, text: str) -> dict[str, Any]:
    note_path = f"{name}.md"
    out = project_note(parse_note(text, SETTINGS), note_path)
    if not out["is_flashcard_note"]:
        # Untagged notes: what `--all` (all_notes=True) would read.
        out["all_notes"] = project_note(parse_note(text, SETTINGS, all_notes=True), note_path)
    return out


def dumps(value: Any, indent: str = "") -> str:
    """JSON with one key per line, but lists of scalars (and of such lists) on one line."""
    inner = indent + " "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {dumps(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return "[\n" + ",\n".join(inner + dumps(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def _names() -> list[Any]:
    names = sorted(p.stem for p in FIXTURES.glob("*.md"))
    return [pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_BUGS[n], strict=True))
            if n in KNOWN_BUGS and not REGEN else n for n in names]


def test_enough_fixtures() -> None:
    md = {p.stem for p in FIXTURES.glob("*.md")}
    js = {p.stem for p in FIXTURES.glob("*.json")}
    assert len(md) >= 14
    assert md == js, "every fixture needs both NAME.md and NAME.json"


@pytest.mark.parametrize("name", _names())
def test_golden(name: str) -> None:
    # Bytes decoded as they are: a BOM stays, CRLF and bare CR stay.
    text = (FIXTURES / f"{name}.md").read_bytes().decode("utf-8")
    actual = project(name, text)
    expected_path = FIXTURES / f"{name}.json"
    if REGEN:
        if name in KNOWN_BUGS:
            pytest.skip(f"{name}.json holds a hand-written expectation (known bug): not rewritten")
        expected_path.write_text(dumps(actual) + "\n", encoding="utf-8")
        pytest.skip(f"regenerated {expected_path.name}: review the diff")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    if name in KNOWN_BUGS:
        for q in actual["questions"]:
            for card in q["cards"]:
                del card["id"]
    assert actual == expected


def _one_based(line: int | None) -> int:
    assert line is not None  # these problems are all on a line
    return line + 1

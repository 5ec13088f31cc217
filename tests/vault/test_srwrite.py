"""Golden before/after files for the SR entry writer (tests/vault/golden/).

Each case stores one fixed entry into one card's slot; regenerate the after files with
FLASHMARK_REGEN_GOLDEN=1 and review the diff by hand.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flashmark.config import ParserSettings
from flashmark.model import Question
from flashmark.syntax import parse_note
from flashmark.vault.edit import Edit, splice
from flashmark.vault.srwrite import sr_edit

GOLDEN = Path(__file__).parent / "golden"
CASES = json.loads((GOLDEN / "cases.json").read_text())
ENTRY = "fsrs,2026-12-01T00:00:00.000Z,8,8.21,5.1,2,1,0,0,2026-11-23T12:00:00.000Z"


def _apply(name: str) -> tuple[bytes, bytes, Edit, Question]:
    case = CASES[name]
    before = (GOLDEN / f"{name}.before.md").read_bytes()
    note = parse_note(before.decode("utf-8"), ParserSettings())
    question = next(q for q in note.questions if q.span.line + 1 == case["line"])
    edit = sr_edit(before, question, case["sibling"], ENTRY, same_line=case["same_line"])
    return before, splice(before, [edit]), edit, question


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    before, after, edit, question = _apply(name)
    expected_path = GOLDEN / f"{name}.after.md"
    if os.environ.get("FLASHMARK_REGEN_GOLDEN") == "1":
        expected_path.write_bytes(after)
    assert after == expected_path.read_bytes()
    # minimal: an existing slot loses exactly its old entry; otherwise nothing is removed
    entries = question.sr.entry_texts if question.sr is not None else []
    sibling = CASES[name]["sibling"]
    if question.sr is not None and question.sr.legacy_single:
        assert edit.old == question.sr.body.encode()
    elif sibling < len(entries):
        assert edit.old == entries[sibling].encode()
    else:
        assert edit.old == b""
    assert after.count(b"<!--SR:") == before.count(b"<!--SR:") + (question.sr is None)
    # and the note still parses to the same questions, now with the entry in its slot
    note = parse_note(after.decode("utf-8"), ParserSettings())
    case = CASES[name]
    question = next(q for q in note.questions if q.span.line + 1 == case["line"])
    assert question.sr is not None
    assert question.sr.entry_texts[case["sibling"]] == ENTRY


def test_new_comment_has_one_entry_per_sibling() -> None:
    _, after, _, _ = _apply("reversible_second")
    assert after.endswith(f"<!--SR:!2000-01-01,1,250!{ENTRY}-->\n".encode())


def test_out_of_range_sibling_is_refused() -> None:
    before = b"q::@::a\n"
    question = parse_note(before.decode(), ParserSettings()).questions[0]
    with pytest.raises(ValueError):
        sr_edit(before, question, 2, ENTRY)

"""Per-note agreement with obsidian-spaced-repetition 1.15.4's own parse().

`osr-1.15.4-questions.json.gz` holds what the plugin's parser found in every flashcard
note of the real vault (type and card count of each question); it was produced by
running the plugin's TypeScript parser over the vault with its settings. flashmark must
agree on at least 99.5 % of the notes with cards, and every note that differs must be
one of the documented bug fixes (docs/compatibility.md).
"""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from flashmark.config import load_settings
from flashmark.syntax import parse_note

CORPUS = Path(os.environ.get("FLASHMARK_CORPUS") or
              Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "information")
ORACLE = Path(__file__).with_name("osr-1.15.4-questions.json.gz")

# docs/compatibility.md, "Where flashmark deliberately differs": fix 2 (a cloze block
# right before a one-line card) and fix 1 (a one-line HTML comment above a card).
DOCUMENTED = {
    "special/C/file input_output.md": "fix 2",
    "special/academia/HKUST/COMP 3633/heap vulnerability.md": "fix 2",
    "special/academia/HKUST/MATH 2431/conditional expectation.md": "fix 1",
}

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")]


def test_questions_agree_with_osr_on_99_5_percent_of_notes() -> None:
    oracle = json.loads(gzip.decompress(ORACLE.read_bytes()))["notes"]
    settings = load_settings(CORPUS).parser
    agree = 0
    differ: list[str] = []
    with_cards = 0
    for path, theirs in oracle.items():
        note = parse_note((CORPUS / path).read_text(encoding="utf-8"), settings)
        assert note.is_flashcard_note, path
        mine = Counter((q.type.value, q.card_count) for q in note.questions)
        if not mine and not theirs:
            continue
        with_cards += 1
        if mine == Counter((t, cards) for t, _, cards in theirs):
            agree += 1
        else:
            differ.append(path)
    assert with_cards == 1491
    assert agree / with_cards >= 0.995
    assert sorted(differ) == sorted(DOCUMENTED)


def test_the_same_notes_are_flashcard_notes() -> None:
    oracle = set(json.loads(gzip.decompress(ORACLE.read_bytes()))["notes"])
    settings = load_settings(CORPUS).parser
    ours = set()
    for path in CORPUS.rglob("*.md"):
        rel = path.relative_to(CORPUS).as_posix()
        if any(part.startswith(".") for part in rel.split("/")):
            continue  # hidden, as in Obsidian (none is a flashcard note)
        if parse_note(path.read_text(encoding="utf-8"), settings).is_flashcard_note:
            ours.add(rel)
    assert ours == oracle

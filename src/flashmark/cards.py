"""From questions to cards (siblings): ids, the side shown first, and the schedule slot."""

from __future__ import annotations

from dataclasses import dataclass

from flashmark.identity import card_ids
from flashmark.model import CardId, Question, QuestionType


@dataclass(frozen=True, slots=True)
class Card:
    id: CardId
    path: str  # the note, vault-relative
    question: Question
    sibling: int
    front: str
    back: str
    entry_text: str | None  # this sibling's SR entry (without "!"), None when it has none


def cloze_sides(question: Question, sibling: int, blank: str = "[...]") -> tuple[str, str]:
    """Front: the asked deletions blanked (``[hint]`` when hinted), the others shown;
    back: every deletion shown."""
    asked = set(question.groups[sibling])
    text = question.text
    front: list[str] = []
    back: list[str] = []
    pos = 0
    for k, d in enumerate(question.deletions):
        front.append(text[pos:d.start])
        back.append(text[pos:d.start])
        if k in asked:
            front.append(f"[{d.hint}]" if d.hint else blank)
        else:
            front.append(d.answer)
        back.append(d.answer)
        pos = d.end
    front.append(text[pos:])
    back.append(text[pos:])
    return "".join(front), "".join(back)


def cards_of(question: Question, note_path: str) -> list[Card]:
    entries = question.sr.entry_texts if question.sr is not None else []
    out = []
    for sibling, cid in enumerate(card_ids(question, note_path)):
        if question.type is QuestionType.CLOZE:
            front, back = cloze_sides(question, sibling)
        elif sibling == 0:
            front, back = question.front, question.back
        else:
            front, back = question.back, question.front
        entry = entries[sibling] if sibling < len(entries) else None
        out.append(Card(cid, note_path, question, sibling, front, back, entry))
    return out

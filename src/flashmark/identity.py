"""The card-id rule (documented in docs/card-identity.md).

A card id is a hash of which note the card is in and what it says, not of where in
the note it stands:

    id = hex(blake2b(note path, type, normalized question text, ordinal, sibling))[:12]

* note path: vault-relative, "/"-separated. The real vault holds 1,606 cards whose
  text also appears in another note; they are different cards with their own
  schedules, so they need different ids (and different Anki notes). Renaming a
  note therefore gives its cards new ids; the schedules stay in the note.
* normalized text: the question's lines with the SR comment and a trailing block id
  (`^id`) removed, trailing spaces dropped, common indentation removed and line
  endings unified. So editing other parts of the note, moving the question, nesting
  it deeper in a list, reviewing it, or converting the note to CRLF keeps the id;
  changing the card's own text (either side, any deletion) gives a new id.
* ordinal: 0 for the first question with this text in the note, 1 for the second,
  ...: identical questions in one note get different ids.
* sibling: the slot in the SR comment (reversible: 0 forward, 1 backward; cloze:
  one per deletion group).

"""

from __future__ import annotations

import hashlib
from typing import cast

from flashmark.model import CardId, Question
from flashmark.syntax.normalize import identity_text

ID_LENGTH = 12  # hex digits: 48 bits, ~4e-5 chance of any collision among 150k cards


def normalized_text(question: Question) -> str:
    return question.identity or identity_text(question.text)


def card_ids(question: Question, note_path: str) -> list[CardId]:
    """The ids of the question's cards, sibling by sibling."""
    base = _base_hash(question, note_path)
    count = question.card_count
    ids: list[str] = []
    for k in range(count):
        # the long text is hashed once per question, not once per card
        h = base.copy() if k < count - 1 else base
        h.update(_SIBLINGS[k] if k < len(_SIBLINGS) else str(k).encode())
        ids.append(h.hexdigest()[:ID_LENGTH])
    return cast("list[CardId]", ids)  # CardId(...) per card would cost a call each


def card_id(question: Question, note_path: str, sibling: int) -> CardId:
    """The id of one card of the question (``card_ids(...)[sibling]``, computed alone)."""
    h = _base_hash(question, note_path)
    h.update(str(sibling).encode())
    return CardId(h.hexdigest()[:ID_LENGTH])


def _base_hash(question: Question, note_path: str) -> hashlib.blake2b:
    return hashlib.blake2b(
        f"{note_path}\x1f{question.type.value}\x1f{normalized_text(question)}"
        f"\x1f{question.ordinal}\x1f".encode("utf-8", "surrogatepass"), digest_size=8)


_SIBLINGS = [str(k).encode() for k in range(64)]

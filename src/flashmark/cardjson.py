"""Cards as `flashmark scan --json` prints them: one JSON object per card (JSON Lines).

`card_json` is the definition (a dict per card, encoded with ``json.dumps(...,
ensure_ascii=False)``); `note_json_lines` is the fast path that writes the same bytes for
a whole note. A cloze block of n deletions makes n cards whose sides all repeat the
block's text (the real vault's output is 203 MB for 33 MB of notes), so the text is
JSON-escaped once per question, in pieces, and each card's sides are joined from the
escaped pieces. This is exact because JSON string escaping (without ``ensure_ascii``)
maps each character on its own: the escape of a concatenation is the concatenation
of the escapes. Tests compare both paths on the sample vault and on generated text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from flashmark.cards import Card
from flashmark.identity import card_ids
from flashmark.model import (
    NEW_CARD_DATE,
    CardId,
    FsrsEntry,
    Question,
    QuestionType,
    RawEntry,
    Sm2Entry,
)
from flashmark.syntax import srcodec

# json.dumps' own string encoder for ensure_ascii=False (the C one when available).
_encode: Callable[[str], str] = cast("Any", json.encoder).encode_basestring


def schedule_json(entry_text: str | None) -> dict[str, Any] | None:
    """A card's schedule as `scan --json` shows it (None: new or no entry)."""
    if entry_text is None:
        return None
    entry = srcodec.parse_entry(entry_text)
    if isinstance(entry, Sm2Entry):
        if entry.is_new:
            return None
        return {"kind": "sm2", "due": entry.due.isoformat(), "interval": entry.interval,
                "ease": entry.ease}
    if isinstance(entry, FsrsEntry):
        if entry.is_new:
            return None
        return {"kind": "fsrs", "due": srcodec.iso_ms(entry.due), "interval": entry.interval,
                "stability": entry.stability, "difficulty": entry.difficulty,
                "state": entry.state, "reps": entry.reps, "lapses": entry.lapses,
                "step": entry.step,
                "last_review": None if entry.last_review is None
                else srcodec.iso_ms(entry.last_review)}
    assert isinstance(entry, RawEntry)
    return {"kind": "invalid", "text": entry.text, "reason": entry.reason}


def card_json(card: Card) -> dict[str, Any]:
    q = card.question
    return {
        "id": card.id,
        "path": card.path,
        "line": q.span.line + 1,
        "end_line": q.span.end_line + 1,
        "type": q.type.value,
        "sibling": card.sibling,
        "deck": q.deck,
        "front": card.front,
        "back": card.back,
        "schedule": schedule_json(card.entry_text),
    }


# The common legacy entry in its canonical form: `schedule_json` reads it as these
# three numbers (the date ISO, the ints without a decimal part), so it is written here
# without building a dict.
_PLAIN_SM2 = re.compile(r"(\d{4}-\d{2}-\d{2}),(\d+),(\d+)")

# The FSRS entry as the plugin writes it: instants in `iso_ms`'s own form (so they are
# printed as written), plain numbers.
_INSTANT = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"
_PLAIN_FSRS = re.compile(rf"fsrs,({_INSTANT}),(\d+),(\d+(?:\.\d+)?),(\d+(?:\.\d+)?),"
                         rf"([0-3]),(\d+),(\d+),(\d+),({_INSTANT}|-)")


def _schedule_text(entry_text: str | None) -> str:
    if entry_text is None:
        return "null"
    m = _PLAIN_SM2.fullmatch(entry_text)
    if m is not None:
        try:
            due = dt.date.fromisoformat(m[1])
        except ValueError:
            pass  # an invalid date: the general path says so
        else:
            if due == NEW_CARD_DATE:
                return "null"
            return (f'{{"kind": "sm2", "due": "{m[1]}", "interval": {int(m[2])}, '
                    f'"ease": {int(m[3])}}}')
    m = _PLAIN_FSRS.fullmatch(entry_text)
    if m is not None:
        try:
            due_at = dt.datetime.fromisoformat(m[1])
            if m[9] != "-":
                dt.datetime.fromisoformat(m[9])
        except ValueError:
            due_at = None
        stability = float(m[3])
        if due_at is not None and stability <= srcodec.MAX_STABILITY:
            if m[5] == "0":  # state new
                return "null"
            last = "null" if m[9] == "-" else f'"{m[9]}"'
            return (f'{{"kind": "fsrs", "due": "{m[1]}", "interval": {int(m[2])}, '
                    f'"stability": {stability!r}, "difficulty": {float(m[4])!r}, '
                    f'"state": {m[5]}, "reps": {int(m[6])}, "lapses": {int(m[7])}, '
                    f'"step": {int(m[8])}, "last_review": {last}}}')
    return json.dumps(schedule_json(entry_text), ensure_ascii=False)


# `_schedule_text` of the entries seen lately, in this process: a vault repeats many
# entries (the same day, interval and ease; at 10x, every copy's), and each is parsed and
# formatted once. Emptied when full, so its memory stays bounded.
_SCHEDULES: dict[str, str] = {}
_SCHEDULES_MAX = 1 << 17


def _schedule_of(entry: str) -> str:
    text = _SCHEDULES.get(entry)
    if text is None:
        if len(_SCHEDULES) >= _SCHEDULES_MAX:
            _SCHEDULES.clear()
        text = _SCHEDULES[entry] = _schedule_text(entry)
    return text


def note_json_lines(questions: Iterable[Question], note_path: str,
                    blank: str = "[...]", ids: Sequence[list[CardId]] | None = None) -> str:
    """The JSON Lines of every card of ``questions`` (in order), exactly as
    ``json.dumps(card_json(card), ensure_ascii=False) + "\\n"`` per card of `cards_of`.
    ``ids``: the questions' `card_ids` when already computed (for the note's summary)."""
    # The per-card work is a few lookups and one f-string: everything constant for a
    # question (its head, its back and what follows it) is formatted once.
    encode = _encode
    schedule_of = _SCHEDULES.get
    path = encode(note_path)
    out: list[str] = []
    add = out.append
    for j, q in enumerate(questions):
        deck = "null" if q.deck is None else encode(q.deck)
        head = (f', "path": {path}, "line": {q.span.line + 1}, '
                f'"end_line": {q.span.end_line + 1}, "type": "{q.type.value}", "sibling": ')
        middle = f', "deck": {deck}, "front": "'
        entries = q.sr.entry_texts if q.sr is not None else []
        q_ids = ids[j] if ids is not None else card_ids(q, note_path)
        # each card's "schedule" (its entry's, "null" past the last entry)
        schedules = [schedule_of(e) or _schedule_of(e) for e in entries[:len(q_ids)]]
        schedules += ["null"] * (len(q_ids) - len(schedules))
        if q.type is QuestionType.CLOZE:
            text = q.text
            # The back's pieces: escaped text before each deletion, the deletion's answer,
            # ..., the text after the last. A front replaces the asked answers (odd slots).
            pieces: list[str] = []
            blanks: list[str] = []
            pos = 0
            for d in q.deletions:
                pieces.append(encode(text[pos:d.start])[1:-1])
                pieces.append(encode(d.answer)[1:-1])
                blanks.append(encode(f"[{d.hint}]" if d.hint else blank)[1:-1])
                pos = d.end
            pieces.append(encode(text[pos:])[1:-1])
            tail = f'", "back": "{"".join(pieces)}", "schedule": '
            groups = q.groups
            for sibling, cid in enumerate(q_ids):
                shown = pieces.copy()
                for k in groups[sibling]:
                    shown[2 * k + 1] = blanks[k]
                add(f'{{"id": "{cid}"{head}{sibling}{middle}{"".join(shown)}{tail}'
                    f'{schedules[sibling]}}}\n')
        else:
            front, back = encode(q.front)[1:-1], encode(q.back)[1:-1]
            tails = (f'", "back": "{back}", "schedule": ', f'", "back": "{front}", "schedule": ')
            for sibling, cid in enumerate(q_ids):
                add(f'{{"id": "{cid}"{head}{sibling}{middle}{back if sibling else front}'
                    f'{tails[sibling != 0]}{schedules[sibling]}}}\n')
    return "".join(out)


def pack_card_json(lines: str) -> bytes:
    """A note's JSON Lines as the index keeps them: UTF-8, zlib (level 1: the lines
    repeat a cloze block's text per card, ~13x smaller; its checksum catches damage)."""
    return zlib.compress(lines.encode("utf-8"), 1)


def unpack_card_json(blob: bytes) -> bytes | None:
    """The UTF-8 lines of `pack_card_json`'s ``blob``; None when it is damaged."""
    try:
        return zlib.decompress(blob)
    except zlib.error:
        return None

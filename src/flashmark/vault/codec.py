"""The per-card summary the index keeps (stored with `marshal`).

marshal is the fastest (de)serializer in the standard library for tuples of strings and
ints; it is safe here because the index is our own rebuildable cache, and a version
check drops it whenever this layout changes.
"""

from __future__ import annotations

import marshal

from flashmark.identity import card_ids
from flashmark.model import PLACEHOLDER_TEXT, ParsedNote

LAYOUT_VERSION = 2

# --- the summary: just enough to count new / due cards without loading questions ----

NEW = ""
UNREADABLE = "?"


def due_key(entry_text: str | None) -> str:
    """"" for a new card, "?" for an unreadable entry, else the due date ("YYYY-MM-DD")
    or the due instant (ISO UTC, "…Z"). Both compare correctly as strings.

    A structural check only (field count and shape of the date); `flashmark check`
    validates entries fully.
    """
    if entry_text is None or entry_text == PLACEHOLDER_TEXT:
        return NEW
    parts = entry_text.split(",")
    if parts[0] == "fsrs":
        if len(parts) != 10 or len(parts[1]) != 24 or parts[5] not in "0123":
            return UNREADABLE
        return NEW if parts[5] == "0" else parts[1]
    if len(parts) != 3 or len(parts[0]) != 10 or parts[0][4] != "-":
        return UNREADABLE
    return NEW if parts[1] == "0" else parts[0]


# (deck, due key, card id, state) for each card of a note, in note order; state is
# "n" new, "l" learning or relearning (FSRS states 1 and 3), "r" review, "?" unreadable
Summary = list[tuple[str | None, str, str, str]]


def state_of(key: str, entry_text: str | None) -> str:
    if key == NEW:
        return "n"
    if key == UNREADABLE:
        return "?"
    if entry_text is not None and entry_text.startswith("fsrs,"):
        return "l" if entry_text.split(",", 6)[5] in ("1", "3") else "r"
    return "r"


def summarize(note: ParsedNote, rel: str) -> Summary:
    out: Summary = []
    for q in note.questions:
        entries = q.sr.entry_texts if q.sr is not None else []
        n = len(entries)
        deck = q.deck
        for k, cid in enumerate(card_ids(q, rel)):
            if k >= n:
                out.append((deck, NEW, cid, "n"))
                continue
            text = entries[k]
            key = due_key(text)
            out.append((deck, key, cid, state_of(key, text)))
    return out


def dump_summary(summary: Summary) -> bytes:
    return marshal.dumps(summary)


def load_summary(blob: bytes) -> Summary:
    value: Summary = marshal.loads(blob)  # tuples stay tuples through marshal
    return value


# Per deck of a note: (deck, new, unreadable, learning keys, review dates, review instants),
# the key lists sorted. Counting due cards is then two bisects per note and deck instead
# of a loop over every card: what keeps a warm `flashmark scan` fast on 150k cards.
Tally = list[tuple[str | None, int, int, list[str], list[str], list[str]]]


def tally(summary: Summary) -> Tally:
    by_deck: dict[str | None, tuple[list[int], list[str], list[str], list[str]]] = {}
    for deck, key, _, state in summary:
        entry = by_deck.get(deck)
        if entry is None:
            entry = by_deck[deck] = ([0, 0], [], [], [])
        if key == NEW:
            entry[0][0] += 1
        elif key == UNREADABLE:
            entry[0][1] += 1
        elif state == "l":
            entry[1].append(key)
        elif len(key) == 10:
            entry[2].append(key)
        else:
            entry[3].append(key)
    return [(deck, n[0], n[1], sorted(learn), sorted(dates), sorted(instants))
            for deck, (n, learn, dates, instants) in by_deck.items()]


def dump_tally(value: Tally) -> bytes:
    return marshal.dumps(value)


def load_tally(blob: bytes) -> Tally:
    value: Tally = marshal.loads(blob)
    return value

"""The per-card summary the index keeps (stored with `marshal`).

marshal is the fastest (de)serializer in the standard library for tuples of strings and
ints; it is safe here because the index is our own rebuildable cache, and a version
check drops it whenever this layout changes. Each blob carries a CRC-32 of its marshal
data, checked before unmarshalling: marshal trusts the counts it reads, and a damaged
blob that claims a list of two billion items would allocate gigabytes before failing.
A blob that fails the check (or decodes to the wrong shape) raises ``DamagedBlobError``: the
caller reads the note again.
"""

from __future__ import annotations

import marshal
import struct
import zlib
from collections.abc import Sequence

from flashmark.identity import card_ids
from flashmark.model import (
    NEW_CARD_DATE,
    PLACEHOLDER_TEXT,
    STATE_LEARNING,
    STATE_NEW,
    STATE_REVIEW,
    STATE_UNREADABLE,
    CardId,
    CardState,
    FsrsEntry,
    ParsedNote,
    Sm2Entry,
)
from flashmark.syntax import srcodec

LAYOUT_VERSION = 4  # 4: the plugin's other entry forms are read (docs/compatibility.md)

# A note's summary or tally larger than this is damage, not data (a note of 10 MB of
# cards makes a blob of about 4 MB).
MAX_BLOB = 64 << 20


class DamagedBlobError(ValueError):
    """A cached blob that is not what this module wrote."""


def seal(data: bytes) -> bytes:
    """``data`` with its CRC-32 in front."""
    return zlib.crc32(data).to_bytes(4, "little") + data


def unseal(blob: bytes) -> memoryview:
    """The data of a sealed blob; ``DamagedBlobError`` when it is not intact."""
    if not 4 <= len(blob) <= MAX_BLOB:
        raise DamagedBlobError("blob of the wrong size")
    data = memoryview(blob)[4:]
    if zlib.crc32(data) != _crc_of(blob)[0]:
        raise DamagedBlobError("checksum mismatch")
    return data


_crc_of = struct.Struct("<I").unpack_from


# --- the summary: just enough to count new / due cards without loading questions ----

NEW = ""
UNREADABLE = "?"


_NEW_CARD: tuple[str, CardState] = (NEW, STATE_NEW)
_UNREADABLE_CARD: tuple[str, CardState] = (UNREADABLE, STATE_UNREADABLE)
_FSRS_STATES: dict[str, CardState] = {"0": STATE_REVIEW, "1": STATE_LEARNING,
                                      "2": STATE_REVIEW, "3": STATE_LEARNING}
_NEW_CARD_DAY = NEW_CARD_DATE.isoformat()


def key_and_state(entry_text: str | None) -> tuple[str, CardState]:
    """(due key, state) of one SR entry (see ``due_key`` and ``Summary``).

    The forms flashmark and the plugin write are recognised by their shape; anything else
    (a hand-written or plugin-only form: DD-MM-YYYY, a UTC offset, a space, extra
    fields, a decimal interval) is decoded by the SR codec.
    """
    if entry_text is None or entry_text == PLACEHOLDER_TEXT:
        return _NEW_CARD
    parts = entry_text.split(",")
    if parts[0] == "fsrs":
        if len(parts) == 10 and len(parts[1]) == 24 and parts[1][-1] == "Z":
            state = parts[5]
            # State 0 with a due time is the plugin's "Reset": the plugin counts the
            # card as due at that time (and schedules it like a new card).
            letter = _FSRS_STATES.get(state)
            if letter is not None:
                return parts[1], letter
    elif (len(parts) == 3 and len(parts[0]) == 10 and parts[0][4] == "-"
          and parts[1].isdigit() and parts[2].isdigit()):
        return _NEW_CARD if parts[0] == _NEW_CARD_DAY else (parts[0], STATE_REVIEW)
    return _decoded_key(entry_text)


def _decoded_key(entry_text: str) -> tuple[str, CardState]:
    entry = srcodec.parse_entry(entry_text)
    if isinstance(entry, Sm2Entry):
        return _NEW_CARD if entry.is_new else (entry.due.isoformat(), STATE_REVIEW)
    if isinstance(entry, FsrsEntry):
        return srcodec.iso_ms(entry.due), _FSRS_STATES.get(str(entry.state), STATE_REVIEW)
    return _UNREADABLE_CARD


def due_key(entry_text: str | None) -> str:
    """"" for a new card, "?" for an unreadable entry, else the due date ("YYYY-MM-DD")
    or the due instant (ISO UTC, "…Z"). Both compare correctly as strings.

    A structural check only (field count and shape of the date); `flashmark check`
    validates entries fully.
    """
    return key_and_state(entry_text)[0]


# (deck, due key, card id, state) for each card of a note, in note order; state is a
# model.CardState (new, learning or relearning, review, unreadable)
Summary = list[tuple[str | None, str, str, CardState]]


def summarize(note: ParsedNote, rel: str,
              ids: Sequence[list[CardId]] | None = None) -> Summary:
    """The note's summary; ``ids``: its questions' `card_ids`, when already computed (a
    cold `scan --json` needs them for the JSON lines too)."""
    out: Summary = []
    append = out.append
    for j, q in enumerate(note.questions):
        entries = q.sr.entry_texts if q.sr is not None else ()
        n = len(entries)
        deck = q.deck
        for k, cid in enumerate(ids[j] if ids is not None else card_ids(q, rel)):
            key, state = key_and_state(entries[k]) if k < n else _NEW_CARD
            append((deck, key, cid, state))
    return out


def dump_summary(summary: Summary) -> bytes:
    return seal(marshal.dumps(summary))


def load_summary(blob: bytes) -> Summary:
    value: Summary = marshal.loads(unseal(blob))  # tuples stay tuples through marshal
    if type(value) is not list:  # the CRC vouches for the rest
        raise DamagedBlobError("not a card summary")
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
        elif state == STATE_LEARNING:
            entry[1].append(key)
        elif len(key) == 10:
            entry[2].append(key)
        else:
            entry[3].append(key)
    return [(deck, n[0], n[1], sorted(learn), sorted(dates), sorted(instants))
            for deck, (n, learn, dates, instants) in by_deck.items()]


def dump_tally(value: Tally) -> bytes:
    return seal(marshal.dumps(value))


# Most notes of a vault hold no card: their tally is one of these (marshal flags a list
# it may refer to again, depending on its reference count), intact and nothing to decode.
_EMPTY_TALLIES = frozenset(seal(bytes([code, 0, 0, 0, 0])) for code in (0x5B, 0x5B | 0x80))


def load_tally(blob: bytes) -> Tally:
    if blob in _EMPTY_TALLIES:
        return []
    value: Tally = marshal.loads(unseal(blob))
    if type(value) is not list:
        raise DamagedBlobError("not a tally")
    return value

"""Ids that Anki sees: note GUIDs, deck ids, and the text sketch used to match edits.

- A question (one Anki note) is keyed by the id of its first card (``card_ids``, see
  docs/card-identity.md): note path, type, normalized text and ordinal.
- Its GUID is ``fm-`` + 16 hex digits of ``blake2b(namespace, key)``; the namespace is
  the vault's (its folder name when first exported, then kept in the manifest), so the
  same note path and text in two vaults make two Anki notes.
- An edited question gets a new key; the manifest then hands it its old GUID (see
  :mod:`flashmark.export.manifest`).
- Deck ids are a hash of the deck name (Anki matches decks by name anyway).
"""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib
from itertools import islice

from flashmark.identity import card_id
from flashmark.model import Question

__all__ = ["SKETCH_SIZE", "deck_id", "note_guid", "question_key", "side_hash", "similarity",
           "sketch"]


def question_key(question: Question, rel: str) -> str:
    """The id of the question's first card: what identifies the question (and so its
    Anki note) in the manifest."""
    return card_id(question, rel, 0)


@functools.lru_cache(maxsize=1 << 17)
def note_guid(namespace: str, key: str, salt: int = 0) -> str:
    """The Anki GUID of a question never exported under another key."""
    blob = f"{namespace}\x1f{key}" + (f"\x1f{salt}" if salt else "")
    return "fm-" + hashlib.blake2b(blob.encode("utf-8", "surrogatepass"),
                                   digest_size=8).hexdigest()


def deck_id(name: str) -> int:
    """A fixed id for a deck name: 2**48 + 48 bits of hash (below 2**53, so it stays an
    exact number in Anki's JavaScript)."""
    h = hashlib.blake2b(f"flashmark-deck\x1f{name}".encode("utf-8", "surrogatepass"),
                        digest_size=6).digest()
    return (1 << 48) + int.from_bytes(h, "big")


# --- similarity -------------------------------------------------------------------------

SKETCH_SIZE = 12  # words kept per text: the similarity is exact for texts of <= 12 words
_WINDOW = 400  # characters read at each end of a long text
# ASCII punctuation, symbols and control characters separate words (on UTF-8 bytes: a
# 256-entry table is the fastest way Python has; other scripts stay whole).
_SEPARATORS = bytes(c if c >= 128 or chr(c).isalnum() else 32 for c in range(256))


def sketch(text: str) -> str:
    """A small signature of the text's words (case-folded): all its distinct words when
    it has at most 12, else the first 6 and the last 6; each as a 16-bit hash, in hex.
    Cheap enough for every exported question, and enough to tell "the same card,
    edited" (it keeps most words, or its beginning or its end) from "another card"."""
    if len(text) > 2 * _WINDOW:
        text = text[:_WINDOW] + " " + text[-_WINDOW:]
    words = text.lower().encode("utf-8", "surrogatepass").translate(_SEPARATORS).split()
    distinct = dict.fromkeys(words)
    if len(distinct) > SKETCH_SIZE:
        half = SKETCH_SIZE // 2
        head = list(islice(distinct, half))
        tail: dict[bytes, None] = {}
        for w in reversed(words):
            if len(tail) >= half:
                break
            if w not in tail and w not in head:
                tail[w] = None
        distinct = dict.fromkeys([*head, *tail])
    values = sorted({c & 0xFFFF for c in map(zlib.crc32, distinct)})
    return _PACK[len(values)](*values).hex()  # 4 hex digits per value


# struct formats packing n 16-bit values big-endian: .hex() then gives "%04x" per value
_PACK = [struct.Struct(f">{n}H").pack for n in range(SKETCH_SIZE + 1)]


def _values(s: str) -> set[int]:
    return {int(s[k:k + 4], 16) for k in range(0, len(s), 4)}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of two sketches' word hashes (1.0 for two empty texts)."""
    va, vb = _values(a), _values(b)
    if not va and not vb:
        return 1.0
    return len(va & vb) / len(va | vb)


def side_hash(text: str) -> int:
    """A 32-bit hash of one side of a basic card (0 for none)."""
    return zlib.crc32(text.strip().encode("utf-8", "surrogatepass")) if text else 0

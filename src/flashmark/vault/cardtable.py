"""Every card's searchable facts, kept beside the index so a search reads no note.

The index's ``notes`` rows hold only (deck, due key, id, state) per card: enough to
count and queue, not to search by tag, type, interval or text. This module keeps a
table of its own in the same SQLite file, ``search_cards``: per note, the digest of
the bytes it was made from and two sealed marshal blobs (`vault.codec.seal`): the
cards' facts (`CardRow` without front and back) and their texts, apart, so a search
without free text never decodes the texts. A row is current when its digest equals
the ``notes`` row's (which `scan_vault` keeps in step with the file) and it was made
with this layout and these parser settings (``fingerprint``); any other row is made
again from the note. The table is self-contained: `index.py` does not know it, and a
damaged or unusable table only costs reading the notes.
"""

from __future__ import annotations

import contextlib
import marshal
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from flashmark.cards import cards_of
from flashmark.config import ParserSettings
from flashmark.errors import NoteReadError
from flashmark.model import FsrsEntry, ParsedNote, Sm2Entry
from flashmark.syntax import parse_note, srcodec
from flashmark.vault.codec import (
    NEW,
    UNREADABLE,
    DamagedBlobError,
    key_and_state,
    seal,
    unseal,
)
from flashmark.vault.index import Index, default_index_path, digest
from flashmark.vault.notefile import read_note

TABLE_VERSION = 3  # 2: the lower-cased texts of each note (``lowered``); 3: ease, FSRS state


_Facts = tuple[str, int, int, str, int, str | None, str | None, str, str, int | None,
               float | None, float | None, int | None, int | None, str | None, int | None,
               int | None]
_NO_FACTS: _Facts = ("", 0, 0, "", 0, None, None, "", "", None, None, None, None, None, None,
                     None, None)


def _field(k: int) -> property:
    return property(lambda row: row.facts[k])


class CardRow:
    """One card as a search sees it: a view of the stored facts tuple (a search looks at
    every card of the vault, and building 150,000 full objects costs a second)."""

    __slots__ = ("back", "facts", "front", "ordinal", "path", "tags")

    def __init__(self, path: str, tags: tuple[str, ...], facts: _Facts, ordinal: int = 0,
                 front: str = "", back: str = "") -> None:
        self.path = path  # the note, vault-relative
        self.tags = tags  # the note's tags
        self.facts = facts
        self.ordinal = ordinal  # position in the vault (note order, then card order)
        self.front = front  # filled only when texts are asked for
        self.back = back

    id: str = _field(0)  # type: ignore[assignment]
    line: int = _field(1)  # type: ignore[assignment]  # 1-based
    end_line: int = _field(2)  # type: ignore[assignment]
    type: str = _field(3)  # type: ignore[assignment]  # QuestionType value
    sibling: int = _field(4)  # type: ignore[assignment]
    deck: str | None = _field(5)  # type: ignore[assignment]
    # the SR entry without "!", None when the card has none
    entry_text: str | None = _field(6)  # type: ignore[assignment]
    key: str = _field(7)  # type: ignore[assignment]  # vault.codec.due_key
    state: str = _field(8)  # type: ignore[assignment]  # model.CardState
    # days; None for a new or unreadable card
    interval: int | None = _field(9)  # type: ignore[assignment]
    # FSRS entries only (legacy entries have no memory state written)
    stability: float | None = _field(10)  # type: ignore[assignment]
    difficulty: float | None = _field(11)  # type: ignore[assignment]
    reps: int | None = _field(12)  # type: ignore[assignment]
    lapses: int | None = _field(13)  # type: ignore[assignment]
    last_review: str | None = _field(14)  # type: ignore[assignment]
    ease: int | None = _field(15)  # type: ignore[assignment]  # legacy entries (x100)
    # FSRS entries: 0 new (the plugin's Reset), 1 learning, 2 review, 3 relearning
    fsrs_state: int | None = _field(16)  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CardRow({self.path!r}, {self.facts!r})"



def _facts_of(note: ParsedNote, rel: str) -> tuple[tuple[str, ...], list[_Facts],
                                                   list[tuple[str, str]]]:
    facts: list[_Facts] = []
    texts: list[tuple[str, str]] = []
    for q in note.questions:
        for card in cards_of(q, rel):
            key, state = key_and_state(card.entry_text)
            ivl = s = d = reps = lapses = last = ease = fsrs_state = None
            if card.entry_text is not None and key not in (NEW, UNREADABLE):
                entry = srcodec.parse_entry(card.entry_text)
                if isinstance(entry, FsrsEntry):
                    ivl, s, d = entry.interval, entry.stability, entry.difficulty
                    reps, lapses = entry.reps, entry.lapses
                    last = (None if entry.last_review is None
                            else srcodec.iso_ms(entry.last_review))
                    fsrs_state = entry.state
                elif isinstance(entry, Sm2Entry):
                    ivl, ease = entry.interval, entry.ease
            facts.append((card.id, q.span.line + 1, q.span.end_line + 1, q.type.value,
                          card.sibling, q.deck, card.entry_text, key, state, ivl, s, d,
                          reps, lapses, last, ease, fsrs_state))
            texts.append((card.front, card.back))
    return tuple(note.tags), facts, texts


def rows_of(note: ParsedNote, rel: str) -> list[CardRow]:
    """The rows of a parsed note (texts included)."""
    tags, facts, texts = _facts_of(note, rel)
    out = []
    for f, (front, back) in zip(facts, texts, strict=True):
        row = _row(rel, tags, f, 0)
        row.front, row.back = front, back
        out.append(row)
    return out


def _row(rel: str, tags: tuple[str, ...], f: _Facts, ordinal: int) -> CardRow:
    return CardRow(rel, tags, f, ordinal)


class CardTable:
    """The ``search_cards`` table of the vault's index (see the module docstring)."""

    def __init__(self, root: Path, index_fingerprint: str) -> None:
        self.root = root
        self._index: Index | None = Index(default_index_path(root), index_fingerprint)
        self.fingerprint = f"{TABLE_VERSION}.{self._index.fingerprint}"
        self.db: sqlite3.Connection | None = self._index.db
        try:
            columns = [r[1] for r in self.db.execute("PRAGMA table_info(search_cards)")]
            if columns and "lowered" not in columns:  # an older layout: made again
                self.db.execute("DROP TABLE search_cards")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS search_cards (path TEXT PRIMARY KEY, "
                "digest BLOB, fingerprint TEXT, facts BLOB, texts BLOB, lowered TEXT)")
        except sqlite3.Error:
            self.db = None  # go on reading the notes

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    def rows(self, notes: list[tuple[str, str]], parser: ParserSettings, all_notes: bool,
             *, texts: bool, text_test: Callable[[str], bool] | None = None,
             keep: Callable[[CardRow], bool] | None = None, texts_to_keep: bool = False
             ) -> tuple[list[CardRow], int]:
        """The cards of ``notes`` ((rel, file path) in vault order), from the table where
        it is current, from the note (and then stored) where it is not; and how many
        cards were looked at. With ``text_test``, the cards of a note only when it is
        true of all the note's fronts and backs joined (by NUL: no match spans two of
        them) and lower-cased (kept so in the table: lower-casing a vault's text costs
        more than searching it). ``keep``: only the cards it accepts become rows (it is
        asked of one reused row, with front and back set when ``texts_to_keep``): a
        search of a million cards holds its matches only. ``texts``: the rows carry
        their front and back (decoded only for the notes with a card kept).

        The table is read row by row (not held whole: at ten times the real vault its
        texts are a gigabyte), and the rows put back in vault order at the end."""
        position = {rel: k for k, (rel, _) in enumerate(notes)}
        counts = [0] * len(notes)  # cards looked at, per note
        found: dict[int, list[CardRow]] = {}
        seen = bytearray(len(notes))
        probe = CardRow("", (), _NO_FACTS)
        want_texts = texts or texts_to_keep

        def take(pos: int, rel: str, tags: tuple[str, ...], facts: list[_Facts],
                 text_list: list[tuple[str, str]] | None,
                 text_blob: bytes | None) -> None:
            counts[pos] = len(facts)
            kept: list[CardRow] = []
            if keep is None:
                kept = [CardRow(rel, tags, f, k) for k, f in enumerate(facts, 1)]
            else:
                probe.path, probe.tags = rel, tags
                for k, f in enumerate(facts):
                    probe.facts = f
                    if texts_to_keep and text_list is not None:
                        probe.front, probe.back = text_list[k]
                    if keep(probe):
                        kept.append(CardRow(rel, tags, f, k + 1))
            if not kept:
                return
            if texts:
                if text_list is None and text_blob is not None:
                    text_list = _texts(text_blob)
                if text_list is None:
                    return  # damaged: cannot be here (``_current`` checked it)
                for row in kept:
                    row.front, row.back = text_list[row.ordinal - 1]
            found[pos] = kept

        for rel, facts_blob, text_blob, lowered in self._current(want_texts):
            pos = position.get(rel)
            if pos is None:
                continue
            if text_test is not None and lowered is not None and not text_test(lowered):
                seen[pos] = 1
                continue  # no card of this note can match: its texts stay undecoded
            decoded = _decode((facts_blob, text_blob, lowered), texts_to_keep)
            if decoded is None or (want_texts and text_blob is None):
                continue  # damaged: the note is read again below
            seen[pos] = 1
            tags, facts, text_list = decoded
            take(pos, rel, tags, facts, text_list, text_blob)
        upserts: list[tuple[str, bytes, str, bytes, bytes, str]] = []
        for pos, (rel, path) in enumerate(notes):
            if seen[pos]:
                continue
            try:
                note_text = read_note(rel, path)
            except NoteReadError:
                continue  # the scan reported it
            note = parse_note(note_text.text, parser, all_notes=all_notes)
            tags, facts, text_list = _facts_of(note, rel)
            lowered = _lowered(text_list)
            upserts.append((rel, digest(note_text.data), self.fingerprint,
                            seal(marshal.dumps((tags, facts))),
                            seal(marshal.dumps(text_list)), lowered))
            if text_test is not None and not text_test(lowered):
                continue
            take(pos, rel, tags, facts, text_list, None)
        self._store(upserts)
        out: list[CardRow] = []
        base = 0
        for pos, n in enumerate(counts):
            for row in found.get(pos, ()):
                row.ordinal += base
                out.append(row)
            base += n
        return out, base

    def note_texts(self, rel: str) -> dict[str, tuple[str, str]] | None:
        """(front, back) of each card of the note ``rel`` by card id, from its current
        row; None when it has none (then read the note)."""
        if self.db is None:
            return None
        try:
            got = self.db.execute(
                "SELECT s.facts, s.texts FROM search_cards s JOIN notes n ON n.path = s.path "
                "WHERE s.path = ? AND s.digest = n.digest AND s.fingerprint = ?",
                (rel, self.fingerprint)).fetchone()
        except sqlite3.Error:
            return None
        decoded = None if got is None else _decode((got[0], got[1], None), True)
        if decoded is None or decoded[2] is None:
            return None
        return {f[0]: pair for f, pair in zip(decoded[1], decoded[2], strict=True)}

    def _current(self, texts: bool
                 ) -> Iterator[tuple[str, bytes, bytes | None, str | None]]:
        """The current rows, one at a time: (rel, facts blob, texts blob and lower-cased
        texts when asked for). A table that cannot be read has none (the notes are)."""
        if self.db is None:
            return
        columns = "s.texts, s.lowered" if texts else "NULL, NULL"
        try:
            yield from self.db.execute(
                f"SELECT s.path, s.facts, {columns} FROM search_cards s JOIN notes n "
                "ON n.path = s.path WHERE s.digest = n.digest AND s.fingerprint = ?",
                (self.fingerprint,))
        except sqlite3.Error:
            return

    def _store(self, upserts: list[tuple[str, bytes, str, bytes, bytes, str]]) -> None:
        if self.db is None or not upserts:
            return
        db = self.db
        try:
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO search_cards VALUES (?, ?, ?, ?, ?, ?)",
                           upserts)
            db.execute("DELETE FROM search_cards WHERE path NOT IN (SELECT path FROM notes)")
            db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")  # a cache that could not be saved: read again


def _lowered(texts: list[tuple[str, str]]) -> str:
    return "\0".join(t for pair in texts for t in pair).lower()


def _texts(blob: bytes) -> list[tuple[str, str]] | None:
    try:
        text_list: list[tuple[str, str]] = marshal.loads(unseal(blob))
    except (DamagedBlobError, ValueError, EOFError, TypeError):
        return None
    return text_list


def _decode(got: tuple[bytes, bytes | None, str | None], texts: bool
            ) -> tuple[tuple[str, ...], list[_Facts], list[tuple[str, str]] | None] | None:
    """A stored row's contents, None when it is damaged (the note is read again)."""
    try:
        tags, facts = marshal.loads(unseal(got[0]))
        text_list = marshal.loads(unseal(got[1])) if texts and got[1] is not None else None
        if texts and text_list is None:
            return None
        return tags, facts, text_list
    except (DamagedBlobError, ValueError, EOFError, TypeError):
        return None


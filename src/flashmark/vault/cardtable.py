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
from collections.abc import Callable
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

TABLE_VERSION = 2  # 2: the lower-cased texts of each note (``lowered``)


_Facts = tuple[str, int, int, str, int, str | None, str | None, str, str, int | None,
               float | None, float | None, int | None, int | None, str | None]


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

    def __repr__(self) -> str:
        return f"CardRow({self.path!r}, {self.facts!r})"



def _facts_of(note: ParsedNote, rel: str) -> tuple[tuple[str, ...], list[_Facts],
                                                   list[tuple[str, str]]]:
    facts: list[_Facts] = []
    texts: list[tuple[str, str]] = []
    for q in note.questions:
        for card in cards_of(q, rel):
            key, state = key_and_state(card.entry_text)
            ivl = s = d = reps = lapses = last = None
            if card.entry_text is not None and key not in (NEW, UNREADABLE):
                entry = srcodec.parse_entry(card.entry_text)
                if isinstance(entry, FsrsEntry):
                    ivl, s, d = entry.interval, entry.stability, entry.difficulty
                    reps, lapses = entry.reps, entry.lapses
                    last = (None if entry.last_review is None
                            else srcodec.iso_ms(entry.last_review))
                elif isinstance(entry, Sm2Entry):
                    ivl = entry.interval
            facts.append((card.id, q.span.line + 1, q.span.end_line + 1, q.type.value,
                          card.sibling, q.deck, card.entry_text, key, state, ivl, s, d,
                          reps, lapses, last))
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
             *, texts: bool, text_test: Callable[[str], bool] | None = None
             ) -> list[CardRow]:
        """Every card of ``notes`` ((rel, file path) in vault order), from the table
        where it is current, from the note (and then stored) where it is not. With
        ``text_test`` (and ``texts``), the cards of a note only when it is true of all
        the note's fronts and backs joined (by NUL: no match spans two of them) and
        lower-cased (kept so in the table: lower-casing a vault's text costs more than
        searching it)."""
        stored = self._stored(texts)
        out: list[CardRow] = []
        upserts: list[tuple[str, bytes, str, bytes, bytes, str]] = []
        ordinal = 0
        make = CardRow
        for rel, path in notes:
            got = stored.get(rel)
            if (text_test is not None and got is not None and got[2] is not None
                    and not text_test(got[2])):
                continue  # no card of this note can match: its texts stay undecoded
            decoded = _decode(got, texts) if got is not None else None
            if decoded is None:
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
                decoded = tags, facts, (text_list if texts else None)
                if text_test is not None and not text_test(lowered):
                    continue
            tags, facts, kept_texts = decoded
            if kept_texts is None:  # (the common case, kept to one call per card)
                out.extend([make(rel, tags, f, ordinal + k)
                            for k, f in enumerate(facts, 1)])
                ordinal += len(facts)
                continue
            for k, f in enumerate(facts):
                ordinal += 1
                row = make(rel, tags, f, ordinal)
                row.front, row.back = kept_texts[k]
                out.append(row)
        self._store(upserts)
        return out

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

    def _stored(self, texts: bool) -> dict[str, tuple[bytes, bytes | None, str | None]]:
        """The current rows: rel -> (facts blob, texts blob and lower-cased texts when
        asked for)."""
        if self.db is None:
            return {}
        columns = "s.texts, s.lowered" if texts else "NULL, NULL"
        try:
            return {rel: (facts, text_blob, lowered)
                    for rel, facts, text_blob, lowered in self.db.execute(
                f"SELECT s.path, s.facts, {columns} FROM search_cards s JOIN notes n "
                "ON n.path = s.path WHERE s.digest = n.digest AND s.fingerprint = ?",
                (self.fingerprint,))}
        except sqlite3.Error:
            return {}

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


"""The rebuildable on-disk index: per-note card summaries keyed by path + size + mtime.

Each row holds, per card, its deck, due key and id (see ``codec.summarize``): enough
to count, queue and find cards without reading the notes. Full questions are parsed
again on demand from the note itself (milliseconds per note).

It is a cache, never the only copy of anything: deleting it costs one cold scan.
A row is reused when the file's size and mtime_ns are unchanged. When only the mtime
changed (a `touch`, a git checkout) the content hash decides; and a row recorded
within two seconds of the file's mtime is "racy" (a second write in the same clock
tick would not change the mtime), so its content is hashed before it is trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple, TypeVar

from flashmark.errors import Notice, VaultError
from flashmark.vault.codec import LAYOUT_VERSION
from flashmark.vault.fallback import fallback_folder, keep_local_files_out_of_git

_T = TypeVar("_T")

RACY_NS = 2_000_000_000
SCHEMA_VERSION = 5  # 5: the cards_json column

# A new or changed note's row: path, size, mtime_ns, digest, flashcard, summary blob,
# " id1 id2 ...", tally blob, and its compressed `scan --json` lines (None: not made).
Upsert = tuple[str, int, int, bytes, bool, bytes, str, bytes, bytes | None]


def digest(data: bytes) -> bytes:
    """The content hash of a note. SHA-256 because CPUs compute it in hardware (twice
    as fast as BLAKE2b here: a cold scan hashes every note of the vault)."""
    return hashlib.sha256(data).digest()[:16]


class IndexRow(NamedTuple):
    """A note's row, as SQLite hands it over (a tuple: 80,000 of them at 10x the real
    vault, made in C by ``_make``)."""

    path: str
    size: int
    mtime_ns: int
    digest: bytes
    recorded_ns: int
    flashcard: int  # 1: a flashcard note
    tally: bytes  # (the summary is read when needed: `Index.summary`)


def default_index_path(vault: Path) -> Path:
    """`<vault>/.flashmark/cache/index.sqlite3`, or the user cache folder when the vault
    cannot be written to (a read-only checkout, a read-only `.flashmark/`)."""
    if not vault.is_dir():
        raise VaultError(f"vault folder {str(vault)!r} does not exist")
    state = vault / ".flashmark"
    try:
        (state / "cache").mkdir(parents=True, exist_ok=True)
        keep_local_files_out_of_git(state)
        probe = state / "cache" / ".probe"
        probe.touch()
        probe.unlink()
        index = state / "cache" / "index.sqlite3"
        if index.exists() and not os.access(index, os.R_OK | os.W_OK):
            raise PermissionError(f"{index} cannot be written")
        return index
    except OSError:
        fallback = user_index_path(vault)
        with contextlib.suppress(OSError):
            fallback.parent.mkdir(parents=True, exist_ok=True)
        return fallback


def user_index_path(vault: Path) -> Path:
    """The index's place in the vault's fallback folder (not created here). When it
    cannot be made, opening the index fails and the run goes on without a saved index."""
    return fallback_folder(vault) / "index.sqlite3"


# SQLite's primary result codes (sqlite3.h): what went wrong decides what to do.
_DAMAGED = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB: delete the file and rebuild
_FULL = 13  # SQLITE_FULL
_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED: another process held it past the timeout


def sqlite_code(exc: sqlite3.Error) -> int:
    """The primary result code of a SQLite error (-1 when it has none)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return -1 if code is None else int(code) & 0xFF


def remove_database(path: Path) -> None:
    """Delete a cache database with its WAL and shared-memory files."""
    for name in (path.name, path.name + "-wal", path.name + "-shm", path.name + "-journal"):
        with contextlib.suppress(OSError):
            path.with_name(name).unlink()


_redirects: dict[Path, Path] = {}
_memory_keepalive: dict[str, sqlite3.Connection] = {}


def _memory_database(path: Path) -> sqlite3.Connection:
    """A connection to this process's in-memory stand-in for the index at ``path``; it
    lives as long as the process (one connection is kept open)."""
    key = hashlib.blake2b(str(path).encode("utf-8", "surrogateescape"),
                          digest_size=8).hexdigest()
    uri = f"file:flashmark-index-{key}?mode=memory&cache=shared"
    if uri not in _memory_keepalive:
        _memory_keepalive[uri] = sqlite3.connect(uri, uri=True)
    return sqlite3.connect(uri, uri=True, timeout=10, isolation_level=None)


def _notice(message: str) -> None:
    warnings.warn(Notice(message), stacklevel=3)


class Index:
    """The index file, and what to do when SQLite fails on it.

    Any failure only costs time, never the command: a damaged file (not a database,
    malformed pages, a truncated copy) is deleted and rebuilt; one that cannot be written
    (read-only, its folder read-only) moves to ``fallback``, the user cache folder; a
    full disk or a file busy for more than 10 s leaves this run with an index in memory.
    Each case issues a ``Notice``. A row that SQLite returns but that does not hold what
    we wrote (wrong types) counts as absent: its note is read again.
    """

    MEMORY = Path(":memory:")

    def __init__(self, path: Path, fingerprint: str, fallback: Path | None = None) -> None:
        # Where an earlier Index of this process had to go instead (the user cache
        # folder, memory): a later one (rating looks a card up after a scan) finds
        # what that one wrote.
        self.requested = path
        self.path = _redirects.get(path, path)
        self.fallback = fallback
        self.fingerprint = f"{SCHEMA_VERSION}.{LAYOUT_VERSION}.{fingerprint}"
        self.closed = False
        self.db = self._guarded(lambda db: db, opening=True)

    def _open(self) -> sqlite3.Connection:
        # A new index is filled in one transaction first and switched to WAL (readers
        # never wait for a writer) after that: bulk-writing a new file through the WAL
        # would write every page twice.
        if self.path == self.MEMORY:
            self._wal_pending = True
            db = _memory_database(self.requested)
        else:
            self._wal_pending = not self.path.exists()
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            if not self._wal_pending:
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            row = db.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
            if row is None or row[0] != self.fingerprint:
                # Another flashmark version, parser settings or layout: start afresh.
                db.execute("BEGIN")
                db.execute("DROP TABLE IF EXISTS notes")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)",
                           (self.fingerprint,))
                db.execute("COMMIT")
            db.execute(
                "CREATE TABLE IF NOT EXISTS notes (path TEXT PRIMARY KEY, size INTEGER, "
                "mtime_ns INTEGER, digest BLOB, recorded_ns INTEGER, flashcard INTEGER, "
                "summary BLOB, ids TEXT, tally BLOB, cards_json BLOB)")
        except BaseException:
            db.close()
            raise
        return db

    def _guarded(self, work: Callable[[sqlite3.Connection], _T], *,
                 opening: bool = False, empty: _T | None = None) -> _T:
        """``work(connection)``, recovering from SQLite failures as the class says. After
        a recovery ``work`` runs again on the new index, or ``empty`` is returned when
        given (reading rows: the new index has none)."""
        recovered = False
        for _ in range(4):  # damaged -> fallback -> memory: a few steps at most
            try:
                if opening:
                    self.db = self._open()
                    opening = False
                if recovered and empty is not None:
                    return empty
                return work(self.db)
            except sqlite3.Error as exc:
                self._recover(exc)
                opening = recovered = True
        raise VaultError(f"cannot use the index {self.path}")  # pragma: no cover

    def _recover(self, exc: sqlite3.Error) -> None:
        """Choose the index to go on with after ``exc``."""
        with contextlib.suppress(sqlite3.Error, AttributeError):
            self.db.close()
        code = sqlite_code(exc)
        where = str(self.path)
        if self.path == self.MEMORY:
            raise exc  # an in-memory database has nothing left to fall back to
        if code in _DAMAGED:
            remove_database(self.path)
            _notice(f"the index {where} was damaged ({exc}): deleted, rebuilding it")
        elif code == _FULL:
            self.path = self.MEMORY
            _notice(f"disk full while writing the index {where}: it is not saved this time")
        elif code in _BUSY:
            self.path = self.MEMORY
            _notice(f"the index {where} stayed locked by another process ({exc}): "
                    "going on without it")
        elif self.fallback is not None and self.fallback != self.path:
            self.path, self.fallback = self.fallback, None
            with contextlib.suppress(OSError):
                self.path.parent.mkdir(parents=True, exist_ok=True)
            _notice(f"cannot write the index {where} ({exc}): using {self.path}")
        else:
            self.path = self.MEMORY
            _notice(f"cannot use the index {where} ({exc}): going on without it")
        _redirects[self.requested] = self.path

    def rows(self) -> dict[str, IndexRow]:
        return self._guarded(self._rows, empty={})

    @staticmethod
    def _rows(db: sqlite3.Connection) -> dict[str, IndexRow]:
        # Damage SQLite does not notice (it keeps no checksums) can change a value's
        # type; such a row is left out (filtered in SQLite, quicker than in Python), so
        # its note is read again. Damaged blobs are caught by their CRC (codec.py).
        return {
            row.path: row
            for row in map(IndexRow._make, db.execute(
                "SELECT path, size, mtime_ns, digest, recorded_ns, flashcard, tally "
                "FROM notes WHERE typeof(path) = 'text' AND typeof(size) = 'integer' "
                "AND typeof(mtime_ns) = 'integer' AND typeof(digest) = 'blob' "
                "AND typeof(recorded_ns) = 'integer' AND typeof(summary) = 'blob' "
                "AND typeof(tally) = 'blob'"))
        }

    def summary(self, path: str, digest: bytes) -> bytes | None:
        """The stored summary of the note at ``path`` while its row still describes the
        content with ``digest`` (None otherwise, or when the index cannot be read)."""
        def read(db: sqlite3.Connection) -> bytes | None:
            row = db.execute("SELECT summary FROM notes WHERE path=? AND digest=?",
                             (path, digest)).fetchone()
            return row[0] if row is not None and type(row[0]) is bytes else None
        if self.closed:  # the caller parses the note instead
            return None
        return self._guarded(read, empty=None)

    def paths_with_card(self, card_id: str) -> list[str]:
        """Notes whose cards include ``card_id`` (or an id starting with it)."""
        return self._guarded(lambda db: [row[0] for row in db.execute(
            "SELECT path FROM notes WHERE instr(ids, ?) > 0", (" " + card_id,))
            if type(row[0]) is str], empty=[])

    def paths_holding(self, card_ids: set[str]) -> set[str] | None:
        """Notes holding any of ``card_ids`` (a row whose ids are damaged counts as
        holding them: its note is then looked at card by card); None when the index
        could not be read. One pass over the ids column: at 10x the real vault, 1.4
        million ids in 0.1 s, where loading the notes' summaries takes seconds."""
        def read(db: sqlite3.Connection) -> tuple[bool, set[str]]:
            found: set[str] = set()
            for path, ids in db.execute("SELECT path, ids FROM notes WHERE ids != ''"):
                if type(ids) is not str or not card_ids.isdisjoint(ids.split()):
                    found.add(path)
            return True, found
        if self.closed:
            return None
        nothing: tuple[bool, set[str]] = (False, set())  # a recovered index has no rows
        read_it, found = self._guarded(read, empty=nothing)
        return found if read_it else None

    def card_json(self, path: str) -> bytes | None:
        """The note's compressed `scan --json` lines as stored (None: not stored). The
        row is only there while the note's size and mtime match what was parsed."""
        def read(db: sqlite3.Connection) -> bytes | None:
            row = db.execute("SELECT cards_json FROM notes WHERE path=?", (path,)).fetchone()
            return row[0] if row is not None and type(row[0]) is bytes else None
        return self._guarded(read, empty=None)

    def without_card_json(self) -> set[str]:
        """Paths of the notes whose row holds no `scan --json` lines."""
        return self._guarded(lambda db: {row[0] for row in db.execute(
            "SELECT path FROM notes WHERE typeof(cards_json) != 'blob'")}, empty=set())

    def store_card_json(self, rows: list[tuple[bytes, str, bytes]]) -> None:
        """(compressed lines, path, digest of the text they were made from): stored only
        in the row of that very content."""
        def write(db: sqlite3.Connection) -> None:
            db.execute("BEGIN")
            try:
                db.executemany("UPDATE notes SET cards_json=? WHERE path=? AND digest=?", rows)
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
        self._guarded(write)

    def add_rows(self, upserts: list[Upsert]) -> None:
        """New or changed rows, in a transaction left open: a streamed scan writes its
        rows in batches as the notes are parsed (constant memory); `write` commits them
        all with the rest. Closing the index without `write` drops them."""
        def add(db: sqlite3.Connection) -> None:
            if not db.in_transaction:
                db.execute("BEGIN")
            self._insert(db, upserts, time.time_ns())
        self._guarded(add)

    @staticmethod
    def _insert(db: sqlite3.Connection, upserts: list[Upsert], now: int) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO notes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(p, size, mtime, dig, now, int(fc), summary, ids, tally_blob, cards)
             for p, size, mtime, dig, fc, summary, ids, tally_blob, cards in upserts])

    def write(self, upserts: list[Upsert],
              touched: list[tuple[int, int, bytes, str]], deleted: Iterable[str]) -> None:
        """One transaction (or the end of the one `add_rows` began): new or changed rows,
        rows whose mtime or size moved but content did not ((size, mtime, digest, path)),
        and rows of files that are gone. (After a recovery the new index holds only the
        new and changed rows: the next scan reads the other notes again.)"""
        gone = [(p,) for p in deleted]
        self._guarded(lambda db: self._write(db, upserts, touched, gone))

    def _write(self, db: sqlite3.Connection,
               upserts: list[Upsert],
               touched: list[tuple[int, int, bytes, str]], gone: list[tuple[str]]) -> None:
        now = time.time_ns()
        if not db.in_transaction:  # else: `add_rows` began it
            db.execute("BEGIN")
        try:
            self._insert(db, upserts, now)
            db.executemany("UPDATE notes SET size=?, mtime_ns=?, digest=?, recorded_ns="
                           + str(now) + " WHERE path=?", touched)
            db.executemany("DELETE FROM notes WHERE path=?", gone)
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        if self._wal_pending and self.path != self.MEMORY:
            db.execute("PRAGMA journal_mode=WAL")
        self._wal_pending = False

    def close(self) -> None:
        self.closed = True
        self.db.close()

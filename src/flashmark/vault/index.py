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

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flashmark.errors import VaultError
from flashmark.vault.codec import LAYOUT_VERSION

RACY_NS = 2_000_000_000
SCHEMA_VERSION = 4


def digest(data: bytes) -> bytes:
    """The content hash of a note. SHA-256 because CPUs compute it in hardware (twice
    as fast as BLAKE2b here: a cold scan hashes every note of the vault)."""
    return hashlib.sha256(data).digest()[:16]


@dataclass(slots=True)
class IndexRow:
    size: int
    mtime_ns: int
    digest: bytes
    recorded_ns: int
    flashcard: bool
    summary: bytes
    tally: bytes


def default_index_path(vault: Path) -> Path:
    """`<vault>/.flashmark/cache/index.sqlite3`, or the user cache folder when the vault
    cannot be written to (a read-only checkout)."""
    if not vault.is_dir():
        raise VaultError(f"vault folder {str(vault)!r} does not exist")
    state = vault / ".flashmark"
    try:
        (state / "cache").mkdir(parents=True, exist_ok=True)
        ignore = state / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# flashmark: the cache is rebuildable, keep it out of git\ncache/\n")
        probe = state / "cache" / ".probe"
        probe.touch()
        probe.unlink()
        return state / "cache" / "index.sqlite3"
    except OSError:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        key = hashlib.blake2b(str(vault.resolve()).encode(), digest_size=8).hexdigest()
        folder = base / "flashmark" / key
        folder.mkdir(parents=True, exist_ok=True)
        return folder / "index.sqlite3"


class Index:
    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = f"{SCHEMA_VERSION}.{LAYOUT_VERSION}.{fingerprint}"
        try:
            self.db = self._open()
        except sqlite3.DatabaseError:
            # A damaged cache is rebuilt, never repaired.
            path.unlink(missing_ok=True)
            self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        # A new index is filled in one transaction first and switched to WAL (readers
        # never wait for a writer) after that: bulk-writing a new file through the WAL
        # would write every page twice.
        self._wal_pending = not self.path.exists()
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
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
            "summary BLOB, ids TEXT, tally BLOB)")
        return db

    def rows(self) -> dict[str, IndexRow]:
        return {
            path: IndexRow(size, mtime, dig, rec, bool(fc), summary, tally)
            for path, size, mtime, dig, rec, fc, summary, tally in self.db.execute(
                "SELECT path, size, mtime_ns, digest, recorded_ns, flashcard, summary, tally "
                "FROM notes")
        }

    def paths_with_card(self, card_id: str) -> list[str]:
        """Notes whose cards include ``card_id`` (or an id starting with it)."""
        return [row[0] for row in self.db.execute(
            "SELECT path FROM notes WHERE instr(ids, ?) > 0", (" " + card_id,))]

    def write(self, upserts: list[tuple[str, int, int, bytes, bool, bytes, str, bytes]],
              touched: list[tuple[int, bytes, str]], deleted: Iterable[str]) -> None:
        """One transaction: new or changed rows, rows whose mtime moved but content did
        not, and rows of files that are gone."""
        now = time.time_ns()
        db = self.db
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO notes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(p, size, mtime, dig, now, int(fc), summary, ids, tally_blob)
                 for p, size, mtime, dig, fc, summary, ids, tally_blob in upserts])
            db.executemany("UPDATE notes SET mtime_ns=?, digest=?, recorded_ns=" + str(now)
                           + " WHERE path=?", touched)
            db.executemany("DELETE FROM notes WHERE path=?", [(p,) for p in deleted])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if self._wal_pending:
            db.execute("PRAGMA journal_mode=WAL")
            self._wal_pending = False

    def close(self) -> None:
        self.db.close()

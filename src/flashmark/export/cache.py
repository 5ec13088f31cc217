"""Rendered notes from earlier exports (``.flashmark/cache/export.sqlite3``), so that a
re-export reads, parses and renders only the notes that changed.

An entry is one note file: the digest of its bytes and everything the exporter made of
it (keys, sketches, rendered fields, cards, tags, SR entries), as ``marshal`` data
(``NoteOut.to_wire``; marshal's format belongs to the Python version, which the
fingerprint therefore covers). It is used only
when the file's digest and the cache's fingerprint are unchanged; the fingerprint
covers the code that turns a note into an Anki note (a hash of the parser, identity and
export modules), the markdown-it versions, the parser settings and the vault's name.
A note whose cards reference images also keeps each reference and the file it
resolved to; the entry is used only if every reference still resolves the same way
(an image added, moved or deleted makes the note render again). Like the index, the
cache is rebuildable: deleting it costs one full export, and ``--no-cache`` neither
reads nor writes it. A damaged file (not a database, malformed pages) is deleted and
made anew, with a ``Notice``. Each entry carries a CRC-32 of its data, checked (with a
size limit) before the exporter unmarshals it: marshal trusts the lengths it reads,
and a garbage entry claiming a list of two billion items cost one export 4.5 GB and
47 s. An entry that fails the check is a cache miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import sqlite3
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

import flashmark
from flashmark.errors import Notice
from flashmark.vault.codec import DamagedBlobError, seal, unseal
from flashmark.vault.index import remove_database, sqlite_code

__all__ = ["CACHE_FILE", "RenderCache", "code_fingerprint"]

CACHE_FILE = "export.sqlite3"
_FORMAT = "3"
# An entry longer than this is damage (the largest note of the 60 MB test vault makes
# 0.3 MB); it is not even read.
MAX_ENTRY = 64 << 20
_DAMAGED = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
# The modules whose behaviour the cached results depend on.
_SOURCES = ("model.py", "config.py", "identity.py", "cards.py", "syntax", "export")


def _versions() -> str:
    # the modules' own __version__: importlib.metadata would cost 15 ms of start-up
    import markdown_it
    import mdit_py_plugins

    return (f"{getattr(markdown_it, '__version__', '?')}|"
            f"{getattr(mdit_py_plugins, '__version__', '?')}")


def code_fingerprint(extra: str) -> str:
    """A hash of the code that makes an export and of ``extra`` (settings, vault)."""
    h = hashlib.blake2b(digest_size=12)
    h.update(f"{_FORMAT}|{sys.version_info[:2]}|{marshal.version}|"
             f"{_versions()}|"
             f"{extra}".encode("utf-8", "surrogatepass"))
    base = Path(flashmark.__file__).parent
    for name in _SOURCES:
        path = base / name
        files = sorted(path.glob("*.py")) if path.is_dir() else [path]
        for f in files:
            with contextlib.suppress(OSError):
                h.update(f.name.encode())
                h.update(f.read_bytes())
    return h.hexdigest()


class RenderCache:
    """The cache file; every failure to use it only means "no cache" (and a damaged
    file is replaced by an empty one)."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.conn: sqlite3.Connection | None = None
        try:
            self.conn = self._open()
        except sqlite3.Error as exc:
            if self._damaged(exc):
                with contextlib.suppress(sqlite3.Error):
                    self.conn = self._open()

    def _open(self) -> sqlite3.Connection:
        # Worker processes add their notes through their own connections.
        conn = sqlite3.connect(self.path, timeout=60)
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            conn.execute("CREATE TABLE IF NOT EXISTS notes (rel TEXT PRIMARY KEY, "
                         "digest BLOB NOT NULL, data BLOB NOT NULL)")
            row = conn.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
            if row is None or row[0] != self.fingerprint:
                conn.execute("DELETE FROM notes")
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)",
                             (self.fingerprint,))
                conn.commit()
        except BaseException:
            conn.close()
            raise
        return conn

    def _damaged(self, exc: sqlite3.Error) -> bool:
        """When ``exc`` says the file is damaged: delete it (a Notice says so), True."""
        if sqlite_code(exc) not in _DAMAGED:
            return False
        if self.conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self.conn.close()
            self.conn = None
        remove_database(self.path)
        warnings.warn(Notice(f"the export cache {self.path} was damaged ({exc}): deleted, "
                             "rebuilding it"), stacklevel=3)
        return True

    def load(self) -> dict[str, tuple[bytes, bytes]]:
        """rel -> (digest of the note's bytes, the exporter's data for it): the entries
        that pass the size and checksum test."""
        if self.conn is None:
            return {}
        out: dict[str, tuple[bytes, bytes]] = {}
        try:
            for rel, dig, data in self.conn.execute(
                    "SELECT rel, digest, data FROM notes WHERE length(data) <= ?",
                    (MAX_ENTRY,)):
                with contextlib.suppress(DamagedBlobError):
                    if type(rel) is str and type(dig) is bytes:
                        out[rel] = (dig, bytes(unseal(data)))
        except sqlite3.Error as exc:
            if self._damaged(exc):
                with contextlib.suppress(sqlite3.Error):
                    self.conn = self._open()
            return {}
        return out

    def add(self, rows: Iterable[tuple[str, bytes, bytes]]) -> None:
        """Add or replace notes: (rel, digest of its bytes, data)."""
        if self.conn is None:
            return
        try:
            with self.conn:
                self.conn.executemany("INSERT OR REPLACE INTO notes VALUES (?, ?, ?)",
                                      [(rel, dig, seal(data)) for rel, dig, data in rows])
        except sqlite3.Error as exc:
            self._damaged(exc)

    def keep_only(self, keep: set[str]) -> None:
        """Forget the notes that are not in ``keep`` (deleted or renamed)."""
        if self.conn is None:
            return
        try:
            with self.conn:
                gone = [(rel,) for (rel,) in self.conn.execute("SELECT rel FROM notes")
                        if rel not in keep]
                self.conn.executemany("DELETE FROM notes WHERE rel = ?", gone)
        except sqlite3.Error as exc:
            self._damaged(exc)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

"""Write an ``.apkg``: genanki's collection schema, note types and decks, our rows.

The package is what genanki writes (a zip with ``collection.anki2`` in Anki's schema 11,
a ``media`` map and the numbered media files). genanki's own ``Package`` does one
``INSERT`` per note and card, re-checks every field with a regular expression, and
rewrites the collection's deck and note type JSON once per deck (quadratic in the
number of decks: the real vault has over a thousand). Here the schema, the note type
JSON (``genanki.Model.to_json``) and the deck JSON (``genanki.Deck.to_json``) come from
genanki, and the notes and cards go in with one ``executemany`` each.

Every note and card carries the package's modification time ``stamp``: Anki updates a
note it already has (same GUID) only when the package's is newer, so the exporter
makes each stamp later than the previous export's.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

from flashmark.export.models import MODELS, model_json
from flashmark.vault.edit import replacing_atomically

__all__ = ["NoteRow", "PackageWriter", "remove_dead_temporaries", "temp_prefix",
           "write_package"]

# Temporary files and folders an export makes are named after the process that owns them
# (``flashmark-export-<pid>-…``): what a killed export left (kill -9, power loss) is
# recognized and removed by the next export, and nothing of a running one is touched.
_OWNED = re.compile(r"flashmark-(?:export|anki)-(\d+)-")


def temp_prefix(kind: str) -> str:
    """The name prefix for this process's temporaries of ``kind`` ("export", "anki")."""
    return f"flashmark-{kind}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return pid > 0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process (EPERM): alive
        return True
    return True


def _remove(path: str) -> bool:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except OSError:
        return False
    return True


def remove_dead_temporaries(folder: str | None = None) -> list[str]:
    """Remove the temporaries of exports whose process is gone, from ``folder`` (default:
    the temporary folder); the names removed."""
    folder = folder or tempfile.gettempdir()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for name in names:
        m = _OWNED.match(name)
        if m and not _alive(int(m[1])) and _remove(os.path.join(folder, name)):
            removed.append(name)
    return removed


class NoteRow(NamedTuple):
    guid: str
    model: str  # a model.AnkiModelKind
    deck_id: int
    fields: Sequence[str]
    tags: Sequence[str]
    ords: Sequence[int]  # the card templates / cloze numbers (0-based) that make cards
    due: int  # position of its new cards


class PackageWriter:
    """Builds the package's collection while notes arrive, then zips it.

    Note ids are ``stamp * 1000 + k`` (like genanki's); card ids continue 10**8 later,
    so the two never meet. Anki gives an incoming note or card a new id when its id is
    taken in the collection; notes are matched by GUID anyway.
    """

    def __init__(self, stamp: int) -> None:
        self.stamp = stamp
        self.notes = 0
        self.cards = 0
        self.db_path = ""
        self._conn: sqlite3.Connection | None = None
        cut = APKG_SCHEMA.find("CREATE INDEX")
        self.indexes = "" if cut < 0 else APKG_SCHEMA[cut:]

    @property
    def conn(self) -> sqlite3.Connection:
        """The collection, made on first use: after the export's worker processes are
        forked, so that none of them holds a copy of an open connection."""
        if self._conn is None:
            fd, self.db_path = tempfile.mkstemp(prefix=temp_prefix("export"), suffix=".anki2")
            os.close(fd)
            # finish() may run in a background thread (the exporter serializes its
            # manifest meanwhile); one thread at a time uses the connection.
            conn = sqlite3.connect(self.db_path, check_same_thread=False)
            # Big pages: most notes' fields overflow a 4 KiB page; with 64 KiB pages the
            # collection is 10% smaller and a third faster to fill and index.
            conn.execute("PRAGMA page_size = 65536")
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            # genanki's schema; its indexes are built after the rows are in (faster).
            cut = APKG_SCHEMA.find("CREATE INDEX")
            conn.executescript(APKG_SCHEMA if cut < 0 else APKG_SCHEMA[:cut])
            conn.executescript(APKG_COL)
            conn.execute("BEGIN")
            self._conn = conn
        return self._conn

    def add(self, notes: Sequence[NoteRow]) -> None:
        stamp = self.stamp
        base = stamp * 1000
        note_rows: list[tuple[object, ...]] = []
        card_rows: list[tuple[object, ...]] = []
        cid = base + 10**8 + self.cards
        for k, n in enumerate(notes, start=self.notes):
            nid = base + k
            note_rows.append((nid, n.guid, MODELS[n.model].model_id, stamp, -1,
                              " " + " ".join(n.tags) + " ", "\x1f".join(n.fields), n.fields[0],
                              0, 0, ""))
            for o in n.ords:
                card_rows.append((cid, nid, n.deck_id, o, stamp, n.due))
                cid += 1
        self.conn.executemany("INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?)", note_rows)
        self.conn.executemany(
            "INSERT INTO cards VALUES(?,?,?,?,?,-1,0,0,?,0,0,0,0,0,0,0,0,'')", card_rows)
        self.notes += len(note_rows)
        self.cards += len(card_rows)

    def finish(self, path: Path, decks: dict[str, int],
               media: Sequence[tuple[str, str]]) -> tuple[int, int]:
        """Write the package atomically to ``path``; returns (notes, cards) in it.

        ``decks``: name -> id; ``media``: (file on disk, name in the package).
        """
        conn = self.conn
        deck_json = json.loads(conn.execute("SELECT decks FROM col").fetchone()[0])
        for name, did in decks.items():
            deck = genanki.Deck(did, name).to_json()
            deck["mod"] = self.stamp
            deck_json[str(did)] = deck
        model_dict = {str(m.model_id): model_json(m, self.stamp) for m in MODELS.values()}
        conn.execute("UPDATE col SET decks = ?, models = ?, mod = ?",
                     (json.dumps(deck_json), json.dumps(model_dict), self.stamp * 1000))
        conn.commit()
        if self.indexes:
            conn.executescript(self.indexes)
        conn.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing_atomically(str(path), default_mode=_new_file_mode()) as tmp, \
                zipfile.ZipFile(tmp, "w") as zf:
            zf.write(self.db_path, "collection.anki2")
            zf.writestr("media", json.dumps({str(k): name for k, (_, name)
                                             in enumerate(media)}))
            for k, (src, _) in enumerate(media):
                zf.write(src, str(k))
        return self.notes, self.cards

    def close(self) -> None:
        """Remove the temporary collection (after ``finish`` or on failure)."""
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        if self.db_path:
            with contextlib.suppress(OSError):
                os.unlink(self.db_path)


def write_package(path: Path, notes: Iterable[NoteRow], decks: dict[str, int],
                  media: Sequence[tuple[str, str]], stamp: int) -> tuple[int, int]:
    """Write a whole package at once; returns (notes, cards) written."""
    writer = PackageWriter(stamp)
    try:
        writer.add(list(notes))
        return writer.finish(path, decks, media)
    finally:
        writer.close()


def _new_file_mode() -> int:
    """The mode a new file gets: 0o666 minus the umask (a package is not a state file)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask

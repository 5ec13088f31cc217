"""Skip notes whose text and imports did not change since they were last generated.

`.flashmark/cache/generate.json` (rebuildable: deleting it costs one full run) keeps,
per note: size, mtime and hash, whether it has a data block, and, after a run that left
it up to date, the hashes of the notes it imported and the problems that run reported
(a note whose code fails is not run again until it or an import changes: its problems
are reported from the cache). A later run trusts
size + mtime (unless the file was written within 2 s of being recorded), so a no-op run
only lists the vault; a note is run again when its bytes, or any imported note's bytes,
changed, or with ``--no-cache``.

Note code is assumed to depend only on its note and its imports (not on the clock, the
network or other files): use ``--no-cache`` when yours does.

A damaged file (not JSON, not the shape this module writes, absurdly large) is ignored
with a ``Notice`` and replaced at the end of the run; an entry whose fields have the
wrong types is dropped (its note is hashed and run again).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flashmark import __version__
from flashmark.errors import Notice
from flashmark.generate.compat import VERSION as COMPAT_VERSION
from flashmark.model import ERROR, WARNING
from flashmark.vault.edit import write_file_atomically
from flashmark.vault.index import RACY_NS, default_index_path
from flashmark.vault.walk import NoteFile

CACHE_NAME = "generate.json"
FORMAT = 2  # 2: a problem row carries its code
# A cache file larger than this is damage (the 60 MB test vault makes 1.5 MB).
MAX_BYTES = 256 << 20


@dataclass(slots=True)
class Entry:
    size: int
    mtime_ns: int
    seen_ns: int  # when the hash was taken
    digest: str
    data: bool  # has a `# pytextgen generate data` block
    clean_digest: str | None = None  # the note's hash after a run that left it up to date
    deps: dict[str, str] | None = None  # imported note -> hash at that run
    # what that run reported: [line, message, severity, code]
    problems: list[list[Any]] | None = None


class GenerateCache:
    def __init__(self, root: Path, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.key = f"{FORMAT}|{__version__}|{COMPAT_VERSION}|{sys.version_info[:2]}"
        self.path: Path | None = None
        self.entries: dict[str, Entry] = {}
        self.dirty = False
        if not enabled:
            return
        try:
            self.path = default_index_path(root).parent / CACHE_NAME
        except OSError:
            self.enabled = False
            return
        self._load()

    def _load(self) -> None:
        assert self.path is not None
        try:
            with self.path.open("rb") as fh:
                blob = fh.read(MAX_BYTES + 1)
        except OSError:
            return  # none yet, or unreadable: start afresh
        try:
            if len(blob) > MAX_BYTES:
                raise ValueError(f"larger than {MAX_BYTES >> 20} MB")
            raw = json.loads(blob)
        except (ValueError, RecursionError) as exc:
            self._damaged(str(exc) or type(exc).__name__)
            return
        if not isinstance(raw, dict) or not isinstance(raw.get("notes", {}), dict):
            self._damaged("not the layout flashmark writes")
            return
        if raw.get("key") != self.key:
            return  # another flashmark or Python version: start afresh
        for rel, e in raw["notes"].items():
            entry = _entry(e)
            if entry is not None:
                self.entries[rel] = entry

    def _damaged(self, why: str) -> None:
        self.dirty = True  # written anew at the end of the run
        warnings.warn(Notice(f"the generate cache {self.path} was damaged ({why}): "
                             "rebuilding it"), stacklevel=3)

    def known(self, f: NoteFile) -> Entry | None:
        """The entry when the file is certainly unchanged since it was hashed."""
        e = self.entries.get(f.rel)
        if (e is not None and e.size == f.size and e.mtime_ns == f.mtime_ns
                and e.seen_ns - f.mtime_ns > RACY_NS):
            return e
        return None

    def record(self, f: NoteFile, digest: str, data: bool) -> Entry:
        old = self.entries.get(f.rel)
        e = Entry(f.size, f.mtime_ns, time.time_ns(), digest, data)
        if old is not None:  # `fresh` compares the clean hash with the note's bytes
            e.clean_digest, e.deps, e.problems = old.clean_digest, old.deps, old.problems
        self.entries[f.rel] = e
        self.dirty = True
        return e

    def fresh(self, rel: str, digest: str, dep_digests: dict[str, str | None]) -> bool:
        """True when the note was clean after a run with these very bytes and imports."""
        e = self.entries.get(rel)
        if not self.enabled or e is None or e.clean_digest != digest or e.deps is None:
            return False
        return all(dep_digests.get(dep) == d for dep, d in e.deps.items())

    def mark(self, rel: str, digest: str | None, deps: dict[str, str] | None,
             problems: list[list[Any]] | None = None) -> None:
        """After a run: up to date (``digest`` is the note's hash now) or not (None)."""
        e = self.entries.get(rel)
        if e is None:
            return
        e.clean_digest = digest
        e.deps = deps if digest is not None else None
        e.problems = problems if digest is not None and problems else None
        self.dirty = True

    def save(self) -> None:
        if not self.enabled or not self.dirty or self.path is None:
            return
        notes: dict[str, Any] = {}
        for rel, e in self.entries.items():
            row: dict[str, Any] = {"size": e.size, "mtime_ns": e.mtime_ns, "seen_ns": e.seen_ns,
                                   "digest": e.digest, "data": e.data}
            if e.clean_digest is not None:
                row["clean_digest"] = e.clean_digest
                row["deps"] = e.deps or {}
                if e.problems:
                    row["problems"] = e.problems
            notes[rel] = row
        blob = json.dumps({"key": self.key, "notes": notes}, separators=(",", ":")).encode()
        try:
            write_file_atomically(str(self.path), blob)
        except OSError:
            return  # a cache that cannot be written only costs time (no temporary is left)
        self.dirty = False


def _entry(e: object) -> Entry | None:
    """An entry as ``save`` wrote it, or None when a field has the wrong type."""
    if not isinstance(e, dict):
        return None
    size, mtime_ns, seen_ns = e.get("size"), e.get("mtime_ns"), e.get("seen_ns")
    digest, data = e.get("digest"), e.get("data")
    clean, deps, problems = e.get("clean_digest"), e.get("deps"), e.get("problems")
    if not (type(size) is int and type(mtime_ns) is int and type(seen_ns) is int
            and type(digest) is str and type(data) is bool):
        return None
    if clean is not None and type(clean) is not str:
        return None
    if deps is not None and not (isinstance(deps, dict) and all(
            type(k) is str and type(v) is str for k, v in deps.items())):
        return None
    if problems is not None and not (isinstance(problems, list) and all(
            isinstance(p, list) and len(p) == 4 and (p[0] is None or type(p[0]) is int)
            and type(p[1]) is str and p[2] in (ERROR, WARNING) and type(p[3]) is str
            for p in problems)):
        return None
    return Entry(size, mtime_ns, seen_ns, digest, data, clean, deps, problems)

"""What flashmark exported, and the rule that keeps an edited card on its Anki note.

The manifest (``.flashmark/export-manifest.json``) keeps, for every note file that was
exported, its questions in order: each question's key (the id of its first card), its
model (``b`` basic, ``r`` reversed, ``c`` cloze), a sketch of its words, hashes of its two
sides, and its GUID when that is not the one derived from the key.

On the next export each note's questions are matched to the note's previous entries:

1. **Same key**: the question did not change; it keeps its GUID.
2. **Edited**: the questions left over are matched between the same two unchanged
   neighbours (same place among the note's questions), with the same model, when one
   side is unchanged or the word sets are similar (Jaccard >= ``SIMILARITY``); the best
   pairs first, never crossing each other. An edited question keeps the old GUID, so
   Anki updates that note (and keeps its review history).
3. Everything else is new: its GUID derives from its key.

The file is written atomically (temporary file, fsync, rename) after the package.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from flashmark.errors import FlashmarkError
from flashmark.export.guids import note_guid, similarity
from flashmark.model import MODEL_CLOZE
from flashmark.vault.edit import write_file_atomically

__all__ = ["MANIFEST_FILE", "SIMILARITY", "Entry", "Manifest", "NewQuestion", "assign_guids",
           "load_manifest", "manifest_bytes", "save_manifest"]

MANIFEST_FILE = "export-manifest.json"
FORMAT = 1
SIMILARITY = 0.5
_MAX_PAIRS = 40_000  # similarity checks per gap before falling back to nearby pairs only


class NewQuestion(NamedTuple):
    """A question as it is now."""

    key: str
    model: str  # a model.AnkiModelKind (read back from the manifest file)
    sketch: str
    front: int  # side hashes (0 for clozes)
    back: int


class Entry(NamedTuple):
    """A question as it was exported."""

    key: str
    model: str
    sketch: str
    front: int
    back: int
    guid: str


@dataclass(slots=True)
class Manifest:
    namespace: str
    stamp: int = 0  # the modification time the last package carried
    notes: dict[str, list[Entry]] = field(default_factory=dict)


class ManifestError(FlashmarkError):
    """The export manifest cannot be read."""


def load_manifest(path: Path, namespace: str) -> Manifest:
    """The manifest at ``path``, or an empty one with ``namespace`` when there is none."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return Manifest(namespace)
    except (OSError, ValueError) as exc:
        raise ManifestError(
            f"{path}: cannot read the export manifest: {exc}",
            hint="move the file away to export anyway (edited cards then become new Anki "
                 "notes)") from exc
    try:
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown format {data.get('format')!r}")
        notes: dict[str, list[Entry]] = {}
        for rel, rows in data["notes"].items():
            entries = []
            for row in rows:
                key, model, sk, front, back = row[:5]
                guid = row[5] if len(row) > 5 else note_guid(data["namespace"], key)
                entries.append(Entry(str(key), str(model), str(sk), int(front), int(back),
                                     str(guid)))
            notes[str(rel)] = entries
        return Manifest(str(data["namespace"]), int(data.get("stamp", 0)), notes)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ManifestError(
            f"{path}: the export manifest is damaged: {exc}",
            hint="move the file away to export anyway (edited cards then become new Anki "
                 "notes)") from exc


def save_manifest(path: Path, manifest: Manifest) -> None:
    """Write the manifest atomically (a reader sees the old or the new file, never a
    part)."""
    write_file_atomically(str(path), manifest_bytes(manifest), sweep=True)


def manifest_bytes(manifest: Manifest) -> bytes:
    """The manifest file's content."""
    notes: dict[str, list[list[object]]] = {}
    for rel in sorted(manifest.notes):
        rows: list[list[object]] = []
        for e in manifest.notes[rel]:
            row: list[object] = [e.key, e.model, e.sketch, e.front, e.back]
            if e.guid != note_guid(manifest.namespace, e.key):
                row.append(e.guid)
            rows.append(row)
        notes[rel] = rows
    return json.dumps({"format": FORMAT, "namespace": manifest.namespace,
                       "stamp": manifest.stamp, "notes": notes},
                      ensure_ascii=False, separators=(",", ":")).encode()


def _similar(old: Entry, new: NewQuestion) -> float:
    """How sure we are that ``new`` is ``old`` edited (0: not at all)."""
    if old.model != new.model:
        return 0.0
    score = similarity(old.sketch, new.sketch)
    if old.model != MODEL_CLOZE and (old.front == new.front or old.back == new.back):
        score = max(score, 0.99)  # one side unchanged: the other was corrected
    return score if score >= SIMILARITY else 0.0


def assign_guids(old: list[Entry], new: list[NewQuestion], namespace: str
                 ) -> tuple[list[str], int]:
    """The GUID of each question of one note, and how many were matched as edits."""
    guids, matched_old = _same_keys(old, new)
    edited = 0
    if len(matched_old) < len(new) and len(matched_old) < len(old):
        used_old = set(matched_old.values())
        for (lo, hi), news in _gaps(matched_old, len(new), len(old)).items():
            olds = [i for i in range(lo + 1, hi) if i not in used_old]
            if olds:
                edited += _match_edits(old, new, news, olds, guids, used_old)
    return _fill_new(new, guids, namespace), edited


def _same_keys(old: list[Entry], new: list[NewQuestion]
               ) -> tuple[list[str | None], dict[int, int]]:
    """Rule 1: each unchanged question's old GUID (None for the others), and the
    unchanged questions' old positions (new index -> old index)."""
    guids: list[str | None] = [None] * len(new)
    old_pos = {e.key: i for i, e in enumerate(old)}
    matched_old: dict[int, int] = {}
    for j, q in enumerate(new):
        i = old_pos.get(q.key)
        if i is not None:
            guids[j] = old[i].guid
            matched_old[j] = i
    return guids, matched_old


def _gaps(matched_old: dict[int, int], new_count: int, old_count: int
          ) -> dict[tuple[int, int], list[int]]:
    """The unmatched new questions between two unchanged neighbours, keyed by those
    neighbours' old positions (-1 and ``old_count`` for the note's ends)."""
    gaps: dict[tuple[int, int], list[int]] = {}
    prev = -1
    pending: list[int] = []
    for j in range(new_count + 1):
        if j == new_count or j in matched_old:
            nxt = matched_old[j] if j < new_count else old_count
            if pending:
                gaps[(prev, nxt)] = pending
                pending = []
            if j < new_count:
                prev = matched_old[j]
        else:
            pending.append(j)
    return gaps


def _match_edits(old: list[Entry], new: list[NewQuestion], news: list[int], olds: list[int],
                 guids: list[str | None], used_old: set[int]) -> int:
    """Rule 2 in one gap: the most similar pairs of a new and an old question first,
    never crossing a pair already made; each pair's new question takes the old GUID.
    Returns how many pairs were made."""
    near = len(news) * len(olds) > _MAX_PAIRS
    pairs: list[tuple[float, int, int, int]] = []
    for a, j in enumerate(news):
        for b, i in enumerate(olds):
            if near and abs(a - b) > 8:
                continue
            score = _similar(old[i], new[j])
            if score:
                pairs.append((-score, abs(a - b), i, j))
    pairs.sort()
    chosen: list[tuple[int, int]] = []
    for _, _, i, j in pairs:
        if guids[j] is not None or i in used_old:
            continue
        if any((i < ci) != (j < cj) for ci, cj in chosen):
            continue  # would cross a pair already made: not the same place
        chosen.append((i, j))
        used_old.add(i)
        guids[j] = old[i].guid
    return len(chosen)


def _fill_new(new: list[NewQuestion], guids: list[str | None], namespace: str) -> list[str]:
    """Rule 3: the questions still without a GUID derive it from their key (salted when
    an edited question here already took that GUID)."""
    taken = {g for g in guids if g is not None}
    out: list[str] = []
    for j, q in enumerate(new):
        guid = guids[j]
        if guid is None:
            salt = 0
            guid = note_guid(namespace, q.key)
            while guid in taken:  # the derived GUID went to an edited question here
                salt += 1
                guid = note_guid(namespace, q.key, salt)
            taken.add(guid)
        out.append(guid)
    return out

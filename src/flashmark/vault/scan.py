"""Scan a vault: walk, read what changed, parse it, and keep the index in step."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flashmark.cardjson import note_json_lines, pack_card_json, unpack_card_json
from flashmark.config import CONFIG_FILE, OSR_DATA_JSON, Settings
from flashmark.errors import NoCardsError, NoteReadError, VaultError
from flashmark.identity import card_ids
from flashmark.model import WARNING, Diagnostic, ParsedNote
from flashmark.parallel import gc_paused, worker_count
from flashmark.syntax import parse_note
from flashmark.vault.codec import (
    DamagedBlobError,
    Summary,
    Tally,
    dump_summary,
    dump_tally,
    load_summary,
    load_tally,
    summarize,
    tally,
)
from flashmark.vault.index import (
    RACY_NS,
    Index,
    IndexRow,
    Upsert,
    default_index_path,
    digest,
    user_index_path,
)
from flashmark.vault.notefile import read_note
from flashmark.vault.walk import NoteFile, walk_notes

Progress = Callable[[int, int], None]


class NoteRecord:
    """One note as the index knows it: per-deck tallies (always loaded: enough to count)
    and the per-card summary (decoded when first used; read from the index then when
    ``blob`` is None and ``source`` gives the index and the row's digest; a damaged or
    vanished one is made again from the note, with ``reader``'s settings)."""

    __slots__ = ("_blob", "_reader", "_source", "_summary", "flashcard", "path", "rel",
                 "tally")

    def __init__(self, rel: str, path: str, flashcard: bool, blob: bytes | None,
                 tally: Tally, summary: Summary | None = None,
                 reader: tuple[Settings, bool] | None = None,
                 source: tuple[Index, bytes] | None = None) -> None:
        self.rel = rel
        self.path = path
        self.flashcard = flashcard
        self.tally = tally
        self._blob = blob
        self._summary = summary
        self._reader = reader
        self._source = source

    @property
    def summary(self) -> Summary:
        if self._summary is None:
            self._summary = self._load_summary()
        return self._summary

    def read_summary(self) -> Summary:
        """The summary without keeping it, for a caller that reads each note once (the
        reviewer's queue reads the summaries of 8,000 notes at ten times the real vault:
        kept, they would double its memory)."""
        return self._summary if self._summary is not None else self._load_summary()

    def _load_summary(self) -> Summary:
        blob = self._blob
        if blob is None and self._source is not None:
            index, dig = self._source
            blob = index.summary(self.rel, dig)
        try:
            if blob is None:
                raise DamagedBlobError("the index no longer holds this summary")
            return load_summary(blob)
        except (DamagedBlobError, ValueError, EOFError, TypeError):
            if self._reader is None:
                raise
            settings, all_notes = self._reader
            note = parse_note(read_note(self.rel, self.path).text, settings.parser,
                              all_notes=all_notes)
            return summarize(note, self.rel)


@dataclass(slots=True)
class ScanResult:
    root: Path
    settings: Settings
    all_notes: bool
    notes: list[NoteRecord]
    problems: list[Diagnostic]
    parsed_now: int = 0  # notes read and parsed in this run (the rest came from the index)
    _parsed: dict[str, ParsedNote] = field(default_factory=dict)
    _index: Index | None = None

    def flashcard_notes(self) -> list[NoteRecord]:
        return [n for n in self.notes if n.flashcard or self.all_notes]

    def parsed(self, records: list[NoteRecord] | None = None) -> dict[str, ParsedNote]:
        """Full parse results of ``records`` (default: every flashcard note)."""
        records = self.flashcard_notes() if records is None else records
        for r in records:
            if r.rel not in self._parsed:
                text = read_note(r.rel, r.path).text
                self._parsed[r.rel] = parse_note(text, self.settings.parser,
                                                 all_notes=self.all_notes)
        return {r.rel: self._parsed[r.rel] for r in records}

    def notes_holding(self, card_ids: set[str]) -> set[str]:
        """The notes (vault-relative) holding any of ``card_ids``: asked of the index
        while it is open, else read from the notes' summaries."""
        if self._index is not None:
            found = self._index.paths_holding(card_ids)
            if found is not None:
                return found
        return {r.rel for r in self.flashcard_notes()
                if any(card[2] in card_ids for card in r.summary)}

    def has_cards(self) -> bool:
        return any(r.tally for r in self.flashcard_notes())  # a tally row is a deck's cards

    def decks(self) -> set[str | None]:
        """The decks that hold cards (None: cards without a deck)."""
        return {row[0] for r in self.flashcard_notes() for row in r.tally}

    def no_cards_error(self) -> NoCardsError:
        """What flashmark looked for, for a vault where it found no card."""
        parser = self.settings.parser
        tags = parser.flashcard_tags
        read = f"{len(self.notes)} note{'' if len(self.notes) == 1 else 's'}"
        if not self.notes:
            return NoCardsError(f"no cards in {self.root}: it holds no Markdown note (.md)",
                                hint="give the vault's folder")
        if self.all_notes or not tags:
            separators = " ".join(f"`{s}`" for s in (
                parser.single_line_separator, parser.single_line_reversed_separator,
                parser.multiline_separator, parser.multiline_reversed_separator))
            return NoCardsError(
                f"no cards in {self.root}: none of its {read} holds a card",
                hint=f"separators in use: {separators}; clozes: "
                     + " ".join(f"`{c}`" for c in parser.cloze_patterns))
        origin = " and ".join(s for s in self.settings.sources
                              if s in (str(OSR_DATA_JSON), CONFIG_FILE)) or "the defaults"
        looked = f"{', '.join('#' + t for t in tags)}, from {origin}"
        carrying = sum(r.flashcard for r in self.notes)
        if carrying:
            what = (f"of its {read}, {carrying} carr{'ies' if carrying == 1 else 'y'} a "
                    f"flashcard tag ({looked}) and none of them holds a card")
        else:
            what = f"none of its {read} carries a flashcard tag ({looked})"
        return NoCardsError(f"no cards in {self.root}: {what}",
                            hint="`--all` reads cards in every note; the flashcard tags are "
                                 "the plugin's flashcardTags or parser.flashcard_tags in "
                                 "flashmark.yaml")

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None


def _fingerprint(settings: Settings, all_notes: bool) -> str:
    key = f"{settings.parser.fingerprint()}|{all_notes}|{settings.ignore}"
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


# Below this many notes to parse, a worker pool costs more than it saves.
PARALLEL_MIN = 400


def scan_vault(root: Path, settings: Settings, *, use_cache: bool = True,
               all_notes: bool = False, progress: Progress | None = None,
               jobs: int | None = None, card_json: bool = False,
               json_sink: JsonSink | None = None) -> ScanResult:
    """Walk the vault and bring the index up to date.

    Notes whose size and mtime match the index are not read. The others are read,
    hashed (an unchanged hash only refreshes the mtime) and parsed, in ``jobs``
    worker processes when there are many (default: one per CPU). With ``card_json``
    the notes parsed also get their `scan --json` lines (stored compressed in the index,
    read with `iter_card_json`): a cold `scan --json` parses each note once.

    ``json_sink`` gets the `scan --json` lines (UTF-8) of every flashcard note with
    cards, note by note in vault order. When no note is known to the index (a cold run,
    ``use_cache=False``), they are passed on as the workers' chunks come back, and the
    index rows are written in batches: memory stays flat whatever the size of the vault.
    Otherwise the scan runs as usual and the lines come from `iter_card_json`.
    """
    if not root.exists():
        raise VaultError(f"vault folder {str(root)!r} does not exist")
    if not root.is_dir():
        raise VaultError(f"{str(root)!r} is not a folder", hint="give the vault's folder")
    problems: list[Diagnostic] = []  # whole files: each a warning with code "unreadable"
    files = list(walk_notes(str(root), settings.ignore, problems))
    index = None
    if use_cache:
        index_path = default_index_path(root)
        fallback = user_index_path(root)
        index = Index(index_path, _fingerprint(settings, all_notes),
                      fallback if fallback != index_path else None)
    rows = index.rows() if index is not None else {}
    reader = (settings, all_notes)
    records: dict[str, NoteRecord] = {}
    pending: list[tuple[NoteFile, IndexRow | None]] = []
    for f in files:
        row = rows.pop(f.rel, None)
        if (row is not None and row.size == f.size and row.mtime_ns == f.mtime_ns
                and row.recorded_ns - f.mtime_ns > RACY_NS):
            try:
                records[f.rel] = NoteRecord(f.rel, f.path, row.flashcard == 1, None,
                                            load_tally(row.tally), reader=reader,
                                            source=(index, row.digest) if index else None)
                continue
            except (DamagedBlobError, ValueError, EOFError, TypeError):
                row = None  # a damaged row: read the note again
        pending.append((f, row))
    workers = worker_count(jobs)
    if json_sink is not None and len(pending) == len(files):
        return _scan_streaming(root, settings, all_notes, files, index, list(rows),
                               problems, json_sink, workers, progress)
    card_json = card_json or json_sink is not None
    upserts: list[Upsert] = []
    touched: list[tuple[int, int, bytes, str]] = []
    with gc_paused():
        if workers > 1 and len(pending) >= PARALLEL_MIN:
            outcomes = _parse_parallel(pending, settings, all_notes, workers, progress,
                                       card_json)
        else:
            outcomes = _parse_serial(pending, settings, all_notes, progress, card_json)
    for (f, row), outcome in zip(pending, outcomes, strict=True):
        if isinstance(outcome, str):
            problems.append(Diagnostic(f.rel, None, WARNING, "unreadable", outcome))
            continue
        dig, flashcard, blob, ids, tally_blob, cards = outcome
        # Same content as the row: its size can still differ, when the note changed
        # between the walk and its read in the scan that wrote the row.
        if row is not None and row.digest == dig and not blob:
            try:
                records[f.rel] = NoteRecord(f.rel, f.path, row.flashcard == 1, None,
                                            load_tally(row.tally), reader=reader,
                                            source=(index, row.digest) if index else None)
                touched.append((f.size, f.mtime_ns, dig, f.rel))
                continue
            except (DamagedBlobError, ValueError, EOFError, TypeError):
                # The note is unchanged but its row is damaged: parse it after all.
                outcome = _parse_one(f, None, settings, all_notes, card_json)
                if isinstance(outcome, str):
                    problems.append(Diagnostic(f.rel, None, WARNING, "unreadable", outcome))
                    continue
                dig, flashcard, blob, ids, tally_blob, cards = outcome
        upserts.append((f.rel, f.size, f.mtime_ns, dig, flashcard, blob, ids, tally_blob,
                        cards if card_json else None))
        records[f.rel] = NoteRecord(f.rel, f.path, flashcard, blob, load_tally(tally_blob),
                                    reader=reader)
    if index is not None:
        index.write(upserts, touched, rows.keys())
    notes = [records[f.rel] for f in files if f.rel in records]
    result = ScanResult(root, settings, all_notes, notes, problems, len(upserts), {}, index)
    if json_sink is not None:
        try:
            with_cards = [r for r in result.flashcard_notes() if r.tally]
            for lines in iter_card_json(result, with_cards, jobs):
                json_sink(lines)
        except BaseException:
            result.close()
            raise
    return result


JsonSink = Callable[[bytes], object]  # what it returns is ignored (a write count)

# Notes per chunk of a streamed scan: small, so that the lines reach the output soon and
# the last chunk to finish does not keep a core idle.
STREAM_CHUNK = 32


def _scan_streaming(root: Path, settings: Settings, all_notes: bool, files: list[NoteFile],
                    index: Index | None, deleted: list[str], problems: list[Diagnostic],
                    json_sink: JsonSink, workers: int,
                    progress: Progress | None) -> ScanResult:
    """`scan_vault` when every note is parsed and its `scan --json` lines are wanted: the
    chunks of notes are parsed by forked workers while this process writes each note's
    lines to ``json_sink`` in vault order and its row to the index, a batch at a time
    (one transaction, committed at the end, or when the sink fails). The records keep
    their tallies; their summaries are read back from the index when asked for (made
    again from the note without one)."""
    reader = (settings, all_notes)
    notes: list[NoteRecord] = []
    batch: list[Upsert] = []
    batch_bytes = 0
    parsed = 0
    try:
        with gc_paused():
            outcomes = _parse_streamed(files, settings, all_notes, workers, progress)
            for f, outcome in zip(files, outcomes, strict=True):
                if isinstance(outcome, str):
                    problems.append(Diagnostic(f.rel, None, WARNING, "unreadable", outcome))
                    continue
                dig, flashcard, blob, ids, tally_blob, cards = outcome
                note_tally = load_tally(tally_blob)
                if note_tally and (flashcard or all_notes):
                    lines = unpack_card_json(cards)
                    assert lines is not None  # packed just now by a worker
                    json_sink(lines)
                parsed += 1
                if index is None:
                    notes.append(NoteRecord(f.rel, f.path, flashcard, blob, note_tally,
                                            reader=reader))
                    continue
                notes.append(NoteRecord(f.rel, f.path, flashcard, None, note_tally,
                                        reader=reader, source=(index, dig)))
                batch.append((f.rel, f.size, f.mtime_ns, dig, flashcard, blob, ids,
                              tally_blob, cards))
                batch_bytes += len(blob) + len(cards)
                if len(batch) >= STORE_BATCH or batch_bytes >= STORE_BYTES:
                    index.add_rows(batch)
                    batch = []
                    batch_bytes = 0
        if index is not None:
            index.write(batch, [], deleted)
    except BaseException:
        # Interrupted (the reader of the output went away: `scan --json | head`, Ctrl-C):
        # the rows made so far are whole and right, so they are kept; the next scan
        # parses only the rest.
        if index is not None:
            with contextlib.suppress(Exception):
                index.write(batch, [], [])
            index.close()
        raise
    return ScanResult(root, settings, all_notes, notes, problems, parsed, {}, index)


def _parse_streamed(files: list[NoteFile], settings: Settings, all_notes: bool,
                    workers: int, progress: Progress | None) -> Iterator[Outcome]:
    """`_parse_one` with lines for each of ``files``, in order, computed by ``workers``
    forked processes (chunk by chunk, handed back as each is done) when there are
    many."""
    from flashmark.parallel import Lost, chunk_bounds, stream_chunks

    def parse_chunk(start: int, end: int) -> list[Outcome]:
        return [_parse_one(f, None, settings, all_notes, True) for f in files[start:end]]

    bounds = chunk_bounds(len(files), STREAM_CHUNK)
    processes = workers if workers > 1 and len(files) >= PARALLEL_MIN else 0
    stream = stream_chunks(parse_chunk, bounds, processes)
    try:
        for k, done in stream:
            # A chunk whose worker failed is parsed here (an error in it is raised here).
            yield from parse_chunk(*bounds[k]) if isinstance(done, Lost) else done
            if progress is not None:
                progress(bounds[k][1], len(files))
    finally:
        stream.close()


# A worker's answer for one note: an error message, or (digest, is flashcard note,
# summary blob, " id1 id2 ..." for the index's id lookup, tally blob, compressed
# `scan --json` lines or b"" when not asked for); the blobs are empty when the digest
# matched the index row (not parsed). Workers do all per-card work, so the parent only
# collects.
Outcome = str | tuple[bytes, bool, bytes, str, bytes, bytes]


def _parse_one(f: NoteFile, known_digest: bytes | None, settings: Settings,
               all_notes: bool, card_json: bool = False) -> Outcome:
    try:
        note_text = read_note(f.rel, f.path, f.size)
    except NoteReadError as exc:
        return exc.reason
    dig = digest(note_text.data)
    if dig == known_digest:
        return dig, False, b"", "", b"", b""
    note = parse_note(note_text.text, settings.parser, all_notes=all_notes)
    if card_json:  # each question's ids are hashed once, for the summary and the lines
        q_ids = [card_ids(q, f.rel) for q in note.questions]
        summary = summarize(note, f.rel, q_ids)
        cards = pack_card_json(note_json_lines(note.questions, f.rel, ids=q_ids))
    else:
        summary = summarize(note, f.rel)
        cards = b""
    ids = "".join(" " + cid for _, _, cid, _ in summary)
    return (dig, note.is_flashcard_note, dump_summary(summary), ids, dump_tally(tally(summary)),
            cards)


def _parse_serial(pending: list[tuple[NoteFile, IndexRow | None]], settings: Settings,
                  all_notes: bool, progress: Progress | None,
                  card_json: bool = False) -> list[Outcome]:
    out: list[Outcome] = []
    total = len(pending)
    for k, (f, row) in enumerate(pending):
        if progress is not None and k % 100 == 0:
            progress(k, total)
        out.append(_parse_one(f, row.digest if row else None, settings, all_notes, card_json))
    if progress is not None:
        progress(total, total)
    return out


def _parse_parallel(pending: list[tuple[NoteFile, IndexRow | None]], settings: Settings,
                    all_notes: bool, workers: int, progress: Progress | None,
                    card_json: bool = False) -> list[Outcome]:
    from flashmark.parallel import chunk_bounds, run_chunks

    items = [(f, row.digest if row else None) for f, row in pending]

    def parse_chunk(start: int, end: int) -> list[Outcome]:
        return [_parse_one(f, d, settings, all_notes, card_json) for f, d in items[start:end]]

    # Small chunks: the last one to finish decides the wall time.
    parts = run_chunks(parse_chunk, chunk_bounds(len(items), 32), workers, progress)
    return [outcome for part in parts for outcome in part]


# Notes per chunk when `iter_card_json` parses notes whose lines the index lacks.
JSON_CHUNK = 16
STORE_BATCH = 256  # lines of this many notes are stored in one transaction
STORE_BYTES = 4 << 20  # a streamed scan's rows are added when their blobs reach this

# One note's `scan --json` lines made from its file: (digest of the text, packed lines),
# or why it could not be read.
Made = tuple[bytes, bytes] | str


def _lines_of(r: NoteRecord, settings: Settings, all_notes: bool) -> Made:
    try:
        text = read_note(r.rel, r.path)
    except NoteReadError as exc:
        return exc.reason
    note = parse_note(text.text, settings.parser, all_notes=all_notes)
    return digest(text.data), pack_card_json(note_json_lines(note.questions, r.rel))


def iter_card_json(result: ScanResult, records: list[NoteRecord],
                   jobs: int | None = None) -> Iterator[bytes]:
    """The `scan --json` lines of every card of ``records``, note by note in their order,
    as UTF-8. Lines the index holds for a note (made when it was last parsed with
    ``card_json``) are read from it; the other notes are parsed again, in forked worker
    processes when there are many, and their lines stored for the next run. Only a few
    notes are held at a time, whatever the size of the vault. A note that cannot be read
    any more (deleted since the scan) is a `NoteReadError`."""
    from flashmark.parallel import Lost, chunk_bounds, stream_chunks

    index = result._index
    with_cards = [r for r in records if r.tally]  # a note without cards prints nothing
    lacking = index.without_card_json() if index is not None else None
    missing = [r for r in with_cards if lacking is None or r.rel in lacking]
    missing_rels = {r.rel for r in missing}
    settings, all_notes = result.settings, result.all_notes

    def make_chunk(start: int, end: int) -> list[Made]:
        return [_lines_of(r, settings, all_notes) for r in missing[start:end]]

    workers = worker_count(jobs)
    bounds = chunk_bounds(len(missing), JSON_CHUNK)
    processes = workers if workers > 1 and len(missing) >= PARALLEL_MIN // 8 else 0
    stream = stream_chunks(make_chunk, bounds, processes)
    store: list[tuple[bytes, str, bytes]] = []
    chunk: list[Made] = []
    at = 0
    try:
        for r in with_cards:
            if r.rel in missing_rels:
                if at == len(chunk):
                    k, done = next(stream)
                    chunk = make_chunk(*bounds[k]) if isinstance(done, Lost) else done
                    at = 0
                made = chunk[at]
                at += 1
            else:
                stored = index.card_json(r.rel) if index is not None else None
                lines = unpack_card_json(stored) if stored is not None else None
                if lines is not None:
                    yield lines
                    continue
                made = _lines_of(r, settings, all_notes)  # damaged: made again here
            if isinstance(made, str):
                raise NoteReadError(r.rel, made)
            dig, blob = made
            lines = unpack_card_json(blob)
            assert lines is not None  # packed just now
            store.append((blob, r.rel, dig))
            if len(store) >= STORE_BATCH and index is not None:
                index.store_card_json(store)
                store = []
            yield lines
    finally:
        stream.close()
        if store and index is not None:
            index.store_card_json(store)

"""``flashmark export``: from the vault's cards to an Anki package.

1. Scan the vault (the index makes this cheap) and select notes and questions
   (``--deck`` patterns on the tag-path deck, ``--tag`` on the note's tags).
2. Render each question (:mod:`flashmark.export.render`), in worker processes on a big
   vault; only what is selected is rendered, but every question of a touched note gets
   its key and sketch, so the manifest always describes whole notes.
3. Give each question its GUID: unchanged questions keep theirs, edited ones inherit
   their previous note's (:mod:`flashmark.export.manifest`), new ones derive it from
   their key.
4. Write the package (:mod:`flashmark.export.package`), optionally set the schedules
   (:mod:`flashmark.export.scheduling`), then save the manifest.

The export never writes to a note.
"""

from __future__ import annotations

import functools
import html
import marshal
import os
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from flashmark.config import STATE_DIR, Settings
from flashmark.decks import DeckSelection, normalize_deck_pattern
from flashmark.errors import UsageError
from flashmark.export.cache import CACHE_FILE, RenderCache, code_fingerprint
from flashmark.export.guids import deck_id, question_key, side_hash, sketch
from flashmark.export.manifest import (
    MANIFEST_FILE,
    Entry,
    Manifest,
    NewQuestion,
    assign_guids,
    load_manifest,
    manifest_bytes,
)
from flashmark.export.media import MediaIndex, packaged_name
from flashmark.export.package import NoteRow, PackageWriter, remove_dead_temporaries
from flashmark.export.render import NoteContext, Renderer, footnote_definitions, obsidian_url
from flashmark.export.scheduling import CardState, apply_scheduling, require_anki
from flashmark.model import (
    MODEL_BASIC,
    MODEL_CLOZE,
    MODEL_REVERSED,
    AnkiModelKind,
    Diagnostic,
    ParsedNote,
    Question,
    QuestionType,
)
from flashmark.parallel import Lost, can_fork, gc_paused, stream_chunks, worker_count
from flashmark.syntax import body_tags, parse_note
from flashmark.syntax.blocks import body_offset, split_lines
from flashmark.vault.edit import write_file_atomically
from flashmark.vault.index import default_index_path, digest
from flashmark.vault.notefile import read_note
from flashmark.vault.scan import NoteRecord, ScanResult, scan_vault

__all__ = ["ExportOptions", "ExportSummary", "Skipped", "anki_deck_name", "deck_selected",
           "export_vault"]

Progress = Callable[[int, int], None]

_MODEL: dict[QuestionType, AnkiModelKind] = {
    QuestionType.ONE_SIDED: MODEL_BASIC,
    QuestionType.MULTILINE: MODEL_BASIC,
    QuestionType.REVERSIBLE: MODEL_REVERSED,
    QuestionType.MULTILINE_REVERSIBLE: MODEL_REVERSED,
    QuestionType.CLOZE: MODEL_CLOZE,
}
_SINGLE_LINE = (QuestionType.ONE_SIDED, QuestionType.REVERSIBLE)
_CLOZE_NUMBER = re.compile(r"\{\{c(\d+)::")
_TAG_HTML = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class ExportOptions:
    output: Path
    decks: tuple[str, ...] = ()  # deck patterns (tag paths; glob or prefix)
    tags: tuple[str, ...] = ()  # only notes carrying one of these tags (or a sub-tag)
    strip_prefixes: tuple[str, ...] = ()  # tag-path prefixes removed from deck names
    parent_deck: str | None = None  # put every deck under this one
    deck_depth: int = 0  # keep only this many deck levels (0: all)
    with_scheduling: bool = False
    use_cache: bool = True
    all_notes: bool = False
    jobs: int | None = None
    vault_name: str | None = None  # for obsidian:// links; default: the folder's name


@dataclass(frozen=True, slots=True)
class Skipped:
    rel: str
    line: int  # 1-based
    cards: int  # flashmark cards not exported
    reason: str  # one of the REASON_* texts
    detail: str = ""


REASON_GAP = "cloze number without a deletion"
REASON_HIDDEN = "deletion inside a comment"
REASON_EMPTY_FRONT = "empty front"
REASON_EMPTY_BACK = "empty back (the reversed card would ask nothing)"


@dataclass(slots=True)
class ExportSummary:
    output: Path
    notes: int = 0  # Anki notes written
    cards: int = 0  # Anki cards written
    decks: int = 0
    media: int = 0
    selected_questions: int = 0  # flashmark questions selected
    selected_cards: int = 0  # flashmark cards selected (= cards + skipped cards)
    edited: int = 0  # questions matched to their previous Anki note after an edit
    scheduled: int = 0  # cards that carry a schedule (--with-scheduling)
    skipped: list[Skipped] = field(default_factory=list)
    media_problems: list[str] = field(default_factory=list)
    file_problems: list[Diagnostic] = field(default_factory=list)
    manifest: Path | None = None
    manifest_problem: str | None = None
    seconds: float = 0.0


# --- selection -----------------------------------------------------------------------


def deck_selected(deck: str | None, patterns: tuple[str, ...]) -> bool:
    """``--deck``: does any of the deck patterns select ``deck`` (see `flashmark.decks`)?"""
    return _selection(patterns).selects(deck)


@functools.lru_cache(maxsize=4)
def _selection(patterns: tuple[str, ...]) -> DeckSelection:
    return DeckSelection(patterns)


def _tag_selected(tags: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    if not wanted:
        return True
    for w in wanted:
        w = w.strip().lstrip("#").rstrip("/")
        if any(t == w or t.startswith(w + "/") for t in tags):
            return True
    return False


def anki_deck_name(deck: str | None, options: ExportOptions, vault_name: str) -> str:
    """The Anki deck of a card whose tag-path deck is ``deck``: ``/`` becomes ``::``,
    ``--strip-prefix`` removes the first matching prefix, ``--deck-depth`` cuts,
    ``--parent-deck`` goes in front; no deck left: the parent deck or the vault's name."""
    parts = [x.strip() for x in (deck or "").split("/") if x.strip()]
    folded = [x.casefold() for x in parts]
    for prefix in options.strip_prefixes:  # read like a deck pattern: `::`, `#`, any case
        p = normalize_deck_pattern(prefix).split("/")
        if folded[:len(p)] == p:
            parts = parts[len(p):]
            break
    if options.deck_depth > 0:
        parts = parts[:options.deck_depth]
    parent = [x.strip() for x in (options.parent_deck or "").split("::") if x.strip()]
    parts = parent + parts
    return "::".join(parts) if parts else vault_name


def _anki_tag(tag: str) -> str:
    return "::".join(x for x in tag.split("/") if x)


_TAG_HINT = re.compile(r"#[^\s#]")  # a tag candidate; a tag also follows a space or a line start


def _may_have_tags(text: str, start: int) -> bool:
    for m in _TAG_HINT.finditer(text, start):
        if m.start() == 0 or text[m.start() - 1].isspace():
            return True
    return False


def _note_tags(parsed: ParsedNote, text: str) -> tuple[str, ...]:
    """Frontmatter and inline tags (outside fenced code), in order, without repeats."""
    tags = list(parsed.tags)
    body_start = body_offset(text)
    if not _may_have_tags(text, body_start):
        return tuple(dict.fromkeys(tags))
    tags.extend(body_tags(split_lines(text[body_start:])))
    return tuple(dict.fromkeys(tags))


# --- per note work (runs in worker processes on big vaults) --------------------------


@dataclass(slots=True)
class QuestionOut:
    line: int  # 1-based
    new: NewQuestion
    deck: str | None
    rendered: bool = False
    fields: tuple[str, ...] = ()  # rendered: (front, back) or (text,)
    ords: tuple[int, ...] = ()  # Anki cards made (template index / cloze number - 1)
    cards: int = 0  # flashmark cards (siblings)
    skipped: tuple[tuple[int, str, str], ...] = ()  # (cards, reason, detail)
    entries: tuple[str | None, ...] = ()  # SR entry text per sibling (for scheduling)
    selected: bool = False  # in this export's selection


@dataclass(slots=True)
class NoteOut:
    rel: str
    tags: tuple[str, ...]
    questions: list[QuestionOut]
    media: list[str]
    problems: list[str]
    digest: bytes = b""
    fresh: bool = True  # made in this run, not taken from the cache
    lookups: list[tuple[str, str | None]] = field(default_factory=list)  # image refs

    def cacheable(self) -> bool:
        return self.fresh and all(q.rendered for q in self.questions)

    def to_wire(self) -> bytes:
        """Everything the exporter made of the note, for the render cache and for the
        way back from a worker process: marshal of tuples, lists and strings (pickling
        these dataclasses costs ten times as much, most of it in the parent)."""
        return marshal.dumps((self.tags, self.media, self.problems, self.lookups, [
            (q.line, *q.new, q.deck, q.fields, q.ords, q.cards, q.skipped, q.entries)
            for q in self.questions]))

    @classmethod
    def from_wire(cls, rel: str, digest: bytes, data: bytes, *, fresh: bool) -> NoteOut:
        tags, media, problems, lookups, questions = marshal.loads(data)
        return cls(rel, tags, [
            QuestionOut(line, NewQuestion(key, model, sk, fh, bh), deck, True, fields, ords,
                        cards, skipped, entries)
            for line, key, model, sk, fh, bh, deck, fields, ords, cards, skipped, entries
            in questions], media, problems, digest, fresh=fresh, lookups=lookups)


def _visible(html_text: str) -> bool:
    if "<img" in html_text:
        return True
    return bool(_TAG_HTML.sub("", html_text).replace("&nbsp;", " ").strip())


class _NoteWorker:
    """Renders notes (or takes them from the cache); one per process."""

    def __init__(self, result: ScanResult, options: ExportOptions, vault_name: str,
                 cache: RenderCache | None) -> None:
        self.result = result
        self.options = options
        self.vault = vault_name
        self.cached = cache.load() if cache is not None else {}
        self.cache_at = (cache.path, cache.fingerprint) if cache is not None else None
        self._cache: RenderCache | None = None
        self._pid = 0
        self.pending: list[tuple[str, bytes, bytes]] = []  # new cache entries
        self.media = MediaIndex(result.root)
        self.renderer = Renderer(self.media.resolve)

    def flush(self) -> None:
        """Write the new cache entries (each process through its own connection)."""
        if not self.pending or self.cache_at is None:
            self.pending.clear()
            return
        if self._cache is None or self._pid != os.getpid():
            self._cache = RenderCache(*self.cache_at)
            self._pid = os.getpid()
        self._cache.add(self.pending)
        self.pending.clear()

    def close(self) -> None:
        self.flush()
        if self._cache is not None and self._pid == os.getpid():
            self._cache.close()
        self._cache = None

    def note(self, record: NoteRecord) -> NoteOut | None:
        dig = b""
        hit = self.cached.get(record.rel)
        if hit is not None:
            try:
                with open(record.path, "rb") as fh:
                    dig = digest(fh.read())
            except OSError:
                dig = b""
            note = self._from_cache(record.rel, dig, hit) if dig == hit[0] else None
            if note is not None and all(self.media.find(ref, record.rel)[0] == found
                                        for ref, found in note.lookups):
                self.select(note)
                return note
        data = read_note(record.rel, record.path)
        parsed = parse_note(data.text, self.result.settings.parser,
                            all_notes=self.result.all_notes)
        if not parsed.questions:
            return None
        tags = _note_tags(parsed, data.text)
        ctx = NoteContext(record.rel, self.vault, footnote_definitions(data.text))
        out: list[QuestionOut] = []
        for q in parsed.questions:
            if q.type is QuestionType.CLOZE:
                front_h = back_h = 0
            else:
                front_h, back_h = side_hash(q.front), side_hash(q.back)
            entries = q.sr.entry_texts if q.sr is not None else []
            out.append(QuestionOut(
                q.span.line + 1,
                NewQuestion(question_key(q, record.rel), _MODEL[q.type], sketch(q.text),
                            front_h, back_h),
                q.deck or parsed.deck, cards=q.card_count,
                entries=tuple(entries[k] if k < len(entries) else None
                              for k in range(q.card_count))))
        note = NoteOut(record.rel, tags, out, [], [], digest(data.data))
        self.select(note)
        for q, qo in zip(parsed.questions, out, strict=True):
            if qo.selected:
                self._render(q, qo, ctx)
        note.media = sorted(ctx.media)
        note.problems = ctx.problems
        note.lookups = ctx.lookups
        if self.cache_at is not None and note.cacheable():
            self.pending.append((note.rel, note.digest, note.to_wire()))
        return note

    @staticmethod
    def _from_cache(rel: str, dig: bytes, hit: tuple[bytes, bytes]) -> NoteOut | None:
        try:
            return NoteOut.from_wire(rel, dig, hit[1], fresh=False)
        except (ValueError, EOFError, TypeError):  # a damaged entry: render again
            return None

    def select(self, note: NoteOut) -> None:
        note_selected = _tag_selected(note.tags, self.options.tags)
        for q in note.questions:
            q.selected = note_selected and deck_selected(q.deck, self.options.decks)

    def _render(self, q: Question, qo: QuestionOut, ctx: NoteContext) -> None:
        r = self.renderer
        skipped: list[tuple[int, str, str]] = []
        if q.type is QuestionType.CLOZE:
            text, _ = r.cloze(q, ctx)
            present = {int(n) - 1 for n in _CLOZE_NUMBER.findall(text)}
            ords = tuple(k for k in range(q.card_count) if k in present)
            for k in range(q.card_count):
                if k in present:
                    continue
                group = q.groups[k] if k < len(q.groups) else ()
                skipped.append((1, REASON_HIDDEN if group else REASON_GAP,
                                f"card {k + 1} of the block"))
            qo.fields = (text,)
        else:
            single = q.type in _SINGLE_LINE
            front = r.side(q.front, ctx, single_line=single)
            back = r.side(q.back, ctx, single_line=single)
            qo.fields = (front, back)
            wanted = (0, 1) if qo.new.model == MODEL_REVERSED else (0,)
            sides = (front, back)
            ords = tuple(o for o in wanted if _visible(sides[o]))
            for o in wanted:
                if o not in ords:
                    skipped.append((1, REASON_EMPTY_FRONT if o == 0 else REASON_EMPTY_BACK,
                                    ""))
        qo.ords = ords
        qo.skipped = tuple(skipped)
        qo.rendered = True


# A worker's answer for one note: nothing (no questions), or (rel, digest, wire data,
# made in this run), see NoteOut.to_wire.
_Wire = tuple[str, bytes, bytes, bool] | None


def _chunks(records: list[NoteRecord], size: int) -> list[tuple[int, int]]:
    """Ranges of records holding about ``size`` cards each."""
    out: list[tuple[int, int]] = []
    start = 0
    acc = 0
    for k, r in enumerate(records):
        acc += len(r.summary) + 20
        if acc >= size:
            out.append((start, k + 1))
            start, acc = k + 1, 0
    if start < len(records):
        out.append((start, len(records)))
    return out


PARALLEL_MIN_CARDS = 4000


def _render_all(worker: _NoteWorker, records: list[NoteRecord], jobs: int | None,
                progress: Progress | None) -> Iterator[NoteOut | None]:
    """Each record's note, in order. Worker processes render while this one assembles
    what they send back, chunk by chunk as they arrive (`flashmark.parallel.stream_chunks`:
    the workers die with this process, even on ``kill -9``)."""
    total = sum(len(r.summary) for r in records)
    workers = worker_count(jobs)
    if workers < 2 or total < PARALLEL_MIN_CARDS or not can_fork():
        done = 0
        for k, record in enumerate(records):
            yield worker.note(record)
            if len(worker.pending) >= 64:
                worker.flush()
            if progress is not None:
                done += len(record.summary)
                if k % 20 == 0 or done == total:
                    progress(done, total)
        return

    def render_chunk(start: int, end: int) -> list[_Wire]:  # in a worker process
        out: list[_Wire] = []
        for r in records[start:end]:
            note = worker.note(r)
            out.append(None if note is None else
                       (note.rel, note.digest, note.to_wire(), note.fresh))
        worker.flush()
        return out

    chunks = _chunks(records, max(500, total // (workers * 8)))
    done = 0
    with closing(stream_chunks(render_chunk, chunks, workers)) as stream:
        for k, part in stream:
            start, end = chunks[k]
            if isinstance(part, Lost):  # its worker died: render the chunk here
                for r in records[start:end]:
                    yield worker.note(r)
                worker.flush()
            else:
                for wire in part:
                    if wire is None:
                        yield None
                        continue
                    note = NoteOut.from_wire(wire[0], wire[1], wire[2], fresh=wire[3])
                    worker.select(note)
                    yield note
            if progress is not None:
                done += sum(len(r.summary) for r in records[start:end])
                progress(done, total)


# --- the export ----------------------------------------------------------------------


def _next_stamp(previous: int) -> int:
    """Now, but always later than the previous package (Anki only applies a newer one)."""
    return max(int(time.time()), previous + 1)


def export_vault(root: Path, settings: Settings, options: ExportOptions,
                 progress: Progress | None = None) -> ExportSummary:
    """Export the selected cards of the vault at ``root`` to ``options.output``."""
    started = time.perf_counter()
    if options.with_scheduling:
        require_anki()
    if options.deck_depth < 0:
        raise UsageError("--deck-depth must be 0 (all levels) or more")
    output = options.output
    if output.exists() and output.is_dir():
        raise UsageError(f"{output} is a folder", hint="give a file name ending in .apkg")
    vault_name = options.vault_name or root.resolve().name or "vault"
    remove_dead_temporaries()  # what killed exports left in the temporary folder
    summary = ExportSummary(output)
    cache: RenderCache | None = None
    result = scan_vault(root, settings, use_cache=options.use_cache,
                        all_notes=options.all_notes)
    try:
        summary.file_problems = list(result.problems)
        records = result.flashcard_notes()
        if not result.has_cards():
            raise result.no_cards_error()
        if options.decks:  # the index knows every card's deck: skip the other notes
            selection = _selection(options.decks)
            selection.require_known(result.decks())
            records = [r for r in records
                       if any(selection.selects(row[0]) for row in r.summary)]
        manifest_path = root / STATE_DIR / MANIFEST_FILE
        manifest = load_manifest(manifest_path, vault_name)
        if options.use_cache:
            cache = RenderCache(default_index_path(root).with_name(CACHE_FILE),
                                code_fingerprint(f"{settings.parser.fingerprint()}|"
                                                 f"{options.all_notes}|{vault_name}"))
        stamp = _next_stamp(manifest.stamp)
        writer = PackageWriter(stamp)
        try:
            assembler = _Assembler(manifest, options, vault_name, summary, writer)
            worker = _NoteWorker(result, options, vault_name, cache)
            try:
                with gc_paused():  # and so in the worker processes forked meanwhile
                    for note in _render_all(worker, records, options.jobs, progress):
                        if note is not None:
                            assembler.add(note)
            finally:
                worker.close()
            assembler.flush()
            media = sorted(assembler.media)
            # SQLite builds the package's indexes and zip writes it without holding the
            # GIL: the manifest is serialized meanwhile (written only once the package is).
            with ThreadPoolExecutor(1) as background:
                package = background.submit(
                    writer.finish, output, assembler.decks,
                    [(str(root / rel), packaged_name(rel)) for rel in media])
                # The manifest: every exported note's questions now; notes no longer in
                # the vault are forgotten; notes not touched by this selection keep theirs.
                in_vault = {r.rel for r in result.notes}
                manifest.notes = {rel: e for rel, e in manifest.notes.items()
                                  if rel in in_vault}
                manifest.stamp = stamp
                manifest_blob = manifest_bytes(manifest)
                summary.notes, summary.cards = package.result()
        finally:
            writer.close()
        summary.decks = len(assembler.decks)
        summary.media = len(media)
        if options.with_scheduling:
            summary.scheduled = apply_scheduling(output, assembler.states,
                                                 settings.scheduling)
        summary.manifest = manifest_path
        try:
            write_file_atomically(str(manifest_path), manifest_blob, sweep=True)
        except OSError as exc:
            summary.manifest = None
            summary.manifest_problem = (f"cannot write {manifest_path}: {exc.strerror or exc}"
                                        " (edited cards will become new Anki notes next time)")
        if cache is not None:
            cache.keep_only(in_vault)
    finally:
        result.close()
        if cache is not None:
            cache.close()
    summary.seconds = time.perf_counter() - started
    return summary


class _Assembler:
    """Turns rendered notes into package rows as they arrive: GUIDs (through the
    manifest), decks, tags, the Source and Link fields."""

    def __init__(self, manifest: Manifest, options: ExportOptions, vault_name: str,
                 summary: ExportSummary, writer: PackageWriter) -> None:
        self.manifest = manifest
        self.options = options
        self.vault = vault_name
        self.summary = summary
        self.writer = writer
        self.decks: dict[str, int] = {}
        self.deck_names: dict[str | None, str] = {}
        self.media: set[str] = set()
        self.states: list[CardState] = []
        self.seen_guids: set[str] = set()
        self.rows: list[NoteRow] = []
        self.position = 0  # of the next note's new cards

    def add(self, note: NoteOut) -> None:
        manifest, summary = self.manifest, self.summary
        guids, edited = assign_guids(manifest.notes.get(note.rel, []),
                                     [q.new for q in note.questions], manifest.namespace)
        manifest.notes[note.rel] = [Entry(*q.new, g)
                                    for q, g in zip(note.questions, guids, strict=True)]
        if not any(q.selected for q in note.questions):
            return
        summary.edited += edited
        summary.media_problems.extend(note.problems)
        self.media.update(note.media)
        base_tags = [_anki_tag(t) for t in note.tags]
        source_link = html.escape(obsidian_url(self.vault, note.rel))
        for q, guid in zip(note.questions, guids, strict=True):
            if not q.selected:
                continue
            summary.selected_questions += 1
            summary.selected_cards += q.cards
            for n, reason, detail in q.skipped:
                summary.skipped.append(Skipped(note.rel, q.line, n, reason, detail))
            if not q.ords:
                continue
            if guid in self.seen_guids:  # two notes' keys collided (48-bit ids): keep apart
                guid = guid + "-" + q.new.key
            self.seen_guids.add(guid)
            name = self.deck_names.get(q.deck)
            if name is None:
                name = self.deck_names[q.deck] = anki_deck_name(q.deck, self.options,
                                                                self.vault)
            did = self.decks.get(name)
            if did is None:
                did = self.decks[name] = deck_id(name)
            tags = base_tags
            if q.deck is not None and q.deck not in note.tags:
                tags = [*base_tags, _anki_tag(q.deck)]
            source = html.escape(f"{note.rel}:{q.line}", quote=False)
            self.rows.append(NoteRow(guid, q.new.model, did, (*q.fields, source, source_link),
                                     tags, q.ords, self.position))
            self.position += 1
            if self.options.with_scheduling:
                for o in q.ords:
                    entry = q.entries[o] if o < len(q.entries) else None
                    if entry is not None:
                        self.states.append(CardState(guid, o, entry))
        if len(self.rows) >= 2000:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.add(self.rows)
            self.rows = []

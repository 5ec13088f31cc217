"""The export's per-note work: parse a note, outline every question (key, sketch, deck,
SR entries), render the selected ones (:mod:`flashmark.export.render`), or take all of
that from the render cache. On a big vault the notes are rendered in worker processes
(`flashmark.parallel.stream_chunks`) and sent back in marshal form (`NoteOut.to_wire`)."""

from __future__ import annotations

import marshal
import os
import re
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field

from flashmark.export._options import (
    REASON_EMPTY_BACK,
    REASON_EMPTY_FRONT,
    REASON_GAP,
    REASON_HIDDEN,
    ExportOptions,
    Progress,
)
from flashmark.export._select import deck_selected, note_tags, tag_selected
from flashmark.export.cache import RenderCache
from flashmark.export.guids import question_key, side_hash, sketch
from flashmark.export.manifest import NewQuestion
from flashmark.export.media import MediaIndex
from flashmark.export.render import NoteContext, Renderer, footnote_definitions
from flashmark.model import (
    MODEL_BASIC,
    MODEL_CLOZE,
    MODEL_REVERSED,
    AnkiModelKind,
    Question,
    QuestionType,
)
from flashmark.parallel import Lost, can_fork, stream_chunks, worker_count
from flashmark.syntax import parse_note
from flashmark.vault.index import digest
from flashmark.vault.notefile import read_note
from flashmark.vault.scan import NoteRecord, ScanResult

__all__ = ["NoteOut", "NoteWorker", "QuestionOut", "render_all"]

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

# (flashmark cards, REASON_* text, detail) of cards a question cannot make in Anki
_SkippedCards = tuple[int, str, str]


@dataclass(slots=True)
class QuestionOut:
    line: int  # 1-based
    new: NewQuestion
    deck: str | None
    rendered: bool = False
    fields: tuple[str, ...] = ()  # rendered: (front, back) or (text,)
    ords: tuple[int, ...] = ()  # Anki cards made (template index / cloze number - 1)
    cards: int = 0  # flashmark cards (siblings)
    skipped: tuple[_SkippedCards, ...] = ()
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


def _outline(q: Question, rel: str, note_deck: str | None) -> QuestionOut:
    """What every question of a touched note gets, selected or not: its line, key,
    model, sketch, side hashes, deck and SR entries (the manifest describes whole
    notes)."""
    if q.type is QuestionType.CLOZE:
        front_h = back_h = 0
    else:
        front_h, back_h = side_hash(q.front), side_hash(q.back)
    entries = q.sr.entry_texts if q.sr is not None else []
    return QuestionOut(
        q.span.line + 1,
        NewQuestion(question_key(q, rel), _MODEL[q.type], sketch(q.text), front_h, back_h),
        q.deck or note_deck, cards=q.card_count,
        entries=tuple(entries[k] if k < len(entries) else None for k in range(q.card_count)))


class NoteWorker:
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
        """The note's questions, the selected ones rendered (None: it has none)."""
        note = self._cached(record)
        if note is not None:
            self.select(note)
            return note
        return self._made(record)

    def select(self, note: NoteOut) -> None:
        note_selected = tag_selected(note.tags, self.options.tags)
        for q in note.questions:
            q.selected = note_selected and deck_selected(q.deck, self.options.decks)

    def _cached(self, record: NoteRecord) -> NoteOut | None:
        """The cache's note when the note's bytes and its image lookups are unchanged."""
        hit = self.cached.get(record.rel)
        if hit is None:
            return None
        try:
            with open(record.path, "rb") as fh:
                dig = digest(fh.read())
        except OSError:
            dig = b""
        note = self._decoded(record.rel, dig, hit) if dig == hit[0] else None
        if note is not None and all(self.media.find(ref, record.rel)[0] == found
                                    for ref, found in note.lookups):
            return note
        return None

    @staticmethod
    def _decoded(rel: str, dig: bytes, hit: tuple[bytes, bytes]) -> NoteOut | None:
        try:
            return NoteOut.from_wire(rel, dig, hit[1], fresh=False)
        except (ValueError, EOFError, TypeError):  # a damaged entry: render again
            return None

    def _made(self, record: NoteRecord) -> NoteOut | None:
        """The note read, parsed, outlined and its selected questions rendered now; a
        new cache entry when everything was rendered."""
        data = read_note(record.rel, record.path)
        parsed = parse_note(data.text, self.result.settings.parser,
                            all_notes=self.result.all_notes)
        if not parsed.questions:
            return None
        tags = note_tags(parsed, data.text)
        ctx = NoteContext(record.rel, self.vault, footnote_definitions(data.text))
        out = [_outline(q, record.rel, parsed.deck) for q in parsed.questions]
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

    def _render(self, q: Question, qo: QuestionOut, ctx: NoteContext) -> None:
        if q.type is QuestionType.CLOZE:
            ords, skipped = self._render_cloze(q, qo, ctx)
        else:
            ords, skipped = self._render_sides(q, qo, ctx)
        qo.ords = ords
        qo.skipped = skipped
        qo.rendered = True

    def _render_cloze(self, q: Question, qo: QuestionOut, ctx: NoteContext
                      ) -> tuple[tuple[int, ...], tuple[_SkippedCards, ...]]:
        """One field; a card per cloze number the rendered text still asks."""
        text, _ = self.renderer.cloze(q, ctx)
        qo.fields = (text,)
        present = {int(n) - 1 for n in _CLOZE_NUMBER.findall(text)}
        ords = tuple(k for k in range(q.card_count) if k in present)
        skipped: list[_SkippedCards] = []
        for k in range(q.card_count):
            if k in present:
                continue
            group = q.groups[k] if k < len(q.groups) else ()
            skipped.append((1, REASON_HIDDEN if group else REASON_GAP,
                            f"card {k + 1} of the block"))
        return ords, tuple(skipped)

    def _render_sides(self, q: Question, qo: QuestionOut, ctx: NoteContext
                      ) -> tuple[tuple[int, ...], tuple[_SkippedCards, ...]]:
        """Front and back; a card per side that asks something (the back only for a
        reversed model)."""
        single = q.type in _SINGLE_LINE
        front = self.renderer.side(q.front, ctx, single_line=single)
        back = self.renderer.side(q.back, ctx, single_line=single)
        qo.fields = (front, back)
        wanted = (0, 1) if qo.new.model == MODEL_REVERSED else (0,)
        sides = (front, back)
        ords = tuple(o for o in wanted if _visible(sides[o]))
        skipped = tuple((1, REASON_EMPTY_FRONT if o == 0 else REASON_EMPTY_BACK, "")
                        for o in wanted if o not in ords)
        return ords, skipped


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


def render_all(worker: NoteWorker, records: list[NoteRecord], jobs: int | None,
               progress: Progress | None, *, parallel_from: int) -> Iterator[NoteOut | None]:
    """Each record's note, in order: here, or (from ``parallel_from`` cards on, with two
    workers or more) in worker processes, this one taking what they send back chunk by
    chunk as it arrives (the workers die with this process, even on ``kill -9``)."""
    total = sum(len(r.summary) for r in records)
    workers = worker_count(jobs)
    if workers < 2 or total < parallel_from or not can_fork():
        return _render_here(worker, records, total, progress)
    return _render_in_workers(worker, records, total, workers, progress)


def _render_here(worker: NoteWorker, records: list[NoteRecord], total: int,
                 progress: Progress | None) -> Iterator[NoteOut | None]:
    done = 0
    for k, record in enumerate(records):
        yield worker.note(record)
        if len(worker.pending) >= 64:
            worker.flush()
        if progress is not None:
            done += len(record.summary)
            if k % 20 == 0 or done == total:
                progress(done, total)


def _render_in_workers(worker: NoteWorker, records: list[NoteRecord], total: int,
                       workers: int, progress: Progress | None) -> Iterator[NoteOut | None]:
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

"""`flashmark generate`: run each note's data blocks and rewrite its stale sections.

Per note: find the blocks and sections, run every data block (``runner``), group its
results by section, put the old SR comments back on the new cards (``states``), and
turn each changed section into an `Edit` of the section's content bytes; the edits are
applied by `flashmark.vault.edit.apply_edits` (guarded, atomic, nothing else of the note
changes: line endings, BOM and the other sections keep their bytes). Problems (note code
that fails, malformed or unknown sections) are reported per note and section with the
note's line numbers; everything else still regenerates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from flashmark.config import ParserSettings, Settings
from flashmark.errors import ConflictError, FlashmarkError, NoteReadError, UsageError, VaultError
from flashmark.generate import sections as sect
from flashmark.generate.cache import GenerateCache
from flashmark.generate.finder import (
    DATA_MARKER,
    Block,
    LfText,
    Section,
    find_blocks,
    find_sections,
)
from flashmark.generate.states import Orphan
from flashmark.model import ERROR, MODE_WRITE, Diagnostic, GenerateMode
from flashmark.parallel import Lost, stream_chunks, worker_count
from flashmark.vault.edit import Edit, apply_edits
from flashmark.vault.notefile import decode_note
from flashmark.vault.walk import NoteFile, walk_notes

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class CardRename:
    """A schedule moved to a card with another id (its text changed)."""

    old: str
    new: str
    stage: str  # the matching stage that moved it (states.Move.stage)


@dataclass(frozen=True, slots=True)
class NoteOutcome:
    rel: str
    path: str
    data: bytes  # the note as read
    has_data: bool  # it has a data block
    edits: tuple[Edit, ...] = ()
    updates: tuple[sect.SectionUpdate, ...] = ()
    problems: tuple[Diagnostic, ...] = ()
    deps: tuple[str, ...] = ()  # notes it imports (transitively), vault-relative
    after: bytes | None = None  # the note after the edits, when it changes
    lost: bool = False  # its code did not run to the end (time limit, process ended)
    renames: tuple[CardRename, ...] = ()  # cards whose id changed with their schedule

    @property
    def failed(self) -> bool:
        return any(p.severity == ERROR for p in self.problems)


@dataclass(frozen=True, slots=True)
class Options:
    now: dt.datetime
    timestamp: bool = True  # False: keep the old header time
    keep_orphans: bool = False  # also write unplaced schedules after the section
    token: tuple[str, str] = ("{@{", "}@}")
    rematch: str | None = None  # the last matching stage; None: generate.rematch
    parser: ParserSettings | None = None  # to name the cards that moved; None: the vault's


def _orphan_comment(update: sect.SectionUpdate) -> str:
    items = [{"card": o.card, "sr": o.comment[len("<!--SR:"):-len("-->")]}
             for o in update.orphans]
    blob = json.dumps(items, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    return f'<!--flashmark orphans section="{update.id}" {blob}-->'


# (section id -> (line of the data block that writes it, the texts it writes)
_Writers = dict[str, tuple[int, list[str]]]


def generate_note(library: Any, rel: str, path: str, data: bytes, options: Options
                  ) -> NoteOutcome:
    """Everything `generate` would change in one note (nothing is written here)."""
    try:
        note_text = decode_note(rel, data)
    except NoteReadError as exc:
        return NoteOutcome(rel, path, data, True, problems=(
            Diagnostic(rel, None, ERROR, "unreadable", exc.reason),))
    lf = LfText(note_text.text)
    blocks, block_problems = find_blocks(lf.text)
    problems = [replace(p, path=rel) for p in block_problems]
    data_blocks = [b for b in blocks if b.kind == "data"]
    if not data_blocks:
        return NoteOutcome(rel, path, data, False, problems=tuple(problems))
    found, section_problems, blocked = find_sections(lf.text)
    problems.extend(replace(p, path=rel) for p in section_problems)
    texts = {sid: lf.text[s.content_start:s.content_end] for sid, s in found.items()}
    note = library.load(path, note_text.text)
    writers, deps = _run_blocks(library, note, rel, path, data_blocks, texts, problems,
                                blocked)
    updates = _section_updates(writers, blocked, found, texts, options, rel, problems)
    if not updates:
        return NoteOutcome(rel, path, data, True, problems=tuple(problems),
                           deps=tuple(sorted(deps)))
    edits = _section_edits(updates, found, lf, data, note_text.newline, options.keep_orphans)
    after = _splice(data, edits)
    problems.sort(key=lambda p: -1 if p.line is None else p.line)
    renames = _renames(rel, note_text.text, after, updates, options.parser or ParserSettings())
    return NoteOutcome(rel, path, data, True, tuple(edits), tuple(updates), tuple(problems),
                       tuple(sorted(deps)), after, renames=renames)


def _run_blocks(library: Any, note: Any, rel: str, path: str, data_blocks: list[Block],
                texts: dict[str, str], problems: list[Diagnostic], blocked: set[str]
                ) -> tuple[_Writers, set[str]]:
    """Run each data block: which sections it writes and what, and the notes it
    imports. A block whose code fails writes nothing; a section two blocks write is
    blocked (neither is written)."""
    real = os.path.realpath(path)
    writers: _Writers = {}
    deps: set[str] = set()
    for block in data_blocks:
        results = _block_results(library, note, rel, block, texts, problems, deps)
        if results is None:
            continue
        for sid, parts in _own_sections(results, real, rel, block, problems).items():
            if sid in writers:
                problems.append(Diagnostic(rel, block.line, ERROR, "section-written-twice",
                                           f'section "{sid}" is also written by '
                                           f"the data block on line "
                                           f"{writers[sid][0] + 1}: neither is written"))
                blocked.add(sid)
                continue
            writers[sid] = (block.line, parts)
    return writers, deps


def _block_results(library: Any, note: Any, rel: str, block: Block, texts: dict[str, str],
                   problems: list[Diagnostic], deps: set[str]) -> list[Any] | None:
    """The results of one data block's code (None, and a problem, when it failed)."""
    from flashmark.generate.runner import CodeError, results_of

    try:
        value, block_deps = library.run(note, block, texts)
        deps.update(block_deps)
        return results_of(value)
    except CodeError as exc:
        where = "" if exc.rel == rel else f" (in {exc.rel}:{exc.line + 1})"
        line = exc.line if exc.rel == rel else block.line
        problems.append(Diagnostic(rel, line, ERROR, "code-error",
                                   f"{exc.message}{where}; the data block on line "
                                   f"{block.line + 1} was not run to the end, "
                                   "its sections are left as they are"))
    except TypeError as exc:
        problems.append(Diagnostic(rel, block.line, ERROR, "code-error",
                                   f"data block: {exc}"))
    return None


def _own_sections(results: list[Any], real: str, rel: str, block: Block,
                  problems: list[Diagnostic]) -> dict[str, list[str]]:
    """The block's results by section of this note (``real``: its resolved path); a
    result for anywhere else is a problem."""
    from flashmark.generate.compat.util import FileSection, NullLocation

    mine: dict[str, list[str]] = {}
    for r in results:
        loc = r.location
        if isinstance(loc, NullLocation):
            continue
        if isinstance(loc, FileSection) and os.path.realpath(loc.path) == real:
            mine.setdefault(loc.section, []).append(r.text)
            continue
        problems.append(Diagnostic(rel, block.line, ERROR, "foreign-location",
                                   f"the data block writes to {loc!r}: "
                                   "flashmark writes only sections of the note itself"))
    return mine


def _section_updates(writers: _Writers, blocked: set[str], found: dict[str, Section],
                     texts: dict[str, str], options: Options, rel: str,
                     problems: list[Diagnostic]) -> list[sect.SectionUpdate]:
    """Each written section whose text changes, its SR comments carried over."""
    updates: list[sect.SectionUpdate] = []
    for sid, (line, parts) in writers.items():
        if sid in blocked:
            continue
        s = found.get(sid)
        if s is None:
            problems.append(Diagnostic(rel, line, ERROR, "missing-section",
                                       f'section "{sid}" (written by the data block on '
                                       f"line {line + 1}) is not in the note"))
            continue
        up = sect.update(sid, s.line, texts[sid], "".join(t for t in parts if t), options.now,
                         timestamp=options.timestamp, token=options.token,
                         rematch=options.rematch or "similar")
        if up is not None:
            updates.append(up)
    return updates


def _section_edits(updates: list[sect.SectionUpdate], found: dict[str, Section], lf: LfText,
                   data: bytes, newline: str, keep_orphans: bool) -> list[Edit]:
    """The byte edits of the note's file, in order: each changed section's content in
    the note's line endings (and, with ``keep_orphans``, its orphans' comment after it)."""
    edits: list[Edit] = []
    for up in sorted(updates, key=lambda u: found[u.id].start):
        s = found[up.id]
        b_start, b_end, b_after = lf.byte_offsets([s.content_start, s.content_end, s.end])
        new = up.new.replace("\n", newline).encode("utf-8", "surrogatepass")
        edits.append(Edit(b_start, b_end, data[b_start:b_end], new))
        if keep_orphans and up.orphans:
            extra = (newline + _orphan_comment(up)).encode("utf-8", "surrogatepass")
            edits.append(Edit(b_after, b_after, b"", extra))
    return edits


def _renames(rel: str, before: str, after: bytes, updates: Sequence[sect.SectionUpdate],
             parser: ParserSettings) -> tuple[CardRename, ...]:
    """The cards whose schedule moved to a card with another id: the question whose
    comment was on the old line, the one whose comment is on the new line, sibling by
    sibling (the review log's history follows them: ``renamed`` events)."""
    from flashmark.identity import card_ids
    from flashmark.syntax import parse_note

    if not any(up.moves for up in updates):
        return ()
    try:
        new_text = decode_note(rel, after).text
    except NoteReadError:
        return ()
    new_lf = LfText(new_text)
    found, _, _ = find_sections(new_lf.text)

    def by_last_line(text: str) -> dict[int, list[str]]:
        note = parse_note(text, parser, all_notes=True)
        return {q.span.end_line: list(card_ids(q, rel)) for q in note.questions}

    old_cards, new_cards = by_last_line(before), by_last_line(new_text)
    out: list[CardRename] = []
    for up in updates:
        s = found.get(up.id)
        if s is None:
            continue
        for m in up.moves:
            old_ids = old_cards.get(m.old_line, [])
            new_ids = new_cards.get(s.line + m.new_line, [])
            out.extend(CardRename(a, b, m.stage) for a, b in zip(old_ids, new_ids, strict=False)
                       if a != b)
    return tuple(out)


def _splice(data: bytes, edits: Sequence[Edit]) -> bytes:
    from flashmark.vault.edit import splice

    return splice(data, edits)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# --- the whole run -------------------------------------------------------------------------


@dataclass(slots=True)
class Report:
    root: Path
    notes: int = 0  # notes with data blocks among those asked for
    ran: int = 0  # notes whose code ran
    cached: int = 0  # notes skipped: unchanged since a clean run
    written: list[str] = field(default_factory=list)
    stale: list[tuple[str, int, str]] = field(default_factory=list)  # (rel, line, section id)
    sections_written: int = 0
    problems: list[Diagnostic] = field(default_factory=list)
    orphans: list[tuple[str, str, Orphan]] = field(default_factory=list)  # rel, section, orphan
    outcomes: list[NoteOutcome] = field(default_factory=list)
    conflicts: int = 0

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == ERROR)


def _run_all(items: list[tuple[str, str, bytes]], options: Options, root: Path,
             jobs: int, timeout: float, progress: Progress | None) -> list[NoteOutcome]:
    """Each note's outcome, in order. Note code runs only in worker processes, one note
    at a time (`flashmark.parallel.stream_chunks`): a note that runs past ``timeout``
    seconds, ends its process (``os._exit``) or crashes it costs that note alone (an
    error naming it), and the rest of the run goes on."""
    from flashmark.generate.runner import Library

    library: Library | None = None  # one per process: each worker makes its own

    def run_note(start: int, end: int) -> list[NoteOutcome]:
        nonlocal library
        if library is None:
            library = Library(root)
        return [generate_note(library, rel, path, data, options)
                for rel, path, data in items[start:end]]

    out: list[NoteOutcome] = []
    bounds = [(k, k + 1) for k in range(len(items))]
    with closing(stream_chunks(run_note, bounds, max(1, min(jobs, len(items))),
                               timeout=timeout)) as stream:
        for k, part in stream:
            if isinstance(part, Lost):
                rel, path, data = items[k]
                out.append(NoteOutcome(rel, path, data, True, lost=True, problems=(
                    Diagnostic(rel, None, ERROR, "run-lost", _lost_message(part, timeout)),)))
            else:
                out.extend(part)
            if progress is not None:
                progress(k + 1, len(items))
    return out


def _lost_message(lost: Lost, timeout: float) -> str:
    left = "; its sections are left as they are"
    if lost.kind == "timeout":
        return (f"its code did not finish within {timeout:g} s (generate.timeout in "
                f"flashmark.yaml): stopped{left}")
    if lost.kind == "exit":
        return (f"its code ended the Python process (exit status {lost.status}, e.g. "
                f"os._exit){left}")
    if lost.kind == "signal":
        try:
            name = signal.Signals(lost.status).name
        except ValueError:
            name = str(lost.status)
        return f"the process running its code was killed by {name}{left}"
    if lost.kind == "error":  # a bug in flashmark, not in the note: show where
        last = lost.detail.strip().splitlines()[-1:] or ["?"]
        return f"flashmark failed on this note ({last[0]}){left}"
    return f"its code was not run: {lost.detail}{left}"


def _select(root: Path, targets: Sequence[Path], files: list[NoteFile]) -> list[NoteFile]:
    if not targets:
        return files
    wanted: list[str] = []
    for t in targets:
        try:
            rel = t.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            raise UsageError(f"{t} is not inside the vault {root}",
                             hint="give --vault, or paths inside the vault") from None
        if not t.exists():
            raise UsageError(f"{t} does not exist")
        wanted.append("" if rel == "." else rel)
    out = []
    for f in files:
        if any(w == "" or f.rel == w or f.rel.startswith(w + "/") for w in wanted):
            out.append(f)
    return out


def generate(root: Path, settings: Settings, options: Options, *,
             targets: Sequence[Path] = (), mode: GenerateMode = MODE_WRITE, use_cache: bool = True,
             jobs: int | None = None, progress: Progress | None = None) -> Report:
    """Regenerate the sections of the vault's notes (or of ``targets``).

    ``mode``: MODE_WRITE applies the changes; MODE_CHECK and MODE_DIFF only compute them.
    """
    if not root.is_dir():
        raise VaultError(f"vault folder {str(root)!r} does not exist or is not a folder")
    report = Report(root)
    options = replace(options, rematch=options.rematch or settings.generate_rematch,
                      parser=options.parser or settings.parser)
    files = list(walk_notes(str(root), settings.ignore, report.problems))
    cache = GenerateCache(root, enabled=use_cache)
    selected = {f.rel for f in _select(root, targets, files)}
    digests, candidates = _hash_notes(files, selected, cache, use_cache, report)
    todo = _notes_to_run(candidates, digests, cache, use_cache, report)
    outcomes = _run_all(todo, options, root, worker_count(jobs), settings.generate_timeout,
                        progress)
    report.ran = sum(1 for out in outcomes if out.has_data)
    log = None
    for out in outcomes:
        log = _settle(out, mode, root, cache, digests, options.now, log, report)
    cache.save()
    return report


def _hash_notes(files: list[NoteFile], selected: set[str], cache: GenerateCache,
                use_cache: bool, report: Report
                ) -> tuple[dict[str, str], list[tuple[NoteFile, bytes | None]]]:
    """Every note's hash (imports are checked against them: the cache's when the file
    is unchanged, else read now), and the selected notes with a data block (with their
    bytes when they were read)."""
    digests: dict[str, str] = {}
    candidates: list[tuple[NoteFile, bytes | None]] = []
    for f in files:
        entry = cache.known(f) if use_cache else None
        raw: bytes | None = None
        if entry is not None:
            digests[f.rel] = entry.digest
        else:
            try:
                with open(f.path, "rb") as fh:
                    raw = fh.read()
            except OSError as exc:
                if f.rel in selected:
                    report.problems.append(Diagnostic(f.rel, None, ERROR, "unreadable",
                                                      f"cannot read: {exc.strerror}"))
                continue
            digests[f.rel] = _digest(raw)
            entry = cache.record(f, digests[f.rel], DATA_MARKER in raw)
        if entry.data and f.rel in selected:
            candidates.append((f, raw))
    return digests, candidates


def _notes_to_run(candidates: list[tuple[NoteFile, bytes | None]], digests: dict[str, str],
                  cache: GenerateCache, use_cache: bool, report: Report
                  ) -> list[tuple[str, str, bytes]]:
    """(rel, path, bytes) of the candidates whose code must run: not those unchanged,
    with all they import, since a clean run (their problems are reported again)."""
    todo: list[tuple[str, str, bytes]] = []
    for f, raw in candidates:
        report.notes += 1
        entry = cache.entries.get(f.rel)
        if use_cache and entry is not None and entry.deps is not None and cache.fresh(
                f.rel, digests[f.rel], {d: digests.get(d) for d in entry.deps}):
            report.cached += 1
            report.problems.extend(Diagnostic(f.rel, line, severity, code, message)
                                   for line, message, severity, code in entry.problems or ())
            continue
        if raw is None:
            try:
                with open(f.path, "rb") as fh:
                    raw = fh.read()
            except OSError as exc:
                report.problems.append(Diagnostic(f.rel, None, ERROR, "unreadable",
                                                  f"cannot read: {exc.strerror}"))
                continue
        todo.append((f.rel, f.path, raw))
    return todo


def _settle(out: NoteOutcome, mode: GenerateMode, root: Path, cache: GenerateCache,
            digests: dict[str, str], now: dt.datetime, log: Any, report: Report) -> Any:
    """One note's outcome into the report, the note (MODE_WRITE), the review log
    (renamed cards, orphaned schedules) and the cache; returns the review log (opened
    the first time it is needed)."""
    if not out.has_data:
        report.notes -= 1
    report.problems.extend(out.problems)
    for up in out.updates:
        report.stale.append((out.rel, up.line, up.id))
        report.orphans.extend((out.rel, up.id, o) for o in up.orphans)
    if out.edits and mode == MODE_WRITE:
        try:
            applied = apply_edits(out.path, out.rel, out.edits, basis=out.data, root=root)
        except (ConflictError, NoteReadError) as exc:
            report.problems.append(Diagnostic(out.rel, None, ERROR, "conflict", str(exc)))
            report.conflicts += 1
            cache.mark(out.rel, None, None)
            return log
        report.written.append(out.rel)
        report.sections_written += len(out.updates)
        if out.renames or any(up.orphans for up in out.updates):
            log = _log_events(root, out, now, log, report)
        _remember(cache, root, out, applied.after, digests)
    elif out.lost:  # run it again next time: a time limit or a crash is no verdict
        cache.mark(out.rel, None, None)
    elif not out.edits:  # up to date (what failed is remembered with its problems)
        cache.mark(out.rel, digests[out.rel], {d: digests.get(d) or "" for d in out.deps},
                   _problem_rows(out))
    else:
        cache.mark(out.rel, None, None)
    report.outcomes.append(out)
    return log


def _remember(cache: GenerateCache, root: Path, out: NoteOutcome, after: bytes,
              digests: dict[str, str]) -> None:
    try:
        st = os.stat(out.path)
    except OSError:
        return
    digest = _digest(after)
    digests[out.rel] = digest
    cache.record(NoteFile(out.rel, out.path, st.st_size, st.st_mtime_ns), digest, True)
    cache.mark(out.rel, digest, {d: digests.get(d) or "" for d in out.deps}, _problem_rows(out))


def _problem_rows(out: NoteOutcome) -> list[list[Any]]:
    return [[p.line, p.message, p.severity, p.code] for p in out.problems]


def _log_events(root: Path, out: NoteOutcome, now: dt.datetime, log: Any,
                 report: Report) -> Any:
    from flashmark.vault.reviewlog import Orphan, Renamed, ReviewLog

    log = log or ReviewLog(root)
    when = now.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    try:
        for r in out.renames:
            log.append(Renamed(time=when, id=r.old, to=r.new, path=out.rel, via=r.stage))
        for up in out.updates:
            for o in up.orphans:
                log.append(Orphan(time=when, path=out.rel, section=up.id, line=o.line + 1,
                                  card=o.card, comment=o.comment))
    except FlashmarkError as exc:
        report.problems.append(Diagnostic(out.rel, None, ERROR, "not-logged",
                                          "renamed cards and orphaned schedules "
                                          f"not logged: {exc}"))
    return log

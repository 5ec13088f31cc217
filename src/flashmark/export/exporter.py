"""``flashmark export``: from the vault's cards to an Anki package.

1. Scan the vault (the index makes this cheap) and select notes and questions
   (``--deck`` patterns on the tag-path deck, ``--tag`` on the note's tags):
   :mod:`flashmark.export._select`.
2. Render each question (:mod:`flashmark.export.render`), in worker processes on a big
   vault (:mod:`flashmark.export._workers`); only what is selected is rendered, but every
   question of a touched note gets its key and sketch, so the manifest always describes
   whole notes.
3. Give each question its GUID: unchanged questions keep theirs, edited ones inherit
   their previous note's (:mod:`flashmark.export.manifest`), new ones derive it from
   their key; decks, tags and fields make the package's rows
   (:mod:`flashmark.export._assemble`).
4. Write the package (:mod:`flashmark.export.package`), optionally set the schedules
   (:mod:`flashmark.export.scheduling`), then save the manifest.

The export never writes to a note.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flashmark.config import STATE_DIR, Settings
from flashmark.errors import UsageError
from flashmark.export._assemble import Assembler, anki_deck_name
from flashmark.export._options import ExportOptions, ExportSummary, Progress, Skipped
from flashmark.export._select import deck_selected, selected_records
from flashmark.export._workers import NoteWorker, render_all
from flashmark.export.cache import CACHE_FILE, RenderCache, code_fingerprint
from flashmark.export.manifest import MANIFEST_FILE, Manifest, load_manifest, manifest_bytes
from flashmark.export.media import packaged_name
from flashmark.export.package import PackageWriter, remove_dead_temporaries
from flashmark.export.scheduling import CardState, apply_scheduling, require_anki
from flashmark.parallel import gc_paused
from flashmark.vault.edit import write_file_atomically
from flashmark.vault.index import default_index_path
from flashmark.vault.scan import NoteRecord, ScanResult, scan_vault

__all__ = ["ExportOptions", "ExportSummary", "Progress", "Skipped", "anki_deck_name",
           "deck_selected", "export_vault"]

# The render workers' class, here for whoever patches the export (the tests do).
_NoteWorker = NoteWorker

# Fewer selected cards than this are rendered in this process (starting workers costs
# more than it saves).
PARALLEL_MIN_CARDS = 4000


def export_vault(root: Path, settings: Settings, options: ExportOptions,
                 progress: Progress | None = None) -> ExportSummary:
    """Export the selected cards of the vault at ``root`` to ``options.output``."""
    started = time.perf_counter()
    _check_request(options)
    vault_name = options.vault_name or root.resolve().name or "vault"
    remove_dead_temporaries()  # what killed exports left in the temporary folder
    summary = ExportSummary(options.output)
    cache: RenderCache | None = None
    result = scan_vault(root, settings, use_cache=options.use_cache,
                        all_notes=options.all_notes)
    try:
        summary.file_problems = list(result.problems)
        records = selected_records(result, options.decks)
        manifest_path = root / STATE_DIR / MANIFEST_FILE
        manifest = load_manifest(manifest_path, vault_name)
        if options.use_cache:
            cache = _render_cache(root, settings, options, vault_name)
        in_vault = {r.rel for r in result.notes}
        states, manifest_blob = _write_package(root, result, records, manifest, in_vault,
                                               options, vault_name, cache, summary, progress)
        if options.with_scheduling:
            summary.scheduled = apply_scheduling(options.output, states, settings.scheduling)
        _save_manifest(manifest_path, manifest_blob, summary)
        if cache is not None:
            cache.keep_only(in_vault)
    finally:
        result.close()
        if cache is not None:
            cache.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _check_request(options: ExportOptions) -> None:
    """Refuse what cannot work before any work is done."""
    if options.with_scheduling:
        require_anki()
    if options.deck_depth < 0:
        raise UsageError("--deck-depth must be 0 (all levels) or more")
    output = options.output
    if output.exists() and output.is_dir():
        raise UsageError(f"{output} is a folder", hint="give a file name ending in .apkg")


def _render_cache(root: Path, settings: Settings, options: ExportOptions,
                  vault_name: str) -> RenderCache:
    """The render cache, keyed by everything that changes what a note renders to."""
    return RenderCache(default_index_path(root).with_name(CACHE_FILE),
                       code_fingerprint(f"{settings.parser.fingerprint()}|"
                                        f"{options.all_notes}|{vault_name}"))


def _write_package(root: Path, result: ScanResult, records: list[NoteRecord],
                   manifest: Manifest, in_vault: set[str], options: ExportOptions,
                   vault_name: str, cache: RenderCache | None, summary: ExportSummary,
                   progress: Progress | None) -> tuple[list[CardState], bytes]:
    """Render and assemble the selected notes into ``options.output``; returns the
    cards' schedules (for ``--with-scheduling``) and the new manifest's bytes."""
    stamp = _next_stamp(manifest.stamp)
    writer = PackageWriter(stamp)
    try:
        assembler = Assembler(manifest, options, vault_name, summary, writer)
        _render_into(assembler, result, records, options, vault_name, cache, progress)
        media = sorted(assembler.media)
        # SQLite builds the package's indexes and zip writes it without holding the
        # GIL: the manifest is serialized meanwhile (written only once the package is).
        with ThreadPoolExecutor(1) as background:
            package = background.submit(
                writer.finish, options.output, assembler.decks,
                [(str(root / rel), packaged_name(rel)) for rel in media])
            manifest_blob = _next_manifest(manifest, in_vault, stamp)
            summary.notes, summary.cards = package.result()
    finally:
        writer.close()
    summary.decks = len(assembler.decks)
    summary.media = len(media)
    return assembler.states, manifest_blob


def _render_into(assembler: Assembler, result: ScanResult, records: list[NoteRecord],
                 options: ExportOptions, vault_name: str, cache: RenderCache | None,
                 progress: Progress | None) -> None:
    """Every record's note rendered (or taken from the cache) and assembled, in order."""
    worker = _NoteWorker(result, options, vault_name, cache)
    try:
        with gc_paused():  # and so in the worker processes forked meanwhile
            for note in render_all(worker, records, options.jobs, progress,
                                   parallel_from=PARALLEL_MIN_CARDS):
                if note is not None:
                    assembler.add(note)
    finally:
        worker.close()
    assembler.flush()


def _next_stamp(previous: int) -> int:
    """Now, but always later than the previous package (Anki only applies a newer one)."""
    return max(int(time.time()), previous + 1)


def _next_manifest(manifest: Manifest, in_vault: set[str], stamp: int) -> bytes:
    """The manifest's new bytes: every exported note's questions now (the assembler
    put them in); notes no longer in the vault are forgotten; notes not touched by this
    selection keep theirs."""
    manifest.notes = {rel: e for rel, e in manifest.notes.items() if rel in in_vault}
    manifest.stamp = stamp
    return manifest_bytes(manifest)


def _save_manifest(path: Path, blob: bytes, summary: ExportSummary) -> None:
    """Write the manifest; failing to is a warning in the summary (the package is
    written): edited cards then become new Anki notes next time."""
    summary.manifest = path
    try:
        write_file_atomically(str(path), blob, sweep=True)
    except OSError as exc:
        summary.manifest = None
        summary.manifest_problem = (f"cannot write {path}: {exc.strerror or exc}"
                                    " (edited cards will become new Anki notes next time)")

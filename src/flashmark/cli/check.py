"""`flashmark check`: report malformed cards and SR comments as `path:line: message`."""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from flashmark.cli.common import add_vault_arguments, scan_from_args
from flashmark.cli.output import json_line
from flashmark.config import ParserSettings
from flashmark.errors import EXIT_FINDINGS, EXIT_OK, NoteReadError
from flashmark.model import ERROR, WARNING, Diagnostic, ParsedNote
from flashmark.parallel import chunk_bounds, gc_paused, run_chunks, worker_count
from flashmark.syntax import parse_note
from flashmark.vault.notefile import read_note

if TYPE_CHECKING:  # generate's cache loads only for notes with data blocks
    from flashmark.generate.staleness import StalenessProbe

DATA_MARKER = "# pytextgen generate data"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "check", help="find malformed cards and SR comments (exit 1 on errors)",
        description="Lint the vault: SR comments whose entry count differs from the card's "
                    "sibling count, unreadable SR entries, unbalanced cloze markers, "
                    "misplaced separators and SR comments, unreadable notes, colliding card "
                    "ids, leeches (warnings). Prints `path:line: severity: message [code]`; "
                    "exits 1 when an error (not only warnings) was found.")
    add_vault_arguments(p)
    p.add_argument("--json", action="store_true", help="one JSON object per finding")
    p.add_argument("--errors-only", action="store_true", help="leave warnings out")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="also list the cards whose review history was joined across a "
                        "change of their text (renamed ids in the review log)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    findings: list[Diagnostic] = []
    result = scan_from_args(args, "checking")
    try:
        findings.extend(result.problems)
        records = result.flashcard_notes()
        linter = _Linter(result.root, result.settings.parser, args.all_notes,
                         stale=not args.no_cache)

        def lint_chunk(start: int, end: int) -> list[list[Diagnostic]]:
            return [linter.note(r.rel, r.path) for r in records[start:end]]

        # The lint parse of every flashcard note, on every core (as a cold scan's parse).
        with gc_paused():
            parts = run_chunks(lint_chunk, chunk_bounds(len(records), 16), worker_count())
        seen: dict[str, str] = {}
        for record, note_findings in zip(records, (f for part in parts for f in part),
                                         strict=True):
            findings.extend(note_findings)
            for _, _, cid, _ in record.summary:
                if cid in seen and seen[cid] != record.rel:
                    findings.append(Diagnostic(record.rel, None, ERROR, "id-collision",
                                               f"card id {cid} is also used in {seen[cid]}"))
                seen.setdefault(cid, record.rel)
        from flashmark.review.leech import leech_findings
        from flashmark.vault.edit import stray_temps

        findings.extend(leech_findings(result.root, result.settings,
                                       ((r.rel, r.summary) for r in records),
                                       all_notes=args.all_notes))

        for rel in stray_temps(result.root):
            findings.append(Diagnostic(rel, None, WARNING, "stray-temp",
                                       "a temporary file an interrupted flashmark write left; "
                                       "the next write removes those it journaled: delete it "
                                       "when no flashmark is running"))
    finally:
        result.close()
    if args.errors_only:
        findings = [f for f in findings if f.severity == ERROR]
    errors = 0
    by_code: dict[str, int] = defaultdict(int)
    for f in findings:
        errors += f.severity == ERROR
        by_code[f.code] += 1
        line = None if f.line is None else f.line + 1  # shown 1-based
        if args.json:
            json_line({"path": f.path, "line": line, "severity": f.severity, "code": f.code,
                       "message": f.message}, out)
        else:
            out.write(f"{f} [{f.code}]\n")
    if getattr(args, "verbose", False):
        _joined_histories(Path(result.root), args.json, out)
    if not args.json:
        warnings = len(findings) - errors
        summary = ", ".join(f"{n} {code}" for code, n in sorted(by_code.items()))
        sys.stderr.write(f"{errors} error(s), {warnings} warning(s)"
                         + (f" ({summary})" if summary else "") + "\n")
    return EXIT_FINDINGS if errors else EXIT_OK


def _joined_histories(root: Path, as_json: bool, out: TextIO) -> None:
    """``path: info: card NEW continues the history of OLD (how), ... [history-joined]``
    for each card whose id changed with its text while its schedule stayed with it."""
    from flashmark.vault.reviewlog import ReviewLog, joined_histories

    for card, renames in sorted(joined_histories(ReviewLog(root).events()).items()):
        path = renames[-1].path
        chain = ", ".join(f"{r.id} ({r.via}, {r.time[:10]})" for r in renames)
        message = f"card {card} continues the history of {chain}"
        if as_json:
            json_line({"path": path, "line": None, "severity": "info",
                       "code": "history-joined", "message": message, "card": card,
                       "previous": [r.id for r in renames]}, out)
        else:
            out.write(f"{path}: info: {message} [history-joined]\n")


class _Linter:
    """One note's findings: its parse problems and stale generated sections."""

    def __init__(self, root: Path, parser: ParserSettings, all_notes: bool, *,
                 stale: bool) -> None:
        self.root = root
        self.parser = parser
        self.all_notes = all_notes
        self.stale = stale
        self.probe: StalenessProbe | None = None  # made when a note first needs it

    def note(self, rel: str, path: str) -> list[Diagnostic]:
        try:
            note_text = read_note(rel, path)
        except NoteReadError as exc:
            return [Diagnostic(rel, None, WARNING, "unreadable", exc.reason)]
        text = note_text.text
        note = parse_note(text, self.parser, all_notes=self.all_notes, lint=True)
        found = [replace(p, path=rel) for p in note.problems]
        if self.stale and DATA_MARKER in text and note.questions:
            if self.probe is None:
                from flashmark.generate.staleness import StalenessProbe

                self.probe = StalenessProbe(self.root)
            found.extend(_stale_sections(self.probe, rel, note_text.data, text, note))
        return found


def _stale_sections(probe: StalenessProbe, rel: str, data: bytes, text: str,
                    note: ParsedNote) -> list[Diagnostic]:
    """Sections with cards whose note (or an import) changed since the last generate."""
    from flashmark.generate.finder import find_sections

    changed = probe.changed(rel, data)
    if not changed:
        return []
    sections, _, _ = find_sections(text)
    out: list[Diagnostic] = []
    for sec in sections.values():
        first = sec.line
        last = text.count("\n", 0, sec.end)
        cards = sum(q.card_count for q in note.questions if first <= q.span.line <= last)
        if cards:
            what = "this note" if changed == [rel] else ", ".join(changed)
            out.append(Diagnostic(rel, first, WARNING, "generated-stale",
                                  f"the {cards} card(s) of generated section {sec.id!r} "
                                  f"may be stale: {what} changed since the last `flashmark "
                                  "generate`; run `flashmark generate --check` to see"))
    return out

"""`flashmark check`: report malformed cards and SR comments as `path:line: message`."""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from typing import TYPE_CHECKING, TextIO

from flashmark.cli.common import add_vault_arguments, scan_from_args
from flashmark.cli.output import json_line
from flashmark.errors import EXIT_FINDINGS, EXIT_OK, NoteReadError
from flashmark.model import ParsedNote
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
                    "ids. Prints `path:line: severity: message [code]`; exits 1 when an "
                    "error (not only warnings) was found.")
    add_vault_arguments(p)
    p.add_argument("--json", action="store_true", help="one JSON object per finding")
    p.add_argument("--errors-only", action="store_true", help="leave warnings out")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    findings: list[tuple[str, int | None, str, str, str]] = []  # path, line, severity, code, msg
    result = scan_from_args(args, "checking")
    root, settings = result.root, result.settings
    try:
        for p in result.problems:
            findings.append((p.rel, None, p.severity, "unreadable", p.message))
        seen: dict[str, str] = {}
        probe = None
        for record in result.flashcard_notes():
            try:
                note_text = read_note(record.rel, record.path)
            except NoteReadError as exc:
                findings.append((record.rel, None, "warning", "unreadable", exc.reason))
                continue
            text = note_text.text
            note = parse_note(text, settings.parser, all_notes=args.all_notes, lint=True)
            for prob in note.problems:
                findings.append((record.rel, prob.line + 1, prob.severity, prob.code,
                                 prob.message))
            if DATA_MARKER in text and note.questions and not args.no_cache:
                if probe is None:
                    from flashmark.generate.staleness import StalenessProbe

                    probe = StalenessProbe(root)
                findings.extend(_stale_sections(probe, record.rel, note_text.data, text,
                                                note))
            for _, _, cid, _ in record.summary:
                if cid in seen and seen[cid] != record.rel:
                    findings.append((record.rel, None, "error", "id-collision",
                                     f"card id {cid} is also used in {seen[cid]}"))
                seen.setdefault(cid, record.rel)
    finally:
        result.close()
    if args.errors_only:
        findings = [f for f in findings if f[2] == "error"]
    errors = 0
    by_code: dict[str, int] = defaultdict(int)
    for path, line, severity, code, message in findings:
        errors += severity == "error"
        by_code[code] += 1
        if args.json:
            json_line({"path": path, "line": line, "severity": severity, "code": code,
                       "message": message}, out)
        else:
            where = f"{path}:{line}" if line is not None else path
            out.write(f"{where}: {severity}: {message} [{code}]\n")
    if not args.json:
        warnings = len(findings) - errors
        summary = ", ".join(f"{n} {code}" for code, n in sorted(by_code.items()))
        sys.stderr.write(f"{errors} error(s), {warnings} warning(s)"
                         + (f" ({summary})" if summary else "") + "\n")
    return EXIT_FINDINGS if errors else EXIT_OK


def _stale_sections(probe: StalenessProbe, rel: str, data: bytes, text: str,
                    note: ParsedNote) -> list[tuple[str, int | None, str, str, str]]:
    """Sections with cards whose note (or an import) changed since the last generate."""
    from flashmark.generate.finder import find_sections

    changed = probe.changed(rel, data)
    if not changed:
        return []
    sections, _, _ = find_sections(text)
    out: list[tuple[str, int | None, str, str, str]] = []
    for sec in sections.values():
        first = sec.line
        last = text.count("\n", 0, sec.end)
        cards = sum(q.card_count for q in note.questions if first <= q.span.line <= last)
        if cards:
            what = "this note" if changed == [rel] else ", ".join(changed)
            out.append((rel, first + 1, "warning", "generated-stale",
                        f"the {cards} card(s) of generated section {sec.id!r} may be stale: "
                        f"{what} changed since the last `flashmark generate`; run "
                        "`flashmark generate --check` to see"))
    return out

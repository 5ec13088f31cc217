"""`flashmark import-anki SOURCE [VAULT]`: bring reviews done in Anki back into the notes."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from flashmark.cli.common import add_now_argument, open_settings, parse_now
from flashmark.errors import EXIT_CONFLICT, EXIT_OK

if TYPE_CHECKING:  # the anki library loads only when importing
    from flashmark.export.anki_import import ImportSummary

SHOW_MAX = 20  # cards listed by name per section


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "import-anki", help="bring reviews done in Anki (a phone, another computer) back "
                            "into the notes' schedules",
        description="Read an Anki collection (collection.anki2, refused while Anki has it "
                    "open), a .colpkg backup or an .apkg exported with scheduling, with the "
                    "official `anki` library (never written). For every card flashmark "
                    "exported from this vault (.flashmark/export-manifest.json), each Anki "
                    "review not imported yet goes into .flashmark/reviews.jsonl, and the "
                    "card's Anki state is written into its SR entry when Anki's latest "
                    "review is later than the note's (otherwise the note wins). Running it "
                    "again changes nothing.")
    p.add_argument("source", metavar="SOURCE",
                   help="collection.anki2, a .colpkg or an .apkg (with scheduling)")
    p.add_argument("vault", nargs="?", default=".", metavar="VAULT",
                   help="the vault folder (default: the current folder)")
    p.add_argument("--dry-run", action="store_true",
                   help="show what would change without writing notes or the log")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_now_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from flashmark.export.anki_import import import_anki

    out = out or sys.stdout
    root, settings = open_settings(args.vault)
    summary = import_anki(root, settings, Path(args.source), parse_now(args.now),
                          dry_run=args.dry_run)
    if args.json:
        out.write(json.dumps(summary_json(summary), ensure_ascii=False, indent=1) + "\n")
    else:
        _report(summary, out)
    return EXIT_CONFLICT if summary.failed else EXIT_OK


def summary_json(s: ImportSummary) -> dict[str, Any]:
    return {
        "source": str(s.source), "dry_run": s.dry_run,
        "updated": len(s.updated), "reviews_imported": s.reviews_imported,
        "unchanged": s.unchanged, "conflicts": len(s.conflicts),
        "suspended": s.suspended, "buried": s.buried,
        "not_from_flashmark": s.not_flashmark,
        "cards": [dataclasses.asdict(c) for c in s.cards],
        "unmatched": [dataclasses.asdict(u) for u in s.unmatched],
        "failed": s.failed,
    }


def _report(s: ImportSummary, out: TextIO) -> None:
    would = "would be " if s.dry_run else ""
    out.write(f"{s.source}: {len(s.updated)} cards {would}updated, {s.reviews_imported} "
              f"Anki reviews {would}imported, {s.unchanged} unchanged")
    if s.suspended or s.buried:
        out.write(f", {s.suspended} {would}suspended, {s.buried} {would}buried")
    out.write("\n")
    for c in s.updated[:SHOW_MAX]:
        out.write(f"  updated {c.path}:{c.line} [{c.id}] !{c.before or '-'} -> !{c.after}\n")
    if len(s.updated) > SHOW_MAX:
        out.write(f"  ... and {len(s.updated) - SHOW_MAX} more\n")
    if s.conflicts:
        out.write(f"{len(s.conflicts)} cards were reviewed both in Anki and in the vault "
                  "since the last import; the later review wins:\n")
        for c in s.conflicts[:SHOW_MAX]:
            winner = "the note kept its entry" if c.conflict == "vault-later" else \
                "Anki's state written"
            out.write(f"  {c.path}:{c.line} [{c.id}] Anki {c.anki_review}, vault "
                      f"{c.vault_review}: {winner}\n")
    if s.unmatched:
        out.write(f"{len(s.unmatched)} Anki cards with reviews have no card in the vault "
                  "(their reviews are not imported):\n")
        for u in s.unmatched[:SHOW_MAX]:
            out.write(f"  {u.guid} card {u.ord + 1} \"{u.front}\": {u.reason}\n")
        if len(s.unmatched) > SHOW_MAX:
            out.write(f"  ... and {len(s.unmatched) - SHOW_MAX} more\n")
    for message in s.failed:
        sys.stderr.write(f"flashmark: {message} (its reviews are imported next time)\n")

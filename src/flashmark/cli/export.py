"""`flashmark export`: write the vault's cards to an Anki package (.apkg)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from flashmark.cli.common import DECK_HELP, add_vault_arguments, open_settings
from flashmark.cli.output import ProgressBar
from flashmark.errors import EXIT_OK

if TYPE_CHECKING:  # the exporter (genanki, markdown-it) loads only when exporting
    from flashmark.export.exporter import ExportSummary

DEFAULT_DIR = "decks"
PROGRESS_MIN_CARDS = 300  # smaller exports finish before a bar would help
SHOW_MAX = 10  # skipped questions and media problems listed by name


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export", help="write the cards to an Anki package (.apkg) that re-imports "
                       "without duplicates",
        description="Write the vault's cards to an Anki package. Each question is one Anki "
                    "note (basic, basic-and-reversed or cloze) in the deck of its tag path; "
                    "its GUID comes from flashmark's card identity, and an edited card keeps "
                    "its Anki note (flashmark remembers what it exported in "
                    ".flashmark/export-manifest.json). Re-importing the package updates "
                    "notes instead of adding new ones. The notes are never written.")
    add_vault_arguments(p)
    p.add_argument("-o", "--output", metavar="FILE.apkg",
                   help=f"where to write the package (default: {DEFAULT_DIR}/<vault folder "
                        "name>.apkg, relative to the current folder)")
    p.add_argument("--deck", action="append", default=[], metavar="PATTERN",
                   help=f"only cards of the decks it selects (repeatable: any of them): "
                        f"{DECK_HELP}")
    p.add_argument("--tag", action="append", default=[], metavar="TAG",
                   help="only notes carrying TAG (or a sub-tag) in their frontmatter or "
                        "text; repeatable")
    p.add_argument("--strip-prefix", action="append", default=[], metavar="PREFIX",
                   help="remove this tag-path prefix from deck names (e.g. flashcard/active "
                        "turns flashcard/active/general/eng into general::eng); repeatable")
    p.add_argument("--parent-deck", metavar="NAME",
                   help="put every deck under this Anki deck (e.g. Vault)")
    p.add_argument("--deck-depth", type=int, default=0, metavar="N",
                   help="keep only the first N deck levels (default: all)")
    p.add_argument("--with-scheduling", action="store_true",
                   help="carry each card's schedule (due date, interval, ease / FSRS memory "
                        "state) into the package; needs the optional `anki` package")
    p.add_argument("--vault-name", metavar="NAME",
                   help="the vault's name in obsidian:// links (default: its folder's name)")
    p.set_defaults(run=run)


def default_output(vault: Path) -> Path:
    name = vault.resolve().name or "vault"
    return Path(DEFAULT_DIR) / f"{name}.apkg"


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from flashmark.export.exporter import ExportOptions, export_vault

    out = out or sys.stdout
    root, settings = open_settings(args.vault)
    output = Path(args.output) if args.output else default_output(root)
    options = ExportOptions(
        output=output, decks=tuple(args.deck), tags=tuple(args.tag),
        strip_prefixes=tuple(args.strip_prefix), parent_deck=args.parent_deck,
        deck_depth=args.deck_depth, with_scheduling=args.with_scheduling,
        use_cache=not args.no_cache, all_notes=args.all_notes,
        vault_name=args.vault_name)
    bar = ProgressBar("exporting")

    def progress(done: int, total: int) -> None:
        if total >= PROGRESS_MIN_CARDS:
            bar(done, total)

    try:
        summary = export_vault(root, settings, options, progress)
    finally:
        bar.close()
    _report(summary, out)
    return EXIT_OK


def _report(s: ExportSummary, out: TextIO) -> None:
    err = sys.stderr
    for p in s.file_problems:
        err.write(f"{p}\n")
    if s.media_problems:
        for problem in s.media_problems[:SHOW_MAX]:
            err.write(f"{problem} (left as text)\n")
        if len(s.media_problems) > SHOW_MAX:
            err.write(f"... and {len(s.media_problems) - SHOW_MAX} more image references "
                      "that could not be packaged\n")
    if s.manifest_problem:
        err.write(f"warning: {s.manifest_problem}\n")
    out.write(f"wrote {s.output}: {s.notes} notes, {s.cards} cards, {s.decks} decks, "
              f"{s.media} media files ({s.seconds:.1f} s)\n")
    extra = []
    if s.edited:
        extra.append(f"{s.edited} edited questions keep their Anki notes")
    if s.scheduled:
        extra.append(f"{s.scheduled} cards carry their schedule")
    if s.media_problems:
        extra.append(f"{len(s.media_problems)} image references left as text")
    if extra:
        out.write("  " + "; ".join(extra) + "\n")
    skipped_cards = sum(k.cards for k in s.skipped)
    if skipped_cards:
        out.write(f"skipped {skipped_cards} of {s.selected_cards} cards:\n")
        by_reason: Counter[str] = Counter()
        for k in s.skipped:
            by_reason[k.reason] += k.cards
        for reason, n in by_reason.most_common():
            out.write(f"  {n} {reason}\n")
        for k in s.skipped[:SHOW_MAX]:
            detail = f" ({k.detail})" if k.detail else ""
            out.write(f"  {k.rel}:{k.line}: {k.reason}{detail}\n")
        if len(s.skipped) > SHOW_MAX:
            out.write(f"  ... and {len(s.skipped) - SHOW_MAX} more\n")
    if s.notes == 0:
        out.write("no cards selected: check --deck / --tag, or the vault's flashcard tags "
                  "(--all reads every note)\n")

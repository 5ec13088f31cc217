"""`flashmark scan`: per-deck counts, or every card as JSON Lines."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from flashmark.cards import cards_of
from flashmark.cli.common import (
    add_deck_argument,
    add_now_argument,
    add_vault_arguments,
    card_json,
    parse_now,
    scan_from_args,
    select_decks,
    warn_if_no_cards,
)
from flashmark.cli.output import json_line, table
from flashmark.decks import DeckSelection
from flashmark.errors import EXIT_OK
from flashmark.stats import DeckCounts, DueCutoff, count_decks, group_decks
from flashmark.vault.scan import ScanResult

AUTO_ROWS = 40  # --depth auto: the deepest level that fits in this many rows


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "scan", help="count cards per deck (new / due / total), or list them as JSON",
        description="Read the vault's cards and print, per deck, how many are new, due "
                    "today and in all. With --json, print one JSON object per card instead "
                    "(JSON Lines; fields: id, path, line, end_line, type, sibling, deck, "
                    "front, back, schedule).")
    add_vault_arguments(p)
    add_now_argument(p)
    add_deck_argument(p, "only cards of the decks it selects")
    p.add_argument("--json", action="store_true", help="one JSON object per card (JSON Lines)")
    p.add_argument("--depth", type=int, default=0, metavar="N",
                   help="group decks at tag depth N (default: the deepest that fits in "
                        f"{AUTO_ROWS} rows)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    result = scan_from_args(args, "scanning")
    try:
        for p in result.problems:
            sys.stderr.write(f"{p}\n")
        if warn_if_no_cards(result):
            return EXIT_OK
        decks = select_decks(result, args.deck)
        if args.json:
            _print_cards(result, decks, out)
        else:
            _print_counts(result, DueCutoff(parse_now(args.now),
                                            result.settings.scheduling.day_boundary),
                          args.depth, decks, out)
    finally:
        result.close()
    return EXIT_OK


def _print_cards(result: ScanResult, decks: DeckSelection, out: TextIO) -> None:
    records = result.flashcard_notes()
    if decks:  # the index knows every card's deck: read only the notes that have some
        records = [r for r in records if any(decks.selects(row[0]) for row in r.tally)]
    for rel, note in result.parsed(records).items():
        for q in note.questions:
            if not decks.selects(q.deck):
                continue
            for card in cards_of(q, rel):
                json_line(card_json(card), out)


def _print_counts(result: ScanResult, cutoff: DueCutoff, depth: int, decks: DeckSelection,
                  out: TextIO) -> None:
    counts = count_decks((r.tally for r in result.flashcard_notes()), cutoff, decks=decks)
    grouped, _ = group_decks(counts, depth, AUTO_ROWS)
    rows = [["deck", "new", "due", "total"]]
    for deck in sorted(grouped):
        c = grouped[deck]
        rows.append([deck, str(c.new), str(c.due + c.learning), str(c.total)])
    total = DeckCounts()
    for c in counts.values():
        total.add(c)
    rows.append([f"total ({len(counts)} decks)", str(total.new), str(total.due + total.learning),
                 str(total.total)])
    table(rows, {1, 2, 3}, out)

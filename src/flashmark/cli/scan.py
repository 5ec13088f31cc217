"""`flashmark scan`: per-deck counts, or every card as JSON Lines."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import defaultdict
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
from flashmark.stats import NO_DECK, DeckCounts, group_decks
from flashmark.vault.scan import ScanResult

AUTO_ROWS = 40  # --depth auto: the deepest level that fits in this many rows


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "scan", help="count cards per deck (New / Learn / Due / total), or list them as JSON",
        description="Read the vault's cards and print, per deck, what reviewing it shows "
                    "today (New / Learn / Due within the daily limits, as `flashmark due` "
                    "counts them) and its cards in all. With --json, print one JSON object "
                    "per card instead (JSON Lines; fields: id, path, line, end_line, type, "
                    "sibling, deck, front, back, schedule).")
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
            _print_counts(result, parse_now(args.now), args.depth, decks, out,
                          all_notes=args.all_notes)
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


def _print_counts(result: ScanResult, now: dt.datetime, depth: int, decks: DeckSelection,
                  out: TextIO, *, all_notes: bool) -> None:
    """Per deck: what reviewing it shows today (New / Learn / Due after the daily limits,
    as `flashmark due` and the reviewer's deck list count them), and its cards in all."""
    from flashmark.review.queue import deck_counts, today_queue

    notes = [(r.rel, r.summary) for r in result.flashcard_notes()]
    queue, _ = today_queue(result.root, result.settings, now, notes, all_notes=all_notes)
    names = [d for d in queue.decks if decks.selects(None if d == NO_DECK else d)]
    _, depth = group_decks({d: DeckCounts() for d in names}, depth, AUTO_ROWS)
    rows: dict[str, list[str]] = defaultdict(list)
    for d in names:
        rows[d if d == NO_DECK else "/".join(d.split("/")[:depth])].append(d)
    lines = [["deck", "New", "Learn", "Due", "total"]]
    for row in sorted(rows):
        c = deck_counts(queue, rows[row])
        lines.append([row, str(c.new), str(c.learning), str(c.due), str(c.total)])
    total = deck_counts(queue, names)
    lines.append([f"total ({len(names)} decks)", str(total.new), str(total.learning),
                  str(total.due), str(total.total)])
    table(lines, {1, 2, 3, 4}, out)

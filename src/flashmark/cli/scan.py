"""`flashmark scan`: per-deck counts, or every card as JSON Lines."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import defaultdict
from typing import BinaryIO, TextIO

from flashmark.cli.common import (
    add_deck_argument,
    add_now_argument,
    add_vault_arguments,
    parse_now,
    scan_from_args,
    select_decks,
    warn_if_no_cards,
)
from flashmark.cli.output import table
from flashmark.decks import DeckSelection
from flashmark.errors import EXIT_OK
from flashmark.stats import NO_DECK, DeckCounts, group_decks
from flashmark.vault.scan import JsonSink, ScanResult, iter_card_json

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
    if args.json and args.deck is None:
        # Every card: the scan writes the lines as it goes (a cold one as the notes are
        # parsed, in vault order).
        write = _binary_writer(out)
        try:
            result = scan_from_args(args, "scanning", json_sink=write)
        finally:
            out.flush()
        try:
            for p in result.problems:
                sys.stderr.write(f"{p}\n")
            warn_if_no_cards(result)
        finally:
            result.close()
        return EXIT_OK
    # The scan makes the JSON lines of the notes it parses only to store them in the index.
    result = scan_from_args(args, "scanning", card_json=args.json and not args.no_cache)
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


def _binary_writer(out: TextIO) -> JsonSink:
    """Writes UTF-8 lines to ``out``: to its byte buffer when it has one (after what was
    written as text), else decoded."""
    binary: BinaryIO | None = getattr(out, "buffer", None)
    if binary is None:
        return lambda lines: out.write(lines.decode("utf-8"))
    out.flush()
    return binary.write


def _print_cards(result: ScanResult, decks: DeckSelection, out: TextIO) -> None:
    """Every card's JSON line, streamed note by note (from the index when it holds them).
    A note whose cards are all in the selected decks is printed whole; one whose decks
    are only partly selected (inline tags) is filtered line by line."""
    records = [r for r in result.flashcard_notes() if r.tally]  # the notes with cards
    partly: set[str] = set()
    if decks:  # the index knows every card's deck: read only the notes that have some
        chosen = []
        for r in records:
            selected = [decks.selects(row[0]) for row in r.tally]
            if any(selected):
                chosen.append(r)
                if not all(selected):
                    partly.add(r.rel)
        records = chosen
    binary: BinaryIO | None = getattr(out, "buffer", None)
    if binary is not None:
        out.flush()
    for record, lines in zip(records, iter_card_json(result, records), strict=True):
        if record.rel in partly:
            lines = b"".join(line for line in lines.splitlines(keepends=True)
                             if decks.selects(json.loads(line)["deck"]))
        if binary is not None:
            binary.write(lines)
        else:
            out.write(lines.decode("utf-8"))
    if binary is not None:
        binary.flush()


def _print_counts(result: ScanResult, now: dt.datetime, depth: int, decks: DeckSelection,
                  out: TextIO, *, all_notes: bool) -> None:
    """Per deck: what reviewing it shows today (New / Learn / Due after the daily limits,
    as `flashmark due` and the reviewer's deck list count them), and its cards in all."""
    from flashmark.review.queue import deck_counts, today_queue

    # counted from the notes' tallies; the index says which notes the log touches
    queue, _ = today_queue(result.root, result.settings, now, result.flashcard_notes(),
                           all_notes=all_notes, holders=result.notes_holding)
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

"""`flashmark search QUERY`: the cards an Anki-style query matches."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from flashmark.cli.common import (
    add_now_argument,
    add_vault_arguments,
    open_settings,
    parse_now,
    schedule_json,
)
from flashmark.cli.output import json_line, table
from flashmark.errors import EXIT_OK
from flashmark.review.search import SORT_KEYS, LogFacts, card_states, lapses_of
from flashmark.vault.cardtable import CardRow
from flashmark.vault.codec import NEW, UNREADABLE

SEARCH_HELP = ("an Anki-style query: free text, deck:PATTERN, tag:PATTERN, path:GLOB, "
               "type:cloze, is:new|learn|review|due|suspended|buried|leech, flag:N, "
               "prop:ivl>=N (ivl, due, lapses, reps, s, d, r), rated:N[:ease], "
               "introduced:N, and/or/-/( ); quote it for the shell (README: Finding and "
               "fixing cards)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "search", help="list the cards a query matches (Anki's search syntax)",
        description="Print the cards QUERY matches: a table, or with --json one JSON "
                    "object per card (the fields of `scan --json`, plus tags, states and "
                    "flag). Served from the index: a warm search reads no note.")
    p.add_argument("query", metavar="QUERY", help=SEARCH_HELP)
    add_vault_arguments(p)
    add_now_argument(p)
    p.add_argument("--json", action="store_true", help="one JSON object per card (JSON Lines)")
    p.add_argument("--sort", choices=SORT_KEYS, default="vault",
                   help="order of the cards (default: as in the vault); cards without the "
                        "value (new ones, for ivl) go last")
    p.add_argument("--reverse", action="store_true", help="reverse the order")
    p.add_argument("--limit", type=int, metavar="N", help="print at most N cards")
    p.add_argument("--count", action="store_true", help="print only how many cards match")
    p.set_defaults(run=run)


def search_json(row: CardRow, facts: LogFacts) -> dict[str, Any]:
    """`scan --json`'s fields for one card, and what a search knows besides."""
    return {"id": row.id, "path": row.path, "line": row.line, "end_line": row.end_line,
            "type": row.type, "sibling": row.sibling, "deck": row.deck,
            "front": row.front, "back": row.back, "schedule": schedule_json(row.entry_text),
            "tags": list(row.tags), "states": sorted(card_states(row, facts)),
            "flag": facts.flags.get(row.id, 0), "lapses": lapses_of(row, facts)}


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from flashmark.review.search import parse, search_vault

    out = out or sys.stdout
    tree = parse(args.query)  # a bad query fails before the vault is read
    root, settings = open_settings(args.vault)
    result = search_vault(root, settings, tree, parse_now(args.now), sort=args.sort,
                          use_cache=not args.no_cache, all_notes=args.all_notes,
                          texts=args.json or not args.count)
    rows = result.rows[::-1] if args.reverse else result.rows
    if args.limit is not None:
        rows = rows[:max(0, args.limit)]
    if args.count:
        out.write(f"{len(result.rows)}\n")
    elif args.json:
        for row in rows:
            json_line(search_json(row, result.facts), out)
    else:
        lines = [["id", "deck", "due", "ivl", "note", "front"]]
        for row in rows:
            front = " ".join(row.front.split())
            lines.append([row.id, row.deck or "", _due(row), "" if row.interval is None
                          else str(row.interval), f"{row.path}:{row.line}",
                          front[:50] + ("…" if len(front) > 50 else "")])
        if rows:
            table(lines, {3}, out)
        sys.stderr.write(f"flashmark: {len(result.rows)} of {result.total} cards match\n")
    return EXIT_OK


def _due(row: CardRow) -> str:
    if row.key == NEW:
        return "new"
    if row.key == UNREADABLE:
        return "unreadable"
    return row.key[:16].replace("T", " ")

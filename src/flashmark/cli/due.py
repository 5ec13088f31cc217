"""`flashmark due`: what is due now, learning and new per deck, and a forecast."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TextIO

from flashmark.cli.common import (
    add_deck_argument,
    add_now_argument,
    add_vault_arguments,
    parse_now,
    scan_from_args,
    select_decks,
    warn_if_no_cards,
)
from flashmark.cli.output import json_line, table
from flashmark.errors import EXIT_OK
from flashmark.stats import DeckCounts, DueCutoff, count_decks, group_decks

BARS = " ▁▂▃▄▅▆▇█"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "due", help="due / learning / new cards per deck and a forecast of the next days",
        description="Per deck: review cards due today (overdue included), cards in learning "
                    "steps, new cards; then how many cards fall due on each of the next days.")
    add_vault_arguments(p)
    add_now_argument(p)
    add_deck_argument(p, "only the decks it selects")
    p.add_argument("--days", type=int, default=30, metavar="N",
                   help="forecast length in days (default 30)")
    p.add_argument("--depth", type=int, default=0, metavar="N",
                   help="group decks at tag depth N (default: what fits in 40 rows)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per deck, then one with deck null for the total")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    result = scan_from_args(args, "scanning")
    try:
        empty = warn_if_no_cards(result)
        if empty and not args.json:
            return EXIT_OK
        decks = select_decks(result, None if empty else args.deck)
        cutoff = DueCutoff(parse_now(args.now), result.settings.scheduling.day_boundary)
        days = max(0, args.days)
        counts = count_decks((r.tally for r in result.flashcard_notes()), cutoff,
                             forecast_days=days, decks=decks)
    finally:
        result.close()
    grouped, _ = group_decks(counts, args.depth)
    total = DeckCounts()
    for c in counts.values():
        total.add(c)
    window = [cutoff.today + dt.timedelta(days=k) for k in range(days + 1)]
    if args.json:
        for deck in sorted(grouped):
            json_line(_as_json(deck, grouped[deck], window), out)
        json_line(_as_json(None, total, window), out)
        return EXIT_OK
    rows = [["deck", "due", "learning", "new", "total"]]
    for deck in sorted(grouped):
        c = grouped[deck]
        rows.append([deck, str(c.due), str(c.learning), str(c.new), str(c.total)])
    rows.append([f"total ({len(counts)} decks)", str(total.due), str(total.learning),
                 str(total.new), str(total.total)])
    table(rows, {1, 2, 3, 4}, out)
    if days:
        series = [total.forecast.get(day, 0) for day in window]
        # Scale to the coming days: today's backlog would flatten everything else.
        top = max(series[1:], default=0) or max(series) or 1
        spark = "".join(BARS[min(len(BARS) - 1, round(n / top * (len(BARS) - 1)))]
                        for n in series)
        out.write(f"\nnext {days} days (from {window[0]}): {spark}\n")
        out.write("  " + ", ".join(f"{day.strftime('%m-%d')}: {n}" for day, n in
                                   zip(window, series, strict=True) if n) + "\n")
    return EXIT_OK


def _as_json(deck: str | None, c: DeckCounts, window: list[dt.date]) -> dict[str, object]:
    return {"deck": deck, "due": c.due, "learning": c.learning, "new": c.new, "total": c.total,
            "unreadable": c.unreadable,
            "forecast": [{"date": day.isoformat(), "count": c.forecast.get(day, 0)}
                         for day in window]}

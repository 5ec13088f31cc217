"""`flashmark due`: what reviewing shows today per deck (New / Learn / Due, after the
daily limits), and a forecast."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import sys
from collections import defaultdict
from typing import TYPE_CHECKING, TextIO

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
from flashmark.stats import NO_DECK, DeckCounts, DueCutoff, group_decks

if TYPE_CHECKING:  # the review package is imported when the command runs
    from flashmark.review.queue import DeckToday

BARS = " ▁▂▃▄▅▆▇█"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "due", help="new / learning / due cards per deck today, and a forecast",
        description="Per deck, what reviewing it shows today, as the reviewer's deck list "
                    "does: New (new cards within today's limits), Learn (cards in learning "
                    "steps due today), Due (review cards due today, overdue included, "
                    "within the daily review limits); suspended cards, buried cards and "
                    "siblings of cards reviewed today are not counted. Then how many "
                    "cards fall due on each of the next days.")
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
    from flashmark.review.queue import deck_counts, today_queue

    out = out or sys.stdout
    result = scan_from_args(args, "scanning")
    try:
        empty = warn_if_no_cards(result)
        if empty and not args.json:
            return EXIT_OK
        decks = select_decks(result, None if empty else args.deck)
        now = parse_now(args.now)
        cutoff = DueCutoff(now, result.settings.scheduling.day_boundary)
        # counted from the notes' tallies; the index says which notes the log touches
        queue, tallied = today_queue(result.root, result.settings, now,
                                     result.flashcard_notes(), all_notes=args.all_notes,
                                     holders=result.notes_holding)
    finally:
        result.close()
    days = max(0, args.days)
    names = [d for d in queue.decks if decks.selects(None if d == NO_DECK else d)]
    # group_decks picks the depth; the rows are then counted from today's queue
    stub = {d: DeckCounts() for d in names}
    _, depth = group_decks(stub, args.depth)
    rows: dict[str, list[str]] = defaultdict(list)
    for d in names:
        rows[d if d == NO_DECK else "/".join(d.split("/")[:depth])].append(d)
    per_row = {row: deck_counts(queue, members) for row, members in rows.items()}
    total = deck_counts(queue, names)
    chosen = set(names)
    forecast_by_row: dict[str, dict[dt.date, int]] = {}
    row_of = {d: row for row, members in rows.items() for d in members}
    for row in rows:
        forecast_by_row[row] = tallied.forecast(
            cutoff, days, functools.partial(_row_selects, row=row, chosen=chosen, row_of=row_of))
    total_forecast: dict[dt.date, int] = defaultdict(int)
    for f in forecast_by_row.values():
        for day, n in f.items():
            total_forecast[day] += n
    window = [cutoff.today + dt.timedelta(days=k) for k in range(days + 1)]
    if args.json:
        for row in sorted(per_row):
            json_line(_as_json(row, per_row[row], forecast_by_row[row], window), out)
        json_line(_as_json(None, total, total_forecast, window), out)
        return EXIT_OK
    header = ["deck", "New", "Learn", "Due", "total"]
    lines = [header]
    for row in sorted(per_row):
        c = per_row[row]
        lines.append([row, str(c.new), str(c.learning), str(c.due), str(c.total)])
    lines.append([f"total ({len(names)} decks)", str(total.new), str(total.learning),
                  str(total.due), str(total.total)])
    table(lines, {1, 2, 3, 4}, out)
    out.write(_footnote(total))
    if days:
        series = [total_forecast.get(day, 0) for day in window]
        # Scale to the coming days: today's backlog would flatten everything else.
        top = max(series[1:], default=0) or max(series) or 1
        spark = "".join(BARS[min(len(BARS) - 1, round(n / top * (len(BARS) - 1)))]
                        for n in series)
        out.write(f"\nnext {days} days (from {window[0]}): {spark}\n")
        out.write("  " + ", ".join(f"{day.strftime('%m-%d')}: {n}" for day, n in
                                   zip(window, series, strict=True) if n) + "\n")
    return EXIT_OK


def _row_selects(deck: str | None, row: str, chosen: set[str], row_of: dict[str, str]) -> bool:
    """Is ``deck`` (None: no deck) one of the chosen decks counted in ``row``?"""
    name = deck or NO_DECK
    return name in chosen and row_of[name] == row


def _footnote(total: DeckToday) -> str:
    """What the table leaves out: cards beyond today's limits, suspended, buried, leeches."""
    parts = []
    if total.due_waiting > total.due or total.new_waiting > total.new:
        parts.append(f"{total.due_waiting - total.due:,} due and "
                     f"{total.new_waiting - total.new:,} new beyond today's limits")
    for n, what in ((total.suspended, "suspended"), (total.buried, "buried"),
                    (total.leeches, "leeches"), (total.unreadable, "unreadable")):
        if n:
            parts.append(f"{n:,} {what}")
    return f"not counted: {'; '.join(parts)}\n" if parts else ""


def _as_json(deck: str | None, c: DeckToday, forecast: dict[dt.date, int],
             window: list[dt.date]) -> dict[str, object]:
    return {"deck": deck, "new": c.new, "learning": c.learning, "due": c.due,
            "total": c.total, "new_waiting": c.new_waiting, "due_waiting": c.due_waiting,
            "suspended": c.suspended, "buried": c.buried, "leeches": c.leeches,
            "unreadable": c.unreadable,
            "forecast": [{"date": day.isoformat(), "count": forecast.get(day, 0)}
                         for day in window]}

"""`flashmark stats`: reviews per day, retention, due forecast, cards per state."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from flashmark.cli.common import (
    add_deck_argument,
    add_now_argument,
    add_vault_arguments,
    parse_now,
    scan_from_args,
    warn_if_no_cards,
)
from flashmark.cli.output import json_line
from flashmark.errors import EXIT_OK
from flashmark.vault.reviewlog import ReviewLog

BARS = " ▁▂▃▄▅▆▇█"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "stats", help="reviews per day, retention, due forecast and cards per state",
        description="Statistics from the review log and the notes: ratings per day, actual "
                    "retention (reviews of cards in the review state not rated Again) "
                    "against the desired retention, cards falling due on each of the next "
                    "days, and how many cards are new, learning, in review, suspended or "
                    "buried. The reviewer shows the same on its stats screen (s).")
    add_vault_arguments(p)
    add_now_argument(p)
    p.add_argument("--days", type=int, default=30, metavar="N",
                   help="days of history and of forecast (default 30)")
    add_deck_argument(p, "only the cards of the decks it selects, and their reviews")
    p.add_argument("--json", action="store_true",
                   help="one JSON object: today, reviews_per_day, retention, forecast, states, "
                        "queue, and the graphs' data: heatmap, review_days, time, "
                        "true_retention, buttons, hours, cards, added_per_day, histograms, "
                        "leeches")
    p.set_defaults(run=run)


def _spark(values: list[int]) -> str:
    top = max(values, default=0) or 1
    return "".join(BARS[min(len(BARS) - 1, round(n / top * (len(BARS) - 1)))] if n else " "
                   for n in values)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    from flashmark.review.overview import vault_report
    from flashmark.statistics import card_facts, statistics_of

    result = scan_from_args(args, "scanning")
    try:
        empty = warn_if_no_cards(result)
        # --json also gives the graphs' data, which needs each card's entry
        cards = card_facts(result.parsed()) if args.json else []
        # counted from the notes' tallies; the index says which notes the log touches
        data = vault_report(result.root, result.settings, parse_now(args.now),
                            days=max(1, args.days), notes=result.flashcard_notes(),
                            deck=None if empty else args.deck,
                            holders=result.notes_holding)
    finally:
        result.close()
    if args.json:
        graphs = statistics_of(cards, ReviewLog(result.root).events(), result.settings,
                               parse_now(args.now), days=max(1, args.days),
                               deck=None if empty else args.deck)
        json_line({**data.to_json(), **graphs.to_json()}, out)
        return EXIT_OK
    s, r = data.states, data.retention
    today = data.per_day[-1]
    out.write(f"today ({data.today}): {today.total} reviews (again {today.again}, hard "
              f"{today.hard}, good {today.good}, easy {today.easy}; {today.new} new); "
              f"left today: New {s.queue_new:,} · Learn {s.queue_learning:,} · "
              f"Due {s.queue_due:,} (within the daily limits)\n")
    actual = "-" if r.actual is None else f"{r.actual:.1%}"
    out.write(f"retention, last {r.days} days: {actual} actual ({r.passed} of {r.total} "
              f"reviews of cards in review) vs {r.desired:.0%} desired\n")
    out.write(f"cards: {s.new:,} new, {s.learning:,} learning, {s.review:,} review, "
              f"{s.suspended:,} suspended, {s.buried:,} buried"
              + (f", {s.leeches:,} leeches" if s.leeches else "")
              + (f", {s.unreadable:,} unreadable" if s.unreadable else "")
              + f" ({s.total:,} in all)\n")
    per_day = [d.total for d in data.per_day]
    out.write(f"reviews per day, {data.per_day[0].day} .. {data.today}: "
              f"|{_spark(per_day)}| max {max(per_day)}\n")
    coming = [n for _, n in data.forecast[1:]]
    out.write(f"due per day, next {len(coming)} days (today {data.forecast[0][1]:,}): "
              f"|{_spark(coming)}| max {max(coming, default=0)}\n")
    return EXIT_OK

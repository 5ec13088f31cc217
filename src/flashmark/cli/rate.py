"""`flashmark rate CARD_ID RATING` and `flashmark undo`: the scriptable review primitives."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from flashmark.cli.common import add_now_argument, open_settings, parse_now
from flashmark.cli.output import json_line
from flashmark.errors import EXIT_OK
from flashmark.model import Rating


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rate", help="rate one card (again/hard/good/easy) and write its new schedule",
        description="Schedule the card with FSRS for the given rating and write its new SR "
                    "entry into the note (only that entry's bytes change; the write is "
                    "atomic and re-locates the card if the note changed). The rating is "
                    "appended to .flashmark/reviews.jsonl. A lapse that makes the card a "
                    "leech is logged and warned of (suspended with review.leech_action: "
                    "suspend). A card that is no longer in its note (but was known) keeps "
                    "the rating as a pending log line and exits 4.")
    p.add_argument("card_id", metavar="CARD_ID",
                   help="the card's id as `flashmark scan --json` prints it (or a unique "
                        "prefix of 6+ digits)")
    p.add_argument("rating", choices=[r.value for r in Rating], metavar="RATING",
                   help="again, hard, good or easy")
    p.add_argument("vault", nargs="?", default=".", metavar="VAULT",
                   help="the vault folder (default: the current folder)")
    p.add_argument("--all", action="store_true", dest="all_notes",
                   help="look for the card in every note, not only flashcard notes")
    p.add_argument("--duration", type=float, metavar="SECONDS",
                   help="how long the answer took (kept in the review log)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_now_argument(p)
    p.set_defaults(run=run_rate)

    u = sub.add_parser("undo", help="revert the last rating or action (note and log)",
                       description="Take back the newest rating or action that is not undone "
                                   "yet (forget, set-due, bury, suspend, unsuspend, flag; all "
                                   "the cards of one command together): a note gets back the "
                                   "exact bytes it had, and the undo is logged. Repeat to go "
                                   "further back.")
    u.add_argument("vault", nargs="?", default=".", metavar="VAULT",
                   help="the vault folder (default: the current folder)")
    u.add_argument("--json", action="store_true", help="print the result as JSON")
    add_now_argument(u)
    u.set_defaults(run=run_undo)


def run_rate(args: argparse.Namespace, out: TextIO | None = None,
             err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    from flashmark.review.leech import note_leech
    from flashmark.review.rating import rate_card_or_keep
    from flashmark.vault.reviewlog import ReviewLog

    root, settings = open_settings(args.vault)
    now = parse_now(args.now)
    duration = None if args.duration is None else round(args.duration * 1000)
    # A card that left its note raises CardGoneError (exit 4), its rating kept as pending.
    result = rate_card_or_keep(root, settings, args.card_id, Rating(args.rating), now,
                               duration_ms=duration, all_notes=args.all_notes)
    # The same leech rule as the reviewer's: the Leech (and Suspend) events, the warning.
    leech = note_leech(root, ReviewLog(root), settings.review, result.event, now)
    q = result.card.question
    if args.json:
        obj = {"id": result.card.id, "path": result.rel, "line": q.span.line + 1,
               "sibling": result.card.sibling, "rating": args.rating,
               "before": result.before, "after": result.after}
        if leech is not None:
            obj["leech"] = {"lapses": leech.lapses, "suspended": leech.suspended}
        json_line(obj, out)
    else:
        out.write(f"{result.rel}:{q.span.line + 1}: {args.rating} -> "
                  f"{_describe(result.after)}\n")
    if leech is not None:
        err.write(f"flashmark: {result.rel}:{q.span.line + 1}: {leech.warning}\n")
    return EXIT_OK


def _describe(entry_text: str) -> str:
    parts = entry_text.split(",")
    if parts[0] == "fsrs":
        return f"due {parts[1][:16].replace('T', ' ')} UTC (interval {parts[2]} d)"
    return f"due {parts[0]} (interval {parts[1]} d)"


def run_undo(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    from flashmark.review.actions import undo_newest
    from flashmark.vault.reviewlog import Review

    root, settings = open_settings(args.vault)
    undone = undo_newest(root, settings, parse_now(args.now))
    for e in undone:
        card_id, path = getattr(e, "id", None), getattr(e, "path", None)
        if args.json:
            obj = {"undone": e.uid, "event": e.kind, "id": card_id, "path": path}
            if isinstance(e, Review):
                obj.update(rating=e.rating, restored=e.before)
            elif hasattr(e, "before"):
                obj["restored"] = getattr(e, "before", None)
            json_line(obj, out)
        elif isinstance(e, Review):
            out.write(f"undid {e.rating} of card {card_id} in {path}\n")
        else:
            out.write(f"undid {e.kind.replace('_', '-')} of card {card_id} in {path}\n")
    return EXIT_OK

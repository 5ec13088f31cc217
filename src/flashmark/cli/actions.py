"""`flashmark forget|suspend|unsuspend|bury CARD_ID...`, `flashmark flag N CARD_ID...`,
`flashmark set-due CARD_ID... --days SPEC`, `flashmark reschedule CARD_ID...`: the
browser's actions for scripts."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from flashmark.cli.common import add_now_argument, open_settings, parse_now
from flashmark.cli.output import json_line
from flashmark.errors import EXIT_OK

HELPS = {
    "forget": "make cards new again (their SR entry becomes the never-reviewed placeholder)",
    "suspend": "leave cards out of every queue until un-suspended",
    "unsuspend": "put suspended cards back into the queues",
    "bury": "leave cards out of today's queue",
    "flag": "flag cards 1-7 (Anki's colours: red, orange, green, blue, pink, turquoise, "
            "purple); 0 takes the flag off",
    "set-due": "set cards' due date: --days 0 (today), 3, 3-7 (random in the range), "
               "with ! (3-7!) to set the interval too",
    "reschedule": "set review cards' due date where FSRS puts it now: the interval their "
                  "memory state gives at the desired retention, from their last review "
                  "(new and learning cards are left as they are)",
}
WRITES = ("forget", "set-due", "reschedule")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, text in HELPS.items():
        p = sub.add_parser(
            name, help=text,
            description=text[0].upper() + text[1:] + ". Name the cards by id or select them "
                        "with --search. Every action is logged in .flashmark/reviews.jsonl "
                        "and `flashmark undo` takes back the whole command"
                        + ("; the new SR entry is written into the note like a rating."
                           if name in WRITES else "."))
        if name == "flag":
            p.add_argument("flag", type=int, choices=range(8), metavar="N",
                           help="the flag, 0 (none) to 7")
        p.add_argument("card_ids", nargs="*", metavar="CARD_ID",
                       help="card ids as `flashmark scan --json` prints them (or unique "
                            "prefixes of 6+ digits)")
        if name == "set-due":
            p.add_argument("--days", required=True, metavar="SPEC",
                           help="0 today, 3 in three days, 3-7 a random day in the range; "
                                "a trailing ! also sets the interval")
        p.add_argument("--search", metavar="QUERY",
                       help="act on the cards this query matches instead (see `flashmark "
                            "search`)")
        p.add_argument("--vault", default=".", metavar="DIR",
                       help="the vault folder (default: the current folder)")
        p.add_argument("--all", action="store_true", dest="all_notes",
                       help="cards in every note, not only flashcard notes")
        p.add_argument("--dry-run", action="store_true",
                       help="say what would change; write nothing")
        p.add_argument("--json", action="store_true", help="one JSON object per card")
        add_now_argument(p)
        p.set_defaults(run=run, action=name)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from flashmark.review.actions import (
        log_action,
        parse_days,
        targets,
        write_action,
    )
    from flashmark.review.search import parse

    out = out or sys.stdout
    spec = parse_days(args.days) if args.action == "set-due" else None
    if args.search is not None:
        parse(args.search)  # a bad query fails before the vault is read
    root, settings = open_settings(args.vault)
    now = parse_now(args.now)
    cards = targets(root, settings, args.card_ids, args.search, now,
                    all_notes=args.all_notes)
    if args.action in WRITES:
        outcomes = write_action(root, settings, args.action.replace("-", "_"), cards, now,
                                spec=spec, dry_run=args.dry_run, all_notes=args.all_notes)
    else:
        outcomes = log_action(root, settings, args.action, cards, now,
                              flag=getattr(args, "flag", 0), dry_run=args.dry_run)
    changed = sum(o.changed for o in outcomes)
    for o in outcomes:
        if args.json:
            obj: dict[str, Any] = {"id": o.id, "path": o.path, "action": args.action,
                                   "changed": o.changed, "dry_run": args.dry_run}
            if o.line is not None:
                obj["line"] = o.line
            if args.action in WRITES:
                obj["before"], obj["after"] = o.before, o.after
            if o.detail is not None:
                obj["detail"] = o.detail
            json_line(obj, out)
        else:
            where = o.path if o.line is None else f"{o.path}:{o.line}"
            what = ("unchanged" if not o.changed else
                    f"{o.before or '(no entry)'} -> {o.after}" if o.after is not None
                    else o.detail or args.action)
            out.write(f"{o.id}  {where}  {what}\n")
    verb = "would change" if args.dry_run else "changed"
    sys.stderr.write(f"flashmark: {args.action}: {verb} {changed} of {len(outcomes)} "
                     f"card{'' if len(outcomes) == 1 else 's'}\n")
    return EXIT_OK

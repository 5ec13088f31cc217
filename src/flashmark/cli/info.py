"""`flashmark info CARD_ID`: a card's schedule, state and review history."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from flashmark.cli.common import (
    add_card_id_argument,
    add_now_argument,
    add_vault_folder_argument,
    open_settings,
    parse_now,
)
from flashmark.cli.output import json_line
from flashmark.errors import EXIT_OK

if TYPE_CHECKING:  # (imported when run: every command builds the parser)
    from flashmark.review.cardinfo import CardInfo


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "info", help="show a card's schedule, state and review history",
        description="Print what flashmark knows about one card: where it is, its deck and "
                    "type, its schedule (due, interval, FSRS stability, difficulty and "
                    "retrievability now), reps, lapses, suspended/buried/leech/flag, and "
                    "its review history from .flashmark/reviews.jsonl (or the SR entry in "
                    "the note when the log has none: cards reviewed by the Obsidian plugin).")
    add_card_id_argument(p)
    add_vault_folder_argument(p)
    p.add_argument("--all", action="store_true", dest="all_notes",
                   help="look for the card in every note, not only flashcard notes")
    p.add_argument("--json", action="store_true", help="print the info as one JSON object")
    add_now_argument(p)
    p.set_defaults(run=run)


def load_info(vault: str, card_id: str, now_text: str | None, all_notes: bool) -> CardInfo:
    from flashmark.review.cardinfo import card_info
    from flashmark.review.rating import CardFinder

    root, settings = open_settings(vault)
    finder = CardFinder(root, settings, all_notes=all_notes)
    loc = finder.find(card_id)
    return card_info(root, settings, loc, finder.log.events(), parse_now(now_text))


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from flashmark.review.cardinfo import info_text

    out = out or sys.stdout
    info = load_info(args.vault, args.card_id, args.now, args.all_notes)
    if args.json:
        json_line(info.to_json(), out)
    else:
        out.write(info_text(info))
    return EXIT_OK

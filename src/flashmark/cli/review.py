"""`flashmark review`: the terminal reviewer (deck list, cards, statistics)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from typing import TextIO

from flashmark.cli.common import (
    add_deck_argument,
    add_now_argument,
    add_vault_arguments,
    open_settings,
    parse_now,
)
from flashmark.errors import EXIT_OK, UsageError

# Set to 1 to quit as soon as the first card is painted and print how long that took
# since `run` started, and when (time.time()), on stderr (scripts/bench_review.py).
EXIT_AFTER_FIRST_CARD = "FLASHMARK_EXIT_AFTER_FIRST_CARD"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "review", help="review due cards in the terminal (deck list, stats, undo)",
        description="Open the reviewer on the cards due today: learning cards, then due "
                    "reviews, then new cards up to the day's limit (the review: section of "
                    "flashmark.yaml). Space shows the answer, 1-4 rate it (Again, Hard, Good, "
                    "Easy), u undoes, - buries, ! suspends, e edits the note, s shows "
                    "statistics, esc the deck list, ? every key. Each rating is in the note "
                    "and the review log before the next card shows.")
    add_vault_arguments(p)
    add_now_argument(p)
    add_deck_argument(p, "review only the decks it selects (an unknown deck is an error "
                         "naming the closest ones)")
    p.add_argument("--search", metavar="QUERY",
                   help="review the cards this query matches (`flashmark search`'s syntax) "
                        "as Anki's custom study does: new, learning and review cards, due "
                        "or not, no daily limit; suspended and buried cards stay out")
    p.add_argument("--decks", action="store_true",
                   help="start on the deck list instead of the first card")
    p.add_argument("--theme", choices=["dark", "light"], help="colour theme (default: dark)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    t0 = time.perf_counter()
    search = getattr(args, "search", None)
    if search is not None:
        from flashmark.review.search import parse

        parse(search)  # a bad query fails before the vault is read
        if args.decks:
            raise UsageError("--search opens the reviewer on the matching cards; "
                             "--decks opens the deck list: give one of the two")
    root, settings = open_settings(args.vault)
    from flashmark.review.settings import load_review_settings

    review = load_review_settings(root)
    fixed = parse_now(args.now) if args.now else None

    def clock() -> dt.datetime:
        return fixed if fixed is not None else dt.datetime.now().astimezone()

    if not (sys.stdin.isatty() and sys.__stderr__ is not None and sys.__stderr__.isatty()):
        raise UsageError("flashmark review needs a terminal",
                         hint="`flashmark due` and `flashmark rate` work without one")
    # Scan and build today's queue in another process while Textual is imported and the
    # screens are built (see review.prefetch).
    from flashmark.review.prefetch import Prefetch

    prefetch = Prefetch(root, settings, review, clock, deck=args.deck,
                        use_cache=not args.no_cache, all_notes=args.all_notes,
                        first_card=not args.decks, search=search)

    from flashmark.tui.app import START_DECKS, START_REVIEW, Context, FlashmarkApp

    bench = os.environ.get(EXIT_AFTER_FIRST_CARD) == "1"
    ctx = Context(root, settings, review, clock, use_cache=not args.no_cache,
                  all_notes=args.all_notes)
    app = FlashmarkApp(ctx, deck=args.deck, start=START_DECKS if args.decks else START_REVIEW,
                       loader=prefetch.opened, exit_after_first_card=bench, t0=t0, theme=args.theme,
                       search=search)
    # An unknown deck or a vault without cards is refused here, before the app takes the
    # terminal (Textual is imported by now, so the queue was built meanwhile).
    prefetch.raise_refusal()
    # Which pictures the terminal draws: asked now, as Textual will own the terminal.
    from flashmark.tui.images import detect_terminal

    detect_terminal()
    result = app.run()
    if bench and app.first_card_after is not None:
        sys.stderr.write(f"flashmark: first card painted after {app.first_card_after:.3f} s "
                         f"(at {app.first_card_epoch:.3f})\n")
    if app.return_code:
        return app.return_code
    return result if isinstance(result, int) else EXIT_OK

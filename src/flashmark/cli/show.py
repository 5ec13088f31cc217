"""`flashmark show CARD_ID [VAULT]`: a card's front (or back) drawn as the reviewer draws
it, for scripts, editor plugins and a quick look."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from typing import TextIO

from flashmark.cli.common import add_card_id_argument, add_vault_folder_argument, open_settings
from flashmark.cli.output import json_line
from flashmark.errors import EXIT_OK, UsageError

DEFAULT_WIDTH = 80  # when the output is not a terminal and --width is not given
COLOR_CHOICES = ("auto", "always", "never")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "show", help="print a card as the reviewer shows it",
        description="Print a card's front (or with --answer its back) as the reviewer draws "
                    "it: math as Unicode, clozes blanked or revealed, no card syntax. Plain "
                    "text when the output is not a terminal.")
    add_card_id_argument(p)
    add_vault_folder_argument(p)
    p.add_argument("--answer", action="store_true",
                   help="the back: a cloze with its answers, another card's answer side")
    p.add_argument("--width", type=int, metavar="N",
                   help=f"columns to wrap at (default: the terminal's, or {DEFAULT_WIDTH})")
    p.add_argument("--color", choices=COLOR_CHOICES, default="auto",
                   help="styles as ANSI colours: auto (when writing to a terminal), "
                        "always, never")
    p.add_argument("--all", action="store_true", dest="all_notes",
                   help="look for the card in every note, not only flashcard notes")
    p.add_argument("--json", action="store_true",
                   help="print {id, path, line, front, back} (both sides as plain text)")
    p.set_defaults(run=run_show)


def run_show(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    from flashmark.review.card_view import CardImages, MathMode, card_renderable, render_text
    from flashmark.review.rating import find_card
    from flashmark.review.render import card_sides
    from flashmark.review.settings import load_review_settings
    from flashmark.vault.media import MediaIndex

    if args.width is not None and args.width < 10:
        raise UsageError(f"--width {args.width} is too narrow: give 10 or more columns")
    root, settings = open_settings(args.vault)
    math: MathMode = "source" if load_review_settings(root).math == "source" else "unicode"
    loc = find_card(root, settings, args.card_id, all_notes=args.all_notes)
    front, back = card_sides(loc.card)
    # Text only: an image is its alt text and the file it resolves to in the vault.
    images = CardImages(MediaIndex(root), loc.rel) if "![" in front + back else None
    tty = out.isatty()
    width = args.width or (shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns if tty
                           else DEFAULT_WIDTH)
    def plain(side: str) -> str:
        return render_text(card_renderable(side, math=math, images=images), width=width,
                           color=False).rstrip("\n")

    if args.json:
        json_line({"id": loc.card.id, "path": loc.rel, "line": loc.question.span.line + 1,
                   "front": plain(front), "back": plain(back)}, out)
        return EXIT_OK
    color = args.color == "always" or (args.color == "auto" and tty
                                       and "NO_COLOR" not in os.environ)
    side = back if args.answer else front
    shown = card_renderable(side, math=math, images=images)
    out.write(render_text(shown, width=width, color=color))
    return EXIT_OK

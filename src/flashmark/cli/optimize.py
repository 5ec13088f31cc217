"""`flashmark optimize`: fit FSRS weights to the vault's own review log."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TextIO

from flashmark.cli.common import open_settings
from flashmark.cli.output import json_line
from flashmark.config import STATE_DIR, WEIGHTS_FILE
from flashmark.errors import EXIT_OK
from flashmark.model import Rating
from flashmark.vault.reviewlog import AnkiReview, Review, ReviewLog, follow_renames


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "optimize", help="fit FSRS weights to your review log (shows log loss before/after)",
        description="Replay the ratings in .flashmark/reviews.jsonl, fit the 21 FSRS weights "
                    "to them (needs the `optimizer` extra: pip install 'flashmark[optimizer]') "
                    "and compare the log loss of the current and the fitted weights on the "
                    "same reviews. With --save the fitted weights go to .flashmark/"
                    f"{WEIGHTS_FILE}, which later ratings use (a `scheduling: weights:` list "
                    "in flashmark.yaml takes precedence).")
    p.add_argument("vault", nargs="?", default=".", metavar="VAULT",
                   help="the vault folder (default: the current folder)")
    p.add_argument("--save", action="store_true",
                   help=f"store the weights in {STATE_DIR}/{WEIGHTS_FILE} if they fit better")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=run)


def optimizer_reviews(root: Path) -> list[Review | AnkiReview]:
    """The ratings the weights are fitted to, here and in Anki (`import-anki`), one
    history per card: a card whose text changed is one card under its newest id
    (`vault.reviewlog.follow_renames`)."""
    return [e for e in follow_renames(ReviewLog(root).effective())
            if isinstance(e, Review | AnkiReview)]


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    from flashmark.scheduling import ReviewRecord, SchedulerConfig, optimize

    root, settings = open_settings(args.vault)
    records = [ReviewRecord(int(e.id, 16), Rating(e.rating), e.moment, e.duration_ms)
               for e in optimizer_reviews(root)]
    config = SchedulerConfig.from_settings(settings.scheduling)
    result = optimize(records, config)
    saved = False
    if args.save and result.improved:
        _save(root, result.weights, result.review_count, result.log_loss_before,
              result.log_loss_after)
        saved = True
    if args.json:
        json_line({"reviews": result.review_count, "cards": result.card_count,
                   "scored": result.scored_count, "log_loss_before": result.log_loss_before,
                   "log_loss_after": result.log_loss_after, "improved": result.improved,
                   "weights": list(result.weights), "saved": saved}, out)
        return EXIT_OK
    source = settings.scheduling.weights_source or "FSRS-6 defaults"
    out.write(f"{result.review_count} reviews of {result.card_count} cards "
              f"({result.scored_count} scored: a review on a later day than the one before)\n"
              f"log loss with the current weights ({source}): {result.log_loss_before:.4f}\n"
              f"log loss with the fitted weights: {result.log_loss_after:.4f}\n"
              f"weights: {', '.join(f'{w:.4f}' for w in result.weights)}\n")
    if not result.improved:
        out.write("the fitted weights do not predict your reviews better; nothing to save\n")
    elif saved:
        out.write(f"saved to {STATE_DIR}/{WEIGHTS_FILE}: later ratings use them\n")
    else:
        out.write("run again with --save to use them\n")
    return EXIT_OK


def _save(root: Path, weights: tuple[float, ...], reviews: int, before: float,
          after: float) -> None:
    from flashmark.vault.edit import write_file_atomically

    payload = json.dumps({"weights": list(weights), "reviews": reviews,
                          "log_loss_before": before, "log_loss_after": after,
                          "fitted_at": dt.datetime.now(dt.UTC).isoformat()}, indent=2) + "\n"
    write_file_atomically(str(root / STATE_DIR / WEIGHTS_FILE), payload.encode(),
                          sweep=True)

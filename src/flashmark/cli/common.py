"""What several commands share: opening the vault, the clock, card JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any, TextIO

from flashmark.cards import Card
from flashmark.config import Settings, load_settings
from flashmark.decks import DeckSelection
from flashmark.errors import UsageError, VaultError
from flashmark.model import FsrsEntry, RawEntry, Sm2Entry
from flashmark.syntax import srcodec
from flashmark.vault.scan import ScanResult


def add_vault_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("vault", nargs="?", default=".", metavar="VAULT",
                   help="the vault folder (default: the current folder)")
    p.add_argument("--all", action="store_true", dest="all_notes",
                   help="read cards in every note, not only notes with a flashcard tag")
    p.add_argument("--no-cache", action="store_true",
                   help="parse every note and neither read nor write the index")


def add_now_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--now", metavar="ISO-8601",
                   help="pretend it is this time (e.g. 2026-11-23T09:00+01:00); "
                        "a time without offset is local time")


NOW_MIN_YEAR = 1970
NOW_MAX_YEAR = 9000


def parse_now(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now().astimezone()
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--now {value!r} is not an ISO-8601 date or time",
                         hint="for example 2026-11-23 or 2026-11-23T09:00+01:00") from None
    if not NOW_MIN_YEAR <= moment.year <= NOW_MAX_YEAR:
        # Year 1 or 9999: "the day before", a forecast or an interval of 100 years
        # would leave the calendar datetime can represent.
        raise UsageError(f"--now {value!r} is out of range: give a time between the years "
                         f"{NOW_MIN_YEAR} and {NOW_MAX_YEAR}")
    return moment.astimezone() if moment.tzinfo is None else moment


def open_settings(vault: str) -> tuple[Path, Settings]:
    """The vault folder named on the command line and its settings; a missing folder or
    a file is the user's mistake, reported before anything is read or created."""
    # Absolute once, here: note code running in this process may os.chdir, and a relative
    # root would then point somewhere else (every note "no longer exists").
    root = Path(vault).absolute()
    if not root.is_dir():
        raise VaultError(f"vault folder {vault!r} does not exist" if not root.exists()
                         else f"{vault!r} is not a folder: give the vault's folder")
    return root, load_settings(root)


def schedule_json(entry_text: str | None) -> dict[str, Any] | None:
    if entry_text is None:
        return None
    entry = srcodec.parse_entry(entry_text)
    if isinstance(entry, Sm2Entry):
        if entry.is_new:
            return None
        return {"kind": "sm2", "due": entry.due.isoformat(), "interval": entry.interval,
                "ease": entry.ease}
    if isinstance(entry, FsrsEntry):
        if entry.is_new:
            return None
        return {"kind": "fsrs", "due": srcodec.iso_ms(entry.due), "interval": entry.interval,
                "stability": entry.stability, "difficulty": entry.difficulty,
                "state": entry.state, "reps": entry.reps, "lapses": entry.lapses,
                "step": entry.step,
                "last_review": None if entry.last_review is None
                else srcodec.iso_ms(entry.last_review)}
    assert isinstance(entry, RawEntry)
    return {"kind": "invalid", "text": entry.text, "reason": entry.reason}


def card_json(card: Card) -> dict[str, Any]:
    q = card.question
    return {
        "id": card.id,
        "path": card.path,
        "line": q.span.line + 1,
        "end_line": q.span.end_line + 1,
        "type": q.type.value,
        "sibling": card.sibling,
        "deck": q.deck,
        "front": card.front,
        "back": card.back,
        "schedule": schedule_json(card.entry_text),
    }


def scan_from_args(args: argparse.Namespace, label: str = "scanning") -> ScanResult:
    """Open the vault named on the command line and scan it (progress bar on a TTY),
    honouring --no-cache and --all."""
    from flashmark.cli.output import ProgressBar
    from flashmark.vault.scan import scan_vault

    root, settings = open_settings(args.vault)
    bar = ProgressBar(label)
    try:
        result = scan_vault(root, settings, use_cache=not args.no_cache,
                            all_notes=args.all_notes, progress=bar)
    finally:
        bar.close()
    return result


DECK_HELP = ("a deck pattern: a tag path such as flashcard/active/general selects that deck "
             "and its sub-decks; * matches anything (/ too), ? one character; :: may stand "
             "for /; case does not matter (README: Deck patterns)")


def add_deck_argument(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--deck", metavar="PATTERN", help=f"{what}: {DECK_HELP}")


def select_decks(result: ScanResult, pattern: str | None) -> DeckSelection:
    """The decks ``--deck`` selects; a pattern that selects none of the vault's decks is
    an `UnknownDeckError` naming the closest ones."""
    selection = DeckSelection(pattern)
    selection.require_known(result.decks())
    return selection


def warn_if_no_cards(result: ScanResult, err: TextIO | None = None) -> bool:
    """For the commands that list or count (`scan`, `due`, `stats`): a vault without cards
    is not an error (exit 0), but they say on stderr what flashmark looked for, instead of
    an empty table. True when there is no card."""
    if result.has_cards():
        return False
    (err or sys.stderr).write(f"flashmark: {result.no_cards_error()}\n")
    return True

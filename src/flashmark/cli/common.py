"""What several commands share: opening the vault, the clock, card JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path
from typing import TextIO

from flashmark.cardjson import card_json as card_json  # re-exported: commands use it
from flashmark.cardjson import schedule_json as schedule_json
from flashmark.config import Settings, load_settings
from flashmark.decks import DeckSelection
from flashmark.errors import UsageError, VaultError
from flashmark.vault.scan import JsonSink, ScanResult


def add_vault_folder_argument(p: argparse.ArgumentParser) -> None:
    """The optional VAULT positional every command takes (default: the current folder)."""
    p.add_argument("vault", nargs="?", default=".", metavar="VAULT",
                   help="the vault folder (default: the current folder)")


def add_card_id_argument(p: argparse.ArgumentParser) -> None:
    """The CARD_ID positional of the commands that act on one card."""
    p.add_argument("card_id", metavar="CARD_ID",
                   help="the card's id as `flashmark scan --json` prints it (or a unique "
                        "prefix of 6+ digits)")


def add_vault_arguments(p: argparse.ArgumentParser) -> None:
    add_vault_folder_argument(p)
    p.add_argument("--all", action="store_true", dest="all_notes",
                   help="read cards in every note, not only notes with a flashcard tag")
    p.add_argument("--no-cache", action="store_true",
                   help="parse every note and neither read nor write the index")


def add_now_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--now", metavar="TIME",
                   help="pretend it is this time: ISO 8601 (2026-11-23, "
                        "2026-11-23T09:00+01:00) or written out ('23 Nov 2026 9:00 UTC'); "
                        "a time without offset is local time")


NOW_MIN_YEAR = 1970
NOW_MAX_YEAR = 9000
_PARTIAL_ISO_DATE = re.compile(r"^\s*\d{4}(-?\d{2}|-?W\d{2})?\s*$")
_TIME_EXAMPLES = "for example 2026-11-23, 2026-11-23T09:00+01:00 or '23 Nov 2026 9:00'"


def parse_time_argument(value: str, option: str) -> dt.datetime:
    """A date or time the user typed for ``option`` (``--now`` and later date options).

    python-dateutil reads it: strict ISO 8601 first (``isoparse``: dates, times, offsets,
    week dates), then the written-out forms its general parser knows ("23 Nov 2026 9:00
    UTC"). What that parser would guess is refused rather than guessed: a date missing
    its year, month or day (it would fill them in from today, so a run would depend on
    the day it runs), a day/month order that reads two ways (01/02/2026), and a time
    zone name it does not know (it would drop it silently). A time without offset is
    local time. Every refusal is a one-line UsageError (exit 2).
    """
    from dateutil import parser as dateparser

    if _PARTIAL_ISO_DATE.match(value):  # ISO 8601 reduced precision: 2026, 2026-11
        raise UsageError(f"{option} {value!r} is not a full date (year, month and day): "
                         + _TIME_EXAMPLES)
    try:
        moment = dateparser.isoparse(value.strip())
    except (ValueError, OverflowError):
        moment = _written_out_time(value, option)
    try:
        moment.utcoffset()  # dateutil accepts offsets datetime refuses only when used
    except ValueError:
        raise UsageError(f"{option} {value!r} has an offset outside -24:00..+24:00") from None
    if not NOW_MIN_YEAR <= moment.year <= NOW_MAX_YEAR:
        # Year 1 or 9999: "the day before", a forecast or an interval of 100 years
        # would leave the calendar datetime can represent.
        raise UsageError(f"{option} {value!r} is out of range: give a time between the years "
                         f"{NOW_MIN_YEAR} and {NOW_MAX_YEAR}")
    return moment.astimezone() if moment.tzinfo is None else moment


def _written_out_time(value: str, option: str) -> dt.datetime:
    """dateutil's general parser, refusing what it would have to guess."""
    import warnings

    from dateutil import parser as dateparser

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", dateparser.UnknownTimezoneWarning)
            # Two fillers for missing fields, two day/month orders.
            readings = {(dayfirst, default.year): dateparser.parse(
                            value, default=default, dayfirst=dayfirst)
                        for default in (dt.datetime(2001, 1, 1), dt.datetime(2002, 2, 2))
                        for dayfirst in (False, True)}
    except dateparser.UnknownTimezoneWarning:
        raise UsageError(f"{option} {value!r} names a time zone flashmark does not know: "
                         "give an offset such as +01:00 or UTC") from None
    except (ValueError, OverflowError) as exc:
        reason = str(exc).split(":")[0]
        unreadable = reason.startswith(("Unknown string format", "String does not"))
        detail = "" if unreadable else f" ({reason})"
        raise UsageError(f"{option} {value!r} is not a date or time{detail}: "
                         + _TIME_EXAMPLES) from None
    if readings[False, 2001] != readings[False, 2002]:
        raise UsageError(f"{option} {value!r} is not a full date (year, month and day): "
                         + _TIME_EXAMPLES)
    if readings[False, 2001] != readings[True, 2001]:
        raise UsageError(f"{option} {value!r} reads as two different days: "
                         "write it as YYYY-MM-DD")
    return readings[False, 2001]


def parse_now(value: str | None) -> dt.datetime:
    """``--now``: the given time, or the current local time."""
    if value is None:
        return dt.datetime.now().astimezone()
    return parse_time_argument(value, "--now")


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


def scan_from_args(args: argparse.Namespace, label: str = "scanning", *,
                   card_json: bool = False, json_sink: JsonSink | None = None) -> ScanResult:
    """Open the vault named on the command line and scan it (progress bar on a TTY),
    honouring --no-cache and --all (``card_json``, ``json_sink``: see `scan_vault`)."""
    from flashmark.cli.output import ProgressBar
    from flashmark.vault.scan import scan_vault

    root, settings = open_settings(args.vault)
    bar = ProgressBar(label)
    if json_sink is not None and sys.stdout.isatty():
        bar.enabled = False  # the lines stream to the same terminal as it goes
    try:
        result = scan_vault(root, settings, use_cache=not args.no_cache,
                            all_notes=args.all_notes, progress=bar, card_json=card_json,
                            json_sink=json_sink)
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

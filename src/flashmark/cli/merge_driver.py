"""`flashmark merge-driver %O %A %B %P`: git's merge driver for notes (see vault/merge.py)."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from flashmark.errors import EXIT_FINDINGS, EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "merge-driver", help="git merge driver for notes: keeps the later review of a card",
        description="Called by git (set up with `flashmark git-setup`): merges the base "
                    "%%O, ours %%A and theirs %%B versions of a note with git merge-file, "
                    "resolving conflicting SR comments by keeping each card's later review, "
                    "and writes the result to %%A. Any other conflict is left with git's "
                    "markers and exit 1.")
    p.add_argument("base", metavar="BASE", help="the common ancestor's version (%%O)")
    p.add_argument("ours", metavar="OURS", help="our version; the result is written here (%%A)")
    p.add_argument("theirs", metavar="THEIRS", help="their version (%%B)")
    p.add_argument("path", nargs="?", default=None, metavar="PATH",
                   help="the note's path in the repository (%%P), for messages")
    p.set_defaults(run=run_merge_driver)


def run_merge_driver(args: argparse.Namespace, err: TextIO | None = None) -> int:
    err = err or sys.stderr
    from flashmark.vault.merge import merge_files

    result = merge_files(args.base, args.ours, args.theirs)
    name = args.path or args.ours
    if result.resolved:
        err.write(f"flashmark: {name}: kept the later review of {result.resolved} "
                  f"SR comment{'s' if result.resolved != 1 else ''} changed on both sides\n")
    if not result.clean:
        err.write(f"flashmark: {name}: {result.conflicts} conflict"
                  f"{'s' if result.conflicts != 1 else ''} left with markers\n")
        return EXIT_FINDINGS
    return EXIT_OK

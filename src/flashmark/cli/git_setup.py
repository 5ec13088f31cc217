"""`flashmark git-setup [VAULT]`: register the merge driver for the vault's git repository."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from flashmark.cli.output import json_line
from flashmark.errors import EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "git-setup", help="make git merge notes with `flashmark merge-driver`",
        description="Adds `*.md merge=flashmark` and `.flashmark/reviews.jsonl merge=union` "
                    "to the vault's .gitattributes and sets merge.flashmark.name and "
                    "merge.flashmark.driver in the repository's git config (.git/config), "
                    "so a pull of notes reviewed on two machines keeps each card's later "
                    "review. Safe to run again: only what is missing or different is "
                    "written.")
    p.add_argument("vault", nargs="?", default=".", metavar="VAULT",
                   help="the vault folder, inside a git work tree (default: the current "
                        "folder)")
    p.add_argument("--json", action="store_true", help="print what was done as JSON")
    p.set_defaults(run=run_git_setup)


def run_git_setup(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    from flashmark.vault.gitsetup import set_up

    report = set_up(args.vault)
    if args.json:
        json_line({"repository": report.repository, "attributes": report.attributes_path,
                   "attributes_added": report.attributes_added,
                   "config": {k: {"value": v, "changed": k in report.config_changed}
                              for k, v in report.config.items()}}, out)
        return EXIT_OK
    if report.attributes_added:
        for line in report.attributes_added:
            out.write(f"added to {report.attributes_path}: {line}\n")
    else:
        out.write(f"{report.attributes_path}: already set up\n")
    for key, value in report.config.items():
        state = "set" if key in report.config_changed else "already set"
        out.write(f"git config {key}: {state} ({value})\n")
    return EXIT_OK

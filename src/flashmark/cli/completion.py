"""`flashmark completion SHELL`: tab completion for bash, zsh and fish.

The completion is argcomplete's: the printed script asks flashmark itself for the
candidates on each Tab (with ``_ARGCOMPLETE`` set), and flashmark answers from the very
argparse parser it runs with, so commands and options cannot drift from what the shell
offers. The script is printed by flashmark (not argcomplete's own
``register-python-argcomplete``) because pipx exposes only flashmark's entry point.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from flashmark.errors import EXIT_OK

SHELLS = ("bash", "zsh", "fish")
PROG = "flashmark"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "completion", help="print the shell's tab-completion script (bash, zsh, fish)",
        description="Print the tab-completion script for SHELL; load it from the shell's "
                    "start-up file. bash (~/.bashrc): eval \"$(flashmark completion bash)\"; "
                    "zsh (~/.zshrc, after compinit): eval \"$(flashmark completion zsh)\"; "
                    "fish: flashmark completion fish > "
                    "~/.config/fish/completions/flashmark.fish")
    p.add_argument("shell", choices=SHELLS, metavar="SHELL", help="bash, zsh or fish")
    p.set_defaults(run=run)


def script(shell: str) -> str:
    """The completion script for ``shell``, ending in a newline."""
    from argcomplete.shell_integration import shellcode

    text: str = shellcode([PROG], shell=shell)
    return text if text.endswith("\n") else text + "\n"


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    (out or sys.stdout).write(script(args.shell))
    return EXIT_OK


def complete_if_asked(parser: argparse.ArgumentParser) -> None:
    """When a shell's completion script runs flashmark to ask for candidates, answer them
    from ``parser`` and exit (argcomplete writes them to the descriptor the script reads);
    otherwise return at once without importing argcomplete, so normal starts pay nothing."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete

    argcomplete.autocomplete(parser)

"""`flashmark` entry point: dispatch to a command, turn errors into messages and exit codes.

Exit codes: 0 ok; 1 findings (`check` found errors, `generate --check` stale
sections); 2 usage error; 3 the vault, a note or a config file cannot be used; 4 a note
changed under us and an edit could not be placed; 70 internal error (a bug: please
report it); 130 interrupted (Ctrl+C).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO, cast

from flashmark import __version__
from flashmark.errors import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_USAGE,
    FlashmarkError,
    Notice,
    file_system_message,
)

EPILOG = """\
exit codes:
  0   success
  1   findings: `check` found errors, `generate --check` found stale sections
  2   usage error (bad arguments)
  3   the vault, a note or a config file cannot be used as given; an unknown --deck;
      no card in the vault (review, export)
  4   a note changed while flashmark was writing and the edit could not be placed
  70  internal error: a bug in flashmark (please report it with the traceback)
  130 interrupted

Cards live in your notes; flashmark's own state is in the vault's .flashmark/ folder
(the index under .flashmark/cache/ is a rebuildable cache)."""


def build_parser() -> argparse.ArgumentParser:
    from flashmark.cli import (
        actions,
        check,
        completion,
        due,
        export,
        generate,
        git_setup,
        import_anki,
        info,
        merge_driver,
        optimize,
        rate,
        review,
        scan,
        search,
        show,
        stats,
    )

    parser = argparse.ArgumentParser(
        prog="flashmark",
        description="Spaced repetition for cards written inside Markdown notes "
                    "(Obsidian vaults, obsidian-spaced-repetition and pytextgen syntax).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"flashmark {__version__}")
    # The commands' parsers are _CommandParsers; `register` functions only need the
    # ArgumentParser interface.
    sub = cast("argparse._SubParsersAction[argparse.ArgumentParser]",
               parser.add_subparsers(title="commands", metavar="COMMAND",
                                     parser_class=_CommandParser))
    scan.register(sub)
    check.register(sub)
    rate.register(sub)
    due.register(sub)
    optimize.register(sub)
    generate.register(sub)
    export.register(sub)
    import_anki.register(sub)
    review.register(sub)
    stats.register(sub)
    git_setup.register(sub)
    merge_driver.register(sub)
    completion.register(sub)
    show.register(sub)
    search.register(sub)
    info.register(sub)
    actions.register(sub)
    return parser


class _CommandParser(argparse.ArgumentParser):
    """A command's parser that takes options between its positionals, as users type
    them: `flashmark search 'is:due' --json ~/vault` (plain argparse gives the optional
    VAULT up once an option follows QUERY: "unrecognized arguments")."""

    _inside = False

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None
                         ) -> tuple[argparse.Namespace, list[str]]:
        if self._inside:  # parse_known_intermixed_args calls back here, twice
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def _opens_review(argv: list[str]) -> bool:
    """Plain `flashmark` on a terminal, in a vault (.obsidian/, flashmark.yaml or
    .flashmark/), opens the reviewer."""
    if argv or not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    cwd = Path.cwd()
    return any((cwd / name).exists() for name in (".obsidian", "flashmark.yaml", ".flashmark"))


_shown: set[str] = set()


def _show_notice(message: Warning | str, category: type[Warning], filename: str,
                 lineno: int, file: TextIO | None = None, line: str | None = None) -> None:
    """Notices (a cache rebuilt, ...) as one line on stderr; other warnings as Python
    shows them."""
    if issubclass(category, Notice):
        if str(message) not in _shown:  # an index opened twice: one notice
            _shown.add(str(message))
            sys.stderr.write(f"flashmark: {message}\n")
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _file_system_message(exc: BaseException) -> str | None:
    """The last line of defence for a full disk, a read-only file system and the like,
    where no code below turned the error into a message naming the file: one line
    instead of a traceback."""
    import sqlite3

    if isinstance(exc, OSError) and (message := file_system_message(exc)) is not None:
        return message
    if isinstance(exc, sqlite3.OperationalError):
        code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        if code == 13:  # SQLITE_FULL
            return "disk full while writing a database"
        if code == 10:  # SQLITE_IOERR: a failed write (a size limit, a quota, the disk)
            return f"{exc} while writing a database"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    _shown.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("always", Notice)
        warnings.showwarning = _show_notice
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    from flashmark.cli.completion import complete_if_asked

    complete_if_asked(parser)  # a shell asking for Tab candidates: answer and exit
    args_list = list(sys.argv[1:] if argv is None else argv)
    if _opens_review(args_list):
        args_list = ["review"]
    args = parser.parse_args(args_list)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = args.run(args)
        return code
    except FlashmarkError as exc:
        sys.stderr.write(f"flashmark: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("flashmark: interrupted\n")
        return 130
    except BrokenPipeError:
        # `flashmark scan --json | head`: the reader left; not an error.
        sys.stderr.close()
        return 0
    except Exception as exc:
        message = _file_system_message(exc)
        if message is not None:
            sys.stderr.write(f"flashmark: {message}\n")
            return EXIT_INPUT
        import traceback

        traceback.print_exc()
        sys.stderr.write("flashmark: internal error (a bug): please report the traceback "
                         "above\n")
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())

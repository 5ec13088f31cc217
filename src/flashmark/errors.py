"""One error hierarchy for everything a user can get wrong.

Every error carries a message written for a human and the process exit code the
CLI uses for it. Code below ``cli`` raises these and never prints.
"""

from __future__ import annotations

import errno
import os

# Exit codes (documented in the README and in ``flashmark --help``).
EXIT_OK = 0
EXIT_FINDINGS = 1  # `check` found problems; `generate --check` found stale sections
EXIT_USAGE = 2  # bad command line (argparse uses 2 as well)
EXIT_INPUT = 3  # the vault, a note or a config file cannot be used as given
EXIT_CONFLICT = 4  # a note changed under us and the change could not be applied
EXIT_INTERNAL = 70  # a bug in flashmark (EX_SOFTWARE)


class FlashmarkError(Exception):
    """Base class: ``str(err)`` is the message shown to the user."""

    exit_code: int = EXIT_INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class ConfigError(FlashmarkError):
    """`flashmark.yaml` or the plugin's `data.json` holds something we cannot use."""


class VaultError(FlashmarkError):
    """The vault folder is missing, unreadable or not a folder."""


class NoteReadError(FlashmarkError):
    """A note could not be read or decoded (it is skipped and left untouched)."""

    def __init__(self, path: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"{path}: {reason}", hint=hint)
        self.path = path
        self.reason = reason


class CardNotFoundError(FlashmarkError):
    """No card in the vault has the given id."""


class ConflictError(FlashmarkError):
    """A note changed on disk in a way that makes an edit impossible to place."""

    exit_code = EXIT_CONFLICT


class UnknownDeckError(FlashmarkError):
    """A ``--deck`` pattern selects no deck of the vault (see `flashmark.decks`)."""

    def __init__(self, pattern: str, closest: list[str], known: int) -> None:
        hint = ("closest: " + ", ".join(closest) if closest
                else "`flashmark due` lists the decks")
        super().__init__(f"no deck matches {pattern!r} ({known} decks hold cards)", hint=hint)
        self.pattern = pattern
        self.closest = closest


class NoCardsError(FlashmarkError):
    """The vault holds no card at all (see `flashmark.decks.no_cards_message`)."""


class UsageError(FlashmarkError):
    """The command line asks for something that cannot be done."""

    exit_code = EXIT_USAGE


class BrokenInstallError(FlashmarkError):
    """A file flashmark ships with (such as the reviewer's stylesheet) is missing from the
    installed package: the installation is incomplete, not the user's input."""

    exit_code = EXIT_INTERNAL


class Notice(UserWarning):
    """Something the user should hear of that does not stop the command: a damaged cache
    that was rebuilt, a cache that could not be written. Code below ``cli`` issues it
    with ``warnings.warn(Notice(...))`` (it never prints); the CLI shows it as one line."""


# Errors of the file system that are the machine's state, not a bug: what to tell the
# user ("{}" is what could not be written).
_FILE_SYSTEM_ERRNOS = {errno.ENOSPC: "disk full while writing {}",
                       errno.EDQUOT: "disk quota exceeded while writing {}",
                       errno.EFBIG: "file size limit reached while writing {}",
                       errno.EROFS: "read-only file system: cannot write {}",
                       errno.EACCES: "permission denied: {}",
                       errno.EPERM: "operation not permitted: {}"}


def file_system_message(exc: OSError, what: str | None = None,
                        path: str | os.PathLike[str] | None = None) -> str | None:
    """One line for a full disk, a read-only file system and the like (None for other
    errors): ``what`` names the file for a human ("the review log"), ``path`` is used
    when the error carries no file name."""
    template = _FILE_SYSTEM_ERRNOS.get(exc.errno or 0)
    if template is None:
        return None
    filename = exc.filename if exc.filename is not None else path
    name = "a file" if filename is None else repr(os.fsdecode(filename))
    return template.format(f"{what} {name}" if what else name)

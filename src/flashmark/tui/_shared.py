"""Small helpers the screens share (private to the tui package)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

if TYPE_CHECKING:
    from flashmark.tui.app import FlashmarkApp


def _app(screen: Screen[Any]) -> FlashmarkApp:
    from flashmark.tui.app import FlashmarkApp

    app = screen.app
    assert isinstance(app, FlashmarkApp)
    return app


def _run_editor(screen: Screen[Any], path: str, line: int) -> bool:
    """Open ``path`` at ``line`` in the user's editor (`review.session.editor_command`),
    the terminal handed over while it runs. False (and a notice) when it cannot start."""
    import subprocess

    from textual.app import SuspendNotSupported

    from flashmark.review.session import editor_command

    command = editor_command(path, line)
    try:
        try:
            with screen.app.suspend():
                subprocess.call(command)
        except SuspendNotSupported:  # no terminal to hand over (tests): run it as is
            subprocess.call(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    except OSError as exc:
        screen.notify(f"cannot start the editor {command[0]!r}: {exc.strerror}",
                      severity="error", timeout=6)
        return False
    return True


def _interval(delta: dt.timedelta) -> str:
    # flashmark.scheduling imports py-fsrs: not needed before the first answer is shown
    from flashmark.scheduling import format_interval

    return format_interval(delta)


def _fmt(n: int) -> str:
    return f"{n:,}"


def _one_line(front: str, width: int) -> str:
    """A card's front in a table cell: its text on one line, cut to ``width``."""
    text = " ".join(front.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def _place(path: str, line: int, trail: tuple[str, ...], width: int) -> str:
    """`note.md:12 › heading › sub-heading`, shortened to ``width``: the middle headings
    go first, then the folders, then the end."""
    head = f"{path}:{line}"
    candidates = [" › ".join([head, *trail])]
    if len(trail) > 1:
        candidates.append(" › ".join([head, "…", trail[-1]]))
    name = f"{path.rpartition('/')[2]}:{line}"
    if trail:
        candidates.append(" › ".join([name, "…" if len(trail) > 1 else trail[0], trail[-1]]
                                     if len(trail) > 1 else [name, trail[0]]))
    candidates.append(name)
    for text in candidates:
        if len(text) <= width:
            return text
    return candidates[-1][:max(1, width - 1)] + "…"

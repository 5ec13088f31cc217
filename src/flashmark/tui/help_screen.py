"""The keys (key `?`): every screen's bindings, read from their BINDINGS, so a key
bound on a screen is listed here without more ado."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from flashmark.tui.keys import help_rows

KEY_WIDTH = 15
Section = tuple[str, Callable[[], Sequence[Sequence[BindingType]]]]


# The card on the review screen is a VerticalScroll, focused from the start: Textual's
# own bindings scroll it (not the screen's, so listed here).
SCROLL_KEYS: list[BindingType] = [
    Binding("up,down,pageup,pagedown", "scroll", "Scroll",
            tooltip="a card longer than the screen (Home, End: its top, its end)"),
]


def _review() -> Sequence[Sequence[BindingType]]:
    from flashmark.tui.review_screen import ReviewScreen

    return [ReviewScreen.BINDINGS, SCROLL_KEYS]


def _decks() -> Sequence[Sequence[BindingType]]:
    from flashmark.tui.deck_screen import DeckScreen, DeckTable

    return [DeckTable.BINDINGS, DeckScreen.BINDINGS]


def _browser() -> Sequence[Sequence[BindingType]]:
    from flashmark.tui.browser_screen import BrowserScreen

    return [BrowserScreen.BINDINGS]


def _stats() -> Sequence[Sequence[BindingType]]:
    from flashmark.tui.stats_screen import StatsScreen

    return [StatsScreen.BINDINGS]


def _suspended() -> Sequence[Sequence[BindingType]]:
    from flashmark.tui.suspended_screen import SuspendedScreen

    return [SuspendedScreen.BINDINGS]


def _anywhere() -> Sequence[Sequence[BindingType]]:
    from flashmark.tui.app import FlashmarkApp

    palette = Binding(FlashmarkApp.COMMAND_PALETTE_BINDING, "app.command_palette", "Commands",
                      tooltip="themes: light, dark")
    return [FlashmarkApp.BINDINGS, [palette]]


# The screens whose keys are listed, in this order (their modules load when `?` is pressed).
SECTIONS: list[Section] = [
    ("Reviewing", _review),
    ("Deck list", _decks),
    ("Browser", _browser),
    ("Statistics", _stats),
    ("Suspended cards", _suspended),
    ("Anywhere", _anywhere),
]


def help_text(sections: Sequence[Section] = SECTIONS) -> Text:
    """Each section's title, then a line per thing its screen does: keys, description,
    and the binding's tooltip when it has one."""
    text = Text()
    for k, (title, bindings) in enumerate(sections):
        text.append(("\n" if k else "") + title + "\n", "bold")
        for row in help_rows(*bindings()):
            text.append(f"  {row.key_text:<{KEY_WIDTH}} ", "bold")
            text.append(row.description)
            if row.more:
                text.append(f": {row.more}", "dim")
            text.append("\n")
    return text


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "app.pop_screen", "Close"),
    ]

    def compose(self) -> ComposeResult:
        text = help_text()
        close = help_rows(self.BINDINGS)[0]
        text.append(f"\n{close.key_text}: {close.description.lower()}", "dim")
        with VerticalScroll(id="help-box"):
            yield Static(text, id="help-text")

"""The card info screen (key `i` in the reviewer): `review.cardinfo` as text."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from flashmark.review.cardinfo import CardInfo, info_text


class CardInfoScreen(ModalScreen[None]):
    """One card's schedule, state and history; esc or i closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,i,q", "app.pop_screen", "Close"),
    ]
    DEFAULT_CSS = """
    CardInfoScreen { align: center middle; }
    #cardinfo-box { width: 100; max-width: 100%; height: auto; max-height: 100%;
                    border: round $primary; background: $surface; padding: 0 1; }
    """

    def __init__(self, info: CardInfo) -> None:
        super().__init__(id="cardinfo-screen")
        self.info = info

    def compose(self) -> ComposeResult:
        text = Text(info_text(self.info), no_wrap=True, overflow="ellipsis")
        text.append("esc closes", "dim")
        with VerticalScroll(id="cardinfo-box"):
            yield Static(text, id="cardinfo-text")

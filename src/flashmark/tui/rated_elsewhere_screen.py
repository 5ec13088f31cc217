"""The question put when the card on screen was rated by another program since it was
shown: rate it anyway, or skip it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class RatedElsewhereScreen(ModalScreen[bool]):
    """Asked when the card on screen was rated by another program since it was shown."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "choose(True)", "Rate anyway"),
        Binding("s,escape", "choose(False)", "Skip"),
    ]

    def __init__(self, message: str) -> None:
        super().__init__(id="rated-elsewhere")
        self.message = message

    def compose(self) -> ComposeResult:
        text = Text.assemble((self.message + "\n\n", "bold"),
                             "r: rate it anyway (a second review)   s, esc: skip it")
        with VerticalScroll(id="help-box"):
            yield Static(text, id="rated-elsewhere-text")

    def action_choose(self, rate_anyway: bool) -> None:
        self.dismiss(rate_anyway)

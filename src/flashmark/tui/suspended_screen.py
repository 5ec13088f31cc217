"""The suspended cards (key `!` on the deck list): each card's front, note and since
when; enter un-suspends the card under the cursor."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from flashmark.review.session import card_fronts
from flashmark.tui._shared import _app, _one_line
from flashmark.tui.keys import bar_keys
from flashmark.tui.widgets import KeyBar
from flashmark.vault.reviewlog import Suspend

FRONT_WIDTH = 36
GONE = "(no longer in its note)"


class SuspendedScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "unsuspend", "Un-suspend", key_display="⏎",
                tooltip="put the card back into the queues"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self) -> None:
        super().__init__(id="suspended")
        self.paths: dict[str, str] = {}  # card id -> its note, for un-suspending

    def compose(self) -> ComposeResult:
        yield Static("flashmark · suspended cards (enter un-suspends)", id="suspended-title")
        table: DataTable[Any] = DataTable(id="suspended-table", cursor_type="row")
        table.add_column("Front", key="front")
        table.add_column("Note", key="path")
        table.add_column("Since", key="since")
        yield table
        yield KeyBar(bar_keys(self.BINDINGS))

    def on_mount(self) -> None:
        self.query_one("#suspended-table", DataTable).focus()
        self._load()

    @work(thread=True, exclusive=True, group="suspended")
    def _load(self) -> None:
        """The log's suspended cards and their fronts (each note read once)."""
        app = _app(self)
        suspended = app.suspended_cards()
        fronts = card_fronts(app.ctx.root, app.ctx.settings,
                             [(e.id, e.path) for e in suspended], all_notes=app.ctx.all_notes)
        app.call_from_thread(self._show, suspended, fronts)

    def _show(self, suspended: list[Suspend], fronts: dict[str, str]) -> None:
        table = self.query_one("#suspended-table", DataTable)
        for e in suspended:
            front = fronts.get(e.id)
            self.paths[e.id] = e.path
            table.add_row(Text(_one_line(front, FRONT_WIDTH)) if front is not None
                          else Text(GONE, style="dim"), e.path, e.time[:10], key=e.id)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_unsuspend()

    def action_unsuspend(self) -> None:
        table = self.query_one("#suspended-table", DataTable)
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        card_id = str(key.value)
        _app(self).unsuspend(card_id, self.paths[card_id])
        table.remove_row(key)
        self.notify("Un-suspended: the card is back in the queues.", timeout=3)

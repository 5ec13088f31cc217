"""The deck list: the deck tree with today's New/Learn/Due counts (enter reviews a deck),
a filter by name or tag, and the day's totals."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from flashmark.review.queue import Queue, deck_tree
from flashmark.stats import NO_DECK
from flashmark.tui._shared import _app, _fmt
from flashmark.tui.decktree import DeckRow, deck_rows, initially_expanded
from flashmark.tui.help_screen import HelpScreen
from flashmark.tui.keys import bar_keys
from flashmark.tui.suspended_screen import SuspendedScreen
from flashmark.tui.widgets import KeyBar

FOLD = Binding.Group("Fold", compact=True)


class DeckTable(DataTable[Any]):
    """The decks with their counts; its keys fold and unfold the tree (they act on the
    screen, which knows the tree)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Review", key_display="⏎",
                tooltip="review the deck under the cursor (its sub-decks too)"),
        Binding("right,l", "screen.unfold", "Unfold", key_display="→", group=FOLD,
                tooltip="show a deck's sub-decks"),
        Binding("left,h", "screen.fold", "Fold", key_display="←", group=FOLD,
                tooltip="hide them (on a folded deck: go to its parent)"),
        Binding("space", "screen.toggle_fold", "Fold/unfold", show=False),
    ]


class DeckScreen(Screen[None]):
    """The deck list: the deck tree with today's counts, a filter, the day's totals."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "study", "Review", show=False),  # the table's enter, shown there
        Binding("slash", "filter", "Filter", key_display="/",
                tooltip="filter decks by name or tag (esc clears)"),
        Binding("s", "stats", "Stats", tooltip="statistics"),
        Binding("exclamation_mark", "suspended", "Suspended", key_display="!",
                tooltip="the suspended cards (enter un-suspends)"),
        Binding("b", "browse", "Browse", show=False,
                tooltip="browse cards: search, sort, act on them"),
        Binding("question_mark", "help", "Keys", key_display="?", tooltip="this list"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__(id="decks")
        self.overview: Queue | None = None
        self.nodes: dict[str, Any] = {}
        self.decks: set[str] = set()
        self.expanded: set[str] = set()
        self.rows: list[DeckRow] = []

    def compose(self) -> ComposeResult:
        yield Static("flashmark", id="deck-title")
        yield Input(placeholder="/ filter decks or tags", id="filter", compact=True)
        table = DeckTable(id="deck-table", cursor_type="row", zebra_stripes=False)
        table.add_column("Deck", key="deck")
        table.add_column("New", key="new")
        table.add_column("Learn", key="learn")
        table.add_column("Due", key="due")
        yield table
        yield Static("Reading the vault…", id="totals")
        yield KeyBar(bar_keys(DeckTable.BINDINGS, self.BINDINGS))

    def on_mount(self) -> None:
        app = _app(self)
        self.query_one("#deck-title", Static).update(f"flashmark · {app.vault_name} · decks")
        self.query_one(DeckTable).focus()
        if app.overview is not None:
            self.show_overview(app.overview)

    def show_overview(self, overview: Queue) -> None:
        self.overview = overview
        self.nodes = deck_tree(overview)
        self.decks = set(overview.decks)
        if not self.expanded:
            self.expanded = initially_expanded(self.nodes, self.decks)
        self._fill()
        new, learning, review = overview.counts()
        reviewed = sum(overview.state.reviewed_today.values())
        extra = []
        if overview.held_back:
            extra.append(f"{_fmt(overview.held_back)} due beyond the limits")
        if overview.suspended:
            extra.append(f"{_fmt(overview.suspended)} suspended")
        if overview.buried:
            extra.append(f"{_fmt(overview.buried)} buried")
        if overview.leeches:
            extra.append(f"{_fmt(overview.leeches)} leeches")
        self.query_one("#totals", Static).update(Text.assemble(
            ("Today: ", "bold"), "New ", (_fmt(new), "bold"), " · Learn ",
            (_fmt(learning), "bold"), " · Due ", (_fmt(review), "bold"), " · ",
            (_fmt(reviewed), "bold"),
            " reviewed" + ("" if not extra else " · " + " · ".join(extra))))

    def _fill(self, keep: str | None = None) -> None:
        table = self.query_one(DeckTable)
        current = keep if keep is not None else self._selected()
        text_filter = self.query_one("#filter", Input).value
        self.rows = deck_rows(self.nodes, self.decks, self.expanded, text_filter)
        table.clear()
        width = max(20, self.size.width - 24)
        for row in self.rows:
            c = row.counts
            label = Text(row.label if len(row.label) <= width else row.label[:width - 1] + "…")
            if not (c.new or c.learning or c.review):
                label.stylize("dim")
            table.add_row(
                label,
                Text(_fmt(c.new), style="bold blue" if c.new else "dim", justify="right"),
                Text(_fmt(c.learning), style="bold red" if c.learning else "dim",
                     justify="right"),
                Text(_fmt(c.review), style="bold green" if c.review else "dim",
                     justify="right"),
                key=row.path)
        if current is not None:
            for k, row in enumerate(self.rows):
                if row.path == current:
                    table.move_cursor(row=k)
                    break

    def _selected(self) -> str | None:
        table = self.query_one(DeckTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row].path

    def _row(self) -> DeckRow | None:
        path = self._selected()
        return next((r for r in self.rows if r.path == path), None)

    def action_unfold(self) -> None:
        row = self._row()
        if row is not None and row.has_children and not row.expanded:
            self.expanded.add(row.path)
            self._fill(row.path)

    def action_fold(self) -> None:
        row = self._row()
        if row is None:
            return
        if row.expanded:
            self.expanded.discard(row.path)
            self._fill(row.path)
            return
        # on a folded row: go to its parent row
        for k in range(self.rows.index(row) - 1, -1, -1):
            if self.rows[k].depth < row.depth:
                self.query_one(DeckTable).move_cursor(row=k)
                break

    def action_toggle_fold(self) -> None:
        row = self._row()
        if row is not None and row.has_children:
            (self.expanded.discard if row.expanded else self.expanded.add)(row.path)
            self._fill(row.path)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_study()

    def action_study(self) -> None:
        path = self._selected()
        if path is None:
            return
        _app(self).start_review(None if path == NO_DECK else path)

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.nodes:
            self._fill()
            if self.rows:
                self.query_one(DeckTable).move_cursor(row=0)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DeckTable).focus()

    def on_key(self, event: Any) -> None:
        filt = self.query_one("#filter", Input)
        if event.key == "escape" and (filt.has_focus or filt.value):
            filt.value = ""
            self.query_one(DeckTable).focus()
            event.stop()

    def action_stats(self) -> None:
        from flashmark.tui.stats_screen import StatsScreen  # its charts load when asked for

        self.app.push_screen(StatsScreen())

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_suspended(self) -> None:
        self.app.push_screen(SuspendedScreen())

    def action_browse(self) -> None:
        from flashmark.tui.browser_screen import BrowserScreen

        self.app.push_screen(BrowserScreen())

"""The card browser (key `b`): a search box, a sortable table of the cards the query
matches, the selected card drawn beside it, and the actions of `review.actions` on the
marked cards (or the one under the cursor). Every action is logged and `u` undoes it.
`e` opens the card's note in $EDITOR (as the reviewer does), `r` reviews the cards the
search matches now (a filtered deck: `review.queue`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.rule import Rule
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from flashmark.errors import FlashmarkError
from flashmark.review.search import CardTexts, SearchResult
from flashmark.tui._shared import _one_line, _run_editor
from flashmark.tui.keys import bar_keys
from flashmark.tui.widgets import KeyBar
from flashmark.vault.cardtable import CardRow

if TYPE_CHECKING:
    from flashmark.tui.app import FlashmarkApp

MAX_ROWS = 10_000  # drawn in the table; the count says how many matched
FRONT_WIDTH = 24
# Rows added at once when a search's result arrives (a screen's worth and more); the
# rest follow in chunks between which the screen is painted and keys are handled.
# DataTable.add_row costs ~0.1 ms a row (a reactive cursor update each).
FIRST_ROWS = 300
CHUNK_ROWS = 1_000
# (key, label, width). Fixed widths: DataTable measures every cell of a column whose
# width follows its content, which for 10,000 rows was most of opening the browser. The
# deck last: tag paths are long, and the numbers should fit in 80 columns.
COLUMNS = (("front", "Front", FRONT_WIDTH + 2), ("due", "Due", 10), ("ivl", "Ivl", 4),
           ("d", "D", 4), ("lapses", "Lapses", 6), ("deck", "Deck", 40))
FLAG_KEYS = Binding.Group("Flag")
# The key bar: its first line the actions on the marked cards, then the rest.
ACTION_BAR = 7


def _app(screen: Screen[Any]) -> FlashmarkApp:
    return screen.app  # type: ignore[return-value]


class BrowserScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "mark", "Mark", key_display="␣",
                tooltip="mark the card (the actions act on the marked cards, or the one "
                        "under the cursor)"),
        Binding("exclamation_mark", "suspend", "Suspend", key_display="!",
                tooltip="suspend, or un-suspend"),
        Binding("minus", "bury", "Bury", key_display="-", tooltip="bury until tomorrow"),
        *[Binding(str(n), f"flag({n})", "Flag", group=FLAG_KEYS,
                  tooltip="" if n else "flag the card with colour 1-7 (0: no flag)")
          for n in range(8)],
        Binding("F", "forget", "Forget", tooltip="make the card new again"),
        Binding("D", "set_due", "Due", tooltip="set the due date: in days, or a range"),
        Binding("R", "reschedule", "Reschedule",
                tooltip="due dates again from each review card's FSRS memory state"),
        Binding("slash", "focus_search", "Search", key_display="/",
                tooltip="Anki's search syntax: deck:… is:due tag:… (enter searches)"),
        Binding("u", "undo", "Undo", tooltip="undo the last action"),
        Binding("i", "info", "Info", tooltip="card info: schedule, state, review history"),
        Binding("e", "edit", "Edit", tooltip="open the card's note in $EDITOR"),
        Binding("r", "review", "Review these",
                tooltip="review the matching cards now (a custom study session)"),
        Binding("escape", "back", "Back"),
    ]
    DEFAULT_CSS = """
    BrowserScreen #browser-search { height: 3; }
    BrowserScreen #browser-body { height: 1fr; }
    BrowserScreen #browser-table { width: 3fr; }
    BrowserScreen #browser-card { width: 2fr; border-left: solid $primary; padding: 0 1; }
    BrowserScreen #browser-status { height: 1; color: $text-muted; }
    BrowserScreen #browser-days { height: 3; display: none; }
    """

    def __init__(self, query: str = "is:due") -> None:
        super().__init__(id="browser")
        self.query_text = query
        self.result: SearchResult | None = None
        self.texts: CardTexts | None = None  # the shown rows' texts, read when drawn
        self.rows: dict[str, CardRow] = {}  # the rows shown (in the table or to be added)
        self._pending: list[CardRow] = []  # the rows shown, in order
        self._filled = 0  # how many of them are in the table
        self.marked: set[str] = set()
        self._sort: tuple[str, bool] = ("", False)
        self.shown_card: RenderableType = ""  # what the card pane draws

    def compose(self) -> ComposeResult:
        yield Input(self.query_text, placeholder="search: deck:… is:due tag:… (Anki's syntax)",
                    id="browser-search")
        with Horizontal(id="browser-body"):
            table: DataTable[Any] = DataTable(id="browser-table", cursor_type="row")
            for key, label, width in COLUMNS:
                table.add_column(label, key=key, width=width)
            yield table
            with VerticalScroll(id="browser-card"):
                yield Static("", id="browser-card-text")
        yield Input(placeholder="due in days: 0, 3, 3-7, 3-7! (enter applies, esc cancels)",
                    id="browser-days")
        yield Static("", id="browser-status")
        keys = bar_keys(self.BINDINGS)
        yield KeyBar(keys[:ACTION_BAR])
        yield KeyBar(keys[ACTION_BAR:])

    def on_mount(self) -> None:
        self.run_search(self.query_text)
        self.query_one("#browser-table").focus()

    # -- searching ----------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "browser-days":
            event.input.display = False
            self._set_due(event.value)
            return
        self.query_text = event.value
        self.run_search(event.value)
        self.query_one("#browser-table").focus()

    @work(thread=True, exclusive=True, group="browser")
    def run_search(self, query: str) -> None:
        from flashmark.review.search import search_vault

        ctx = _app(self).ctx
        try:
            # without the texts: the rows drawn read theirs (`CardTexts`)
            result = search_vault(ctx.root, ctx.settings, query, ctx.clock(),
                                  use_cache=ctx.use_cache, all_notes=ctx.all_notes)
        except FlashmarkError as exc:
            self.app.call_from_thread(self._status, str(exc).splitlines()[0])
            return
        self.app.call_from_thread(self._show, result)

    def _status(self, text: str) -> None:
        self.query_one("#browser-status", Static).update(text)

    def _show(self, result: SearchResult) -> None:
        ctx = _app(self).ctx
        self.result = result
        self.texts = CardTexts(ctx.root, ctx.settings, all_notes=ctx.all_notes)
        table = self.query_one("#browser-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        shown = result.rows[:MAX_ROWS]
        self.rows = {row.id: row for row in shown}
        self._pending, self._filled = shown, 0
        self._fill(FIRST_ROWS)
        if self._filled < len(shown):
            self._fill_rest()
        self.marked &= set(self.rows)
        if shown:
            table.move_cursor(row=min(cursor, self._filled - 1))
        more = f" (the first {MAX_ROWS:,} shown)" if len(result.rows) > MAX_ROWS else ""
        self._status(f"{len(result.rows):,} of {result.total:,} cards match{more}; "
                     f"{len(self.marked)} marked")
        self._draw_card()

    def _fill(self, upto: int) -> None:
        """Add the shown rows up to ``upto`` to the table."""
        table = self.query_one("#browser-table", DataTable)
        upto = min(upto, len(self._pending))
        for row in self._pending[self._filled:upto]:
            table.add_row(*self._cells(row), key=row.id)
        self._filled = max(self._filled, upto)

    @work(exclusive=True, group="browser-fill")
    async def _fill_rest(self) -> None:
        """The rows after the first screens, a chunk at a time (a new search's result
        cancels this: exclusive)."""
        while self._filled < len(self._pending):
            await asyncio.sleep(0)  # paint, handle keys
            self._fill(self._filled + CHUNK_ROWS)

    def _cells(self, row: CardRow) -> list[Any]:
        assert self.result is not None
        memory = self.result.memory
        return [self._front_cell(row),
                Cell(value="new" if row.key == "" else row.key[:10]),
                Cell(value="" if row.interval is None else row.interval),
                Cell(lambda: "" if (sd := memory(row)) is None else round(sd[1], 1)),
                Cell(value="" if row.key == "" else (row.lapses if row.lapses is not None
                                                     else 0)),
                Cell(value=row.deck or "")]

    def _front_cell(self, row: CardRow) -> Cell:
        """The front's text as the cell's value (what a sort by Front orders), the mark
        of a marked card drawn before it but not part of it."""
        return Cell(lambda: _one_line(self._texts(row)[0], FRONT_WIDTH),
                    prefix="● " if row.id in self.marked else "")

    def _texts(self, row: CardRow) -> tuple[str, str]:
        return self.texts.of(row) if self.texts is not None else (row.front, row.back)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._draw_card()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = str(event.column_key.value)
        self._fill(len(self._pending))  # every row, then the order
        reverse = self._sort == (key, False)
        self._sort = (key, reverse)
        table = self.query_one("#browser-table", DataTable)
        table.sort(key, key=_sort_key, reverse=reverse)

    def _current(self) -> CardRow | None:
        table = self.query_one("#browser-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.rows.get(str(key.value))

    def _draw_card(self) -> None:
        from flashmark.review.card_view import card_renderable
        from flashmark.review.render import prepare

        row = self._current()
        widget = self.query_one("#browser-card-text", Static)
        if row is None:
            widget.update("")
            return
        front, back = self._texts(row)
        parts: list[RenderableType] = [
            Text(f"{row.path}:{row.line}", style="dim"),
            card_renderable(prepare(front)), Rule(style="dim"),
            card_renderable(prepare(back))]
        self.shown_card = Group(*parts)
        widget.update(self.shown_card)

    # -- acting -------------------------------------------------------------------------

    def _targets(self) -> list[Any]:
        from flashmark.review.actions import Target

        chosen = [self.rows[i] for i in self.rows if i in self.marked]
        if not chosen:
            row = self._current()
            chosen = [row] if row is not None else []
        return [Target(r.id, r.path) for r in chosen]

    def action_mark(self) -> None:
        row = self._current()
        if row is None:
            return
        self.marked ^= {row.id}
        table = self.query_one("#browser-table", DataTable)
        table.update_cell(row.id, "front", self._front_cell(row))
        table.action_cursor_down()
        assert self.result is not None
        self._status(f"{len(self.result.rows):,} of {self.result.total:,} cards match; "
                     f"{len(self.marked)} marked")

    def _log(self, action: str, flag: int = 0) -> None:
        from flashmark.review.actions import log_action

        ctx = _app(self).ctx
        targets = self._targets()
        if not targets:
            return
        try:
            done = log_action(ctx.root, ctx.settings, action, targets, ctx.clock(), flag=flag)
        except FlashmarkError as exc:
            self.notify(str(exc), severity="warning", timeout=5)
            return
        self._after(action, sum(o.changed for o in done), len(done))

    def _after(self, action: str, changed: int, total: int) -> None:
        self.notify(f"{action}: {changed} of {total} card{'' if total == 1 else 's'} "
                    "changed (u undoes)", timeout=3)
        self.marked.clear()
        self.run_search(self.query_text)

    def action_suspend(self) -> None:
        row = self._current()
        if row is None or self.result is None:
            return
        suspended = row.id in self.result.facts.suspended
        self._log("unsuspend" if suspended else "suspend")

    def action_bury(self) -> None:
        self._log("bury")

    def action_flag(self, flag: int) -> None:
        self._log("flag", flag)

    def action_forget(self) -> None:
        self._write("forget")

    def action_set_due(self) -> None:
        days = self.query_one("#browser-days", Input)
        days.display = True
        days.value = ""
        days.focus()

    def _set_due(self, text: str) -> None:
        from flashmark.review.actions import parse_days

        try:
            spec = parse_days(text)
        except FlashmarkError as exc:
            self.notify(str(exc).splitlines()[0], severity="warning", timeout=5)
            return
        self.query_one("#browser-table").focus()
        self._write("set_due", spec)

    def _write(self, action: str, spec: Any = None) -> None:
        from flashmark.review.actions import write_action

        ctx = _app(self).ctx
        targets = self._targets()
        if not targets:
            return
        try:
            done = write_action(ctx.root, ctx.settings, action, targets, ctx.clock(),
                                spec=spec, all_notes=ctx.all_notes)
        except FlashmarkError as exc:
            self.notify(str(exc), severity="warning", timeout=5)
            return
        self._after(action.replace("_", "-"), sum(o.changed for o in done), len(done))

    def action_reschedule(self) -> None:
        from flashmark.review.actions import RESCHEDULE

        self._write(RESCHEDULE)

    def action_edit(self) -> None:
        """The card's note in $EDITOR at its line, as the reviewer's `e`; then the search
        again, so that the table shows the edit."""
        row = self._current()
        if row is None:
            return
        if not _run_editor(self, str(_app(self).ctx.root / row.path), row.line):
            return
        self.run_search(self.query_text)

    def action_review(self) -> None:
        """Review the cards the search matches (Anki's custom study over a search)."""
        if self.result is None or not self.result.rows:
            self.notify("No card matches the search: nothing to review.", timeout=3)
            return
        _app(self).review_search(self.query_text)

    def action_undo(self) -> None:
        from flashmark.review.actions import undo_newest

        ctx = _app(self).ctx
        try:
            undone = undo_newest(ctx.root, ctx.settings, ctx.clock(),
                                 all_notes=ctx.all_notes)
        except FlashmarkError as exc:
            self.notify(str(exc), severity="warning", timeout=5)
            return
        kind = undone[0].kind.replace("_", "-") if undone else "nothing"
        self.notify(f"Undid the {kind} ({len(undone)} card{'' if len(undone) == 1 else 's'})",
                    timeout=3)
        self.run_search(self.query_text)

    def action_info(self) -> None:
        from flashmark.review.cardinfo import card_info
        from flashmark.review.rating import CardFinder
        from flashmark.tui.cardinfo_screen import CardInfoScreen

        row = self._current()
        if row is None:
            return
        ctx = _app(self).ctx
        try:
            finder = CardFinder(ctx.root, ctx.settings, all_notes=ctx.all_notes)
            info = card_info(ctx.root, ctx.settings, finder.find(row.id),
                             finder.log.events(), ctx.clock())
        except FlashmarkError as exc:
            self.notify(str(exc), severity="warning", timeout=5)
            return
        self.app.push_screen(CardInfoScreen(info))

    def action_focus_search(self) -> None:
        self.query_one("#browser-search").focus()

    def action_back(self) -> None:
        days = self.query_one("#browser-days", Input)
        if days.display:
            days.display = False
            self.query_one("#browser-table").focus()
            return
        self.app.pop_screen()


_UNSET: Any = object()


class Cell:
    """A table cell worked out when first drawn or sorted by (``get``), then kept. The
    table has fixed column widths, so DataTable does not measure it (a cell with
    ``__rich_measure__`` costs a Console call even then): 10,000 rows cost only what
    is on screen, and the D column's memory state is derived for the cards shown.
    ``prefix`` is drawn before the value but is not part of it (a sort orders values):
    the mark of a marked card."""

    __slots__ = ("_get", "_value", "prefix")

    def __init__(self, get: Callable[[], Any] | None = None, *, value: Any = _UNSET,
                 prefix: str = "") -> None:
        self._get = get
        self._value = value
        self.prefix = prefix

    @property
    def value(self) -> Any:
        if self._value is _UNSET:
            assert self._get is not None
            self._value = self._get()
            self._get = None
        return self._value

    def __str__(self) -> str:
        return self.prefix + str(self.value)

    def __rich_console__(self, console: Console, options: ConsoleOptions
                         ) -> Iterator[Text]:
        value = self.value
        yield Text(self.prefix + (f"{value:.2f}" if isinstance(value, float) else str(value)),
                   no_wrap=True, overflow="ellipsis", end="")


def _sort_key(cell: Any) -> tuple[int, Any]:
    """Empty cells last; numbers as numbers; text as text."""
    value = cell.value if isinstance(cell, Cell) else cell
    if value == "" or value is None:
        return (2, "")
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(value).casefold())

"""The screens: deck list, reviewer, keys, suspended cards (statistics: stats_screen)."""

from __future__ import annotations

import datetime as dt
import subprocess
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, Label, Rule, Static

from flashmark.errors import FlashmarkError
from flashmark.model import (
    ACTION_BURY,
    ACTION_RATE,
    ACTION_SUSPEND,
    LEARNING,
    NEW_CARD,
    QuestionType,
    Rating,
)
from flashmark.review.card_view import CardImages, MathMode, card_renderable, first_cloze_line
from flashmark.review.queue import Queue, deck_tree
from flashmark.review.session import RateResult, ReviewSession, ShownCard, editor_command
from flashmark.stats import NO_DECK
from flashmark.tui.decktree import DeckRow, deck_rows, initially_expanded
from flashmark.tui.images import image_drawer
from flashmark.tui.widgets import KeyBar, KeyButton, ProgressLine

if TYPE_CHECKING:
    from flashmark.tui.app import FlashmarkApp

RATING_KEYS = (("1", Rating.AGAIN, "Again", "error"), ("2", Rating.HARD, "Hard", "warning"),
               ("3", Rating.GOOD, "Good", "success"), ("4", Rating.EASY, "Easy", "primary"))

HELP = [
    ("Reviewing", [
        ("space, enter", "show the answer; once shown: Good"),
        ("1 2 3 4", "Again, Hard, Good, Easy (next interval on each button)"),
        ("u, ctrl+z", "undo the last rating, bury or suspend"),
        ("-", "bury: leave the card until tomorrow"),
        ("!", "suspend: leave it out until un-suspended"),
        ("e", "edit the note at the card in $EDITOR, then re-read it"),
        ("i", "card info: schedule, state, review history"),
        ("b", "browse cards: search, sort, act on them (also from the deck list)"),
        ("↑ ↓ pgup pgdn", "scroll a long card"),
        ("s, esc", "statistics, the deck list"),
    ]),
    ("Deck list", [
        ("↑ ↓ enter", "choose a deck and review it (sub-decks too)"),
        ("→ ← space", "unfold, fold"),
        ("/", "filter decks by name or tag (esc clears)"),
        ("!", "suspended cards (enter un-suspends)"),
    ]),
    ("Anywhere", [
        ("?", "this list"),
        ("ctrl+p", "commands (themes: light, dark)"),
        ("q, ctrl+c", "quit (every rating is already saved)"),
    ]),
]


REVIEW_KEYS = [("␣", "Show/Good"), ("u", "Undo"), ("-", "Bury"), ("!", "Suspend"),
               ("e", "Edit"), ("s", "Stats"), ("?", "Keys"), ("esc", "Decks")]
DECK_KEYS = [("⏎", "Review"), ("→←", "Fold"), ("/", "Filter"), ("s", "Stats"),
             ("!", "Suspended"), ("?", "Keys"), ("q", "Quit")]


def _interval(delta: dt.timedelta) -> str:
    # flashmark.scheduling imports py-fsrs: not needed before the first answer is shown
    from flashmark.scheduling import format_interval

    return format_interval(delta)


def _fmt(n: int) -> str:
    return f"{n:,}"


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


def _app(screen: Screen[Any]) -> FlashmarkApp:
    from flashmark.tui.app import FlashmarkApp

    app = screen.app
    assert isinstance(app, FlashmarkApp)
    return app


# --- deck list -------------------------------------------------------------------------


class DeckTable(DataTable[Any]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Review"),
        Binding("right,l", "screen.unfold", "Unfold", show=False),
        Binding("left,h", "screen.fold", "Fold", show=False),
        Binding("space", "screen.toggle_fold", "Fold/unfold", show=False),
    ]


class DeckScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "study", "Review", show=True),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "stats", "Stats"),
        Binding("exclamation_mark", "suspended", "Suspended", key_display="!"),
        Binding("b", "browse", "Browse", show=False),
        Binding("question_mark", "help", "Keys", key_display="?"),
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
        yield KeyBar(DECK_KEYS)

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


# --- reviewing -------------------------------------------------------------------------


class ReviewScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "space", "Show/Good", key_display="␣"),
        Binding("enter", "space", "Show/Good", show=False),
        Binding("1", "rate('again')", "Again", show=False),
        Binding("2", "rate('hard')", "Hard", show=False),
        Binding("3", "rate('good')", "Good", show=False),
        Binding("4", "rate('easy')", "Easy", show=False),
        Binding("u", "undo", "Undo"),
        Binding("ctrl+z", "undo", "Undo", show=False),
        Binding("minus", "bury", "Bury", key_display="-"),
        Binding("exclamation_mark", "suspend", "Suspend", key_display="!"),
        Binding("e", "edit", "Edit"),
        Binding("i", "info", "Info", show=False),
        Binding("b", "browse", "Browse", show=False),
        Binding("s", "stats", "Stats"),
        Binding("question_mark", "help", "Keys", key_display="?"),
        Binding("escape", "decks", "Decks"),
    ]

    def __init__(self, deck: str | None = None, session: ReviewSession | None = None) -> None:
        super().__init__(id="review")
        self.deck = deck
        self.session = session
        self._painted = False
        self._info = Text()  # the card line without the timer (redrawn every second)

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Static("", id="where")
            with Horizontal(id="counts"):
                yield Label("", id="count-new", classes="new")
                yield Label("", id="count-learn", classes="learn")
                yield Label("", id="count-due", classes="due")
        yield Static("", id="cardinfo")
        with VerticalScroll(id="card"):
            yield Static("", id="front")
            yield Rule(id="divider")
            yield Static("", id="back")
            yield Static("Reading the vault…", id="message")
        with Horizontal(id="answers"):
            yield KeyButton("Show answer  (space)", id="show", variant="primary")
            for key, rating, name, variant in RATING_KEYS:
                yield KeyButton(f"{key} {name}", id=f"rate-{rating.value}", variant=variant,  # type: ignore[arg-type]
                                classes="rating")
        yield ProgressLine(id="progress")
        yield KeyBar(REVIEW_KEYS)

    async def on_mount(self) -> None:
        self.query_one("#divider").display = False
        self.query_one("#back").display = False
        self.query_one("#front").display = False
        for button in self.query(".rating"):
            button.display = False
        self.query_one("#show").display = False
        self.set_interval(1.0, self._check_disk)
        self.set_interval(1.0, self._tick)
        if self.session is not None:
            await self.show_current()

    async def attach(self, session: ReviewSession) -> None:
        self.session = session
        await self.show_current()

    # -- drawing ----------------------------------------------------------------------

    async def show_current(self) -> None:
        session = self.session
        if session is None:
            return
        cur = session.current if session.current is not None else session.next_card()
        self._notify_skipped()
        self._update_counts()
        message = self.query_one("#message", Static)
        front = self.query_one("#front", Static)
        back = self.query_one("#back", Static)
        if cur is None:
            front.display = back.display = False
            self.query_one("#divider").display = False
            for button in self.query(KeyButton):
                button.display = False
            message.display = True
            message.update(self._end_message(session))
            self.query_one("#where", Static).update(_app(self).vault_name)
            self.query_one("#cardinfo", Static).update("")
            wait = session.wait_until()
            if wait is not None:
                delay = (wait - session.clock()).total_seconds()
                self.set_timer(min(max(delay, 1.0), 60.0), self.show_current)
            self._mark_painted()
            return
        message.display = False
        self._update_header(cur)
        shown = self._card(cur.front, cur.path)
        front.update(shown)
        front.display = True
        back.update(self._card(cur.back, cur.path) if not cur.is_cloze else "")
        self._layout_answer(session.revealed)
        if session.revealed:
            await self._show_answer(cur)
        self.query_one("#card", VerticalScroll).scroll_home(animate=False)
        if cur.is_cloze:
            self.call_after_refresh(self._scroll_to_cloze, shown)
        self._mark_painted()

    def _card(self, markdown: str, note_rel: str) -> RenderableType:
        """A card side as `flashmark show` prints it (review.card_view), with its images
        drawn where the terminal can (tui.images)."""
        app = _app(self)
        math: MathMode = "source" if app.ctx.review.math == "source" else "unicode"
        images = (CardImages(app.media_index(), note_rel, image_drawer())
                  if "![" in markdown else None)
        return card_renderable(markdown, math=math, images=images)

    def _scroll_to_cloze(self, shown: RenderableType) -> None:
        """The first asked deletion in view (a long card's blank may be below the fold),
        a third of the view above it for context."""
        scroll = self.query_one("#card", VerticalScroll)
        front = self.query_one("#front", Static)
        line = first_cloze_line(shown, max(10, front.content_region.width))
        if line is None:
            return
        top = front.region.y - scroll.content_region.y + int(scroll.scroll_y) + line
        height = scroll.content_region.height
        if top >= scroll.scroll_y + height - 1 or top < scroll.scroll_y:
            scroll.scroll_to(y=max(0, top - height // 3), animate=False)

    def _mark_painted(self) -> None:
        if not self._painted:
            self._painted = True
            self.app.call_after_refresh(_app(self).first_card_painted)

    def _end_message(self, session: ReviewSession) -> Text:
        wait = session.wait_until()
        done = session.done
        if wait is not None:
            local = wait.astimezone(session.cutoff.now.tzinfo)
            left = _interval(wait - session.clock())
            return Text.assemble(
                ("Nothing is due right now.\n\n", "bold"),
                f"The next learning card is due at {local:%H:%M} (in {left}); it will show "
                "here by itself.\n", f"{done} card{'s' if done != 1 else ''} reviewed in this "
                "session.\n\nesc: decks · s: statistics · q: quit")
        return Text.assemble(
            ("Congratulations! Nothing more is due today", "bold"),
            " in this deck.\n\n" if self.deck else ".\n\n",
            f"{done} card{'s' if done != 1 else ''} reviewed in this session.\n\n",
            "esc: decks · s: statistics · q: quit")

    def _update_header(self, cur: ShownCard) -> None:
        width = max(10, self.size.width - 2 - len(" ".join(map(_fmt, self.session.counts()))
                                                     if self.session else "") - 8)
        self.query_one("#where", Static).update(_place(cur.path, cur.line, cur.trail, width))
        q = cur.card.question
        if q.type is QuestionType.CLOZE:
            kind = f"cloze {cur.card.sibling + 1} of {len(q.groups)}"
        elif cur.reversed:
            kind = "reversed: answer → question"
        elif q.type in (QuestionType.REVERSIBLE, QuestionType.MULTILINE_REVERSIBLE):
            kind = "reversible: question → answer"
        elif q.type is QuestionType.MULTILINE:
            kind = "multi-line"
        else:
            kind = "one-sided"
        state = {NEW_CARD: "new card", LEARNING: "learning"}.get(cur.item.kind, "review")
        deck = (cur.item.deck or "no deck")
        self._info = Text.assemble((state, "bold"), " · ", kind, " · ", (deck, "dim"))
        self._tick()

    def _tick(self) -> None:
        """The card line with the answer timer and today's studied cards and time (the
        session's clock: a fixed `--now` keeps the timer still)."""
        session = self.session
        if session is None or session.current is None:
            return
        width = max(10, self.size.width - 2)
        seconds = int(session.answer_seconds())
        minutes = session.studied_ms // 60000
        studied = session.studied_today
        right = (f"{seconds // 60}:{seconds % 60:02d} · today {studied} "
                 f"card{'s' if studied != 1 else ''}, {minutes} min")
        info = self._info.copy()
        info.truncate(max(10, width - len(right) - 2), overflow="ellipsis")
        info.append(" " * max(2, width - len(info.plain) - len(right)))
        info.append(right, "dim")
        self.query_one("#cardinfo", Static).update(info)

    def _update_counts(self) -> None:
        session = self.session
        if session is None:
            return
        new, learning, review = session.counts()
        self.query_one("#count-new", Label).update(_fmt(new))
        self.query_one("#count-learn", Label).update(_fmt(learning))
        self.query_one("#count-due", Label).update(_fmt(review))
        self.query_one("#progress", ProgressLine).show(session.done_today, session.total)

    def _layout_answer(self, revealed: bool) -> None:
        self.query_one("#show").display = not revealed
        for button in self.query(".rating"):
            button.display = revealed
        if not revealed:
            self.query_one("#divider").display = False
            self.query_one("#back").display = False

    async def _show_answer(self, cur: ShownCard) -> None:
        session = self.session
        assert session is not None
        if cur.is_cloze:
            shown = self._card(cur.back, cur.path)
            self.query_one("#front", Static).update(shown)
            self.call_after_refresh(self._scroll_to_cloze, shown)
        else:
            self.query_one("#divider").display = True
            self.query_one("#back").display = True
        previews = session.previews()
        for key, rating, name, _ in RATING_KEYS:
            label = f"{key} {name}"
            if previews is not None:
                label += f" · {_interval(previews[rating])}"
            self.query_one(f"#rate-{rating.value}", KeyButton).label = label
        self._layout_answer(True)

    def _notify_skipped(self) -> None:
        session = self.session
        if session is None or not session.skipped:
            return
        for text in session.skipped[-3:]:
            self.notify(text, severity="warning", timeout=6)
        if len(session.skipped) > 3:
            self.notify(f"{len(session.skipped) - 3} more cards skipped", severity="warning")
        session.skipped.clear()

    # -- actions ----------------------------------------------------------------------

    async def action_space(self) -> None:
        session = self.session
        if session is None or session.current is None:
            return
        if not session.revealed:
            session.reveal()
            await self._show_answer(session.current)
        else:
            await self.action_rate(Rating.GOOD.value)

    async def action_rate(self, name: str) -> None:
        session = self.session
        if session is None or session.current is None:
            return
        if not session.revealed:
            self.notify("Show the answer first (space).", timeout=2)
            return
        result = session.rate(Rating(name))
        if result.conflict:
            rating = Rating(name)

            async def decided(rate_anyway: bool | None) -> None:
                if session.current is None:
                    return
                if rate_anyway:
                    self._tell_rated(session.rate(rating, force=True))
                else:
                    session.skip()
                    self.notify("Skipped: it was rated elsewhere.", timeout=3)
                await self.show_current()

            self.app.push_screen(RatedElsewhereScreen(result.message or ""), decided)
            return
        self._tell_rated(result)
        await self.show_current()

    def _tell_rated(self, result: RateResult) -> None:
        """The rating's messages: the leech warning (its own toast when the rating also
        had another message), what went wrong, what else happened."""
        if result.leech and result.message != result.leech:
            self.notify(result.leech, title="Leech", severity="warning", timeout=8)
        if result.message:
            leech = result.message == result.leech
            self.notify(result.message, title="Leech" if leech else "",
                        severity="warning" if leech or not result.rated else "information",
                        timeout=8 if leech else 6)

    async def action_undo(self) -> None:
        session = self.session
        if session is None:
            return
        try:
            kind, shown = session.undo()
        except FlashmarkError as exc:
            self.notify(str(exc), severity="warning", timeout=5)
            return
        what = {ACTION_RATE: "rating", ACTION_BURY: "bury", ACTION_SUSPEND: "suspend"}[kind]
        self.notify(f"Undid the {what}" + ("" if shown else " (the card is gone)"), timeout=3)
        await self.show_current()

    async def action_bury(self) -> None:
        session = self.session
        if session is None or session.current is None:
            return
        session.bury()
        self.notify("Buried until tomorrow (u undoes).", timeout=3)
        await self.show_current()

    async def action_suspend(self) -> None:
        session = self.session
        if session is None or session.current is None:
            return
        session.suspend()
        self.notify("Suspended: it stays out of the queues until un-suspended from the deck "
                    "list (!).", timeout=4)
        await self.show_current()

    async def action_edit(self) -> None:
        session = self.session
        if session is None or session.current is None:
            return
        cur = session.current
        command = editor_command(cur.located.path, cur.line)
        try:
            try:
                with self.app.suspend():
                    subprocess.call(command)
            except SuspendNotSupported:  # no terminal to hand over (tests): run it as is
                subprocess.call(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        except OSError as exc:
            self.notify(f"cannot start the editor {command[0]!r}: {exc.strerror}",
                        severity="error", timeout=6)
            return
        message = session.reread(edited=True) if session.current is not None else None
        self.notify(message or "The card is unchanged.", timeout=4)
        await self.show_current()

    async def _check_disk(self) -> None:
        session = self.session
        if session is None or session.current is None or not session.note_changed():
            return
        message = session.reread()
        if message:
            self.notify(message, severity="warning", timeout=6)
        await self.show_current()

    def action_stats(self) -> None:
        from flashmark.tui.stats_screen import StatsScreen  # its charts load when asked for

        self.app.push_screen(StatsScreen())

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_info(self) -> None:
        from flashmark.review.cardinfo import card_info
        from flashmark.tui.cardinfo_screen import CardInfoScreen
        from flashmark.vault.reviewlog import ReviewLog

        session = self.session
        if session is None or session.current is None:
            return
        ctx = _app(self).ctx
        try:
            info = card_info(ctx.root, ctx.settings, session.current.located,
                             ReviewLog(ctx.root).events(), ctx.clock())
        except FlashmarkError as exc:
            self.notify(str(exc), severity="warning", timeout=5)
            return
        self.app.push_screen(CardInfoScreen(info))

    def action_browse(self) -> None:
        from flashmark.tui.browser_screen import BrowserScreen

        self.app.push_screen(BrowserScreen())

    def action_decks(self) -> None:
        _app(self).show_decks()


# --- keys ----------------------------------------------------------------------------


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "app.pop_screen", "Close"),
    ]

    def compose(self) -> ComposeResult:
        text = Text()
        for title, keys in HELP:
            text.append(title + "\n", "bold")
            for key, what in keys:
                text.append(f"  {key:<15}", "bold")
                text.append(what + "\n")
        text.append("esc closes", "dim")
        with VerticalScroll(id="help-box"):
            yield Static(text, id="help-text")


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


# --- suspended cards -----------------------------------------------------------------


class SuspendedScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("enter", "unsuspend", "Un-suspend"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("flashmark · suspended cards (enter un-suspends)", id="suspended-title")
        table: DataTable[Any] = DataTable(id="suspended-table", cursor_type="row")
        table.add_column("Note", key="path")
        table.add_column("Card", key="id")
        table.add_column("Since", key="since")
        yield table
        yield KeyBar([("⏎", "Un-suspend"), ("esc", "Back")])

    def on_mount(self) -> None:
        table = self.query_one("#suspended-table", DataTable)
        for e in _app(self).suspended_cards():
            table.add_row(e.path, e.id, e.time[:10], key=e.id)
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_unsuspend()

    def action_unsuspend(self) -> None:
        table = self.query_one("#suspended-table", DataTable)
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        path = str(table.get_row(key)[0])
        _app(self).unsuspend(str(key.value), path)
        table.remove_row(key)
        self.notify("Un-suspended: the card is back in the queues.", timeout=3)


"""The reviewer: one card at a time, its answer on space, rated with 1-4; undo, bury,
suspend, edit, card info. A rating is written off the event loop (a worker's thread);
keys pressed meanwhile wait for it."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any, ClassVar, Concatenate, ParamSpec

from rich.console import RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Label, Rule, Static
from textual.widgets.button import ButtonVariant
from textual.worker import Worker

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
from flashmark.review.session import RateResult, ReviewSession, ShownCard
from flashmark.tui._shared import _app, _fmt, _interval, _place, _run_editor
from flashmark.tui.help_screen import HelpScreen
from flashmark.tui.images import image_drawer
from flashmark.tui.keys import bar_keys
from flashmark.tui.rated_elsewhere_screen import RatedElsewhereScreen
from flashmark.tui.widgets import KeyBar, KeyButton, ProgressLine

# The rating buttons, keys 1-4 in this order: the rating, its name, the button's variant.
RATINGS: tuple[tuple[Rating, str, ButtonVariant], ...] = (
    (Rating.AGAIN, "Again", "error"), (Rating.HARD, "Hard", "warning"),
    (Rating.GOOD, "Good", "success"), (Rating.EASY, "Easy", "primary"))

P = ParamSpec("P")
Action = Callable[Concatenate["ReviewScreen", P], Coroutine[Any, Any, None]]


def _after_rating(action: Action[P]) -> Action[P]:
    """An action that waits for the rating being written: pressed meanwhile, it is
    queued and run, in the order pressed, once the rating is saved and the next card
    shown (as if the write had taken no time: a rating key pressed twice rates the next
    card, which asks for its answer first, and never the same card twice)."""
    @functools.wraps(action)
    async def run(screen: ReviewScreen, /, *args: P.args, **kwargs: P.kwargs) -> None:
        if screen._rating is not None:
            screen._queued.append((action, args))
            return
        await action(screen, *args, **kwargs)

    return run


class ReviewScreen(Screen[None]):
    """One card at a time: its front, then (space) its answer and the rating buttons.

    What shows is the screen's state, as CSS classes (flashmark.tcss): ``-finished`` (no
    card: the message instead), ``-revealed`` (the answer and the rating buttons instead
    of "Show answer"), ``-cloze`` (the answer is drawn in place of the front)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "space", "Show/Good", key_display="␣",
                tooltip="show the answer; once shown: Good"),
        Binding("enter", "space", "Show/Good", show=False),
        *[Binding(str(k), f"rate('{rating.value}')", name, show=False,
                  tooltip="" if k > 1 else "once the answer shows (each button shows "
                                           "the next interval)")
          for k, (rating, name, _) in enumerate(RATINGS, start=1)],
        Binding("u", "undo", "Undo", tooltip="undo the last rating, bury or suspend"),
        Binding("ctrl+z", "undo", "Undo", show=False),
        Binding("minus", "bury", "Bury", key_display="-",
                tooltip="leave the card until tomorrow"),
        Binding("exclamation_mark", "suspend", "Suspend", key_display="!",
                tooltip="leave it out until un-suspended (! on the deck list)"),
        Binding("e", "edit", "Edit", tooltip="edit the note at the card in $EDITOR, then "
                                             "re-read it"),
        Binding("i", "info", "Info", show=False,
                tooltip="card info: schedule, state, review history"),
        Binding("b", "browse", "Browse", show=False,
                tooltip="browse cards: search, sort, act on them"),
        Binding("s", "stats", "Stats", tooltip="statistics"),
        Binding("question_mark", "help", "Keys", key_display="?", tooltip="this list"),
        Binding("escape", "decks", "Decks", tooltip="the deck list"),
    ]

    revealed: var[bool] = var(False, toggle_class="-revealed")
    """The answer is on screen (and the rating buttons)."""
    finished: var[bool] = var(True, toggle_class="-finished")
    """No card on screen: the message (reading the vault, nothing due) instead."""

    def __init__(self, deck: str | None = None, session: ReviewSession | None = None) -> None:
        super().__init__(id="review")
        self.deck = deck
        self.session = session
        self._painted = False
        self._info = Text()  # the card line without the timer (redrawn every second)
        self._rating: Worker[None] | None = None  # the rating being written, if any
        # actions pressed while a rating is written: run after it, in order
        self._queued: list[tuple[Callable[..., Awaitable[None]], tuple[Any, ...]]] = []

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
            for k, (rating, name, variant) in enumerate(RATINGS, start=1):
                yield KeyButton(f"{k} {name}", id=f"rate-{rating.value}", variant=variant,
                                classes="rating")
        yield ProgressLine(id="progress")
        yield KeyBar(bar_keys(self.BINDINGS))

    async def on_mount(self) -> None:
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
        front = self.query_one("#front", Static)
        if cur is None:
            self.revealed = False
            self.finished = True
            self.query_one("#message", Static).update(self._end_message(session))
            self.query_one("#where", Static).update(_app(self).vault_name)
            self.query_one("#cardinfo", Static).update("")
            wait = session.wait_until()
            if wait is not None:
                delay = (wait - session.clock()).total_seconds()
                self.set_timer(min(max(delay, 1.0), 60.0), self.show_current)
            self._mark_painted()
            return
        self.finished = False
        self._update_header(cur)
        shown = self._card(cur.front, cur.path)
        front.update(shown)
        self.query_one("#back", Static).update(self._card(cur.back, cur.path)
                                               if not cur.is_cloze else "")
        self.set_class(cur.is_cloze, "-cloze")
        if session.revealed:
            await self._show_answer(cur)
        else:
            self.revealed = False
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

    async def _show_answer(self, cur: ShownCard) -> None:
        session = self.session
        assert session is not None
        if cur.is_cloze:
            shown = self._card(cur.back, cur.path)
            self.query_one("#front", Static).update(shown)
            self.call_after_refresh(self._scroll_to_cloze, shown)
        previews = session.previews()
        for k, (rating, name, _) in enumerate(RATINGS, start=1):
            label = f"{k} {name}"
            if previews is not None:
                label += f" · {_interval(previews[rating])}"
            self.query_one(f"#rate-{rating.value}", KeyButton).label = label
        self.revealed = True

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

    @_after_rating
    async def action_space(self) -> None:
        session = self.session
        if session is None or session.current is None:
            return
        if not session.revealed:
            session.reveal()
            await self._show_answer(session.current)
        else:
            await self.action_rate(Rating.GOOD.value)

    @_after_rating
    async def action_rate(self, name: str) -> None:
        session = self.session
        if session is None or session.current is None:
            return
        if not session.revealed:
            self.notify("Show the answer first (space).", timeout=2)
            return
        self._rating = self._write_rating(session, Rating(name))

    @work(group="rating")
    async def _write_rating(self, session: ReviewSession, rating: Rating,
                            force: bool = False) -> None:
        """Write the rating (note and log, fsync'd: `ReviewSession.rate`) in a thread, so
        the screen goes on drawing; then tell what happened and show the next card, and
        run the keys pressed meanwhile. A rating that met another program's asks first."""
        try:
            result = await asyncio.to_thread(session.rate, rating, force=force)
            if result.conflict:
                # keys pressed during the write would have met the question: dropped
                self._queued.clear()
                self.app.push_screen(RatedElsewhereScreen(result.message or ""),
                                     partial(self._decided, session, rating))
                return
            self._tell_rated(result)
            await self.show_current()
        finally:
            self._rating = None
        await self._run_queued()

    async def _decided(self, session: ReviewSession, rating: Rating,
                       rate_anyway: bool | None) -> None:
        """The answer to the rated-elsewhere question."""
        if session.current is None:
            return
        if rate_anyway:
            self._rating = self._write_rating(session, rating, force=True)
            return
        session.skip()
        self.notify("Skipped: it was rated elsewhere.", timeout=3)
        await self.show_current()

    async def _run_queued(self) -> None:
        """The actions pressed while the rating was written, in order, until one writes
        another rating (the rest wait for that one)."""
        while self._queued and self._rating is None:
            action, args = self._queued.pop(0)
            await action(self, *args)

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

    @_after_rating
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

    @_after_rating
    async def action_bury(self) -> None:
        session = self.session
        if session is None or session.current is None:
            return
        session.bury()
        self.notify("Buried until tomorrow (u undoes).", timeout=3)
        await self.show_current()

    @_after_rating
    async def action_suspend(self) -> None:
        session = self.session
        if session is None or session.current is None:
            return
        session.suspend()
        self.notify("Suspended: it stays out of the queues until un-suspended from the deck "
                    "list (!).", timeout=4)
        await self.show_current()

    @_after_rating
    async def action_edit(self) -> None:
        session = self.session
        if session is None or session.current is None:
            return
        cur = session.current
        if not _run_editor(self, cur.located.path, cur.line):
            return
        message = session.reread(edited=True) if session.current is not None else None
        self.notify(message or "The card is unchanged.", timeout=4)
        await self.show_current()

    async def _check_disk(self) -> None:
        session = self.session
        if (session is None or self._rating is not None or session.current is None
                or not session.note_changed()):
            return
        message = session.reread()
        if message:
            self.notify(message, severity="warning", timeout=6)
        await self.show_current()

    @_after_rating
    async def action_stats(self) -> None:
        from flashmark.tui.stats_screen import StatsScreen  # its charts load when asked for

        self.app.push_screen(StatsScreen())

    @_after_rating
    async def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    @_after_rating
    async def action_info(self) -> None:
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

    @_after_rating
    async def action_browse(self) -> None:
        from flashmark.tui.browser_screen import BrowserScreen

        self.app.push_screen(BrowserScreen())

    @_after_rating
    async def action_decks(self) -> None:
        _app(self).show_decks()

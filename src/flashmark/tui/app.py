"""The Textual app: a deck list and a reviewer over one vault.

Startup is built for speed: the vault is scanned (a warm index reads no note) and the
first card's note is parsed in a thread, possibly started before Textual was even
imported (``loader``), while the screens are composed; the first card is painted as
soon as both are done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Final, Literal, cast

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType

from flashmark.config import Settings
from flashmark.errors import EXIT_INTERNAL, BrokenInstallError, FlashmarkError
from flashmark.review.overview import Opened, open_review
from flashmark.review.queue import Queue
from flashmark.review.session import Clock, ReviewSession, suspended_cards, unsuspend
from flashmark.review.settings import ReviewSettings
from flashmark.tui.deck_screen import DeckScreen
from flashmark.tui.review_screen import ReviewScreen
from flashmark.vault.media import MediaIndex
from flashmark.vault.reviewlog import ReviewLog, Suspend

THEMES = {"dark": "textual-dark", "light": "textual-light"}
STYLESHEET = "flashmark.tcss"


def load_stylesheet() -> str:
    """The app's stylesheet, read as package data through importlib.resources, so it is
    found wherever the package is installed (a wheel, a zip), not only next to the source."""
    resource = resources.files("flashmark.tui").joinpath(STYLESHEET)
    try:
        return resource.read_text(encoding="utf-8")
    except OSError as exc:
        raise BrokenInstallError(
            f"the reviewer's stylesheet {STYLESHEET} is missing from the installed flashmark "
            f"package ({exc.strerror or exc})",
            hint="reinstall flashmark (pipx reinstall flashmark, or pip install "
                 "--force-reinstall flashmark)") from exc


@dataclass(frozen=True, slots=True)
class Context:
    """What the app works on: the vault, its settings and the clock."""

    root: Path
    settings: Settings
    review: ReviewSettings
    clock: Clock
    use_cache: bool = True
    all_notes: bool = False


# The screen the app opens on: the reviewer (of ``deck``) or the deck list.
StartScreen = Literal["review", "decks"]
START_REVIEW: Final = "review"
START_DECKS: Final = "decks"


class FlashmarkApp(App[int]):
    CSS = load_stylesheet()
    TITLE = "flashmark"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("q", "quit", "Quit", show=False,
                tooltip="every rating is already saved"),
    ]

    def __init__(self, ctx: Context, *, deck: str | None = None,
                 start: StartScreen = START_REVIEW,
                 loader: Callable[[], Opened] | None = None,
                 exit_after_first_card: bool = False, t0: float | None = None,
                 theme: str | None = None, search: str | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.deck = deck
        self.search = search  # the first review's query (`flashmark review --search`)
        self.start = start
        self._loader = loader
        self.exit_after_first_card = exit_after_first_card
        self.t0 = time.perf_counter() if t0 is None else t0
        self.first_card_after: float | None = None  # seconds from t0 to the first card
        self.first_card_epoch: float | None = None  # time.time() when it was painted
        self.overview: Queue | None = None  # all decks, for the deck list
        self._deck_screen: DeckScreen | None = None  # made when first needed
        self._media: MediaIndex | None = None  # made when a card first shows an image
        if theme is not None:
            self.theme = THEMES.get(theme, theme)

    @property
    def vault_name(self) -> str:
        return self.ctx.root.resolve().name or str(self.ctx.root)

    def media_index(self) -> MediaIndex:
        """The vault's image resolver (the exporter's), one for the app: the names of
        the vault's files are listed once, when a card first needs them."""
        if self._media is None:
            self._media = MediaIndex(self.ctx.root)
        return self._media

    # -- startup ------------------------------------------------------------------------

    @property
    def deck_screen(self) -> DeckScreen:
        if self._deck_screen is None:
            self._deck_screen = DeckScreen()
        return self._deck_screen

    def _show_overview(self, overview: Queue) -> None:
        self.overview = overview
        if self._deck_screen is not None and self._deck_screen.is_mounted:
            self._deck_screen.show_overview(overview)

    def on_mount(self) -> None:
        # Only the first screen is built at startup (the deck list when it is needed).
        self.push_screen(ReviewScreen(self.deck) if self.start == START_REVIEW
                         else self.deck_screen)
        self._load_initial()

    def _open(self, deck: str | None, first_card: bool = True,
              search: str | None = None) -> Opened:
        c = self.ctx
        return open_review(c.root, c.settings, c.review, c.clock, deck=deck,
                           use_cache=c.use_cache, all_notes=c.all_notes, first_card=first_card,
                           search=search)

    @work(thread=True, exclusive=True, group="load")
    def _load_initial(self) -> None:
        try:
            opened = (self._loader() if self._loader is not None
                      else self._open(self.deck, self.start == START_REVIEW, self.search))
        except FlashmarkError as exc:
            self.call_from_thread(self._fail, exc)
            return
        except Exception as exc:  # a bug: leave with its description, exit code 70
            self.call_from_thread(self._fail, FlashmarkError(f"internal error: {exc}"),
                                  EXIT_INTERNAL)
            return
        # (typed as Any: call_from_thread's stub cannot infer a coroutine's result)
        self.call_from_thread(cast(Any, self._loaded), opened)

    def _fail(self, exc: FlashmarkError, code: int | None = None) -> None:
        code = exc.exit_code if code is None else code
        self.exit(code, return_code=code, message=f"flashmark: {exc}")

    async def _loaded(self, opened: Opened) -> None:
        self._show_overview(opened.overview)
        screen = self.screen
        if isinstance(screen, ReviewScreen) and screen.session is None:
            await screen.attach(opened.session)
            self._warm(opened.session)

    @work(thread=True, group="warm")
    def _warm(self, session: ReviewSession) -> None:
        session.warm()

    def first_card_painted(self) -> None:
        if self.first_card_after is None:
            self.first_card_after = time.perf_counter() - self.t0
            self.first_card_epoch = time.time()
            if self.exit_after_first_card:
                self.exit(0)

    # -- moving between screens -----------------------------------------------------------

    @work(thread=True, exclusive=True, group="load")
    def start_review(self, deck: str | None) -> None:
        """Review ``deck`` (None: every deck): re-scan (ratings changed notes), then show
        the reviewer."""
        try:
            opened = self._open(deck)
        except FlashmarkError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.call_from_thread(cast(Any, self._push_review), opened, deck)

    @work(thread=True, exclusive=True, group="load")
    def review_search(self, query: str) -> None:
        """Review the cards ``query`` matches now (the browser's "review these"): a
        filtered deck of them (`review.queue`), on top of the screen it was asked from."""
        try:
            opened = self._open(None, search=query)
        except FlashmarkError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.call_from_thread(cast(Any, self._push_review), opened, None)

    async def _push_review(self, opened: Opened, deck: str | None) -> None:
        self._show_overview(opened.overview)
        await self.push_screen(ReviewScreen(deck, opened.session))
        self._warm(opened.session)

    def show_decks(self) -> None:
        deck_screen = self.deck_screen
        if deck_screen in self.screen_stack:
            while self.screen is not deck_screen:
                self.pop_screen()
        else:  # started on the reviewer: the deck list takes its place
            self.switch_screen(deck_screen)
        self.refresh_overview()

    @work(thread=True, exclusive=True, group="load")
    def refresh_overview(self) -> None:
        try:
            opened = self._open(None, first_card=False)
        except FlashmarkError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.call_from_thread(self._overview_loaded, opened)

    def _overview_loaded(self, opened: Opened) -> None:
        self._show_overview(opened.overview)

    # -- data for the other screens (called from worker threads or handlers) ---------------

    def suspended_cards(self) -> list[Suspend]:
        return suspended_cards(ReviewLog(self.ctx.root).events())

    def unsuspend(self, card_id: str, path: str) -> None:
        unsuspend(self.ctx.root, card_id, path, self.ctx.clock())
        self.refresh_overview()

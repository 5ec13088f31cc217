"""The reviewer driven with Textual's Pilot on a copy of notes/, as a user would.

After every step the note's bytes and the review log are checked against what the
scheduler computes for that card at the test's fixed time.
"""

from __future__ import annotations

import datetime as dt
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from flashmark.model import Rating
from flashmark.review.card_view import card_renderable, render_text
from flashmark.scheduling import format_interval
from flashmark.tui.app import FlashmarkApp
from flashmark.tui.deck_screen import DeckScreen
from flashmark.tui.help_screen import HelpScreen
from flashmark.tui.review_screen import ReviewScreen
from flashmark.tui.stats_screen import StatsScreen
from flashmark.tui.widgets import KeyButton
from flashmark.vault.reviewlog import (
    Bury,
    Event,
    Review,
    ReviewLog,
    Suspend,
    Undo,
    Unsuspend,
    reviews,
)
from tests.tui.tui_support import NOW, Clock, drive, ready, review_session, shown


def _events(vault: Path) -> list[Event]:
    """Every line of the review log (bookkeeping included)."""
    return ReviewLog(vault).events()


def _effective(vault: Path) -> list[Event]:
    return ReviewLog(vault).effective()


def _notes(vault: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in vault.rglob("*.md")}


def _drawn(app: FlashmarkApp, which: str) -> str:
    """The text of the card side on screen, as `flashmark show` would print it."""
    content = app.screen.query_one(f"#{which}", Static).content
    assert not isinstance(content, str)
    return render_text(content, width=76, color=False)  # type: ignore[arg-type]


def test_review_session_end_to_end(vault: Path, expect: Any, monkeypatch: pytest.MonkeyPatch,
                                   tmp_path: Path) -> None:
    # a fake $EDITOR: puts "edited" in front of the text of the line it is asked to open
    editor = tmp_path / "fake-editor"
    editor.write_text(f"#!{sys.executable}\n"
                      "import re, sys\n"
                      "line = int(sys.argv[1][1:])\n"
                      "path = sys.argv[2]\n"
                      "lines = open(path, encoding='utf-8').read().split('\\n')\n"
                      "lines[line - 1] = re.sub(r'^([\\s>*+-]*)', r'\\1edited ', "
                      "lines[line - 1], count=1)\n"
                      "open(path, 'w', encoding='utf-8').write('\\n'.join(lines))\n")
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.delenv("VISUAL", raising=False)

    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        session = review_session(app)
        card = shown(app)
        # the first card: a cloze front with its hint
        assert card.is_cloze and "mass market, [narrow], segmented" in " ".join(
            _drawn(app, "front").split())
        assert not app.screen.query_one("#back").display
        assert app.screen.query_one("#show").display

        # reveal, then each of the four buttons
        for key, rating in zip("1234", Rating, strict=True):
            card = shown(app)
            await pilot.press("space")
            await pilot.pause()
            assert session.revealed
            previews = session.previews()
            assert previews is not None
            button = app.screen.query_one(f"#rate-{rating.value}", KeyButton)
            assert button.display
            assert str(button.label).endswith(format_interval(previews[rating]))
            expected, after = expect.rating(card.id, card.path, rating, NOW)
            unrated = (vault / card.path).read_bytes()
            await pilot.press(key)
            await pilot.pause()
            assert (vault / card.path).read_bytes() == expected
            last = _effective(vault)[-1]
            assert isinstance(last, Review)
            assert (last.id, last.rating, last.after) == (card.id, rating.value, after)
            assert shown(app).id != card.id
        assert session.done == 4

        # undo (u): the Easy rating is taken back, note and log
        easy = reviews(_effective(vault))[-1]
        await pilot.press("u")
        await pilot.pause()
        assert shown(app).id == easy.id and not session.revealed
        assert (vault / easy.path).read_bytes() == unrated  # the exact bytes again
        undo = next(e for e in reversed(_events(vault)) if isinstance(e, Undo))
        assert undo.of == easy.uid and easy not in _effective(vault)
        assert session.done == 3
        # ... and ctrl+z after a new rating
        await pilot.press("enter")  # reveal
        await pilot.press("enter")  # Good
        await ready(pilot)
        good = reviews(_effective(vault))[-1]
        assert good.rating == "good"
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert good not in _effective(vault)

        # bury (-) and suspend (!): only the log changes, never a note
        notes_before = _notes(vault)
        card = shown(app)
        await pilot.press("minus")
        await pilot.pause()
        bury = _events(vault)[-1]
        assert isinstance(bury, Bury)
        assert (bury.id, bury.until) == (card.id, "2026-11-24T04:00:00.000Z")  # day boundary 4
        assert shown(app).id != card.id

        # suspend (!)
        card = shown(app)
        await pilot.press("exclamation_mark")
        await pilot.pause()
        suspend = _events(vault)[-1]
        assert isinstance(suspend, Suspend) and suspend.id == card.id
        assert shown(app).id != card.id
        assert _notes(vault) == notes_before

        # edit (e): the fake editor changes the card's text; the card is re-read
        card = shown(app)
        before_edit = (vault / card.path).read_text().split("\n")[card.line - 1]
        await pilot.press("e")
        await pilot.pause()
        edited = shown(app)
        after_edit = (vault / card.path).read_text().split("\n")[card.line - 1]
        assert after_edit != before_edit and "edited " in after_edit
        assert "edited" in edited.front + edited.back
        assert edited.id != card.id  # its text changed, so did its id
        assert edited.path == card.path and edited.card.sibling == card.card.sibling
        assert _drawn(app, "front") == render_text(card_renderable(edited.front), width=76,
                                                   color=False)
        # it can be rated under its new id
        expected, after = expect.rating(edited.id, edited.path, Rating.GOOD, NOW)
        await pilot.press("space", "3")
        await ready(pilot)
        assert (vault / edited.path).read_bytes() == expected
        assert reviews(_effective(vault))[-1].id == edited.id

        # quit
        await pilot.press("q")
        await pilot.pause()

    app = drive(vault, steps)
    assert app.return_code == 0
    kinds = [e.kind for e in _events(vault)]
    assert kinds.count("review") == 6 and kinds.count("undo") == 2
    assert len(reviews(_effective(vault))) == 4


def test_note_changed_while_shown_is_re_read(vault: Path) -> None:
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        card = shown(app)
        path = vault / card.path
        entry = card.card.entry_text
        assert entry is not None
        path.write_bytes(path.read_bytes().replace(entry.encode(), b"2026-12-30,30,250", 1))
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await screen._check_disk()  # what the one-second timer does
        await pilot.pause()
        assert shown(app).card.entry_text == "2026-12-30,30,250"
        assert any("changed on disk" in str(n.message) for n in app._notifications)

    drive(vault, steps)


def test_learning_card_comes_back_in_the_session(vault: Path) -> None:
    clock = Clock()

    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        first = shown(app)
        await pilot.press("space", "1")  # Again: back in 10 minutes
        await ready(pilot)
        assert shown(app).id != first.id
        clock.now = NOW + dt.timedelta(minutes=10)
        await pilot.press("space", "3")
        await ready(pilot)
        assert shown(app).id == first.id

    drive(vault, steps, clock=clock)


def test_finished_and_waiting_messages(vault: Path) -> None:
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        await pilot.press("space", "3")
        await ready(pilot)
        message = str(app.screen.query_one("#message").render())
        assert "Congratulations" in message and "1 card reviewed" in message
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DeckScreen)

    drive(vault, steps, deck="flashcard/active/business/customers/personas")


def test_deck_screen_navigation_filter_and_review(vault: Path) -> None:
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        screen = app.screen
        assert isinstance(screen, DeckScreen)
        labels = [r.label.strip() for r in screen.rows]
        assert labels == ["▾ flashcard/active/business", "▸ customers", "▸ value_proposition"]
        await pilot.press("down", "right")
        assert [r.label.strip() for r in screen.rows][2] == "customer_interviews"
        await pilot.press("left")
        assert len(screen.rows) == 3
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"jobs")
        assert [r.path for r in screen.rows][-1].endswith("customer_jobs")
        await pilot.press("enter")  # leaves the filter
        assert isinstance(app.focused, DataTable)
        table = screen.query_one(DataTable)
        table.move_cursor(row=len(screen.rows) - 1)
        await pilot.press("enter")
        for _ in range(300):
            if isinstance(app.screen, ReviewScreen) and app.screen.session is not None:
                break
            await pilot.pause(0.01)
        card = shown(app)
        assert card.item.deck == "flashcard/active/business/customers/customer_jobs"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DeckScreen)

    drive(vault, steps, start="decks")


def test_stats_and_help_screens(vault: Path) -> None:
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        await pilot.press("space", "1", "space", "3")
        await ready(pilot)
        await pilot.press("s")
        await ready(pilot)
        assert isinstance(app.screen, StatsScreen)
        summary = str(app.screen.query_one("#stats-summary").render())
        assert "Today: 2 reviewed" in summary and "desired 90%" in summary
        assert "actual 50.0% of 2 reviews" in summary
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)

    drive(vault, steps)


def test_unsuspend_from_the_deck_list(vault: Path) -> None:
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        card = shown(app)
        await pilot.press("exclamation_mark")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("exclamation_mark")
        await ready(pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        await pilot.press("enter")
        await pilot.pause()
        assert table.row_count == 0
        last = _events(vault)[-1]
        assert isinstance(last, Unsuspend) and last.id == card.id

    drive(vault, steps)


def test_asked_deletion_below_the_fold_is_scrolled_into_view(tmp_path: Path) -> None:
    # general/eng/first-order logic.md:163: a BNF grammar whose clozes come after a long
    # code block (issue 13: at 80x24 only the code block showed).
    fixture = (Path(__file__).parents[1] / "review" / "fixtures" / "render_cards.md")
    text = fixture.read_text(encoding="utf-8")
    bnf = text[text.index("> __[BNF]"):]
    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard/active"]\n',
                                          encoding="utf-8")
    (vault / "logic.md").write_text("#flashcard/active/logic\n\n" + bnf, encoding="utf-8")
    seen: dict[str, float] = {}

    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        scroll = screen.query_one("#card")
        seen["front"] = scroll.scroll_y
        await pilot.press("space")
        await pilot.pause()
        await pilot.pause()
        seen["back"] = scroll.scroll_y

    drive(vault, steps)
    # The grammar alone is ~35 lines: without scrolling the view would stay at 0.
    assert seen["front"] > 10 and seen["back"] > 10, seen

"""The help screen is built from the screens' BINDINGS: every binding of every screen
is listed (a binding added to a screen shows up with no edit of the help)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Static

from flashmark.tui.app import FlashmarkApp
from flashmark.tui.help_screen import SECTIONS, HelpScreen, help_text
from flashmark.tui.keys import key_name
from flashmark.tui.review_screen import ReviewScreen
from tests.tui.tui_support import drive


def _lines(text: str) -> list[str]:
    return text.splitlines()


def test_every_binding_of_every_screen_is_listed() -> None:
    lines = _lines(help_text().plain)
    titles = [title for title, _ in SECTIONS]
    assert titles == ["Reviewing", "Deck list", "Browser", "Statistics", "Suspended cards",
                      "Anywhere"]
    for title, bindings in SECTIONS:
        start = lines.index(title)
        end = next((k for k in range(start + 1, len(lines)) if lines[k] in titles), len(lines))
        section = lines[start + 1:end]
        for binding in Binding.make_bindings(b for bs in bindings() for b in bs):
            assert any(key_name(binding.key) in _keys_of(line, binding.description)
                       for line in section), (title, binding)


def _keys_of(line: str, description: str) -> list[str]:
    """The keys a help line lists for ``description`` (none: not its line)."""
    at = line.find(" " + description)
    rest = line[at + 1 + len(description):] if at >= 0 else ""
    if at < 0 or (rest and not rest.startswith(":")):
        return []
    return line[:at].strip().split(", ")


def test_the_reviewer_keys_with_their_explanations() -> None:
    lines = _lines(help_text().plain)
    assert "  space, enter    Show/Good: show the answer; once shown: Good" in lines
    assert "  u, ctrl+z       Undo: undo the last rating, bury or suspend" in lines
    assert any(ln.startswith("  0, 1, 2, 3, 4, 5, 6, 7 Flag: flag the card") for ln in lines)
    assert any(ln.startswith("  ctrl+p          Commands") for ln in lines)
    # the card's own scroll keys (test_review_screen: they scroll a long card)
    assert any(ln.startswith("  ↑, ↓, PgUp, PgDn Scroll: a card longer than the screen")
               for ln in lines)


def test_a_new_binding_is_listed_without_editing_the_help(
        monkeypatch: pytest.MonkeyPatch) -> None:
    bindings = [*ReviewScreen.BINDINGS, Binding("z", "zap", "Zap", tooltip="zap the card")]
    monkeypatch.setattr(ReviewScreen, "BINDINGS", bindings)
    assert "  z               Zap: zap the card" in _lines(help_text().plain)


def test_question_mark_opens_it_from_the_reviewer(vault: Path) -> None:
    async def steps(pilot: Pilot[Any], app: FlashmarkApp) -> None:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = app.screen.query_one("#help-text", Static).content
        assert isinstance(shown, Text)
        assert shown.plain == help_text().plain + "\nesc, ?, q: close"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)

    drive(vault, steps)

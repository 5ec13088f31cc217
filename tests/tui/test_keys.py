"""A screen's key bar and help rows, from its bindings."""

from __future__ import annotations

from textual.binding import Binding

from flashmark.tui.browser_screen import BrowserScreen
from flashmark.tui.deck_screen import DeckScreen, DeckTable
from flashmark.tui.keys import HelpRow, bar_keys, help_rows
from flashmark.tui.review_screen import ReviewScreen
from flashmark.tui.stats_screen import StatsScreen


def test_bar_keys_are_the_shown_bindings_with_groups_merged() -> None:
    assert bar_keys(ReviewScreen.BINDINGS) == [
        ("␣", "Show/Good"), ("u", "Undo"), ("-", "Bury"), ("!", "Suspend"), ("e", "Edit"),
        ("s", "Stats"), ("?", "Keys"), ("esc", "Decks")]
    assert bar_keys(DeckTable.BINDINGS, DeckScreen.BINDINGS) == [
        ("⏎", "Review"), ("→←", "Fold"), ("/", "Filter"), ("s", "Stats"), ("!", "Suspended"),
        ("?", "Keys"), ("q", "Quit")]
    assert bar_keys(StatsScreen.BINDINGS) == [
        ("esc", "Back"), ("←→", "Tabs"), ("a", "Deck/all"), ("?", "Keys")]
    assert ("0-7", "Flag") in bar_keys(BrowserScreen.BINDINGS)


def test_help_rows_join_the_keys_of_one_description() -> None:
    rows = help_rows([Binding("u", "undo", "Undo", tooltip="take it back"),
                      Binding("ctrl+z", "undo", "Undo", show=False),
                      Binding("escape,question_mark", "close", "Close")])
    assert rows == [HelpRow(("u", "ctrl+z"), "Undo", "take it back"),
                    HelpRow(("esc", "?"), "Close", "")]

"""SVG snapshots of 21 real cards of the real vault in the reviewer, front and revealed
back, dark and light theme, 80x24, fixed clock (pytest-textual-snapshot).

The cards' source notes are excerpts in tests/tui/cards/ (see its README: the
corpus is CC BY-SA), so these run from a fresh clone. Each test reviews a vault holding
that one excerpt and buries cards until the chosen one is on screen. Update with
`pytest tests/tui/test_card_snapshots.py --snapshot-update` and look at the SVGs in
tests/tui/__snapshots__/test_card_snapshots/ before committing.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from flashmark.config import load_settings
from flashmark.review.settings import load_review_settings
from flashmark.tui.app import Context, FlashmarkApp
from flashmark.tui.review_screen import ReviewScreen
from tests.tui.tui_support import ready

CARDS = Path(__file__).resolve().parent / "cards"
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
SIZE = (80, 24)
Snap = Callable[..., bool]

# excerpt -> the card to show (its sibling: the cloze group, or 0 for the question
# side of a reversible card), chosen for the shape the excerpt is named after
SHAPES: dict[str, int] = {
    "image_cloze_in_callout": 1,  # the image is the asked deletion
    "image_missing_reversible": 0,
    "letter_after_cloze": 2,  # `{@{…}@}is`
    "letter_after_cloze_math": 2,  # `{@{$$…$$}@}The`
    "cjk_after_cloze_footnotes": 1,  # `{@{謫<sup>[3](#…)</sup>}@}守`
    "quote_rule": 0,  # `> ---` between the quote's paragraphs
    "quote_rule_formats": 0,
    "nested_list_in_callout": 0,  # `>     - … ::@:: …`
    "nested_list_in_callout_long": 0,
    "display_math_side_by_side": 0,  # `Recall: $$…$$ \quad ; \quad …$$`: formulas in a row
    "br_reversible": 0,
    "br_vim": 0,
    "callout_title_code": 0,
    "callout_title_monad": 0,
    "footnote_markers": 1,
    "cloze_below_fold": 8,  # the last of 9 deletions, below a BNF grammar
    "answer_inside_bold": 0,  # `__there is {@{a bold}@}__`
    "answer_inside_bold_lisp": 1,
    "display_math": 0,
    "display_math_reversible": 0,
    "table_cloze": 0,
}


def card_vault(tmp_path: Path, name: str) -> Path:
    """A vault with the one excerpt (and the images it references)."""
    root = tmp_path / "vault"
    root.mkdir()
    shutil.copy(CARDS / "flashmark.yaml", root)
    shutil.copytree(CARDS / "attachments", root / "attachments")
    shutil.copy(CARDS / f"{name}.md", root)
    return root


def test_every_excerpt_has_a_shape() -> None:
    assert sorted(SHAPES) == sorted(p.stem for p in CARDS.glob("*.md") if p.stem != "README")


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("side", ["front", "back"])
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_card(name: str, side: str, theme: str, tmp_path: Path, snap_compare: Snap) -> None:
    root = card_vault(tmp_path, name)
    sibling = SHAPES[name]

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReviewScreen) and screen.session is not None
        for _ in range(30):
            current = screen.session.current
            assert current is not None, "the chosen card was never shown"
            if current.card.sibling == sibling and not current.reversed:
                break
            await pilot.press("minus")
            await pilot.pause()
        if side == "back":
            await pilot.press("space")
        pilot.app.clear_notifications()
        await pilot.pause()

    ctx = Context(root, load_settings(root), load_review_settings(root), lambda: NOW)
    app = FlashmarkApp(ctx, theme=theme)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)

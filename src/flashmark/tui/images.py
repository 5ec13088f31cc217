"""Pictures in the reviewer's card, drawn by textual-image (imported lazily: a vault
without images never loads it or Pillow).

textual-image asks the terminal what it can draw when it is first imported, which only
works before Textual owns the terminal: ``detect_terminal`` is called by `flashmark
review` just before the app starts. In the card (one Rich renderable in a Static) a
Kitty terminal gets real pixels (the Terminal Graphics Protocol, through Unicode
placeholders that scroll with the text); every other terminal, Sixel ones included
(a Sixel picture cannot live inside a Static's lines), gets coloured half-cell blocks.
Without textual-image installed, or when the terminal was never asked, ``image_drawer``
is None and the card shows an image's alt text and file name.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement

from flashmark.review.card_view import ImageDrawer

MAX_ROWS = 20  # a tall picture is scaled down to this many lines
_state: dict[str, Any] = {}


def detect_terminal() -> None:
    """Ask the terminal (once, before Textual starts) which pictures it draws."""
    if "kind" in _state:
        return
    try:
        from textual_image import renderable
        from textual_image._terminal import get_cell_size
        cell = get_cell_size()
    except Exception:  # not installed, or a terminal that answers oddly:
        # pictures are a nicety, the card falls back to alt text
        _state["kind"] = None
        return
    _state["kind"] = "tgp" if renderable.Image is renderable.TGPImage else "halfcell"
    _state["cell"] = (cell.width, cell.height)


def image_drawer() -> ImageDrawer | None:
    """How the card draws a picture here, or None (alt text). A process whose output is
    not a terminal (tests, a headless run) draws half-cell blocks without asking."""
    if "kind" not in _state:
        stdout = sys.__stdout__
        if stdout is not None and stdout.isatty():
            return None  # the terminal was not asked before Textual started: never now
        detect_terminal()
    kind = _state.get("kind")
    if kind is None:
        return None

    def draw(path: Path, width_px: int | None) -> RenderableType:
        return _Picture(path, width_px, tgp=kind == "tgp")
    return draw


class _Picture:
    """An image scaled to the card: at most its own (or the asked) width, the card's
    width and :data:`MAX_ROWS` lines, its proportions kept."""

    def __init__(self, path: Path, width_px: int | None, *, tgp: bool) -> None:
        from PIL import Image as PILImage

        with PILImage.open(path) as opened:  # OSError (and subclasses) when unreadable
            opened.load()
            self.image = opened.convert("RGBA" if tgp else "RGB")
        if self.image.width == 0 or self.image.height == 0:
            raise ValueError(f"{path.name} is an empty image")
        self.width_px = width_px or self.image.width
        self.tgp = tgp
        self._drawn: dict[tuple[int, int], RenderableType] = {}

    def _cells(self, max_width: int) -> tuple[int, int]:
        cell_w, cell_h = _state.get("cell", (10, 20))
        ratio = self.image.height / self.image.width
        width = max(1, min(max_width, round(self.width_px / cell_w)))
        height = max(1, round(width * cell_w * ratio / cell_h))
        if height > MAX_ROWS:
            height = MAX_ROWS
            width = max(1, min(max_width, round(height * cell_h / ratio / cell_w)))
        return width, height

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width, _ = self._cells(options.max_width)
        return Measurement(width, width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        size = self._cells(options.max_width)
        drawn = self._drawn.get(size)
        if drawn is None:  # one per size: a TGP picture is sent to the terminal once
            if self.tgp:
                from textual_image.renderable.tgp import Image
            else:
                from textual_image.renderable.halfcell import Image  # type: ignore[assignment]
            drawn = self._drawn[size] = Image(self.image, width=size[0], height=size[1])
        yield from console.render(drawn, options.update(width=size[0], height=size[1]))

"""Pictures in the reviewer's card (Pillow, and textual-image in Kitty; both imported
only when a card shows an image).

In Kitty (``TERM=xterm-kitty`` or ``KITTY_WINDOW_ID``) a picture is real pixels:
textual-image's Terminal Graphics Protocol renderable, whose Unicode placeholders live
in the card's lines and scroll with them. Everywhere else it is coloured half-cell
blocks (``▀``, two pixels a cell), drawn here. Sixel pictures cannot live inside a
Static's lines, so Sixel terminals get half-cells too.

Why not let textual-image choose: it asks the terminal on import, waiting up to 0.1 s
per question for an answer that most terminals never send (0.38 s measured in a pty),
which would come before every first card; and once Textual runs it cannot ask at all.
Kitty answers at once, so only there is textual-image imported, by ``detect_terminal``
before Textual starts.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path
from typing import Any

from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style

from flashmark.review.card_view import ImageDrawer

MAX_ROWS = 20  # a tall picture is scaled down to this many lines
DEFAULT_CELL = (10, 20)  # pixels of a cell when the terminal does not tell
_state: dict[str, Any] = {}


def _in_kitty() -> bool:
    return os.environ.get("TERM") == "xterm-kitty" or "KITTY_WINDOW_ID" in os.environ


def _cell_pixels() -> tuple[int, int]:
    """A cell's size in pixels from the terminal's window size (no question asked)."""
    stdout = sys.__stdout__
    try:
        import fcntl
        import termios

        if stdout is None or not stdout.isatty():
            return DEFAULT_CELL
        rows, cols, width, height = struct.unpack(
            "HHHH", fcntl.ioctl(stdout.fileno(), termios.TIOCGWINSZ, b"\0" * 8))
    except (ImportError, OSError, ValueError):
        return DEFAULT_CELL
    if not (rows and cols and width and height):
        return DEFAULT_CELL
    return max(1, width // cols), max(1, height // rows)


def detect_terminal() -> None:
    """How pictures are drawn here: decided before Textual starts (`flashmark review`)."""
    if "kind" in _state:
        return
    _state["cell"] = _cell_pixels()
    _state["kind"] = "halfcell"
    if _in_kitty():
        try:
            from textual_image import renderable  # asks the terminal: Kitty answers

            if renderable.Image is renderable.TGPImage:
                _state["kind"] = "tgp"
        except Exception:  # not installed, or an odd answer: half-cells still work
            pass


def image_drawer() -> ImageDrawer | None:
    """How the card draws a picture, or None when Pillow is missing (alt text)."""
    detect_terminal()
    try:
        import PIL  # noqa: F401  (checked once here, used by _Picture)
    except ImportError:
        return None
    tgp = _state["kind"] == "tgp"

    def draw(path: Path, width_px: int | None) -> RenderableType:
        return _Picture(path, width_px, tgp=tgp)
    return draw


class _Picture:
    """An image scaled to the card: at most its own (or the asked) width, the card's
    width and :data:`MAX_ROWS` lines, its proportions kept. Reading a file that is not
    an image, or is cut short, raises OSError here, not while the card is drawn."""

    def __init__(self, path: Path, width_px: int | None, *, tgp: bool) -> None:
        from PIL import Image as PILImage

        with PILImage.open(path) as opened:
            opened.load()
            self.image = opened.convert("RGBA" if tgp else "RGB")
        if self.image.width == 0 or self.image.height == 0:
            raise ValueError(f"{path.name} is an empty image")
        self.width_px = width_px or self.image.width
        self.tgp = tgp
        self._drawn: dict[tuple[int, int], RenderableType] = {}

    def _cells(self, max_width: int) -> tuple[int, int]:
        cell_w, cell_h = _state.get("cell", DEFAULT_CELL)
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

                drawn = Image(self.image, width=size[0], height=size[1])
            else:
                drawn = _HalfCells(self.image, *size)
            self._drawn[size] = drawn
        yield from console.render(drawn, options.update(width=size[0], height=size[1]))


class _HalfCells:
    """``▀`` cells: the upper pixel in the foreground colour, the lower one behind."""

    def __init__(self, image: Any, width: int, height: int) -> None:
        from PIL import Image as PILImage

        scaled = image.resize((width, height * 2), PILImage.Resampling.LANCZOS)
        pixels = scaled.load()
        self.lines = [[Segment("▀", Style(color=Color.from_rgb(*pixels[x, 2 * y][:3]),
                                          bgcolor=Color.from_rgb(*pixels[x, 2 * y + 1][:3])))
                       for x in range(width)] for y in range(height)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines:
            yield from line
            yield Segment.line()

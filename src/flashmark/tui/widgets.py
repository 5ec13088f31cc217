"""Small widgets and the text charts of the stats screen."""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Button, Static

BLOCKS = " ▁▂▃▄▅▆▇█"


class KeyButton(Button, can_focus=False):
    """A button that shows a key's action; the keyboard drives it, never focus."""


def column_chart(values: list[int], height: int = 5, width: int = 2) -> list[str]:
    """Rows (top first) of a column chart: one column of ``width`` cells per value,
    scaled so the largest value fills ``height`` rows (eighth blocks for the top cell;
    any value above zero shows at least a sliver)."""
    top = max(values, default=0) or 1
    eighths = [max(1, round(v / top * height * 8)) if v > 0 else 0 for v in values]
    rows = []
    for level in range(height, 0, -1):
        base = (level - 1) * 8
        rows.append("".join(BLOCKS[min(max(e - base, 0), 8)] * width for e in eighths))
    return rows


def chart_text(title: str, days: list[dt.date], values: list[int], *, height: int = 5,
               width: int = 2) -> Text:
    """A titled column chart with its scale on the left and dates below."""
    top = max(values, default=0)
    label_width = max(len(str(top)), 1)
    out = Text()
    out.append(title + "\n", style="bold")
    for k, row in enumerate(column_chart(values, height, width)):
        label = str(top) if k == 0 else ("0" if k == height - 1 else "")
        out.append(label.rjust(label_width) + " │", style="dim")
        out.append(row + "\n", style="")
    span = len(values) * width
    if days:
        first, last = days[0].strftime("%m-%d"), days[-1].strftime("%m-%d")
        gap = max(1, span - len(first) - len(last))
        out.append(" " * (label_width + 2) + first + " " * gap + last, style="dim")
    return out


class Chart(Static):
    """A column chart; ``show`` replaces its data."""

    def show(self, title: str, days: list[dt.date], values: list[int]) -> None:
        width = 2 if len(values) * 2 + 8 <= max(self.size.width, 70) else 1
        self.update(chart_text(title, days, values, width=width))


class KeyBar(Static):
    """The keys of a screen in one line (a plain Static: much cheaper than a Footer)."""

    def __init__(self, keys: list[tuple[str, str]], *, id: str | None = None) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        for k, (key, what) in enumerate(keys):
            text.append("  " if k else " ")
            text.append(key, style="bold reverse")
            text.append(" " + what)
        super().__init__(text, id=id, classes="keybar")


class ProgressLine(Widget):
    """A progress bar and a `done/total · left` label, drawn as one line of text."""

    DEFAULT_CSS = "ProgressLine { height: 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.done = 0
        self.total = 0

    def show(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        self.refresh()

    def render(self) -> Text:
        done, total = self.done, self.total
        label = f" {done}/{total} · {total - done} left"
        width = max(0, self.size.width - len(label))
        filled = width * done // total if total else 0
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("━" * filled, style="bold")
        text.append("╺" + "━" * (width - filled - 1) if width - filled > 0 else "",
                    style="dim")
        text.append(label)
        return text

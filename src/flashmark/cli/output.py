"""Terminal output helpers: progress on stderr, aligned tables, JSON Lines."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO


class ProgressBar:
    """A one-line progress bar on stderr, shown only when stderr is a terminal and the
    work takes more than a moment."""

    def __init__(self, label: str, stream: TextIO | None = None, delay: float = 0.3) -> None:
        self.stream = stream or sys.stderr
        self.label = label
        self.enabled = self.stream.isatty()
        self.start = time.monotonic()
        self.delay = delay
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.start < self.delay:
            return
        width = 30
        filled = width * done // total if total else width
        bar = "█" * filled + "░" * (width - filled)
        self.stream.write(f"\r{self.label} {bar} {done}/{total}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


def table(rows: list[list[str]], right: set[int], out: TextIO) -> None:
    """Print rows with aligned columns (the first row is the header). Widths are terminal
    cells: a CJK character takes two, a combining mark none."""
    if not rows:
        return
    from rich.cells import cell_len

    sizes = [[cell_len(cell) for cell in r] for r in rows]
    widths = [max(s[c] for s in sizes) for c in range(len(rows[0]))]
    for r, s in zip(rows, sizes, strict=True):
        cells = [" " * (widths[c] - s[c]) + cell if c in right else
                 cell + " " * (widths[c] - s[c]) for c, cell in enumerate(r)]
        out.write("  ".join(cells).rstrip() + "\n")


def json_line(obj: dict[str, Any], out: TextIO) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")

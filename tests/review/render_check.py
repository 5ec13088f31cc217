"""Render card sides as `flashmark show` does and find card syntax or markup that leaked
into the text outside code and deliberate LaTeX source (shared by the corpus test and
scripts/bench_show.py)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console

from flashmark.cards import Card
from flashmark.review.card_view import CODE_META, card_renderable
from flashmark.review.render import card_sides

# What must never show outside code and LaTeX source.
LEAKS = {
    "cloze open": re.compile(r"\{@\{"),
    "cloze close": re.compile(r"\}@\}"),
    "reversible separator": re.compile(r"::@::"),
    "one-sided separator": re.compile(r":@:"),
    "SR comment": re.compile(r"<!--SR:"),
    "emphasis **": re.compile(r"\*\*"),
    "emphasis __": re.compile(r"(?<![\w_\\])__(?=[^\s_])[^\n]*?(?<=[^\s_])__(?![\w_])"),
    "<br": re.compile(r"<br", re.I),
    "<p>": re.compile(r"<p>", re.I),
    "LaTeX command": re.compile(r"\\(?:[A-Za-z]{2,}|[,;!{}])"),
    "cloze mark": re.compile("[\ue020\ue021]"),
    "HTML entity": re.compile(r"&(?:nbsp|amp|lt|gt|quot|#\d+);"),
}
MATH = re.compile(r"\$")


@dataclass
class Report:
    cards: int = 0
    math_cards: int = 0
    fallback_cards: int = 0
    leaks: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    fallback_examples: list[str] = field(default_factory=list)


_CONSOLE = Console(width=80, color_system=None, force_terminal=False, highlight=False,
                   legacy_windows=False)


def check_card(card: Card, report: Report) -> None:
    """Render both sides of ``card`` and record what leaks and whether math fell back."""
    report.cards += 1
    front, back = card_sides(card)
    if MATH.search(card.question.text):
        report.math_cards += 1
    fell_back = False
    where = f"{card.path}:{card.question.span.line + 1} {card.id}"
    for side in (front, back):
        prose: list[str] = []
        math: list[str] = []
        for seg in _CONSOLE.render(card_renderable(side)):
            meta = seg.style.meta if seg.style is not None else {}
            kind = meta.get(CODE_META) if meta else None
            if kind == "tex":
                fell_back = True
            elif kind is None:
                prose.append(seg.text)
            elif kind == "math":  # converted math: `**` may be its text, not a command
                math.append(seg.text)
        text = "".join(prose)
        checks = [(name, pattern, text) for name, pattern in LEAKS.items()]
        checks.append(("LaTeX command in converted math", LEAKS["LaTeX command"],
                       "\n".join(math)))
        for name, pattern, text in checks:
            m = pattern.search(text)
            if m:
                report.leaks[name] += 1
                shown = report.examples.setdefault(name, [])
                if len(shown) < 5:
                    start = max(0, m.start() - 40)
                    shown.append(f"{where}: …{text[start:m.end() + 40]!r}")
    if fell_back:
        report.fallback_cards += 1
        if len(report.fallback_examples) < 30:
            report.fallback_examples.append(where)

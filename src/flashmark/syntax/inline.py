"""Inline code spans and inline tags on a line of Markdown."""

from __future__ import annotations

import re

_BACKTICKS = re.compile(r"`+")
# Obsidian tags: "#" after start or whitespace, then letters, digits, "_", "-", "/" and
# any non-ASCII character; not only digits.
TAG = re.compile(r"(?:(?<=\s)|^)#([^\s!-,.:-@\[-^`{-~]+)")


def code_spans(text: str) -> list[tuple[int, int]]:
    """Character ranges of inline code spans (CommonMark: a run of N backticks up to the
    next run of exactly N backticks)."""
    spans: list[tuple[int, int]] = []
    runs = list(_BACKTICKS.finditer(text))
    k = 0
    while k < len(runs):
        opener = runs[k]
        size = len(opener[0])
        for j in range(k + 1, len(runs)):
            if len(runs[j][0]) == size:
                spans.append((opener.start(), runs[j].end()))
                k = j + 1
                break
        else:
            k += 1
    return spans


def in_spans(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= pos < end for start, end in spans)


def find_outside_code(line: str, needle: str) -> int:
    """First index of ``needle`` in ``line`` that is not inside inline code, or -1."""
    pos = line.find(needle)
    if pos < 0 or "`" not in line:
        return pos
    spans = code_spans(line)
    while pos >= 0:
        if not in_spans(pos, spans):
            return pos
        pos = line.find(needle, pos + 1)
    return -1


def inline_tags(line: str) -> list[str]:
    if "`" in line:
        spans = code_spans(line)
        return [m[1] for m in TAG.finditer(line) if not in_spans(m.start(), spans)
                and not m[1].isdigit()]
    return [m[1] for m in TAG.finditer(line) if not m[1].isdigit()]

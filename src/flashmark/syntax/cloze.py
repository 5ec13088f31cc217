"""Cloze patterns in the OSR plugin's syntax, compiled to one regular expression.

`{@{[123;;]answer[;;hint]}@}`: the literal text around the keyword ``answer`` is the
delimiter; ``[...]`` holding digits is the optional group number (before or after),
``[...]`` holding ``hint`` the optional hint. Matches are on one line and non-greedy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from flashmark.errors import ConfigError

_OPTIONAL = re.compile(r"\[([^\]]*)\]")


@dataclass(frozen=True, slots=True)
class ClozeSyntax:
    regex: re.Pattern[str]
    openers: tuple[str, ...]  # literal text each pattern starts with (fast pre-check)
    closers: tuple[str, ...]
    count: int  # number of patterns (groups are a{i}, n{i}, h{i})
    # per pattern: group numbers of (answer, hint, number); 0 when the pattern has none
    fields: tuple[tuple[int, int, int], ...] = ()


def _pattern_regex(pattern: str, i: int) -> tuple[str, str, str]:
    if "answer" not in pattern:
        raise ConfigError(f"cloze pattern {pattern!r} has no 'answer' keyword",
                          hint="write it like {{[123;;]answer[;;hint]}}")
    out: list[str] = []
    pos = 0
    for m in _OPTIONAL.finditer(pattern):
        out.append(_literal(pattern[pos:m.start()], i))
        inner = m[1]
        if "hint" in inner:
            before, _, after = inner.partition("hint")
            out.append(f"(?:{re.escape(before)}(?P<h{i}>.+?){re.escape(after)})?")
        elif re.search(r"\d", inner):
            parts = re.split(r"\d+", inner, maxsplit=1)
            out.append(f"(?:{re.escape(parts[0])}(?P<n{i}>\\d+){re.escape(parts[1])})?")
        else:
            out.append(re.escape(m[0]))
        pos = m.end()
    out.append(_literal(pattern[pos:], i))
    body = "".join(out)
    head = pattern.split("answer")[0]
    head = _OPTIONAL.split(head)[0]
    tail = pattern.split("answer")[-1]
    tail = _OPTIONAL.sub("", tail)
    return body, head, tail


def _literal(text: str, i: int) -> str:
    if "answer" in text:
        before, _, after = text.partition("answer")
        return f"{re.escape(before)}(?P<a{i}>.+?){re.escape(after)}"
    return re.escape(text)


@lru_cache(maxsize=16)
def compile_cloze(patterns: tuple[str, ...]) -> ClozeSyntax:
    if not patterns:
        return ClozeSyntax(re.compile(r"(?!x)x"), (), (), 0)
    bodies, heads, tails = [], [], []
    for i, pattern in enumerate(patterns):
        body, head, tail = _pattern_regex(pattern, i)
        bodies.append(f"(?:{body})")
        heads.append(head)
        tails.append(tail)
    if any(not h or not t for h, t in zip(heads, tails, strict=True)):
        raise ConfigError(f"cloze patterns {list(patterns)} need text before and after 'answer'")
    regex = re.compile("|".join(bodies))
    index = regex.groupindex
    fields = tuple((index[f"a{i}"], index.get(f"h{i}", 0), index.get(f"n{i}", 0))
                   for i in range(len(patterns)))
    return ClozeSyntax(regex, tuple(heads), tuple(tails), len(patterns), fields)


def match_fields(m: re.Match[str], syntax: ClozeSyntax) -> tuple[str, str | None, int | None]:
    """(answer, hint, number) of a match of ``syntax.regex``."""
    groups = m.groupdict()
    for i in range(syntax.count):
        answer = groups.get(f"a{i}")
        if answer is not None:
            number = groups.get(f"n{i}")
            return answer, groups.get(f"h{i}"), int(number) if number is not None else None
    raise AssertionError("a cloze match without an answer group")

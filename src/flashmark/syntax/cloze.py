"""Cloze patterns in the OSR plugin's syntax, compiled to one regular expression.

`{@{[123;;]answer[;;hint]}@}`: the literal text around the keyword ``answer`` is the
delimiter; an optional ``[...]`` holding digits before ``answer`` is the group number,
an optional ``[...]`` holding ``hint`` after it is the hint. A deletion is on one line
and non-greedy: it ends at the first closing delimiter.

The regex only finds ``head(.+?)tail``; number and hint are then split off the inner
text with string operations. That gives the same result as OSR's regex (lazy answer,
then an optional hint up to the delimiter) and is several times faster in Python's
`re`, which scans for the literal tail instead of backtracking at every character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from flashmark.errors import ConfigError

_OPTIONAL = re.compile(r"\[([^\]]*)\]")
_DIGITS = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class PatternParts:
    head: str
    tail: str
    number: tuple[str, str] | None  # text around the digits, e.g. ("", ";;")
    hint: tuple[str, str] | None  # text around the hint, e.g. (";;", "")


@dataclass(frozen=True, slots=True)
class ClozeSyntax:
    regex: re.Pattern[str]
    parts: tuple[PatternParts, ...]
    openers: tuple[str, ...]
    # per pattern: strings whose absence from a deletion means "no number, no hint"
    markers: tuple[tuple[str, ...], ...]
    # finds "head + text before the number + a digit": where it finds nothing, no
    # deletion of the text is numbered (None: no pattern has a number)
    number_probe: re.Pattern[str] | None = None

    def numbered(self, m: re.Match[str]) -> bool:
        """Does this match carry a group number (`{@{2;;x}@}`)? (cheap pre-check)"""
        i = m.lastindex or 1
        number = self.parts[i - 1].number
        if number is None:
            return False
        inner = m.group(i)
        return inner.startswith(number[0]) and inner[len(number[0]):][:1] in _DIGITS and \
            self.fields(m)[2] is not None

    def count(self, text: str) -> int:
        """``len(self.regex.findall(text))``; with one pattern by ``str.find``, which is
        faster than the regex's lazy scan: a deletion is the first tail after the head
        (at least one character later) with no newline in between."""
        if len(self.parts) != 1:
            return len(self.regex.findall(text))
        head, tail = self.parts[0].head, self.parts[0].tail
        found = 0
        at = text.find(head)
        while at >= 0:
            end = text.find(tail, at + len(head) + 1)
            if end < 0:
                break
            if text.find("\n", at + len(head), end) < 0:
                found += 1
                at = text.find(head, end + len(tail))
            else:
                at = text.find(head, at + 1)
        return found

    def fields(self, m: re.Match[str]) -> tuple[str, str | None, int | None]:
        """(answer, hint, number) of a match of ``regex``."""
        i = m.lastindex or 1
        inner = m.group(i)
        markers = self.markers[i - 1]
        if not any(mk in inner for mk in markers):
            return inner, None, None
        part = self.parts[i - 1]
        number: int | None = None
        hint: str | None = None
        if part.number is not None:
            before, after = part.number
            if inner.startswith(before):
                digits_end = len(before)
                # ASCII digits only, like the plugin's JavaScript `\\d`
                while digits_end < len(inner) and inner[digits_end] in _DIGITS:
                    digits_end += 1
                if (digits_end > len(before) and inner.startswith(after, digits_end)
                        and len(inner) > digits_end + len(after)):
                    number = int(inner[len(before):digits_end])
                    inner = inner[digits_end + len(after):]
        if part.hint is not None:
            before, after = part.hint
            cut = inner.find(before, 1) if before else -1
            if cut > 0 and inner.endswith(after) and len(inner) - len(after) > cut + len(before):
                hint = inner[cut + len(before):len(inner) - len(after)]
                inner = inner[:cut]
        return inner, hint, number


def parse_pattern(pattern: str) -> PatternParts:
    if pattern.count("answer") != 1:
        raise ConfigError(f"cloze pattern {pattern!r} must contain the keyword 'answer' once",
                          hint="write it like {@{[123;;]answer[;;hint]}@}")
    before, _, after = pattern.partition("answer")
    number = hint = None
    m = _OPTIONAL.search(before)
    if m is not None:
        inner = m[1]
        digits = re.search(r"\d+", inner)
        if digits is None or m.end() != len(before):
            raise ConfigError(f"cloze pattern {pattern!r}: only a group number like [123;;] "
                              "may stand right before 'answer'")
        number = (inner[:digits.start()], inner[digits.end():])
        before = before[:m.start()]
    m = _OPTIONAL.search(after)
    if m is not None:
        inner = m[1]
        if "hint" not in inner or m.start() != 0:
            raise ConfigError(f"cloze pattern {pattern!r}: only a hint like [;;hint] may "
                              "stand right after 'answer'")
        h_before, _, h_after = inner.partition("hint")
        hint = (h_before, h_after)
        after = after[m.end():]
    if not before or not after:
        raise ConfigError(f"cloze pattern {pattern!r} needs text before and after 'answer'")
    return PatternParts(before, after, number, hint)


def _markers(part: PatternParts) -> tuple[str, ...]:
    """Strings one of which a deletion holds when it may have a number or a hint."""
    out: list[str] = []
    if part.number is not None:
        # the text after the digits, or any digit when nothing follows them
        out.extend([part.number[1]] if part.number[1] else "0123456789")
    if part.hint is not None and (part.hint[0] or part.hint[1]):
        out.append(part.hint[0] or part.hint[1])
    return tuple(out)


@lru_cache(maxsize=32)
def compile_cloze(patterns: tuple[str, ...]) -> ClozeSyntax:
    parts = tuple(parse_pattern(p) for p in patterns)
    if not parts:
        return ClozeSyntax(re.compile(r"(?!x)x"), (), (), ())
    regex = "|".join(f"{re.escape(p.head)}(.+?){re.escape(p.tail)}" for p in parts)
    markers = tuple(_markers(p) for p in parts)
    probes = [re.escape(p.head + p.number[0]) + "[0-9]" for p in parts if p.number is not None]
    probe = re.compile("|".join(probes)) if probes else None
    return ClozeSyntax(re.compile(regex), parts, tuple(p.head for p in parts), markers, probe)


def for_text(syntax: ClozeSyntax, patterns: tuple[str, ...], text: str) -> ClozeSyntax:
    """The syntax restricted to the patterns whose opener occurs in ``text``: a regex
    with one alternative is faster (its literal prefix is searched directly)."""
    if len(patterns) < 2:
        return syntax
    present = tuple(p for p, part in zip(patterns, syntax.parts, strict=True) if part.head in text)
    if len(present) == len(patterns):
        return syntax
    return compile_cloze(present)

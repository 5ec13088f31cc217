"""Deck patterns: which decks a ``--deck`` (or a ``review.decks`` key) selects.

This is the one deck matcher: `scan`, `due`, `stats`, `review`, `export` and the
per-deck review settings all select decks through `DeckPattern` / `DeckSelection`.

A card's deck is its tag path (``flashcard/active/business/customers``) or None. A
pattern (documented in the README, "Deck patterns"):

- is read after removing spaces around it, a leading ``#`` and ``/`` at either end;
  ``::`` (Anki's separator) is the same as ``/``;
- ignores case, as Obsidian tags and Anki deck names do;
- selects every deck it matches *and their sub-decks*: ``flashcard/active/business``
  selects ``flashcard/active/business/customers``, but not ``flashcard/active/businessplan``
  (a prefix counts only up to a ``/``);
- may hold wildcards: ``*`` matches any run of characters, ``/`` included, as in Anki's
  ``deck:`` search (so ``**`` means the same as ``*``); ``?`` matches one character
  other than ``/``. No other character is special (tags cannot hold ``[``).

So ``flashcard/active/business/cust*`` selects ``.../business/customers`` and its
sub-decks, and ``*/customers`` selects every ``customers`` deck at any depth.

A pattern that selects no deck of the vault is an `UnknownDeckError` naming the closest
existing decks (`DeckSelection.require_known`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from flashmark.errors import UnknownDeckError

__all__ = ["DeckPattern", "DeckSelection", "closest_decks", "normalize_deck_pattern"]

WILDCARDS = "*?"
SUGGESTIONS = 5  # closest decks named when a pattern selects nothing
CLOSE = 0.7  # difflib's similarity from which a deck is worth suggesting


def normalize_deck_pattern(text: str) -> str:
    """The pattern as matched: no spaces around, no leading ``#``, ``::`` as ``/``, no
    ``/`` at either end, case folded."""
    return text.strip().lstrip("#").replace("::", "/").strip("/").casefold()


class DeckPattern:
    """One deck pattern (see the module's docstring for the rules)."""

    __slots__ = ("_depths", "_exact", "_memo", "_regex", "normalized", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.normalized = normalize_deck_pattern(text)
        body = "".join(".*" if c == "*" else "[^/]" if c == "?" else re.escape(c)
                       for c in re.sub(r"\*+", "*", self.normalized))
        self._exact = re.compile(body, re.DOTALL)
        # The deck itself or any of its sub-decks.
        self._regex = re.compile(f"(?:{body})(?:/.*)?", re.DOTALL)
        self._memo: dict[str | None, bool] = {}  # a vault has few decks and many cards
        self._depths: dict[str, int] = {}

    def selects(self, deck: str | None) -> bool:
        """Does the pattern select ``deck`` (a tag path; None: a card without deck)?"""
        hit = self._memo.get(deck)
        if hit is None:
            hit = self._memo[deck] = (deck is not None and bool(self.normalized)
                                      and self._regex.fullmatch(deck.casefold()) is not None)
        return hit

    def depth(self, deck: str) -> int:
        """How many parts of ``deck`` the pattern matches: the deck itself (all its parts)
        or the nearest parent deck it matches; 0 when it does not select ``deck``."""
        found = self._depths.get(deck)
        if found is None:
            found = 0
            if self.selects(deck):
                parts = deck.casefold().split("/")
                found = next(k for k in range(len(parts), 0, -1)
                             if self._exact.fullmatch("/".join(parts[:k])))
            self._depths[deck] = found
        return found

    def literal_length(self) -> int:
        return sum(c not in WILDCARDS for c in self.normalized)

    def __repr__(self) -> str:
        return f"DeckPattern({self.text!r})"


class DeckSelection:
    """The decks selected by any of several patterns (none: every card, decks or not)."""

    __slots__ = ("patterns",)

    def __init__(self, patterns: Iterable[str] | str | None) -> None:
        if patterns is None:
            patterns = ()
        elif isinstance(patterns, str):
            patterns = (patterns,)
        self.patterns = tuple(DeckPattern(p) for p in patterns)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def selects(self, deck: str | None) -> bool:
        if not self.patterns:
            return True
        return any(p.selects(deck) for p in self.patterns)

    def require_known(self, decks: Iterable[str | None]) -> None:
        """Raise `UnknownDeckError` for the first pattern that selects none of ``decks``
        (the decks that hold cards in the vault), naming the closest ones."""
        known = sorted({d for d in decks if d is not None})
        for pattern in self.patterns:
            if not any(pattern.selects(d) for d in known):
                raise UnknownDeckError(pattern.text, closest_decks(pattern.normalized, known),
                                       len(known))


def _deck_and_parents(decks: Iterable[str]) -> list[str]:
    out: dict[str, None] = {}
    for deck in decks:
        parts = deck.split("/")
        for k in range(1, len(parts) + 1):
            out["/".join(parts[:k])] = None
    return list(out)


def closest_decks(wanted: str, decks: Iterable[str], n: int = SUGGESTIONS) -> list[str]:
    """The decks (or parent decks) most like the pattern ``wanted``, best first: by the
    part of the path after what they share (``flashcard/active/genral`` finds
    ``flashcard/active/general``), by the last part alone (``customer`` finds
    ``.../business/customers``), and the decks whose last part the pattern's last part
    matches at another depth (``a/b/cust*`` finds ``a/c/customers``)."""
    folded_wanted = normalize_deck_pattern(wanted)
    literal = folded_wanted.replace("*", "").replace("?", "")
    if not literal.strip("/"):
        return []
    wanted_parts = literal.split("/")
    tail = wanted_parts[-1]
    tail_glob = DeckPattern(folded_wanted.rsplit("/", 1)[-1]) if "/" in folded_wanted else None
    matcher = difflib.SequenceMatcher(autojunk=False)

    def ratio(a: str, b: str) -> float:
        matcher.set_seqs(a, b)
        return matcher.ratio() if matcher.real_quick_ratio() >= CLOSE else 0.0

    scored: list[tuple[float, str]] = []
    for deck in _deck_and_parents(decks):
        parts = deck.casefold().split("/")
        shared = 0
        while (shared < min(len(parts), len(wanted_parts))
               and parts[shared] == wanted_parts[shared]):
            shared += 1
        score = ratio("/".join(wanted_parts[shared:]), "/".join(parts[shared:]))
        if tail:
            score = max(score, 0.95 * ratio(tail, parts[-1]))  # a path match wins a tie
        if len(tail) >= 3 and tail in parts[-1]:  # `customer`: `customer_development`
            score = max(score, 0.85)
        if tail_glob is not None and tail_glob.selects(parts[-1]):
            score = max(score, 0.9)
        if score >= CLOSE:
            scored.append((score, deck))
    scored.sort(key=lambda s: (-s[0], len(s[1]), s[1]))
    return [deck for _, deck in scored[:n]]

"""The `review:` section of `flashmark.yaml`: daily limits, sibling burying, order.

```yaml
review:
  new_per_day: 20          # new cards a day for every deck without a limit of its own
  decks:                   # a deck (with its sub-decks) gets its own daily new-card limit
    flashcard/active/general/eng: 5
    flashcard/active/special: 0     # 0: no new cards from this deck for now
  bury_siblings: true      # the other cards of a question wait for the next day
  order: due               # due (oldest due first, new cards in note order) | random | deck
  learn_ahead: 20m         # when nothing else is left, show learning cards due this soon
  math: unicode            # unicode (LaTeX shown as Unicode text) | source (as LaTeX)
```

Limits: every card belongs to one *limit group*, the most specific deck under `decks:`
that contains it (a tag path prefix, `#` optional), or else the shared group limited by
`new_per_day`. Each group introduces at most its limit of new cards per local day
(counted from the review log), whichever deck is being reviewed.

Read by this module itself (PyYAML, imported only when the file exists); a wrong key
or type is a ConfigError naming the key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flashmark.config import CONFIG_FILE, parse_duration, read_config_yaml
from flashmark.errors import ConfigError

ORDERS = ("due", "random", "deck")
MATH_MODES = ("unicode", "source")  # review.card_view.MathMode
SHARED = ""  # the limit group of cards in no configured deck


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    new_per_day: int = 20
    deck_limits: tuple[tuple[str, int], ...] = field(default=())  # (deck prefix, limit)
    bury_siblings: bool = True
    order: str = "due"
    learn_ahead: dt.timedelta = dt.timedelta(minutes=20)
    math: str = "unicode"  # one of MATH_MODES

    def group_of(self, deck: str | None) -> str:
        """The limit group of a card's deck: the longest configured prefix, or SHARED."""
        best = SHARED
        if deck is None:
            return best
        for prefix, _ in self.deck_limits:
            if (deck == prefix or deck.startswith(prefix + "/")) and len(prefix) > len(best):
                best = prefix
        return best

    def limit_of(self, group: str) -> int:
        if group == SHARED:
            return self.new_per_day
        return dict(self.deck_limits)[group]

    @property
    def groups(self) -> list[str]:
        return [SHARED, *(p for p, _ in self.deck_limits)]


_KEYS = {"new_per_day", "decks", "bury_siblings", "order", "learn_ahead", "math"}


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where} must be a whole number >= 0, got {value!r}")
    return value


def review_settings_from(data: Any, source: str = CONFIG_FILE) -> ReviewSettings:
    """Validate the value of the `review:` key (None: all defaults)."""
    if data is None:
        return ReviewSettings()
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: 'review' must be a mapping",
                          hint="for example: review: {new_per_day: 20, order: due}")
    unknown = set(data) - _KEYS
    if unknown:
        names = ", ".join(sorted(map(str, unknown)))
        raise ConfigError(f"{source}: unknown review setting(s) {names}",
                          hint=f"known: {', '.join(sorted(_KEYS))}")
    out: dict[str, Any] = {}
    if "new_per_day" in data:
        out["new_per_day"] = _count(data["new_per_day"], f"{source}: review.new_per_day")
    if "decks" in data:
        decks = data["decks"] or {}
        if not isinstance(decks, dict):
            raise ConfigError(f"{source}: review.decks must map deck names to limits",
                              hint="for example: decks: {flashcard/active/general: 10}")
        limits: list[tuple[str, int]] = []
        for deck, limit in decks.items():
            if not isinstance(deck, str) or not deck.strip().lstrip("#").strip("/"):
                raise ConfigError(f"{source}: review.decks: {deck!r} is not a deck name")
            name = deck.strip().lstrip("#").strip("/")
            limits.append((name, _count(limit, f"{source}: review.decks.{name}")))
        out["deck_limits"] = tuple(limits)
    if "bury_siblings" in data:
        if not isinstance(data["bury_siblings"], bool):
            raise ConfigError(f"{source}: review.bury_siblings must be true or false, "
                              f"got {data['bury_siblings']!r}")
        out["bury_siblings"] = data["bury_siblings"]
    if "order" in data:
        if data["order"] not in ORDERS:
            raise ConfigError(f"{source}: review.order must be one of {', '.join(ORDERS)}, "
                              f"got {data['order']!r}")
        out["order"] = data["order"]
    if "learn_ahead" in data:
        value = data["learn_ahead"]
        out["learn_ahead"] = (dt.timedelta(0) if value in (0, "0") else
                              parse_duration(value, f"{source}: review.learn_ahead"))
    if "math" in data:
        if data["math"] not in MATH_MODES:
            raise ConfigError(f"{source}: review.math must be one of {', '.join(MATH_MODES)}, "
                              f"got {data['math']!r}")
        out["math"] = data["math"]
    return ReviewSettings(**out)


def load_review_settings(vault: Path) -> ReviewSettings:
    """The vault's `review:` settings (defaults when there is no flashmark.yaml)."""
    data = read_config_yaml(vault)
    if data is None:
        return ReviewSettings()
    return review_settings_from(data.get("review"), CONFIG_FILE)

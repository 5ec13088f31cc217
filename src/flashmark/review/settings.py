"""The `review:` section of `flashmark.yaml`: daily limits, sibling burying, order.

```yaml
review:
  new_per_day: 20          # new cards a day for every deck without a limit of its own
  max_reviews_per_day: 200 # review cards a day, likewise (default: none)
  new_ignores_review_limit: false   # Anki's option of that name
  decks:                   # a deck (with its sub-decks) gets its own daily limits
    flashcard/active/general/eng: 5   # a number: its new cards a day
    flashcard/active/special: {new_per_day: 0, max_reviews_per_day: 50}
  bury_siblings: true      # the other cards of a question wait for the next day
  order: due               # due (oldest due first, new cards in note order) | overdue
                           # (relative overdueness, as Anki) | random | deck
  learn_ahead: 20m         # when nothing else is left, show learning cards due this soon
  math: unicode            # unicode (LaTeX shown as Unicode text) | source (as LaTeX)
  leech_threshold: 8       # lapses that make a card a leech (0: never)
  leech_action: tag        # tag | suspend
```

Limits (`review.limits`, as Anki's): a card is bounded by every deck pattern under
`decks:` that selects it (a deck pattern as for `--deck`, see `flashmark.decks`: a deck
with its sub-decks, `*`/`?` globs, `::` for `/`, any case), so a parent deck's limits
bound its sub-decks; or else by the shared limits `new_per_day` / `max_reviews_per_day`.
Each group's limits hold for the local day (counted from the review log), whichever deck
is being reviewed. ``group_of`` (the most specific pattern: matching the deck itself or
its nearest parent, then most literal characters) names the group a new card's budget is
kept in by the session.

The keys, their types and ranges are declared with the rest of the settings schema in
``flashmark.config`` (``ReviewSettings`` lives there and is re-exported here), so every
command checks the ``review:`` section when it reads the settings: a wrong key or value
is one ConfigError naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path

from flashmark.config import (
    CONFIG_FILE,
    MATH_MODES,
    ORDERS,
    SHARED,
    ReviewSettings,
    load_settings,
    review_section,
)

__all__ = ["MATH_MODES", "ORDERS", "SHARED", "ReviewSettings", "load_review_settings",
           "review_settings_from"]


def review_settings_from(data: object, source: str = CONFIG_FILE) -> ReviewSettings:
    """Validate the value of the `review:` key (None: all defaults)."""
    return review_section(data, source)


def load_review_settings(vault: Path) -> ReviewSettings:
    """The vault's `review:` settings (defaults when there is no flashmark.yaml); the
    whole file is checked, as for every command."""
    return load_settings(vault).review

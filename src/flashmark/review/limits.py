"""Daily limits, as Anki's v3 scheduler applies them (its manual, "Deck Options").

Each card is bounded by its *limit groups* (`ReviewSettings.pools_of`): every deck
pattern under ``review.decks`` that selects its deck (so a parent deck's limits bound
its sub-decks), or the shared group of ``review.new_per_day`` /
``review.max_reviews_per_day`` when no pattern selects it. A group's limits hold for
the whole day, whichever deck is being reviewed (Anki's "limits start from the top").

The rules, from Anki's manual and its scheduler:

* Reviews: at most the review limit of each of the card's groups, minus the reviews of
  that group done today. Cards in (re)learning steps are not limited.
* New cards: at most the new-card limit minus the new cards introduced today, and, unless
  ``review.new_ignores_review_limit``, no more than the review limit leaves: "if the
  review limit is 200 and 190 reviews are waiting, at most 10 new cards are shown". So a
  new card introduced today also counts against the review limit then.
* Cards are taken in queue order; a card is taken only when every one of its groups has
  room, and taking it uses room in every one of them.

The counts after limits do not depend on the order when the groups nest (a deck
pattern's sub-decks are in it); `gather` is the one place that applies them, for the
queue, the deck list, `due` and `scan`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from flashmark.config import ReviewSettings


class HasDeck(Protocol):
    @property
    def deck(self) -> str | None: ...


C = TypeVar("C", bound=HasDeck)


@dataclass(slots=True)
class Room:
    """What a limit group may still take today (math.inf: no limit)."""

    new: float
    review: float


class DailyLimits:
    """Today's room in each limit group, after what was done today."""

    def __init__(self, settings: ReviewSettings, *, new_done: Iterable[str | None] = (),
                 reviews_done: Iterable[str | None] = ()) -> None:
        """``new_done``: the decks of the new cards introduced today (one per card);
        ``reviews_done``: the decks of the review cards reviewed today (one per card)."""
        self.settings = settings
        self.capped = not settings.new_ignores_review_limit
        self._pools: dict[str | None, tuple[str, ...]] = {}
        self.room: dict[str, Room] = {}
        for group in settings.groups:
            review = settings.review_limit_of(group)
            self.room[group] = Room(float(settings.limit_of(group)),
                                    math.inf if review is None else float(review))
        for deck in reviews_done:
            for group in self.pools_of(deck):
                self.room[group].review -= 1
        for deck in new_done:
            for group in self.pools_of(deck):
                room = self.room[group]
                room.new -= 1
                if self.capped:
                    room.review -= 1
        if self.capped:
            for room in self.room.values():
                room.new = min(room.new, room.review)

    def pools_of(self, deck: str | None) -> tuple[str, ...]:
        found = self._pools.get(deck)
        if found is None:
            found = self._pools[deck] = self.settings.pools_of(deck)
        return found

    def gather(self, reviews: Sequence[C], new: Sequence[C]
                           ) -> tuple[list[C], list[C]]:
        """The review cards and new cards (each in the order given) that today's limits
        let through; the room is not used up (call `take` for that)."""
        room = {g: Room(r.new, r.review) for g, r in self.room.items()}
        pools_of = self.pools_of
        capped = self.capped
        taken_reviews: list[C] = []
        if all(r.review == math.inf for r in room.values()):
            taken_reviews = list(reviews)  # no review limit (the default): all of them
            reviews = ()
        for card in reviews:
            groups = pools_of(card.deck)
            if all(room[g].review >= 1 for g in groups):
                taken_reviews.append(card)
                for g in groups:
                    r = room[g]
                    r.review -= 1
                    if capped and r.new > r.review:
                        r.new = r.review
        taken_new: list[C] = []
        for card in new:
            groups = pools_of(card.deck)
            if all(room[g].new >= 1 for g in groups):
                taken_new.append(card)
                for g in groups:
                    r = room[g]
                    r.new -= 1
                    if capped:
                        r.review -= 1
        return taken_reviews, taken_new


__all__ = ["DailyLimits", "Room"]

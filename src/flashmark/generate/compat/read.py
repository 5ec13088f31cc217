"""`pytextgen.compat.read`: reading the flashcard states of a location.

flashmark's version does not hand the old SR comments to the helpers: each card gets a
*slot* instead (`SLOT`, a NUL character, written where pytextgen writes a card's comment),
and the section writer puts each old comment into the slot of the card with the same text
(``generate/states.py``), keeping every entry (pytextgen re-attached them by position and
kept only legacy entries). Unused slots vanish. A string is read as pytextgen reads it,
every entry kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import repeat

from flashmark.generate.compat.util import SLOT, FlashcardStateGroup, Location


class _Slot(FlashcardStateGroup):
    """Stands for "this card's SR comment goes here"."""

    def __str__(self) -> str:
        return SLOT


_SLOT = _Slot()
MAX_SLOTS = 1_000_000  # bounded, so that note code calling list() on the states ends


async def read_flashcard_states(source: str | Location) -> Iterator[FlashcardStateGroup]:
    if isinstance(source, Location):
        return repeat(_SLOT, MAX_SLOTS)
    return FlashcardStateGroup.compile_many(source)


__all__ = ["read_flashcard_states"]

"""Frozen data types shared by every layer.

Offsets: ``Span.start``/``Span.end`` are byte offsets into the note's file bytes
(a UTF-8 BOM, when present, counts as its 3 bytes), so a writer can splice the file
without decoding it again. Lines are 0-based here; the CLI shows them 1-based.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Final, Literal, NamedTuple, NewType

CardId = NewType("CardId", str)

# --- named states and kinds ---------------------------------------------------------
# The one place each set of short strings is spelled; everything else uses these names.

# A card's schedule state in a note's summary (vault.codec): one letter, because the
# index stores a summary tuple per card.
CardState = Literal["n", "l", "r", "?"]
STATE_NEW: Final = "n"
STATE_LEARNING: Final = "l"  # learning or relearning (FSRS states 1 and 3)
STATE_REVIEW: Final = "r"
STATE_UNREADABLE: Final = "?"

# Which of today's queues a card waits in (review.queue).
QueueKind = Literal["new", "learning", "review"]
NEW_CARD: Final = "new"
LEARNING: Final = "learning"
REVIEW: Final = "review"

# What a card is today (review.today.cards_today): the one answer every count, the
# queue, the deck list and search (`is:due`, `is:buried`...) share. Exactly one per card.
TodayStatus = Literal["new", "learning", "due", "later", "suspended", "buried", "sibling",
                      "unreadable"]
TODAY_NEW: Final = "new"  # never reviewed, not held back: a candidate for today
TODAY_LEARNING: Final = "learning"  # in (re)learning steps, due before today ends
TODAY_DUE: Final = "due"  # a review card due today (overdue included)
TODAY_LATER: Final = "later"  # scheduled for a later day (or a learning step after today)
TODAY_SUSPENDED: Final = "suspended"  # a `suspend` event not undone or un-suspended
TODAY_BURIED: Final = "buried"  # a `bury` event in effect
TODAY_SIBLING: Final = "sibling"  # new or due, but another card of its question was
#                                   reviewed today (bury_siblings): back tomorrow
TODAY_UNREADABLE: Final = "unreadable"  # an SR entry flashmark cannot read
# The statuses a card is waiting in today's queue with, before daily limits.
WAITING_TODAY: Final = frozenset({TODAY_NEW, TODAY_LEARNING, TODAY_DUE})

# What a lapsed card's leech does (review.leech_action), as in Anki.
LeechAction = Literal["tag", "suspend"]
LEECH_TAG: Final = "tag"  # only marked (a `leech` log event) and shown as a leech
LEECH_SUSPEND: Final = "suspend"  # marked, and suspended

# What a review session can undo (review.session).
ActionKind = Literal["rate", "bury", "suspend"]
ACTION_RATE: Final = "rate"
ACTION_BURY: Final = "bury"
ACTION_SUSPEND: Final = "suspend"

# The Anki note type a question exports as (export.models): basic, reversed, cloze.
AnkiModelKind = Literal["b", "r", "c"]
MODEL_BASIC: Final = "b"
MODEL_REVERSED: Final = "r"
MODEL_CLOZE: Final = "c"

# What `flashmark generate` does with the sections it recomputes (generate.engine).
GenerateMode = Literal["write", "check", "diff"]
MODE_WRITE: Final = "write"  # write them into the notes
MODE_CHECK: Final = "check"  # only list the stale ones
MODE_DIFF: Final = "diff"  # only show the changes

Severity = Literal["error", "warning"]
ERROR: Final = "error"
WARNING: Final = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something wrong that a command reports: in a note, a file, the review log or a
    generated section. The one problem record of every layer.

    ``path`` is vault-relative ("" while parsing a text whose path the parser does not
    know: the caller that knows it reports it); ``line`` is 0-based, None for the whole
    file; ``code`` is a stable short name (e.g. "sr-count-mismatch").
    """

    path: str
    line: int | None
    severity: Severity
    code: str
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line + 1}"
        return f"{where}: {self.severity}: {self.message}"



class QuestionType(StrEnum):
    ONE_SIDED = "one_sided"
    REVERSIBLE = "reversible"
    MULTILINE = "multiline"
    MULTILINE_REVERSIBLE = "multiline_reversible"
    CLOZE = "cloze"


class Rating(StrEnum):
    AGAIN = "again"
    HARD = "hard"
    GOOD = "good"
    EASY = "easy"


# Span and Deletion are NamedTuples: a scan builds hundreds of thousands of them and a
# tuple is several times cheaper to create than a frozen dataclass.


class Span(NamedTuple):
    """A byte range of the file with the 0-based lines it starts and ends on."""

    start: int
    end: int
    line: int
    end_line: int


class Deletion(NamedTuple):
    """One cloze deletion: its offsets are into ``Question.text`` (characters)."""

    start: int
    end: int
    answer: str
    hint: str | None
    number: int | None  # explicit group number (`{@{2;;x}@}`), None when unnumbered


# --- SR entries -----------------------------------------------------------------
# Every entry keeps ``text``: its exact source (without the leading "!"), so that a
# comment whose entries are not touched is written back byte for byte.


@dataclass(frozen=True, slots=True)
class Sm2Entry:
    """Legacy `!YYYY-MM-DD,interval,ease` entry (ease is the SM-2 factor x100)."""

    due: dt.date
    interval: int
    ease: int
    text: str

    @property
    def is_new(self) -> bool:
        """Any entry dated 2000-01-01 (the placeholder `!2000-01-01,1,250`) means "never
        reviewed", as for the plugin. Interval 0 does not: the plugin's SM-2 writes it on
        Again, for a lapsed card due on its date."""
        return self.due == NEW_CARD_DATE


@dataclass(frozen=True, slots=True)
class FsrsEntry:
    """`!fsrs,DUE,IVL,S,D,STATE,REPS,LAPSES,STEP,LAST` as the OSR plugin writes it."""

    due: dt.datetime  # aware, UTC
    interval: int
    stability: float
    difficulty: float
    state: int  # 0 new, 1 learning, 2 review, 3 relearning
    reps: int
    lapses: int
    step: int
    last_review: dt.datetime | None
    text: str

    @property
    def is_new(self) -> bool:
        return self.state == 0


@dataclass(frozen=True, slots=True)
class RawEntry:
    """An entry we could not read: kept verbatim, reported by `flashmark check`."""

    text: str
    reason: str

    @property
    def is_new(self) -> bool:
        return False


SrEntry = Sm2Entry | FsrsEntry | RawEntry

PLACEHOLDER_TEXT = "2000-01-01,1,250"
# The plugin's date for a sibling never reviewed: an entry on it is new to the plugin
# (its comment parser returns no schedule for it, whatever the interval and ease say).
NEW_CARD_DATE = dt.date(2000, 1, 1)


@dataclass(frozen=True, slots=True)
class SrComment:
    """A `<!--SR:...-->` comment: where it is and its body (between "SR:" and "-->").

    The entries are decoded on demand (``flashmark.syntax.srcodec.parse_body``): a
    scan of a large vault needs only each entry's due date, not full objects.
    """

    span: Span
    body: str

    @property
    def lead(self) -> int:
        """Characters of whitespace before the first "!" (`<!--SR: !...`, which the
        plugin reads too); 0 for the old single-card form."""
        body = self.body
        if body[:1] == "!":
            return 0
        stripped = body.lstrip()
        return len(body) - len(stripped) if stripped[:1] == "!" else 0

    @property
    def legacy_single(self) -> bool:
        """The old single-card form `<!--SR:date,ivl,ease-->` (no leading "!")."""
        return not self.body.startswith("!", self.lead)

    @property
    def entry_count(self) -> int:
        """``len(self.entry_texts)``, without splitting."""
        if self.legacy_single:
            return 1 if self.body else 0
        return self.body.count("!")

    @property
    def entry_texts(self) -> list[str]:
        if self.legacy_single:
            return [self.body] if self.body else []
        return self.body[self.lead + 1:].split("!")


ClozeParts = tuple[tuple["Deletion", ...], tuple[tuple[int, ...], ...]]


@dataclass(frozen=True)
class Question:
    """One question as written in a note; it yields ``card_count`` cards (siblings).

    A cloze question's deletions are worked out when first asked for (``cloze_parts``
    computes them from ``text``): counting the cards, all a scan needs, is cheaper.
    """

    type: QuestionType
    span: Span  # first line start .. last line end (SR comment included)
    text: str  # the question's lines joined by "\n", SR comment removed
    front: str  # for cloze questions: empty (see ``deletions``)
    back: str
    sr: SrComment | None
    deck: str | None
    anchor: int  # byte offset where a new SR comment goes (after one space)
    ends_with_fence: bool  # a new SR comment must go on the next line
    ordinal: int = 0  # how many earlier questions in the note have the same text
    cloze_cards: int = 0  # cloze: how many cards (deletion groups) the block makes
    cloze_parts: Callable[[str], ClozeParts] | None = field(default=None, compare=False,
                                                             repr=False)
    # the text the card ids are computed from (flashmark.syntax.normalize.identity_text),
    # worked out once by the parser
    identity: str = field(default="", compare=False, repr=False)

    @cached_property
    def _cloze(self) -> ClozeParts:
        return self.cloze_parts(self.text) if self.cloze_parts is not None else ((), ())

    @property
    def deletions(self) -> tuple[Deletion, ...]:
        return self._cloze[0]

    @property
    def groups(self) -> tuple[tuple[int, ...], ...]:
        """Cloze: the deletion indexes each sibling asks."""
        return self._cloze[1]

    @property
    def card_count(self) -> int:
        if self.type is QuestionType.CLOZE:
            return self.cloze_cards
        if self.type in (QuestionType.REVERSIBLE, QuestionType.MULTILINE_REVERSIBLE):
            return 2
        return 1


_new_object = object.__new__
_set_attribute = object.__setattr__


def make_question(type: QuestionType, span: Span, text: str, front: str, back: str,
                  sr: SrComment | None, deck: str | None, anchor: int, ends_with_fence: bool,
                  cloze_cards: int, cloze_parts: Callable[[str], ClozeParts] | None,
                  identity: str) -> Question:
    """``Question(...)`` (ordinal 0) for the parser's inner loop.

    A frozen dataclass's ``__init__`` sets each of its 13 fields through
    ``object.__setattr__``; filling ``__dict__`` at once makes the same object in a third
    of the time, which a scan of 40,000 questions notices. tests/test_model.py checks
    that both give equal objects with the same fields.
    """
    question = _new_object(Question)
    _set_attribute(question, "__dict__", {
        "type": type, "span": span, "text": text, "front": front, "back": back, "sr": sr,
        "deck": deck, "anchor": anchor, "ends_with_fence": ends_with_fence, "ordinal": 0,
        "cloze_cards": cloze_cards, "cloze_parts": cloze_parts, "identity": identity})
    return question


@dataclass(frozen=True, slots=True)
class ParsedNote:
    """Everything the parser found in one note."""

    is_flashcard_note: bool
    deck: str | None
    tags: tuple[str, ...]
    questions: tuple[Question, ...]
    problems: tuple[Diagnostic, ...] = field(default=())  # path ""

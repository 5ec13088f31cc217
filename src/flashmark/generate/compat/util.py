"""`pytextgen.compat.util`: results, locations, flashcard groups and small helpers.

Schedules: in flashmark the helpers never see the old SR comments (`read_flashcard_states`
gives empty groups), so every generated card comes out bare; the section writer then
puts each old comment back on the card with the same text (see ``generate/states.py``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from abc import ABCMeta, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from collections.abc import Sequence as AbcSequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from inspect import isawaitable
from pathlib import Path
from typing import Any, Generic, TypeGuard, TypeVar, overload

from flashmark.generate.compat.config import CONFIG, FlashcardSeparatorType

T = TypeVar("T")
U = TypeVar("U")
T_co = TypeVar("T_co", covariant=True)


def export_seq(*seq: Any) -> dict[str, Any]:
    """What a module block returns: ``{name: object}`` for the data block's globals."""
    return {val.__name__: val for val in seq}


def identity(var: T) -> T:
    return var


def constant(var: T) -> Callable[..., T]:
    def func(*args: object, **kwargs: object) -> T:
        return var
    return func


def ignore_args(func: Callable[[], T]) -> Callable[..., T]:
    def func0(*args: object, **kwargs: object) -> T:
        return func()
    return func0


def affix_lines(text: str, /, *, prefix: str = "", suffix: str = "") -> str:
    return "\n".join(prefix + line + suffix for line in text.splitlines())


def strip_lines(text: str, /, *, chars: str | None = None) -> str:
    return "\n".join(line.strip(chars) for line in text.splitlines())


# --- punctuation -----------------------------------------------------------------


def _is_punct(char: str) -> bool:
    if char.isascii():
        return char in _ASCII_PUNCT
    return unicodedata.category(char).startswith("P")


_ASCII_PUNCT = frozenset(c for c in map(chr, range(128)) if unicodedata.category(c)[0] == "P")


def split_by_punctuations(text: str) -> Iterator[str]:
    """Cut after a run of punctuation that is followed by something else, except when
    the text so far is punctuation only: "a, b. c" gives "a,", " b.", " c"."""
    start = 0
    only_punct = True
    for i in range(1, len(text)):
        prev_p = _is_punct(text[i - 1])
        only_punct = only_punct and prev_p
        if prev_p and not only_punct and not _is_punct(text[i]):
            yield text[start:i]
            start = i
    yield text[start:]


# --- async helpers -----------------------------------------------------------------


class _Cached(Awaitable[T]):
    __slots__ = ("_done", "_error", "_result", "_value")

    def __init__(self, value: Any) -> None:
        if isinstance(value, _Cached):
            value = value._value
        self._value: Any = value
        self._done = not isawaitable(value)
        self._result: Any = None if not self._done else value
        self._error: BaseException | None = None

    def __await__(self) -> Generator[Any, None, T]:
        if self._done:
            if self._error is not None:
                raise self._error
            return self._result  # type: ignore[no-any-return]
        try:
            result = yield from self._value.__await__()
        except BaseException as exc:
            self._error, self._done = exc, True
            raise
        self._result, self._done = result, True
        return result  # type: ignore[no-any-return]


def wrap_async(value: Any) -> Awaitable[Any]:
    """An awaitable of ``value`` (awaited once, however often it is awaited)."""
    return _Cached(value)


# --- small functional helpers ------------------------------------------------------


class Unit(Generic[T_co]):
    """The identity monad the helpers are written with: ``Unit(x).map(f).counit()``."""

    __slots__ = ("_value",)

    def __init__(self, value: T_co) -> None:
        self._value = value

    def counit(self) -> T_co:
        return self._value

    def bind(self, func: Callable[[T_co], Any]) -> Any:
        return func(self._value)

    def extend(self, func: Callable[[Unit[T_co]], U]) -> Unit[U]:
        return Unit(func(self))

    def map(self, func: Callable[[T_co], U]) -> Unit[U]:
        return Unit(func(self._value))

    def join(self) -> Any:
        return self._value

    def duplicate(self) -> Unit[Unit[T_co]]:
        return Unit(self)


class IteratorSequence(AbcSequence[T_co]):
    """A sequence over an iterator, read only as far as needed (it may be infinite)."""

    __slots__ = ("_cache", "_iterator")

    def __init__(self, iterator: Iterator[T_co]) -> None:
        self._iterator: Iterator[T_co] | None = iterator
        self._cache: list[T_co] = []

    def _fill(self, length: int | None) -> None:
        it = self._iterator
        if it is None:
            return
        if length is None:
            self._cache.extend(it)
            self._iterator = None
            return
        while len(self._cache) < length:
            try:
                self._cache.append(next(it))
            except StopIteration:
                self._iterator = None
                return

    @overload
    def __getitem__(self, index: int) -> T_co: ...
    @overload
    def __getitem__(self, index: slice) -> AbcSequence[T_co]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            self._fill(None)
            return self._cache[index]
        self._fill(None if index < 0 else index + 1)
        return self._cache[index]

    def __len__(self) -> int:
        self._fill(None)
        return len(self._cache)


# --- flashcards ----------------------------------------------------------------------


class FlashcardGroup(AbcSequence[str], metaclass=ABCMeta):
    """A card or a group of sibling cards; ``str()`` is how it is written."""

    __slots__ = ()

    @abstractmethod
    def __str__(self) -> str: ...


@dataclass(frozen=True, slots=True)
class TwoSidedFlashcard(FlashcardGroup):
    left: str
    right: str
    reversible: bool = field(kw_only=True)

    def __str__(self) -> str:
        kind = FlashcardSeparatorType(reversible=self.reversible,
                                      multiline="\n" in self.left or "\n" in self.right)
        return CONFIG.flashcard_separators[kind].join((self.left, self.right))

    def __len__(self) -> int:
        return 2 if self.reversible else 1

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> AbcSequence[str]: ...

    def __getitem__(self, index: int | slice) -> Any:
        n = len(self)
        if isinstance(index, slice) or not -n <= index < n:
            raise IndexError(index)
        return str(self)


_CLOZE_PATTERNS: dict[tuple[str, str], re.Pattern[str]] = {}


@dataclass(frozen=True, slots=True)
class ClozeFlashcardGroup(FlashcardGroup):
    context: str
    token: tuple[str, str] = field(default=CONFIG.cloze_token, kw_only=True)
    _clozes: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = _CLOZE_PATTERNS.get(self.token)
        if pattern is None:
            left, right = map(re.escape, self.token)
            pattern = re.compile(f"{left}((?:(?!{right}).)+){right}")
            _CLOZE_PATTERNS[self.token] = pattern
        object.__setattr__(self, "_clozes", tuple(m[1] for m in pattern.finditer(self.context)))

    def __str__(self) -> str:
        return self.context

    def __len__(self) -> int:
        return len(self._clozes)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> AbcSequence[str]: ...

    def __getitem__(self, index: int | slice) -> Any:
        return self._clozes[index]


SLOT = "\0"  # where a card's SR comment goes (see compat/read.py and generate/states.py)

_LEGACY = re.compile(r"!(\d{4}-\d{2}-\d{2}),(\d+),(\d+)")
_COMMENT = re.compile(r"<!--SR:(.*?)-->")


@dataclass(frozen=True, slots=True, kw_only=True)
class FlashcardState:
    """A legacy `!date,interval,ease` entry."""

    date: dt.date
    interval: int
    ease: int

    def __str__(self) -> str:
        return f"!{self.date},{self.interval},{self.ease}"

    @classmethod
    def compile_many(cls, text: str) -> Iterator[FlashcardState]:
        for m in _LEGACY.finditer(text):
            yield cls(date=dt.date.fromisoformat(m[1]), interval=int(m[2]), ease=int(m[3]))

    @classmethod
    def compile(cls, text: str) -> FlashcardState:
        found = list(cls.compile_many(text))
        if len(found) != 1:
            raise ValueError(f"{'No' if not found else 'Too many'} matches: {text}")
        return found[0]


@dataclass(frozen=True, slots=True)
class VerbatimState:
    """Any other entry (FSRS, unreadable): kept exactly as written, without the "!"."""

    text: str

    def __str__(self) -> str:
        return "!" + self.text


class FlashcardStateGroup(tuple[Any, ...]):
    """The entries of one SR comment; ``str()`` is the comment ("" when empty)."""

    element_type = FlashcardState

    def __new__(cls, *items: Any) -> FlashcardStateGroup:
        if len(items) == 1 and not isinstance(items[0], FlashcardState | VerbatimState):
            return super().__new__(cls, items[0])
        return super().__new__(cls, items)

    def __str__(self) -> str:
        return "<!--SR:" + "".join(map(str, self)) + "-->" if self else ""

    @classmethod
    def compile_many(cls, text: str) -> Iterator[FlashcardStateGroup]:
        for m in _COMMENT.finditer(text):
            entries: list[Any] = []
            for part in m[1].split("!")[1:]:
                legacy = _LEGACY.fullmatch("!" + part)
                entries.append(FlashcardState(date=dt.date.fromisoformat(legacy[1]),
                                              interval=int(legacy[2]), ease=int(legacy[3]))
                               if legacy else VerbatimState(part))
            yield cls(entries)

    @classmethod
    def compile(cls, text: str) -> FlashcardStateGroup:
        found = list(cls.compile_many(text))
        if len(found) != 1:
            raise ValueError(f"{'No' if not found else 'Too many'} matches: {text}")
        return found[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class StatefulFlashcardGroup:
    flashcard: FlashcardGroup
    state: FlashcardStateGroup

    def __str__(self) -> str:
        return str(self.flashcard) + " " + str(self.state)


# --- locations and results -------------------------------------------------------------


class Location(metaclass=ABCMeta):
    """Where a result goes: a section of the current note, or nowhere."""

    __slots__ = ()

    @abstractmethod
    def open(self) -> Any: ...

    @property
    @abstractmethod
    def path(self) -> Path | None: ...


class NullLocation(Location):
    """A sink: results sent here are dropped (``__env__.cwf_sect(None)``)."""

    __slots__ = ()

    @asynccontextmanager
    async def open(self) -> AsyncIterator[io.StringIO]:
        yield io.StringIO()

    @property
    def path(self) -> None:
        return None

    def __repr__(self) -> str:
        return "NULL_LOCATION"


NULL_LOCATION = NullLocation()

# The text of each section of the note being generated, keyed by (path, id); set by the
# runner so that note code reading a section (rare) sees its current content.
SECTION_TEXTS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class FileSection:
    """A ``<!--pytextgen generate section="ID"-->`` section of a note."""

    path: Path
    section: str

    @asynccontextmanager
    async def open(self) -> AsyncIterator[io.StringIO]:
        yield io.StringIO(SECTION_TEXTS.get((str(self.path), self.section), ""))


Location.register(FileSection)



@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    location: Location
    text: str

    @classmethod
    def isinstance(cls, obj: Any) -> TypeGuard[Result]:
        try:
            return isinstance(obj.location, Location) and isinstance(obj.text, str)
        except AttributeError:
            return False


__all__ = [
    "NULL_LOCATION", "ClozeFlashcardGroup", "FileSection", "FlashcardGroup",
    "FlashcardState", "FlashcardStateGroup", "IteratorSequence", "Location",
    "NullLocation", "Result", "StatefulFlashcardGroup", "TwoSidedFlashcard", "Unit",
    "affix_lines", "constant", "export_seq", "identity", "ignore_args",
    "split_by_punctuations", "strip_lines", "wrap_async",
]


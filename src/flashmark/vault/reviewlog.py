"""The review log: `.flashmark/reviews.jsonl`, one JSON object per line, append-only.

Every rating, undo and externally observed change is one line, so the file merges
cleanly when the vault is synced with git (`.flashmark/reviews.jsonl merge=union` in
`.gitattributes`). It is the history FSRS weights are fitted to and what `undo` reverts;
the schedules themselves stay in the notes.

Each kind of line is one typed record below (`Review`, `Undo`, ...), with `to_json` and
`event_from_json`, the one place that says what a line holds. All carry "v": 1,
"event" (the kind), "time" (ISO 8601 UTC) and a random "uid".

A card's id changes with its text; when its schedule stays with it (an edit in place
found by a rating, a re-match by `flashmark generate`) a `Renamed` line says so, and
`follow_renames` gives every event the id the card has now: statistics, the queue and
the optimizer see one history per card.

Reading (`ReviewLog.read`) validates every line against its record: a line that is not
JSON, not an object, of an unknown kind or with a field of the wrong type is reported
with its line number (a `Diagnostic`) and skipped; a torn last line (no newline: a write
cut short) is skipped silently until it is completed. Nothing is ever rewritten.
`in_effect` is the one filter that drops what was undone or never completed.

Crash safety (docs/architecture.md): a rating or an undo is logged in two steps around
the note write, under the vault's write lock: first the event with ``staged: true``
(before the note changes), then a `Commit` naming it (after the note is on disk). A
staged event without a commit is not in effect; the next writer reconciles it with the
note (`review.rating.reconcile`): it commits it when the note holds what it wrote, and
`Abort`s it otherwise. So a kill -9 at any instant leaves note and log agreeing once the
next command has run. Lines written before this scheme (no ``staged``) are in effect as
they stand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from flashmark.errors import FlashmarkError, file_system_message
from flashmark.model import WARNING, Diagnostic

LOG_NAME = "reviews.jsonl"
LOG_PATH = f".flashmark/{LOG_NAME}"  # vault-relative: where its problems are
RATINGS = ("again", "hard", "good", "easy")

EventKind = Literal["review", "pending", "external", "undo", "commit", "abort", "bury",
                    "suspend", "unsuspend", "orphan", "renamed",
                    "anki_review", "leech", "flag", "forget", "set_due"]


class LogError(FlashmarkError):
    """The review log cannot be read or written at all."""


@dataclass(frozen=True, slots=True)
class EditRecord:
    """The bytes a rating wrote: at ``start``, ``old`` became ``new`` (UTF-8 text)."""

    start: int
    old: str
    new: str

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "old": self.old, "new": self.new}


def _new_uid() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    kind: ClassVar[EventKind]
    time: str
    uid: str = field(default_factory=_new_uid)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"v": 1, "uid": self.uid, "event": self.kind}
        for f in dataclasses.fields(self):
            if f.name == "uid":
                continue
            value = getattr(self, f.name)
            if f.name == "staged" and not value:
                continue  # absent means committed as written
            if f.name == "batch" and value is None:
                continue  # absent: an action on one card
            out[f.name] = value.to_json() if isinstance(value, EditRecord) else value
        return out

    @property
    def moment(self) -> dt.datetime:
        """``time`` as an aware datetime (validated when the line was read)."""
        return _parse_time(self.time)


@dataclass(frozen=True, slots=True, kw_only=True)
class CardEvent(Event):
    id: str
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Review(CardEvent):
    """A rating written into the note."""

    kind: ClassVar[EventKind] = "review"
    sibling: int
    rating: str  # again, hard, good, easy
    duration_ms: int | None = None
    before: str | None  # the entry text without "!", None when there was none
    after: str
    scheduler: str | None = None
    edit: EditRecord | None = None
    staged: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Pending(CardEvent):
    """A rating that could not be written (the card was not found again)."""

    kind: ClassVar[EventKind] = "pending"
    sibling: int
    rating: str  # again, hard, good, easy
    duration_ms: int | None = None
    before: str | None
    after: str
    scheduler: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class External(CardEvent):
    """Another program changed the card's entry since our last rating."""

    kind: ClassVar[EventKind] = "external"
    sibling: int
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Undo(Event):
    """Takes back the event ``of`` (a review, bury or suspend)."""

    kind: ClassVar[EventKind] = "undo"
    of: str
    id: str | None = None
    path: str | None = None
    staged: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Commit(Event):
    """The staged event ``of`` reached the note; ``edit`` is what was written when it
    differs from the staged event's (the note had changed and the card was re-located)."""

    kind: ClassVar[EventKind] = "commit"
    of: str
    edit: EditRecord | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Abort(Event):
    """The staged event ``of`` did not reach the note (``reason`` says why)."""

    kind: ClassVar[EventKind] = "abort"
    of: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Bury(CardEvent):
    """The card stays out of the queue until ``until`` (None: the end of that day).
    ``batch`` (on this and the other actions): the events one command made together,
    which `undo` takes back together."""

    kind: ClassVar[EventKind] = "bury"
    until: str | None = None
    batch: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Suspend(CardEvent):
    kind: ClassVar[EventKind] = "suspend"
    batch: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsuspend(CardEvent):
    kind: ClassVar[EventKind] = "unsuspend"
    batch: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag(CardEvent):
    """The card's flag is now ``flag`` (1-7, Anki's colours; 0 takes it off)."""

    kind: ClassVar[EventKind] = "flag"
    flag: int
    batch: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Forget(CardEvent):
    """The card was made new again: its entry ``before`` became ``after`` (written into
    the note like a rating: staged, then committed)."""

    kind: ClassVar[EventKind] = "forget"
    sibling: int
    before: str | None
    after: str
    edit: EditRecord | None = None
    staged: bool = False
    batch: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SetDue(CardEvent):
    """The card's due date was set by hand (``days``: the spec given, Anki's syntax);
    written into the note like a rating."""

    kind: ClassVar[EventKind] = "set_due"
    sibling: int
    days: str
    before: str | None
    after: str
    edit: EditRecord | None = None
    staged: bool = False
    batch: str | None = None


# The events that write a card's SR entry into its note (staged, then committed).
ScheduleWrite = Review | Forget | SetDue
# The events `undo` takes back (the others are bookkeeping or observations).
UNDOABLE = (Review, Forget, SetDue, Bury, Suspend, Unsuspend, Flag)


@dataclass(frozen=True, slots=True, kw_only=True)
class Leech(CardEvent):
    """The card's lapses reached the leech threshold (``review.leech_threshold``), or
    another half of it past that (Anki's repeat warnings): ``lapses`` is the count then.
    A card is a leech from its first such line on (`review.today`). ``batch``: the uid
    of the rating that made it, which an undo of that rating takes it back with."""

    kind: ClassVar[EventKind] = "leech"
    lapses: int
    batch: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Orphan(Event):
    """A schedule that `generate` could not give to any new card of a section."""

    kind: ClassVar[EventKind] = "orphan"
    path: str
    section: str
    line: int
    card: str
    comment: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Renamed(Event):
    """The card ``id`` is now ``to``: its text changed but its schedule stayed with it
    (``via``: ``edit``, an edit in place found by a rating; ``exact``, ``normalized``,
    ``cloze`` or ``similar``, the stage of `flashmark generate` that moved it). Its
    history continues under the new id (`follow_renames`)."""

    kind: ClassVar[EventKind] = "renamed"
    id: str
    to: str
    path: str
    via: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AnkiReview(CardEvent):
    """A review done in Anki, brought in by `flashmark import-anki` (one per line of
    Anki's revlog, ``revlog`` being its id: an import skips the ids already logged).
    Its own kind, not a `Review`: it wrote nothing into the note itself (the card's state
    is written once per import, logged as `External`), so `undo` never reverts it."""

    kind: ClassVar[EventKind] = "anki_review"
    sibling: int
    rating: str  # again, hard, good, easy
    revlog: int  # Anki's revlog id (milliseconds since the epoch)
    duration_ms: int | None = None
    interval: int | None = None  # Anki's new interval: days, or seconds when negative
    anki_type: str | None = None  # learn, review, relearn, filtered


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls for cls in (Review, Pending, External, Undo, Commit, Abort, Bury, Suspend,
                              Unsuspend, Orphan, Renamed,
                              AnkiReview, Leech, Flag, Forget, SetDue)}


# --- validation ------------------------------------------------------------------------

def _parse_time(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _check(name: str, base: str, optional: bool, value: Any) -> Any:
    """``value`` if it fits the field's annotation (as written in this module: ``base``,
    or ``base | None`` when ``optional``)."""
    if value is None:
        if optional:
            return None
        raise ValueError(f"{name!r} is missing")
    if base == "str" and isinstance(value, str):
        return value
    if base == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if base == "bool" and isinstance(value, bool):
        return value
    if base == "EditRecord" and isinstance(value, dict):
        start, old, new = value.get("start"), value.get("old"), value.get("new")
        if (isinstance(start, int) and not isinstance(start, bool) and start >= 0
                and isinstance(old, str) and isinstance(new, str)):
            return EditRecord(start, old, new)
        raise ValueError(f"{name!r} is not an edit")
    raise ValueError(f"{name!r} should be {base}, not {type(value).__name__}")


# per event type: (field name, annotation without " | None", optional, required)
_Field = tuple[str, str, bool, bool]
_FIELDS: dict[type[Event], tuple[_Field, ...]] = {}


def _fields(cls: type[Event]) -> tuple[_Field, ...]:
    spec = _FIELDS.get(cls)
    if spec is None:
        spec = tuple((f.name, str(f.type).removesuffix(" | None"),
                      str(f.type).endswith(" | None"),
                      f.default is dataclasses.MISSING
                      and f.default_factory is dataclasses.MISSING)
                     for f in dataclasses.fields(cls))
        _FIELDS[cls] = spec
    return spec


E = TypeVar("E", bound=Event)


def event_from_json(obj: Any) -> Event:
    """The typed event of one decoded log line; ValueError says what is wrong."""
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    kind = obj.get("event")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event {kind!r}")
    values: dict[str, Any] = {}
    for name, base, optional, required in _fields(cls):
        if name not in obj:
            if required and not optional:
                raise ValueError(f"{kind} event without {name!r}")
            if required:
                values[name] = None
            continue
        value = obj[name]
        # (the common case, a string where one is wanted, without a call)
        values[name] = (value if base == "str" and type(value) is str
                        else _check(name, base, optional, value))
    try:
        _parse_time(values["time"])
    except ValueError:
        raise ValueError(f"'time' is not an ISO date and time: {values['time']!r}") from None
    if cls is Renamed and values["id"] == values["to"]:
        raise ValueError(f"renamed event from {values['id']!r} to itself")
    if "rating" in values and values["rating"] not in RATINGS:
        raise ValueError(f"rating {values['rating']!r} is not one of {', '.join(RATINGS)}")
    return cls(**values)


# --- reading and writing ---------------------------------------------------------------

class ReviewLog:
    def __init__(self, vault: Path) -> None:
        self.path = vault / LOG_PATH
        # The file only grows: remember what was parsed and read just the new tail.
        self._events: list[Event] = []
        self._problems: list[Diagnostic] = []
        self._offset = 0
        self._lines = 0
        self._head = b""

    def append(self, event: E) -> E:
        """Append one event (one write of a whole line, fsynced). Call it with the
        vault's write lock held when the event goes with a note write."""
        self.append_all([event])
        return event

    def append_all(self, events: Sequence[Event]) -> None:
        """Append several events in one write and one fsync (an import's many lines)."""
        if not events:
            return
        line = "".join(json.dumps(e.to_json(), ensure_ascii=False, separators=(",", ":"))
                       + "\n" for e in events).encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise self._write_error(exc) from None
        try:
            size = os.fstat(fd).st_size
            # A line always starts on a line of its own: a torn or hand-edited last line
            # without its newline must not swallow this one.
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line
            # One write of a whole line: concurrent appenders do not interleave lines.
            os.write(fd, line)
            os.fsync(fd)
        except OSError as exc:
            raise self._write_error(exc) from None
        finally:
            os.close(fd)

    def _write_error(self, exc: OSError) -> LogError:
        message = file_system_message(exc, "the review log", self.path)
        return LogError(message or f"cannot write the review log {self.path}: {exc.strerror}")

    def read(self) -> tuple[list[Event], list[Diagnostic]]:
        """All valid events, oldest first, and the problems of the lines skipped (both
        copies; re-reading parses only what was appended)."""
        try:
            with open(self.path, "rb") as fh:
                head = fh.read(64)
                size = fh.seek(0, os.SEEK_END)
                if size < self._offset or head != self._head[:len(head)] or not self._head:
                    # rewritten (a git merge, a hand edit): start over
                    self._events, self._problems, self._offset, self._lines = [], [], 0, 0
                fh.seek(self._offset)
                raw = fh.read()
        except FileNotFoundError:
            self._events, self._problems, self._offset, self._lines = [], [], 0, 0
            self._head = b""
            return [], []
        except OSError as exc:
            raise LogError(f"cannot read the review log {self.path}: {exc.strerror}") from None
        self._head = head
        end = raw.rfind(b"\n") + 1  # a torn last line is left for the next read
        for line in raw[:end].split(b"\n")[:-1]:
            self._lines += 1
            event, problem = parse_line(line)
            if event is not None:
                self._events.append(event)
            elif problem is not None:
                self._problems.append(Diagnostic(LOG_PATH, self._lines - 1, WARNING,
                                                 "log-line-skipped", problem))
        self._offset += end
        return list(self._events), list(self._problems)

    def events(self, problems: list[Diagnostic] | None = None) -> list[Event]:
        """All valid events, oldest first; skipped lines are added to ``problems``."""
        events, found = self.read()
        if problems is not None:
            problems.extend(found)
        return events

    def effective(self) -> list[Event]:
        """The events in effect (`in_effect` of all events)."""
        return in_effect(self.events())


def parse_line(line: bytes) -> tuple[Event | None, str | None]:
    """One log line: its event, or None and why it was skipped (None for a blank line)."""
    if not line.strip():
        return None, None
    try:
        text = line.decode("utf-8")  # (a str: json has no encoding to detect)
        obj = json.loads(text[1:] if text.startswith("\ufeff") else text)  # a BOM
    except ValueError:
        return None, "not a JSON line (a torn write or a merge leftover?); skipped"
    try:
        return event_from_json(obj), None
    except (ValueError, TypeError) as exc:
        return None, f"{exc}; skipped"


def in_effect(events: Sequence[Event]) -> list[Event]:
    """The events that stand: without undone events, staged events that were never
    committed, and the bookkeeping (undo, commit, abort) itself. A committed review
    carries the edit its commit recorded when the note had to be re-located."""
    commits: dict[str, Commit] = {}
    for e in events:
        if isinstance(e, Commit):
            commits[e.of] = e
    undone = {e.of for e in events
              if isinstance(e, Undo) and (not e.staged or e.uid in commits)}
    out: list[Event] = []
    for e in events:
        if isinstance(e, Undo | Commit | Abort) or e.uid in undone:
            continue
        if isinstance(e, Review | Forget | SetDue) and e.staged:
            commit = commits.get(e.uid)
            if commit is None:
                continue
            e = dataclasses.replace(e, staged=False, edit=commit.edit or e.edit)
        out.append(e)
    return out


def open_intents(events: Sequence[Event]) -> list[Review | Forget | SetDue | Undo]:
    """Staged note writes (reviews, forgets, set-dues) and undos with neither a commit
    nor an abort (a writer died)."""
    settled = {e.of for e in events if isinstance(e, Commit | Abort)}
    return [e for e in events
            if isinstance(e, Review | Forget | SetDue | Undo) and e.staged
            and e.uid not in settled]


def rename_map(events: Iterable[Event]) -> dict[str, str]:
    """Each renamed card id -> the id its history continues under now, from the
    `Renamed` events in log order (``a → b`` then ``b → c``: ``a`` and ``b`` are ``c``;
    a text changed back, ``a → b`` then ``b → a``: ``b`` is ``a`` again, no loop)."""
    members: dict[str, set[str]] = {}  # current id -> earlier ids of the same card
    for e in events:
        if isinstance(e, Renamed) and e.id != e.to:
            moved = members.pop(e.id, set())
            moved.add(e.id)
            into = members.setdefault(e.to, set())
            into |= moved
            into.discard(e.to)
    return {old: current for current, olds in members.items() for old in olds}


def follow_renames(events: Sequence[Event]) -> list[Event]:
    """``events`` with every card id (of reviews, ratings kept pending, external
    changes, buries, suspends, undos) replaced by the id its history continues under:
    one card's history is one id however often its text changed. The `Renamed` events
    themselves are kept as they are."""
    final = rename_map(events)
    if not final:
        return list(events)
    out: list[Event] = []
    for e in events:
        if isinstance(e, CardEvent | Undo) and e.id in final:
            e = dataclasses.replace(e, id=final[e.id])
        out.append(e)
    return out


def joined_histories(events: Iterable[Event]) -> dict[str, list[Renamed]]:
    """Each card whose history was joined: its current id -> the renames that joined it,
    oldest first (what `flashmark check --verbose` lists)."""
    evs = list(events)
    final = rename_map(evs)
    out: dict[str, list[Renamed]] = {}
    for e in evs:
        if isinstance(e, Renamed) and e.id in final:
            out.setdefault(final[e.id], []).append(e)
    return out


def reviews(events: Iterable[Event]) -> list[Review]:
    """The reviews among ``events`` (pass `in_effect` events for the ratings that stand)."""
    return [e for e in events if isinstance(e, Review)]


__all__ = ["EVENT_TYPES", "UNDOABLE", "Abort", "AnkiReview", "Bury", "CardEvent", "Commit",
           "EditRecord", "Event", "EventKind", "External", "Flag", "Forget", "Leech", "LogError",
           "Orphan", "Pending", "Renamed", "Review", "ReviewLog", "ScheduleWrite", "SetDue",
           "Suspend", "Undo", "Unsuspend",
           "event_from_json", "follow_renames", "in_effect", "joined_histories",
           "open_intents", "parse_line", "rename_map", "reviews"]

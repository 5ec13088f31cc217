"""Carry each card's schedule into the package (``--with-scheduling``), with the official
``anki`` library (the optional ``anki`` extra: ``pip install 'flashmark[anki]'``).

genanki writes every card as new. With scheduling, the genanki package is imported into
a temporary Anki collection, each card that has a schedule in its note's SR comment is
set from it, and the collection is exported again with scheduling:

- legacy entry ``!DATE,IVL,EASE``: a review card due on DATE, interval IVL, ease EASE
  (Anki's factor is EASE x 10), with the FSRS memory state flashmark derives from it
  (the way Anki does, see ``memory_state_from_sm2``);
- FSRS entry in review: due on the local date of DUE, interval IVL, stability and
  difficulty as memory state, reps, lapses and the last review time; its ease is the
  one that maps back to its difficulty;
- FSRS entry in (re)learning: a (re)learning card due at DUE (the same day) or on its
  date (later days), with the learning steps it has left;
- no entry, the placeholder ``!2000-01-01,1,250``, or an unreadable entry: new.

Due dates are exact calendar dates: a card due on 2026-12-01 in flashmark is due on
2026-12-01 in the collection that imports the package (Anki counts due days from its
own "today" and shifts them on import).

The way back (`flashmark import-anki`) is `entry_from_anki`, the inverse of the above
for a card reviewed in Anki: an FSRS entry from Anki's memory state (due date, interval,
stability, difficulty, reps, lapses, learning step, last review), or an SM-2 entry
(due date, interval, ease) when Anki has no FSRS state or the vault writes SM-2.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from flashmark.config import SchedulingSettings
from flashmark.errors import FlashmarkError
from flashmark.model import FsrsEntry, Sm2Entry
from flashmark.syntax import srcodec
from flashmark.vault.edit import replacing_atomically

__all__ = ["AnkiCardState", "AnkiDays", "AnkiMissingError", "CardState", "anki_available",
           "anki_days", "apply_scheduling", "entry_from_anki", "require_anki"]

_REVIEW, _LEARNING, _RELEARNING = 2, 1, 3
_QUEUE_LEARN, _QUEUE_REVIEW, _QUEUE_DAY_LEARN = 1, 2, 3


class AnkiMissingError(FlashmarkError):
    """--with-scheduling needs the `anki` package."""


def anki_available() -> bool:
    try:
        import anki.collection  # noqa: F401
    except ImportError:
        return False
    return True


class CardState(NamedTuple):
    """One exported card and the SR entry of its sibling."""

    guid: str
    ord: int
    entry: str  # the entry text, without "!"


def require_anki(what: str = "--with-scheduling", instead: str | None = None) -> None:
    if not anki_available():
        hint = "install the optional extra: pip install 'flashmark[anki]' (or pip install anki)"
        if instead is None and what == "--with-scheduling":
            instead = "export without --with-scheduling (every card arrives as new)"
        raise AnkiMissingError(
            f"{what} needs the official Anki library, which is not installed",
            hint=hint + (f", or {instead}" if instead else ""))


class AnkiDays(NamedTuple):
    """Anki's day count in one collection: due days of review cards are day numbers
    counted from the collection's creation (at its rollover hour)."""

    number: int  # the number of today
    date: dt.date  # the local date today's Anki day started on

    def date_of(self, day_number: int) -> dt.date:
        return self.date + dt.timedelta(days=day_number - self.number)

    def number_of(self, day: dt.date) -> int:
        return self.number + (day - self.date).days


def anki_days(col: Any) -> AnkiDays:
    """Today in the collection ``col`` (an open ``anki.collection.Collection``)."""
    timing = col.sched._timing_today()
    return AnkiDays(int(timing.days_elapsed),
                    dt.datetime.fromtimestamp(int(timing.next_day_at) - 86400).date())


def _steps_left(steps: tuple[str, ...], step: int) -> int:
    """Anki's ``left`` (learning steps still to go) for flashmark's ``step`` (done)."""
    return max(1, len(steps) - step)


def _step_done(steps: tuple[str, ...], left: int) -> int:
    """flashmark's ``step`` for Anki's ``left`` (older Anki versions add 1000 x the
    steps doable today)."""
    return max(0, len(steps) - left % 1000)


def _local_date(when: dt.datetime) -> dt.date:
    return when.astimezone().date()


def _timestamp(day: dt.date) -> int:
    """Local midnight of ``day`` as a Unix time."""
    return int(dt.datetime.combine(day, dt.time()).astimezone().timestamp())


def apply_scheduling(package: Path, states: Iterable[CardState],
                     settings: SchedulingSettings) -> int:
    """Rewrite ``package`` with the cards' schedules; returns how many cards got one."""
    require_anki()
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    from flashmark.export.package import temp_prefix

    work = tempfile.mkdtemp(prefix=temp_prefix("anki"))
    try:
        col = Collection(os.path.join(work, "collection.anki2"))
        try:
            col.import_anki_package(ImportAnkiPackageRequest(
                package_path=str(package.resolve()),
                options=ImportAnkiPackageOptions(with_scheduling=True,
                                                 with_deck_configs=False)))
            changed = _scheduled_cards(col, states, settings)
            if changed:
                col.update_cards(changed, skip_undo_entry=True)
            _export_scheduled(col, package)
            return len(changed)
        finally:
            col.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _scheduled_cards(col: Any, states: Iterable[CardState], settings: SchedulingSettings
                     ) -> list[Any]:
    """The collection's cards (``anki.cards.Card``) set from their SR entries; cards
    whose entry is new, unreadable or not in the package are left out."""
    from anki.cards import FSRSMemoryState

    from flashmark.scheduling import SchedulerConfig

    config = SchedulerConfig.from_settings(settings)
    retention = config.desired_retention
    weights = config.parameters
    db = col.db
    assert db is not None
    ids = {(guid, ord_): cid for guid, ord_, cid in db.all(
        "SELECT n.guid, c.ord, c.id FROM cards c JOIN notes n ON c.nid = n.id")}
    today_number, anki_today = anki_days(col)
    changed: list[Any] = []
    for state in states:
        cid = ids.get((state.guid, state.ord))
        if cid is None:
            continue
        entry = srcodec.parse_entry(state.entry)
        if isinstance(entry, Sm2Entry):
            if entry.is_new:
                continue
            card = col.get_card(cid)
            _set_sm2(card, entry, today_number, anki_today, retention, weights,
                     FSRSMemoryState)
        elif isinstance(entry, FsrsEntry):
            if entry.is_new or not entry.stability > 0:
                continue
            card = col.get_card(cid)
            _set_fsrs(card, entry, today_number, anki_today, retention, weights,
                      settings, FSRSMemoryState)
        else:
            continue
        changed.append(card)
    return changed


def _export_scheduled(col: Any, package: Path) -> None:
    """Export the collection with its schedules over ``package`` (Anki exports to a
    file name: the temporary file replaces the package)."""
    from anki.collection import ExportAnkiPackageOptions

    with replacing_atomically(str(package)) as out:
        col.export_anki_package(
            out_path=os.path.abspath(out),
            options=ExportAnkiPackageOptions(with_scheduling=True, with_media=True,
                                             with_deck_configs=False, legacy=True),
            limit=None)


def _set_sm2(card: Any, entry: Sm2Entry, today_number: int, anki_today: dt.date,
             retention: float, weights: tuple[float, ...], memory_state: Any) -> None:
    """A review card from a legacy entry, with the memory state derived from it."""
    from anki.consts import CARD_TYPE_REV, QUEUE_TYPE_REV

    from flashmark.scheduling import memory_state_from_sm2

    # interval 0 (the plugin's SM-2 Again) counts as 1 day, as in rating
    interval = max(1, entry.interval)
    s, d = memory_state_from_sm2(entry.ease / 100.0, interval, retention, weights)
    card.type = CARD_TYPE_REV
    card.queue = QUEUE_TYPE_REV
    card.ivl = interval
    card.factor = entry.ease * 10
    card.due = today_number + (entry.due - anki_today).days
    card.memory_state = memory_state(stability=s, difficulty=d)
    card.last_review_time = _timestamp(entry.due - dt.timedelta(days=min(interval, 36500)))


def _set_fsrs(card: Any, entry: FsrsEntry, today_number: int, anki_today: dt.date,
              retention: float, weights: tuple[float, ...], settings: SchedulingSettings,
              memory_state: Any) -> None:
    due_day = _local_date(entry.due)
    card.memory_state = memory_state(stability=entry.stability,
                                     difficulty=min(max(entry.difficulty, 1.0), 10.0))
    card.reps = entry.reps
    card.lapses = entry.lapses
    if entry.last_review is not None:
        card.last_review_time = int(entry.last_review.timestamp())
    from flashmark.scheduling import ease_from_memory_state

    ease = ease_from_memory_state(entry.stability, entry.difficulty, retention, weights)
    card.factor = ease * 10
    if entry.state == _REVIEW:
        card.type = card.queue = _REVIEW
        card.ivl = max(1, entry.interval)
        card.due = today_number + (due_day - anki_today).days
        return
    steps = settings.learning_steps if entry.state == _LEARNING else settings.relearning_steps
    card.type = _LEARNING if entry.state == _LEARNING else _RELEARNING
    card.ivl = max(1, entry.interval) if entry.state == _RELEARNING else 0
    card.left = _steps_left(steps, entry.step)
    if due_day <= anki_today:
        card.queue = _QUEUE_LEARN
        card.due = int(entry.due.timestamp())
    else:
        card.queue = _QUEUE_DAY_LEARN
        card.due = today_number + (due_day - anki_today).days


# --- the way back: a card reviewed in Anki -> an SR entry --------------------------------

_QUEUE_SUSPENDED = -1
_DAY_NUMBER_LIMIT = 1_000_000_000  # a larger ``due`` is a Unix time (intraday learning)


@dataclass(frozen=True, slots=True)
class AnkiCardState:
    """The scheduling fields of one Anki card (read with the `anki` library)."""

    type: int  # 0 new, 1 learning, 2 review, 3 relearning
    queue: int  # <0: suspended (-1) or buried (-2, -3)
    due: int  # a day number, or a Unix time for intraday learning
    odue: int  # the home deck's due when the card is in a filtered deck
    odid: int
    ivl: int
    factor: int  # ease x 1000 (SM-2)
    reps: int
    lapses: int
    left: int
    stability: float | None  # FSRS memory state, None when Anki has none
    difficulty: float | None
    last_review: dt.datetime | None  # aware

    @property
    def suspended(self) -> bool:
        return self.queue == _QUEUE_SUSPENDED

    @property
    def buried(self) -> bool:
        return self.queue in (-2, -3)


def _anki_due(card: AnkiCardState, days: AnkiDays) -> dt.datetime | dt.date:
    """When the card is due: a moment (intraday learning) or a calendar date."""
    due = card.odue if card.odid and card.odue else card.due
    if due >= _DAY_NUMBER_LIMIT:
        return dt.datetime.fromtimestamp(due, dt.UTC)
    return days.date_of(due)


def entry_from_anki(card: AnkiCardState, days: AnkiDays, settings: SchedulingSettings
                    ) -> Sm2Entry | FsrsEntry | None:
    """The SR entry holding the card's state in Anki (None for a new card): the inverse
    of what `apply_scheduling` sets."""
    if card.type not in (_LEARNING, _REVIEW, _RELEARNING):
        return None
    due = _anki_due(card, days)
    ease = card.factor // 10 if card.factor else 250  # a card still in its first steps
    if card.stability is None or card.difficulty is None or settings.state_format == "sm2":
        day = due if not isinstance(due, dt.datetime) else _local_date(due)
        return srcodec.sm2_entry(day, max(1, card.ivl), ease)
    if isinstance(due, dt.datetime):
        due_at = due
    else:
        # A calendar date: at the time of day of the last review, as a review in
        # flashmark would have written it (its local date is what counts).
        at = (card.last_review.astimezone().timetz() if card.last_review is not None
              else dt.time())
        due_at = dt.datetime.combine(due, at.replace(tzinfo=None)).astimezone()
    step = 0
    if card.type != _REVIEW:
        steps = settings.learning_steps if card.type == _LEARNING else settings.relearning_steps
        step = _step_done(steps, card.left)
    return srcodec.fsrs_entry(
        due=due_at, interval=card.ivl if card.type != _LEARNING else 0,
        stability=card.stability, difficulty=min(max(card.difficulty, 1.0), 10.0),
        state=card.type, reps=card.reps, lapses=card.lapses, step=step,
        last_review=card.last_review)

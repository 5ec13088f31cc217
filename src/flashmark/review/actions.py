"""What the browser and the action commands do to cards: suspend, unsuspend, bury, flag
(log events only), forget and set due date (the card's SR entry is rewritten), and the
undo of any of them.

Every action is typed log events (`vault.reviewlog`: `Suspend`, `Unsuspend`, `Bury`,
`Flag`, `Forget`, `SetDue`), all the events of one command sharing a ``batch`` so that
`undo_newest` takes them back together. Forget, set-due and reschedule write the note through the
one write path exactly as a rating does (review/rating.py: under the vault lock,
`reconcile` first, the event staged, one `sr_edit` through `apply_edits`, then a
`Commit`); their undo puts the note's bytes back (`rating.revert_write_locked`).
Whether a card is suspended or flagged now comes from `review.search`'s state adapter.

Reschedule is Anki's FSRS reschedule (deck options, "Reschedule cards on change"; the
FSRS Helper's "Reschedule"): a review card's next interval is worked out again from its
memory state with the current parameters and desired retention, and it falls due that
many days after its last review. Here that is a `SetDue` event whose ``days`` is
``RESCHEDULE`` (the scheduler chose the day, not the user): one write path, one undo.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flashmark.config import Settings
from flashmark.days import day_start
from flashmark.errors import ConflictError, FlashmarkError, UsageError
from flashmark.model import PLACEHOLDER_TEXT, FsrsEntry, RawEntry, Sm2Entry
from flashmark.review.rating import (
    CardFinder,
    Located,
    _find_in,
    _now_utc,
    _record,
    reconcile,
    revert_write_locked,
)
from flashmark.review.search import LogFacts, log_facts, search_vault
from flashmark.stats import DueCutoff
from flashmark.syntax import srcodec
from flashmark.vault.edit import Edit, NoteWriteError, apply_edits
from flashmark.vault.lock import vault_lock
from flashmark.vault.reviewlog import (
    UNDOABLE,
    Abort,
    Bury,
    Commit,
    Event,
    Flag,
    Forget,
    Leech,
    Review,
    ReviewLog,
    SetDue,
    Suspend,
    Undo,
    Unsuspend,
    in_effect,
)
from flashmark.vault.srwrite import sr_edit

if TYPE_CHECKING:
    from flashmark.scheduling import FsrsScheduler

LOG_ACTIONS = (Suspend.kind, Unsuspend.kind, Bury.kind, Flag.kind)
RESCHEDULE = "reschedule"  # SetDue.days of a reschedule: the day the scheduler gives
WRITE_ACTIONS = (Forget.kind, SetDue.kind, RESCHEDULE)
MAX_DAYS = 36500


@dataclass(frozen=True, slots=True)
class Target:
    """A card an action is asked for."""

    id: str
    path: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action did (or, in a dry run, would do) to one card."""

    id: str
    path: str
    line: int | None
    action: str
    changed: bool  # False: the card already was so (nothing logged or written)
    before: str | None = None  # the SR entry (forget, set-due)
    after: str | None = None
    detail: str | None = None


def targets(root: Path, settings: Settings, ids: Sequence[str], query: str | None,
            now: dt.datetime, *, all_notes: bool = False) -> list[Target]:
    """The cards named by id (a unique prefix works) or matched by ``query``."""
    if bool(ids) == (query is not None):
        raise UsageError("give card ids or --search QUERY (one of the two)")
    if query is not None:
        rows = search_vault(root, settings, query, now, all_notes=all_notes).rows
        return [Target(r.id, r.path) for r in rows]
    finder = CardFinder(root, settings, all_notes=all_notes)
    out: dict[str, Target] = {}
    for card_id in ids:
        loc = finder.find(card_id)
        out.setdefault(loc.card.id, Target(loc.card.id, loc.rel))
    return list(out.values())


# --- suspend, unsuspend, bury, flag: log events only ----------------------------------


def log_action(root: Path, settings: Settings, action: str, cards: Sequence[Target],
               now: dt.datetime, *, flag: int = 0, dry_run: bool = False) -> list[Outcome]:
    """Suspend, unsuspend, bury or flag ``cards``: one event per card whose state
    changes, in one write, under the vault lock."""
    if action not in LOG_ACTIONS:
        raise ValueError(action)
    log = ReviewLog(root)
    time_text = _now_utc(now)
    batch = secrets.token_hex(6) if len(cards) > 1 else None
    with vault_lock(root):
        facts = log_facts(log.events(), DueCutoff(now, settings.scheduling.day_boundary))
        events: list[Event] = []
        out: list[Outcome] = []
        for card in cards:
            changed, detail = _changes(action, card.id, facts, flag)
            out.append(Outcome(card.id, card.path, None, action, changed, detail=detail))
            if not changed:
                continue
            if action == Suspend.kind:
                events.append(Suspend(time=time_text, id=card.id, path=card.path, batch=batch))
            elif action == Unsuspend.kind:
                events.append(Unsuspend(time=time_text, id=card.id, path=card.path,
                                        batch=batch))
            elif action == Bury.kind:
                events.append(Bury(time=time_text, id=card.id, path=card.path, batch=batch))
            else:
                events.append(Flag(time=time_text, id=card.id, path=card.path, flag=flag,
                                   batch=batch))
        if not dry_run:
            log.append_all(events)
    return out


def _changes(action: str, card_id: str, facts: LogFacts, flag: int) -> tuple[bool, str | None]:
    if action == Suspend.kind:
        return card_id not in facts.suspended, None
    if action == Unsuspend.kind:
        return card_id in facts.suspended, None
    if action == Bury.kind:
        return card_id not in facts.buried, None
    old = facts.flags.get(card_id, 0)
    return old != flag, f"flag {old} -> {flag}"


# --- forget, set due date: the SR entry is rewritten ----------------------------------


@dataclass(frozen=True, slots=True)
class DaysSpec:
    """Anki's set-due-date syntax: ``0`` today, ``3`` in three days, ``3-7`` a random day
    in that range, a trailing ``!`` also sets the interval to that many days."""

    low: int
    high: int
    set_interval: bool
    text: str


_DAYS = re.compile(r"(\d+)(?:-(\d+))?(!?)")


def parse_days(text: str) -> DaysSpec:
    m = _DAYS.fullmatch(text.strip())
    if m is None:
        raise UsageError(f"--days {text!r} is not a number of days: give 0 (today), 3, "
                         "3-7 (a random day in that range), with ! to set the interval too")
    low = int(m.group(1))
    high = int(m.group(2)) if m.group(2) is not None else low
    if low > high:
        raise UsageError(f"--days {text!r}: the range goes backwards (write {high}-{low})")
    if high > MAX_DAYS:
        raise UsageError(f"--days {text!r}: at most {MAX_DAYS} days")
    return DaysSpec(low, high, bool(m.group(3)), text.strip())


def forgotten_entry(loc: Located, settings: Settings, now: dt.datetime) -> str:
    """The entry of a card made new: the placeholder both flashmark and the plugin read
    as never reviewed (the legacy format cannot keep reps and lapses, nor can a new
    card's entry in either format)."""
    return PLACEHOLDER_TEXT


def due_entry(loc: Located, settings: Settings, now: dt.datetime, spec: DaysSpec) -> str:
    """The card's entry due ``spec`` days from today (a review card from then on, as in
    Anki), the memory state kept. The day is random within the range, but the same for
    the same card at the same ``now`` (a dry run shows what the run will write)."""
    from flashmark.scheduling import FsrsScheduler, SchedulerConfig

    rng = random.Random(f"{loc.card.id}|{now.isoformat()}")
    days = rng.randint(spec.low, spec.high)
    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    day = cutoff.today + dt.timedelta(days=days)
    text = loc.card.entry_text
    entry = srcodec.parse_entry(text) if text is not None else None
    if isinstance(entry, RawEntry):
        raise FlashmarkError(f"{loc.rel}:{loc.question.span.line + 1}: the SR entry "
                             f"'!{entry.text}' of card {loc.card.id} cannot be read "
                             f"({entry.reason}); flashmark will not overwrite it")
    if isinstance(entry, Sm2Entry) and not entry.is_new:
        interval = max(1, days) if spec.set_interval else entry.interval
        return srcodec.sm2_entry(day, interval, entry.ease).text
    due = day_start(day, settings.scheduling.day_boundary).astimezone(dt.UTC)
    if isinstance(entry, FsrsEntry) and not entry.is_new and entry.stability > 0:
        interval = days if spec.set_interval else entry.interval
        return srcodec.fsrs_entry(due=due, interval=interval, stability=entry.stability,
                                  difficulty=entry.difficulty, state=2, reps=entry.reps,
                                  lapses=entry.lapses, step=0,
                                  last_review=entry.last_review).text
    # A new card: a review card due that day, with the interval the spec gives (at least
    # one day) and the default ease's memory state.
    interval = max(1, days)
    if settings.scheduling.state_format == "sm2":
        return srcodec.sm2_entry(day, interval, 250).text
    scheduler = FsrsScheduler(SchedulerConfig.from_settings(settings.scheduling))
    memory = scheduler.memory_state(srcodec.sm2_entry(day, interval, 250))
    assert memory is not None
    return srcodec.fsrs_entry(due=due, interval=interval, stability=memory[0],
                              difficulty=memory[1], state=2, reps=0, lapses=0, step=0,
                              last_review=now).text


def rescheduled_entry(loc: Located, settings: Settings,
                      scheduler: FsrsScheduler | None = None) -> str | None:
    """The entry of a review card due where FSRS puts it today: its interval the one its
    memory state (S) gives at the desired retention (no fuzz, within maximum_interval),
    counted from its last review (as a rating counts it), everything else kept. None for a card
    a reschedule leaves alone: new, in (re)learning steps (Anki too only reschedules
    review cards) or unreadable. A legacy (SM-2) entry's memory state is derived from
    its interval (`scheduling.memory_state_from_sm2`), so it keeps its interval and due
    date unless the interval is past maximum_interval: the legacy format has nothing
    else to reschedule from."""
    from flashmark.scheduling import FsrsScheduler, SchedulerConfig

    text = loc.card.entry_text
    entry = srcodec.parse_entry(text) if text is not None else None
    if entry is None or isinstance(entry, RawEntry) or entry.is_new:
        return None
    if scheduler is None:
        scheduler = FsrsScheduler(SchedulerConfig.from_settings(settings.scheduling))
    maximum = settings.scheduling.maximum_interval
    if isinstance(entry, Sm2Entry):
        memory = scheduler.memory_state(entry)
        if memory is None:
            return None
        interval = min(max(1, round(scheduler.interval_of(memory[0]))), maximum)
        try:  # (an absurd interval reaches past the calendar: left alone)
            last_day = entry.due - dt.timedelta(days=entry.interval)
            due = last_day + dt.timedelta(days=interval)
        except OverflowError:
            return None
        return srcodec.sm2_entry(due, interval, entry.ease).text
    if entry.state != 2 or not entry.stability > 0 or entry.last_review is None:
        return None
    interval = min(max(1, round(scheduler.interval_of(entry.stability))), maximum)
    # Only the due time and interval fields change: the others keep their text exactly
    # (the plugin writes S and D with 8 decimals, `srcodec.fsrs_entry` as short as can be).
    fields = entry.text.split(",")
    fields[1] = srcodec.iso_ms(entry.last_review + dt.timedelta(days=interval))
    fields[2] = str(interval)
    return ",".join(fields)


def write_action(root: Path, settings: Settings, action: str, cards: Sequence[Target],
                 now: dt.datetime, *, spec: DaysSpec | None = None, dry_run: bool = False,
                 all_notes: bool = False) -> list[Outcome]:
    """Forget, set the due date of or reschedule ``cards``: each card's entry is written
    into its note like a rating (staged event, one edit, commit)."""
    # the card's new entry, None when the action leaves it as it is
    if action == "forget":
        def new_entry(loc: Located) -> str | None:
            text = loc.card.entry_text
            return (None if text is None or srcodec.parse_entry(text).is_new
                    else forgotten_entry(loc, settings, now))
    elif action == "set_due" and spec is not None:
        def new_entry(loc: Located) -> str | None:
            return due_entry(loc, settings, now, spec)
    elif action == RESCHEDULE:
        from flashmark.scheduling import FsrsScheduler, SchedulerConfig

        scheduler = FsrsScheduler(SchedulerConfig.from_settings(settings.scheduling))

        def new_entry(loc: Located) -> str | None:
            return rescheduled_entry(loc, settings, scheduler)
    else:
        raise ValueError(action)
    finder = CardFinder(root, settings, all_notes=all_notes)
    log = finder.log
    time_text = _now_utc(now)
    batch = secrets.token_hex(6) if len(cards) > 1 else None
    out: list[Outcome] = []
    with vault_lock(root):
        if not dry_run:
            reconcile(root, settings, log, now, all_notes=all_notes)
        for card in cards:
            loc = finder.find(card.id)
            before = loc.card.entry_text
            after = new_entry(loc)
            line = loc.question.span.line + 1
            if after is None or after == before or dry_run:
                changed = after is not None and after != before
                out.append(Outcome(loc.card.id, loc.rel, line, action, changed,
                                   before, after if changed else before))
                continue
            staged: Forget | SetDue
            edit = sr_edit(loc.data, loc.question, loc.card.sibling, after,
                           same_line=settings.parser.comment_on_same_line)
            if action == "forget":
                staged = Forget(time=time_text, id=loc.card.id, path=loc.rel,
                                sibling=loc.card.sibling, before=before, after=after,
                                edit=_record(edit), staged=True, batch=batch)
            else:
                days = RESCHEDULE if spec is None else spec.text
                staged = SetDue(time=time_text, id=loc.card.id, path=loc.rel,
                                sibling=loc.card.sibling, days=days, before=before,
                                after=after, edit=_record(edit), staged=True, batch=batch)
            _write(root, settings, log, loc, edit, after, staged, time_text, all_notes)
            out.append(Outcome(loc.card.id, loc.rel, line, action, True, before, after))
    return out


def _write(root: Path, settings: Settings, log: ReviewLog, loc: Located, edit: Edit,
           after: str, staged: Forget | SetDue, time_text: str, all_notes: bool) -> None:
    """Stage, write, commit: `rating._rate_locked`'s protocol for one entry."""
    same_line = settings.parser.comment_on_same_line

    def relocate(data: bytes) -> list[Edit] | None:
        again = _find_in(loc.rel, loc.path, data, loc.card.id, settings, all_notes)
        if again is None:
            return None
        return [sr_edit(data, again.question, loc.card.sibling, after, same_line=same_line)]

    log.append(staged)
    try:
        applied = apply_edits(loc.path, loc.rel, [edit], relocate, basis=loc.data, root=root,
                              in_place=settings.write_in_place)
    except BaseException as exc:
        if isinstance(exc, Exception):  # nothing was written (apply_edits is atomic)
            reason = exc.message if isinstance(exc, ConflictError | NoteWriteError) else (
                getattr(exc, "message", None) or str(exc))
            log.append(Abort(time=time_text, of=staged.uid, reason=reason))
        raise
    done = _record(applied.edits[0])
    log.append(Commit(time=time_text, of=staged.uid,
                      edit=done if done != staged.edit else None))


# --- undo -------------------------------------------------------------------------------


def undo_newest(root: Path, settings: Settings, now: dt.datetime, *,
                all_notes: bool = False) -> list[Event]:
    """Take back the newest action in effect of any kind (a rating, forget, set-due,
    bury, suspend, unsuspend, flag) and every other event of its batch (one command's
    events). Note writes get their bytes back; the others get an `Undo`. Returns the
    events undone, newest first."""
    log = ReviewLog(root)
    with vault_lock(root):
        reconcile(root, settings, log, now, all_notes=all_notes)
        effective = [e for e in in_effect(log.events()) if isinstance(e, UNDOABLE)]
        if not effective:
            raise FlashmarkError("nothing to undo: the review log has no rating or action "
                                 "left to take back")
        group = _batch_of(effective[-1], in_effect(log.events()))
        time_text = _now_utc(now)
        # The note writes first: when one cannot be taken back (the entry changed by
        # hand since), the log-only events of the batch (a rating's leech and suspension)
        # stay in effect with it instead of being undone alone.
        for e in group:
            if isinstance(e, Review | Forget | SetDue):
                revert_write_locked(root, settings, log, e, now, all_notes=all_notes)
        undos = []
        for e in group:
            if not isinstance(e, Review | Forget | SetDue):
                assert isinstance(e, Bury | Suspend | Unsuspend | Flag | Leech)
                undos.append(Undo(time=time_text, of=e.uid, id=e.id, path=e.path))
        log.append_all(undos)
    return group


def _batch_of(newest: Event, effective: list[Event]) -> list[Event]:
    """``newest`` and the other events of its batch, newest first. A rating's batch is
    its uid: the `Leech` (and `Suspend`) it made (`review.leech.note_leech`) go with it,
    whichever of them is named."""
    batch = getattr(newest, "batch", None)
    if batch is None and isinstance(newest, Review):
        batch = newest.uid
    if batch is None:
        return [newest]
    return [e for e in reversed(effective)
            if getattr(e, "batch", None) == batch or e.uid == batch]

"""Rate a card and write the result into its note; undo the last rating.

A rating is, under the vault's write lock (`vault.lock`): reconcile what a killed
writer left (`reconcile`) → find the card by id → schedule it (FSRS, injected clock) →
log the `Review` as staged → one `Edit` of its SR entry → `apply_edits` (verifies the
note is the one the edit was computed from, else re-locates the card; atomic) → log a
`Commit`. When the note changed so that the card is gone, nothing is written to the
note, the staged review is aborted and the rating is logged as `Pending`, so it is not
lost. An undo is staged and committed the same way. docs/architecture.md shows why a
crash at any instant leaves note and log agreeing after the next command.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flashmark.cards import Card, cards_of
from flashmark.config import Settings
from flashmark.errors import CardNotFoundError, ConflictError, FlashmarkError, NoteReadError
from flashmark.identity import ID_LENGTH, card_ids
from flashmark.model import CardId, FsrsEntry, Question, Rating, RawEntry, Sm2Entry
from flashmark.syntax import parse_note, srcodec
from flashmark.vault.edit import Applied, Edit, NoteWriteError, apply_edits, read_bytes
from flashmark.vault.index import Index, default_index_path
from flashmark.vault.lock import vault_lock
from flashmark.vault.notefile import decode_note
from flashmark.vault.reviewlog import (
    Abort,
    Commit,
    EditRecord,
    Event,
    External,
    Forget,
    Pending,
    Renamed,
    Review,
    ReviewLog,
    ScheduleWrite,
    SetDue,
    Undo,
    follow_renames,
    in_effect,
    open_intents,
    rename_map,
)
from flashmark.vault.scan import _fingerprint, scan_vault
from flashmark.vault.srwrite import sr_edit

if TYPE_CHECKING:
    from flashmark.scheduling import FsrsScheduler
    from flashmark.scheduling.load_balance import LoadBalancer


@dataclass(frozen=True, slots=True)
class Located:
    rel: str
    path: str
    data: bytes
    question: Question
    card: Card


def _find_in(rel: str, path: str, data: bytes, card_id: str, settings: Settings,
             all_notes: bool, seen: dict[str, str] | None = None) -> Located | None:
    """The card ``card_id`` in this note; ``seen`` collects every id of the note."""
    text = decode_note(rel, data).text
    note = parse_note(text, settings.parser, all_notes=all_notes)
    found = None
    for q in note.questions:
        ids = card_ids(q, rel)
        if seen is not None:
            seen.update(dict.fromkeys(ids, rel))
        if found is None and card_id in ids:
            found = Located(rel, path, data, q, cards_of(q, rel)[ids.index(CardId(card_id))])
            if seen is None:
                break
    return found


@dataclass(frozen=True, slots=True)
class GoneCard:
    """What is known of a card that left its note: where it was, and its entry then."""

    id: str
    path: str
    sibling: int
    entry_text: str | None


def _indexed_card(index: Index, rel: str, card_id: str) -> GoneCard | None:
    """The card as the index's `scan --json` lines for ``rel`` have it, if stored."""
    import json

    from flashmark.cardjson import unpack_card_json

    blob = index.card_json(rel)
    lines = unpack_card_json(blob) if blob is not None else None
    for line in (lines or b"").splitlines():
        if card_id.encode() not in line:
            continue
        # A cache: a line that does not read as `scan --json` wrote it is not believed.
        try:
            row = json.loads(line)
            if row.get("id") != card_id:
                continue
            readable, entry = _entry_text(row.get("schedule"))
            sibling = row["sibling"]
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if not readable or type(sibling) is not int:
            return None
        return GoneCard(card_id, rel, sibling, entry)
    return None


def _entry_text(schedule: dict[str, object] | None) -> tuple[bool, str | None]:
    """(readable, the SR entry text) of a `scan --json` schedule (None: new)."""
    if schedule is None:
        return True, None
    try:
        if schedule["kind"] == "sm2":
            return True, srcodec.sm2_entry(dt.date.fromisoformat(str(schedule["due"])),
                                     int(str(schedule["interval"])),
                                     int(str(schedule["ease"]))).text
        if schedule["kind"] == "fsrs":
            last = schedule["last_review"]
            return True, srcodec.fsrs_entry(
                due=_instant(schedule["due"]),
                interval=int(str(schedule["interval"])),
                stability=float(str(schedule["stability"])),
                difficulty=float(str(schedule["difficulty"])),
                state=int(str(schedule["state"])), reps=int(str(schedule["reps"])),
                lapses=int(str(schedule["lapses"])), step=int(str(schedule["step"])),
                last_review=None if last is None else _instant(last)).text
    except (KeyError, ValueError, TypeError, AttributeError, OverflowError):
        pass
    return False, None


def _instant(value: object) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value)).astimezone(dt.UTC)


class CardFinder:
    """Finds cards by id: the index says which note holds the id (one SQL query, no walk
    of the vault); when it is stale, a scan brings it up to date and the query runs
    again. Ratings do not change ids, so one finder serves a whole review session."""

    def __init__(self, root: Path, settings: Settings, *, all_notes: bool = False) -> None:
        self.root = root
        self.settings = settings
        self.all_notes = all_notes
        self.log = ReviewLog(root)
        self._places: dict[str, str] = {}  # card id -> note, for ids found before
        # cards the index listed but their note no longer has (see `gone`)
        self._indexed: dict[str, GoneCard] = {}

    def _paths(self, card_id: str, fresh: bool) -> list[str]:
        if fresh:
            scan_vault(self.root, self.settings, all_notes=self.all_notes).close()
        index = Index(default_index_path(self.root), _fingerprint(self.settings, self.all_notes))
        try:
            return index.paths_with_card(card_id)
        finally:
            index.close()

    def _remember_indexed(self, card_id: str, paths: list[str]) -> None:
        """What the index's stored lines say of a card its notes no longer have, kept
        for `gone` before the rescan replaces them (read only once a lookup failed)."""
        if len(card_id) != ID_LENGTH or not paths:
            return
        index = Index(default_index_path(self.root), _fingerprint(self.settings, self.all_notes))
        try:
            for rel in paths:
                row = _indexed_card(index, rel, card_id)
                if row is not None:
                    self._indexed[card_id] = row
        finally:
            index.close()

    def gone(self, card_id: str) -> GoneCard | None:
        """A card that existed but is no longer in its note (call after `find` failed):
        the review log's last word on it (a rating, an external change, a pending
        rating), else the index's record of it before the rescan. None when neither knows
        the id with its entry (a typo, or a card never scanned with its schedule)."""
        if len(card_id) != ID_LENGTH:
            return None
        for e in reversed(in_effect(follow_renames(self.log.events()))):
            if isinstance(e, (*ENTRY_WRITES, Pending)) and e.id == card_id:
                entry = e.before if isinstance(e, Pending) else e.after
                return GoneCard(card_id, e.path, e.sibling, entry)
        return self._indexed.get(card_id)

    def find(self, card_id: str) -> Located:
        if len(card_id) < 6 or any(c not in "0123456789abcdef" for c in card_id):
            raise CardNotFoundError(
                f"{card_id!r} is not a card id",
                hint="card ids are 12 hex digits, as `flashmark scan --json` prints them "
                     "(a unique prefix of 6 or more works)")
        known = self._places.get(card_id)
        if known:
            hit = self._look_in(known, card_id)
            if hit:
                return hit[0]
        attempts: list[list[str]] = []
        for fresh in (False, True):
            attempts.append(self._paths(card_id, fresh))
            found = [loc for rel in attempts[-1] for loc in self._look_in(rel, card_id)]
            ids = sorted({loc.card.id for loc in found})
            if len(ids) > 1:
                raise FlashmarkError(f"card id {card_id!r} is ambiguous: "
                                     f"{', '.join(ids[:5])} all start with it",
                                     hint="give more digits")
            if found:
                self._places[found[0].card.id] = found[0].rel
                return found[0]
            if not fresh:
                self._remember_indexed(card_id, attempts[-1])
        raise self._not_found(card_id, attempts[0] or ([known] if known else []))

    def _not_found(self, card_id: str, last_seen: list[str]) -> CardNotFoundError:
        """Say where the card was last seen: "no such id" would blame the id for what is
        often a note being saved at this very moment."""
        if not last_seen:
            return CardNotFoundError(f"no card with id {card_id} in {self.root}",
                                     hint="ids change when a card's text changes; "
                                          "`flashmark scan --json` lists the current ones")
        rel = last_seen[0]
        try:
            empty = os.path.getsize(self.root / rel) == 0
        except OSError:
            return CardNotFoundError(
                f"card {card_id} was in {rel}, which is gone (moved, renamed or deleted)",
                hint="`flashmark scan --json` lists the current cards")
        if empty:
            return CardNotFoundError(
                f"card {card_id} was in {rel}, which is empty right now",
                hint="another program may be saving it: try again in a moment")
        return CardNotFoundError(
            f"card {card_id} was in {rel}, which no longer has it: the note changed since "
            "the last scan", hint="the card's text was edited (ids follow the text) or the "
                                  "note is being saved: `flashmark scan --json` lists the "
                                  "current cards")

    def _look_in(self, rel: str, card_id: str) -> list[Located]:
        """The cards of note ``rel`` whose id is (or starts with) ``card_id``."""
        path = str(self.root / rel)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return []
        except OSError as exc:
            # Not "no such card": the note is there and cannot be read.
            raise NoteReadError(rel, f"cannot read the note: {exc.strerror or exc}") from None
        if len(card_id) == ID_LENGTH:
            loc = _find_in(rel, path, data, card_id, self.settings, self.all_notes,
                           self._places)
            return [loc] if loc is not None else []
        return _find_prefix(rel, path, data, card_id, self.settings, self.all_notes)


def find_card(root: Path, settings: Settings, card_id: str, *, all_notes: bool = False
              ) -> Located:
    """Find a card by its id; the index is tried first, then a fresh scan."""
    return CardFinder(root, settings, all_notes=all_notes).find(card_id)


def _find_prefix(rel: str, path: str, data: bytes, prefix: str, settings: Settings,
                 all_notes: bool) -> list[Located]:
    text = decode_note(rel, data).text
    note = parse_note(text, settings.parser, all_notes=all_notes)
    return [Located(rel, path, data, q, card) for q in note.questions
            for card in cards_of(q, rel) if card.id.startswith(prefix)]


@dataclass(frozen=True, slots=True)
class RateOutcome:
    card: Card
    rel: str
    before: str | None
    after: str
    applied: Applied
    event: Review  # as in effect (with the edit actually written)


def _now_utc(now: dt.datetime) -> str:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return srcodec.iso_ms(now)


# The events that say what a card's entry became: flashmark's own writes (a rating,
# forget, set-due, reschedule) and a change another tool made. The log's last word on a
# card is the newest of them (a set-due followed by a rating is not an outside change).
ENTRY_WRITES = (Review, Forget, SetDue, External)


def _last_known(events: list[Event], card_id: str) -> tuple[bool, str | None]:
    """What the log last says this card's entry is: (known, entry text), through the
    card's renames (its history under the ids it had before its text changed)."""
    for e in reversed(in_effect(follow_renames(events))):
        if isinstance(e, ENTRY_WRITES) and e.id == card_id:
            return True, e.after
    return False, None



def _edited_in_place(events: list[Event], loc: Located, before: str, settings: Settings,
                     all_notes: bool) -> str | None:
    """The id this card had before its text was edited in place, when the log tells:
    the card has no history, and exactly one card of the same note and sibling slot whose
    id is gone from the note (and not renamed already) last wrote the entry the card has
    now. Costs one pass over the log, and a parse of the note only when there is such a
    card."""
    renamed = rename_map(events)
    last: dict[str, str | None] = {}
    for e in in_effect(events):
        if (isinstance(e, ENTRY_WRITES) and e.path == loc.rel
                and e.sibling == loc.card.sibling):
            last[e.id] = e.after
    candidates = [i for i, after in last.items()
                  if after == before and i != loc.card.id and i not in renamed]
    if not candidates:
        return None
    present: dict[str, str] = {}
    _find_in(loc.rel, loc.path, loc.data, loc.card.id, settings, all_notes, present)
    vanished = [i for i in candidates if i not in present]
    return vanished[0] if len(vanished) == 1 else None  # two: which one is unknowable


def note_path(root: Path, rel: object) -> str:
    """The file of the note ``rel`` as named in the review log, which is data from disk
    (possibly merged from another machine): only a relative path that stays inside the
    vault, symbolic links resolved, is accepted."""
    bad = FlashmarkError(f"the review log names {rel!r}, which is not a note inside the "
                         "vault; that line is ignored",
                         hint="the log may have been edited or merged badly")
    if not isinstance(rel, str) or not rel or "\0" in rel or os.path.isabs(rel):
        raise bad
    parts = rel.replace("\\", "/").split("/")
    if any(p in ("", ".", "..") for p in parts) or parts[0] == ".flashmark":
        raise bad
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, *parts))
    if not real.startswith(real_root + os.sep):
        raise bad
    return str(root / rel)


def _entry_of(root: Path, settings: Settings, rel: str, card_id: str, all_notes: bool
              ) -> tuple[bool, str | None]:
    """(found, entry text) of card ``card_id`` in note ``rel`` as it is now."""
    path = note_path(root, rel)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return False, None
    loc = _find_in(rel, path, data, card_id, settings, all_notes)
    return (True, loc.card.entry_text) if loc is not None else (False, None)


def reconcile(root: Path, settings: Settings, log: ReviewLog, now: dt.datetime,
              *, all_notes: bool = False) -> list[Event]:
    """Settle staged reviews and undos that a killed writer left without a commit: commit
    each whose change is in the note, abort the others. Call with the vault lock held.
    Returns the commit and abort events written."""
    events = log.events()
    intents = open_intents(events)
    if not intents:
        return []
    by_uid = {e.uid: e for e in events}
    written: list[Event] = []
    time_text = _now_utc(now)
    for intent in intents:
        reason = None
        try:
            if isinstance(intent, Review | Forget | SetDue):
                found, entry = _entry_of(root, settings, intent.path, intent.id, all_notes)
                done, undone = entry == intent.after, entry == intent.before
            else:
                target = by_uid.get(intent.of)
                if not isinstance(target, Review | Forget | SetDue):
                    raise FlashmarkError("the undone rating is not in the log")
                found, entry = _entry_of(root, settings, target.path, target.id, all_notes)
                done, undone = entry == target.before, entry == target.after
            if not found:
                reason = "interrupted, and the card is no longer in its note"
            elif done:
                written.append(log.append(Commit(time=time_text, of=intent.uid)))
                continue
            else:
                reason = ("interrupted before the note was written" if undone else
                          "interrupted, and the note changed since")
        except FlashmarkError as exc:
            reason = f"interrupted; {exc.message}"
        written.append(log.append(Abort(time=time_text, of=intent.uid, reason=reason)))
    return written


def rate_card(root: Path, settings: Settings, card_id: str, rating: Rating, now: dt.datetime,
              *, duration_ms: int | None = None, all_notes: bool = False,
              finder: CardFinder | None = None, balancer: LoadBalancer | None = None,
              expect_entry: tuple[str | None] | None = None) -> RateOutcome:
    """Rate one card: schedule it, write its entry into the note, log the review.

    With load balancing on (``review.balance.balancing``) the interval's day is chosen by
    ``balancer`` (built from the index when not given) and the balancer learns the new
    due day. ``expect_entry``: (the entry the card had when it was shown,): under the
    lock, a card whose entry is another now raises `RatedElsewhereError` (nothing is
    written), so two reviewers never rate one card twice unknowingly."""
    time_text = _now_utc(now)
    finder = finder or CardFinder(root, settings, all_notes=all_notes)
    with vault_lock(root):
        reconcile(root, settings, finder.log, now, all_notes=all_notes)
        return _rate_locked(root, settings, card_id, rating, now, time_text, duration_ms,
                            all_notes, finder, balancer, expect_entry)


class RatedElsewhereError(FlashmarkError):
    """The card's entry changed since the card was shown: another program (a second
    reviewer, the plugin, `flashmark rate`) rated it meanwhile."""

    def __init__(self, message: str, entry: str | None) -> None:
        super().__init__(message)
        self.entry = entry


def scheduler_for(settings: Settings) -> FsrsScheduler:
    from flashmark.scheduling import FsrsScheduler, SchedulerConfig

    return FsrsScheduler(SchedulerConfig.from_settings(settings.scheduling))


def schedule(scheduler: FsrsScheduler, settings: Settings, card: Card, rating: Rating,
             now: dt.datetime, balancer: LoadBalancer | None = None,
             sibling_days: tuple[dt.date, ...] = ()) -> str:
    """The entry text ``card`` gets when rated ``rating`` at ``now`` (``sibling_days``:
    `review.balance.sibling_days`)."""
    return schedule_entry(scheduler, settings, card.id, card.entry_text, rating, now,
                          balancer, sibling_days)


def schedule_entry(scheduler: FsrsScheduler, settings: Settings, card_id: str,
                   before: str | None, rating: Rating, now: dt.datetime,
                   balancer: LoadBalancer | None = None,
                   sibling_days: tuple[dt.date, ...] = ()) -> str:
    """The entry text card ``card_id`` with entry ``before`` gets when rated ``rating``."""
    from flashmark.scheduling.load_balance import Balance

    entry = srcodec.parse_entry(before) if before is not None else None
    if isinstance(entry, RawEntry):
        raise FlashmarkError(f"the SR entry '!{entry.text}' of card {card_id} cannot be read "
                             f"({entry.reason})")
    assert entry is None or isinstance(entry, Sm2Entry | FsrsEntry)
    balance = Balance(balancer, sibling_days) if balancer is not None else None
    key = int(card_id, 16)
    if settings.scheduling.state_format == "sm2":
        return scheduler.review_as_sm2(entry, rating, now, key, balance).text
    return scheduler.review(entry, rating, now, key, balance).text


def keep_pending(root: Path, settings: Settings, log: ReviewLog, card: Card | GoneCard,
                 rel: str, rating: Rating, now: dt.datetime, *, duration_ms: int | None,
                 reason: str) -> Pending:
    """Log a rating that cannot be written (the card left its note, the note cannot be
    written) as `pending`, so it is not lost: what `rate_card` does when its write fails,
    the reviewer when the card on screen left its note, `rate_card_or_keep` for a card
    that left its note before `flashmark rate`."""
    scheduler = scheduler_for(settings)
    try:
        after = schedule_entry(scheduler, settings, card.id, card.entry_text, rating, now)
    except FlashmarkError:
        after = card.entry_text or ""
    with vault_lock(root):
        return log.append(Pending(time=_now_utc(now), id=card.id, path=rel,
                                  sibling=card.sibling, rating=rating.value,
                                  duration_ms=duration_ms, before=card.entry_text,
                                  after=after, scheduler=scheduler.version, reason=reason))


class CardGoneError(ConflictError):
    """`flashmark rate` on a card that existed (the review log or the index knows it) but
    is no longer in its note: the rating is kept as a `pending` log line (exit 4, as when
    the card leaves its note during the write)."""

    def __init__(self, message: str, pending: Pending, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.pending = pending


GONE_REASON = "the card is no longer in its note"


def _empty_now(root: Path, rel: str) -> bool:
    try:  # (``rel`` may come from the review log: checked like every path from it)
        return os.path.getsize(note_path(root, rel)) == 0
    except (OSError, FlashmarkError):
        return False


def rate_card_or_keep(root: Path, settings: Settings, card_id: str, rating: Rating,
                      now: dt.datetime, *, duration_ms: int | None = None,
                      all_notes: bool = False) -> RateOutcome:
    """`rate_card`, and for a card that left its note (its id known from the review log
    or the index) the rating kept as `pending`, as the reviewer keeps it: raises
    `CardGoneError` then. An id never seen, or a card whose note is empty right now
    (being saved), stays `CardNotFoundError`."""
    finder = CardFinder(root, settings, all_notes=all_notes)
    try:
        return rate_card(root, settings, card_id, rating, now, duration_ms=duration_ms,
                         all_notes=all_notes, finder=finder)
    except CardNotFoundError:
        gone = finder.gone(card_id)
        if gone is None or _empty_now(root, gone.path):
            # An empty note is most likely being saved this instant: "try again" (the
            # error says so) is right, not a pending rating for a card that is coming back.
            raise
    pending = keep_pending(root, settings, finder.log, gone, gone.path, rating, now,
                           duration_ms=duration_ms, reason=GONE_REASON)
    raise CardGoneError(
        f"card {card_id} is no longer in {gone.path}; the {rating.value} rating is kept in "
        "the review log as pending", pending,
        hint="the card's text was edited (ids follow the text), the card was deleted, or "
             "the note is being saved: `flashmark scan --json` lists the current cards")


def _rate_locked(root: Path, settings: Settings, card_id: str, rating: Rating,
                 now: dt.datetime, time_text: str, duration_ms: int | None,
                 all_notes: bool, finder: CardFinder, balancer: LoadBalancer | None,
                 expect_entry: tuple[str | None] | None) -> RateOutcome:
    from flashmark.review.balance import (
        balancing,
        record_rating,
        sibling_days,
        vault_balancer,
    )

    loc = finder.find(card_id)
    if expect_entry is not None and loc.card.entry_text != expect_entry[0]:
        raise RatedElsewhereError(
            f"card {loc.card.id} was rated elsewhere since it was shown (its entry is now "
            f"{loc.card.entry_text or 'empty'})", loc.card.entry_text)
    card = loc.card
    before = card.entry_text
    entry = srcodec.parse_entry(before) if before is not None else None
    if isinstance(entry, RawEntry):
        raise FlashmarkError(
            f"{loc.rel}:{loc.question.span.line + 1}: the SR entry '!{entry.text}' of this card "
            f"cannot be read ({entry.reason}); flashmark will not overwrite it",
            hint="fix the entry by hand or delete it to start the card anew")
    assert entry is None or isinstance(entry, Sm2Entry | FsrsEntry)
    scheduler = scheduler_for(settings)
    if balancer is None and balancing(settings):
        balancer = vault_balancer(root, settings, now, all_notes=all_notes)
    if not balancing(settings):
        balancer = None
    near = (sibling_days(loc.question, loc.rel, card.id, settings, now)
            if balancer is not None else ())
    after = schedule(scheduler, settings, card, rating, now, balancer, near)
    log = finder.log
    events = log.events()
    known, last = _last_known(events, card.id)
    if not known and before is not None:
        old_id = _edited_in_place(events, loc, before, settings, all_notes)
        if old_id is not None:
            # The card's text was edited in place: its schedule is the one an earlier
            # rating wrote under another id. Its history continues under this one.
            log.append(Renamed(time=time_text, id=old_id, to=card.id, path=loc.rel,
                               via="edit"))
            known, last = True, before
    if known and last != before:
        # Another tool (the Obsidian plugin, a hand edit) changed this card since our
        # last rating: the note is the truth; record what we saw and go on from it.
        log.append(External(time=time_text, id=card.id, path=loc.rel, sibling=card.sibling,
                            before=last, after=before))
    same_line = settings.parser.comment_on_same_line
    edit = sr_edit(loc.data, loc.question, card.sibling, after, same_line=same_line)

    def relocate(data: bytes) -> list[Edit] | None:
        again = _find_in(loc.rel, loc.path, data, card.id, settings, all_notes)
        if again is None:
            return None
        return [sr_edit(data, again.question, card.sibling, after, same_line=same_line)]

    staged = log.append(Review(
        time=time_text, id=card.id, path=loc.rel, sibling=card.sibling,
        rating=rating.value, duration_ms=duration_ms, before=before, after=after,
        scheduler=scheduler.version, edit=_record(edit), staged=True))
    try:
        applied = apply_edits(loc.path, loc.rel, [edit], relocate, basis=loc.data, root=root,
                              in_place=settings.write_in_place)
    except (ConflictError, NoteWriteError) as exc:
        # The rating itself is kept: a `Pending` line holds it until it can be applied.
        log.append(Abort(time=time_text, of=staged.uid, reason=exc.message))
        log.append(Pending(time=time_text, id=card.id, path=loc.rel, sibling=card.sibling,
                           rating=rating.value, duration_ms=duration_ms, before=before,
                           after=after, scheduler=scheduler.version, reason=exc.message))
        raise
    except BaseException as exc:
        # Nothing was written (apply_edits is atomic): say so, unless we are dying.
        if isinstance(exc, Exception):
            log.append(Abort(time=time_text, of=staged.uid,
                             reason=getattr(exc, "message", None) or str(exc)))
        raise
    done = _record(applied.edits[0])
    log.append(Commit(time=time_text, of=staged.uid,
                      edit=done if done != staged.edit else None))
    if balancer is not None:
        record_rating(balancer, settings, before, after, now)
    event = dataclasses.replace(staged, staged=False, edit=done)
    return RateOutcome(card, loc.rel, before, after, applied, event)


def _record(edit: Edit) -> EditRecord:
    return EditRecord(edit.start, edit.old.decode("utf-8"), edit.new.decode("utf-8"))


@dataclass(frozen=True, slots=True)
class UndoOutcome:
    event: Review  # the review that was undone
    applied: Applied


def last_rating(events: list[Event]) -> Review | None:
    """The newest rating in effect (what `undo` takes back)."""
    return next((e for e in reversed(in_effect(events)) if isinstance(e, Review)), None)


def undo_last(root: Path, settings: Settings, now: dt.datetime, log: ReviewLog | None = None,
              *, all_notes: bool = False, expect: str | None = None) -> UndoOutcome:
    """Revert the newest rating that is not undone yet: the note gets back the exact
    bytes it had, and an `Undo` is logged. With ``expect`` (a review's uid), refuse when
    the newest rating is another one."""
    log = log or ReviewLog(root)
    with vault_lock(root):
        reconcile(root, settings, log, now, all_notes=all_notes)
        review = last_rating(log.events())
        if review is None:
            raise FlashmarkError("nothing to undo: the review log has no rating left to revert")
        if expect is not None and review.uid != expect:
            raise FlashmarkError("the newest rating in the review log is not this session's "
                                 "(another program rated a card since)",
                                 hint="`flashmark undo` reverts ratings newest first")
        applied = revert_write_locked(root, settings, log, review, now, all_notes=all_notes)
    return UndoOutcome(review, applied)


def revert_write_locked(root: Path, settings: Settings, log: ReviewLog,
                        review: ScheduleWrite, now: dt.datetime, *, all_notes: bool = False
                        ) -> Applied:
    """Put back the bytes ``review`` (a rating, a forget, a set-due) replaced, staged and
    committed like the write itself. Call with the vault lock held, after `reconcile`."""
    if review.edit is None:
        raise FlashmarkError(f"the {_what(review)} of card {review.id} has no record of what "
                             "it wrote; it cannot be undone")
    path = note_path(root, review.path)
    try:
        data = read_bytes(path, review.path)
        reverse = _undo_edits(path, data, review, settings, all_notes)
    except ConflictError as exc:
        raise _undo_conflict(review, exc) from None
    staged = log.append(Undo(time=_now_utc(now), of=review.uid, id=review.id,
                             path=review.path, staged=True))

    def relocate(current: bytes) -> list[Edit] | None:
        try:
            return _undo_edits(path, current, review, settings, all_notes)
        except ConflictError:
            return None

    try:
        applied = apply_edits(path, review.path, reverse, relocate, basis=data, root=root,
                              in_place=settings.write_in_place)
    except Exception as exc:
        log.append(Abort(time=_now_utc(now), of=staged.uid,
                         reason=getattr(exc, "message", None) or str(exc)))
        if isinstance(exc, ConflictError):
            raise _undo_conflict(review, exc) from None
        raise
    log.append(Commit(time=_now_utc(now), of=staged.uid))
    return applied


def _what(event: ScheduleWrite) -> str:
    return {"review": "rating", "forget": "forget", "set_due": "set-due"}[event.kind]


def _undo_conflict(review: ScheduleWrite, exc: ConflictError) -> ConflictError:
    return ConflictError(f"cannot undo the {_what(review)} of card {review.id} in "
                         f"{review.path}: {exc.message}",
                         hint="the card or its SR comment changed since; edit the SR comment "
                              "by hand")


def _undo_edits(path: str, data: bytes, review: ScheduleWrite, settings: Settings,
                all_notes: bool) -> list[Edit]:
    """The edit that puts back what ``review`` replaced, found by the card's identity in
    the note as it is now (never by offsets alone: the note may have changed, and two
    cards may hold byte-identical entries)."""
    assert review.edit is not None
    loc = _find_in(review.path, path, data, review.id, settings, all_notes)
    if loc is None:
        raise ConflictError("the card is no longer in its note")
    if loc.card.entry_text != review.after:
        raise ConflictError("its SR entry is no longer the one the rating wrote")
    old = review.edit.old.encode("utf-8")
    new = review.edit.new.encode("utf-8")
    sr = loc.question.sr
    if sr is None or not new:
        raise ConflictError("the card has no SR comment")
    # What the rating wrote lies in the card's comment (or ends with it, when the
    # rating added the comment): search that window only.
    lo = max(loc.question.span.start, sr.span.start - len(new))
    window = data[lo:sr.span.end]
    if window.count(new) == 1:
        at = lo + window.find(new)
        return [Edit(at, at + len(new), new, old)]
    if review.before is not None and old == review.before.encode("utf-8"):
        # The same bytes twice in the comment (two siblings with one entry): go by slot.
        return [sr_edit(data, loc.question, review.sibling, review.before,
                        same_line=settings.parser.comment_on_same_line)]
    raise ConflictError("what the rating wrote cannot be found unambiguously")

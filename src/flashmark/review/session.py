"""A review session without a UI: the card on screen, reveal, rate, undo, bury, suspend.

The TUI drives it; tests drive it directly. Every change is on disk before the method
returns: a rating goes through ``rating.rate_card`` (the note, then the review log,
both synced), bury and suspend are log events. So quitting, a crash or Ctrl+C lose at
most the card on screen.

Order of cards: (re)learning cards that are due, then review cards, then new cards
while their limit group has budget left, then learning cards due within
``learn_ahead``. A card rated into a learning step due later today goes back into the
session at its due time. With ``bury_siblings``, the other cards of a question are
left for another day once one of them was reviewed today (the note is parsed when a
card is shown, so that is when its siblings are known).

Log events written here (see ``vault.reviewlog``): ``bury`` (until the next local
midnight), ``suspend``, ``unsuspend``, and ``undo`` of a bury or suspend (``of`` = its
uid); ratings and their undo are logged by ``review.rating``.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import difflib
import os
import shlex
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from flashmark.cards import Card, cards_of
from flashmark.config import Settings
from flashmark.errors import CardNotFoundError, ConflictError, FlashmarkError
from flashmark.identity import card_ids
from flashmark.model import (
    ACTION_BURY,
    ACTION_RATE,
    ACTION_SUSPEND,
    LEARNING,
    NEW_CARD,
    STATE_LEARNING,
    ActionKind,
    FsrsEntry,
    Question,
    QuestionType,
    Rating,
    Sm2Entry,
)
from flashmark.review.balance import balancing, record_rating, sibling_days, vault_balancer
from flashmark.review.leech import note_leech
from flashmark.review.queue import Queue, QueueCard, cutoff_end, read_log_events
from flashmark.review.rating import (
    GONE_REASON,
    CardFinder,
    Located,
    RatedElsewhereError,
    RateOutcome,
    keep_pending,
    note_path,
    rate_card,
    undo_last,
)
from flashmark.review.render import card_sides, heading_trail
from flashmark.syntax import parse_note, srcodec
from flashmark.vault.codec import NEW, UNREADABLE, due_key, key_and_state
from flashmark.vault.edit import NoteWriteError
from flashmark.vault.lock import vault_lock
from flashmark.vault.notefile import decode_note, read_note
from flashmark.vault.reviewlog import (
    LOG_NAME,
    Bury,
    Event,
    Leech,
    Review,
    ReviewLog,
    Suspend,
    Undo,
    Unsuspend,
    follow_renames,
    in_effect,
)

if TYPE_CHECKING:  # importing the scheduler imports py-fsrs: only when answering
    from flashmark.scheduling import FsrsScheduler
    from flashmark.scheduling.load_balance import LoadBalancer

Clock = Callable[[], dt.datetime]
E = TypeVar("E", bound=Event)

# How alike (difflib ratio) an edited question must be to its old text to be taken for
# the same card.
RELOCATE_SIMILARITY = 0.6


@dataclass(frozen=True, slots=True)
class ShownCard:
    """The card on screen, with what the UI needs to draw it."""

    item: QueueCard
    card: Card
    located: Located
    front: str  # Markdown (see review.render)
    back: str
    trail: tuple[str, ...]  # the headings above the card in its note
    stamp: tuple[int, int]  # the note's (mtime_ns, size) when it was read
    # The card's entry when it was first shown: a rating finding another one in the note
    # learns that the card was rated elsewhere meanwhile (and asks before rating again).
    asked_entry: str | None = None

    @property
    def id(self) -> str:
        return self.card.id

    @property
    def path(self) -> str:
        return self.located.rel

    @property
    def line(self) -> int:
        """1-based line of the card's first line."""
        return self.card.question.span.line + 1

    @property
    def is_cloze(self) -> bool:
        return self.card.question.type is QuestionType.CLOZE

    @property
    def reversed(self) -> bool:
        """A reversible card asked back to front."""
        return self.card.sibling == 1 and self.card.question.type in (
            QuestionType.REVERSIBLE, QuestionType.MULTILINE_REVERSIBLE)


@dataclass(slots=True)
class _Action:
    kind: ActionKind
    item: QueueCard
    event: Review | Bury | Suspend  # the log event written
    requeued: QueueCard | None = None  # the learning step put back in the session
    removed: list[tuple[str, int, QueueCard]] = field(default_factory=list)  # siblings
    leech_events: list[Leech | Suspend] = field(default_factory=list)  # the rating's leech


@dataclass(frozen=True, slots=True)
class RateResult:
    rated: bool
    message: str | None = None  # for the user: the note changed, the rating is pending...
    outcome: RateOutcome | None = None
    leech: str | None = None  # the leech warning, when this lapse made one
    # The card was rated elsewhere since it was shown: nothing was written; the UI asks
    # whether to rate it anyway (``rate(..., force=True)``) or skip it (``skip``).
    conflict: bool = False


def editor_command(path: str, line: int, editor: str | None = None) -> list[str]:
    """How to open ``path`` at ``line`` in the user's editor ($EDITOR, else $VISUAL, vi).

    Most terminal editors take `+LINE FILE`; VS Code-like ones take `-g FILE:LINE`,
    Helix and Kakoune-like ones `FILE:LINE`."""
    editor = editor or os.environ.get("EDITOR") or os.environ.get("VISUAL") or "vi"
    argv = shlex.split(editor)
    name = os.path.basename(argv[0]) if argv else "vi"
    if name in ("code", "codium", "code-insiders", "cursor"):
        return [*argv, "--wait", "-g", f"{path}:{line}"]
    if name in ("hx", "helix", "subl", "zed"):
        return [*argv, f"{path}:{line}"]
    return [*argv, f"+{line}", path]


class ReviewSession:
    def __init__(self, root: Path, settings: Settings, queue: Queue, *,
                 clock: Clock, finder: CardFinder | None = None, all_notes: bool = False,
                 timer: Callable[[], float] | None = None) -> None:
        self.root = root
        self.settings = settings
        self.review = queue.settings
        self.cutoff = queue.cutoff
        self.clock = clock
        # Seconds, for the answer timer: the injected clock's by default, so that a fixed
        # `--now` (the tests) shows a timer that stands still.
        self.timer = timer if timer is not None else (lambda: clock().timestamp())
        self.all_notes = all_notes
        self.finder = finder or CardFinder(root, settings, all_notes=all_notes)
        self.learning: list[QueueCard] = list(queue.learning)  # by due time
        self.reviews: list[QueueCard] = list(queue.reviews)
        self.new: list[QueueCard] = list(queue.new)
        self.budgets: dict[str, int] = dict(queue.budgets)
        # new cards waiting per limit group (kept in step with self.new)
        self._new_waiting: Counter[str] = Counter(self.review.group_of(c.deck)
                                                  for c in self.new)
        self.reviewed_today: Counter[str] = Counter(queue.state.reviewed_today)
        self.current: ShownCard | None = None
        self.revealed = False
        self.done = 0  # ratings in this session (undo takes one back)
        # ratings of this deck's cards earlier today (other sessions): the progress counts
        # the day, so reopening the reviewer keeps its place
        self.done_before = queue.rated_today
        self.skipped: list[str] = []  # messages about cards that could not be shown
        self._history: list[_Action] = []
        self._shown_at = 0.0
        self._scheduler: FsrsScheduler | None = None
        self._lock = threading.Lock()  # the review log's reader is not thread-safe
        self._balancer: LoadBalancer | None = None  # built once, on first need (warm)
        # Today's studied cards and time (the header), from the log, then this session.
        self.studied_today, self.studied_ms = self._studied_so_far()

    def _studied_so_far(self) -> tuple[int, int]:
        cap = self.review.max_answer_seconds * 1000
        count = total = 0
        path = self.root / ".flashmark" / LOG_NAME
        for e in in_effect(read_log_events(path, self.cutoff)):
            if isinstance(e, Review) and self.cutoff.day_of_moment(e.moment) == self.cutoff.today:
                count += 1
                total += min(e.duration_ms or 0, cap)
        return count, total

    def answer_seconds(self) -> float:
        """How long the card on screen has been shown, capped at review.max_answer_seconds
        (what the rating will log)."""
        if self.current is None:
            return 0.0
        return min(max(0.0, self.timer() - self._shown_at), float(self.review.max_answer_seconds))

    # -- counts ---------------------------------------------------------------------

    def _new_left(self) -> int:
        return sum(min(n, self.budgets.get(g, 0)) for g, n in self._new_waiting.items())

    def _take_new(self, index: int) -> QueueCard:
        item = self.new.pop(index)
        self._new_waiting[self.review.group_of(item.deck)] -= 1
        return item

    def _insert_new(self, index: int, item: QueueCard) -> None:
        self.new.insert(index, item)
        self._new_waiting[self.review.group_of(item.deck)] += 1

    def counts(self) -> tuple[int, int, int]:
        """(new, learning, review) cards left today, the one on screen included."""
        new, learning, review = self._new_left(), len(self.learning), len(self.reviews)
        if self.current is not None:
            kind = self.current.item.kind
            if kind == NEW_CARD:
                new += 1
            elif kind == LEARNING:
                learning += 1
            else:
                review += 1
        return new, learning, review

    @property
    def done_today(self) -> int:
        """Ratings of this deck's cards today, this session's and earlier ones."""
        return self.done_before + self.done

    @property
    def total(self) -> int:
        """Ratings today plus cards left: the progress bar's length."""
        return self.done_today + sum(self.counts())

    def warm(self) -> None:
        """Read the review log once (a rating re-reads only its new tail): call it in the
        background after the first card is shown."""
        with self._lock:
            self.finder.log.events()
            balancer = self._balancer_locked()
            if balancer is not None:
                balancer.count(balancer.start)  # read the histogram now, not at a rating

    def _balancer_locked(self) -> LoadBalancer | None:
        """The load balancer's histogram of the vault (None: not balancing), built from
        the index once per session; ratings keep it current. Call with ``_lock`` held."""
        if self._balancer is None and balancing(self.settings):
            self._balancer = vault_balancer(self.root, self.settings, self.clock(),
                                            all_notes=self.all_notes)
        return self._balancer

    # -- choosing and showing cards ---------------------------------------------------

    def next_card(self) -> ShownCard | None:
        """Show the next card (None: nothing is due now; see ``wait_until``)."""
        if self.current is not None:
            return self.current
        while True:
            item = self._pick()
            if item is None:
                return None
            shown = self._show(item)
            if shown is not None:
                return shown

    def wait_until(self) -> dt.datetime | None:
        """When nothing is due now: the due time of the next learning card today."""
        if self.current is None and self.learning:
            return self.learning[0].due_at
        return None

    def _pick(self) -> QueueCard | None:
        now = self.clock()
        if self.learning and self._due(self.learning[0], now):
            return self.learning.pop(0)
        if self.reviews:
            return self.reviews.pop(0)
        for k, item in enumerate(self.new):
            group = self.review.group_of(item.deck)
            if self.budgets.get(group, 0) > 0:
                self.budgets[group] -= 1
                return self._take_new(k)
        if self.learning and self._due(self.learning[0], now + self.review.learn_ahead):
            return self.learning.pop(0)
        return None

    @staticmethod
    def _due(item: QueueCard, when: dt.datetime) -> bool:
        due = item.due_at
        return due is None or due <= when

    def _give_back_budget(self, item: QueueCard) -> None:
        if item.kind == NEW_CARD:
            group = self.review.group_of(item.deck)
            self.budgets[group] = self.budgets.get(group, 0) + 1

    def _locate(self, item: QueueCard) -> Located:
        # The queue knows each card's note: seed the finder so that it reads that note
        # instead of querying the index. (CardFinder.find could take this as a hint.)
        self.finder._places.setdefault(item.id, item.path)
        return self.finder.find(item.id)

    def _show(self, item: QueueCard, *, check_siblings: bool = True) -> ShownCard | None:
        try:
            loc = self._locate(item)
        except FlashmarkError as exc:
            self._give_back_budget(item)
            reason = ("its text changed since the index was read"
                      if isinstance(exc, CardNotFoundError) else exc.message)
            self.skipped.append(f"{item.path}: card {item.id} skipped: {reason}")
            return None
        if (check_siblings and self.review.bury_siblings and item.kind != LEARNING
                and any(self.reviewed_today[s] for s in self._siblings(loc))):
            self._give_back_budget(item)
            return None
        key, state = key_and_state(loc.card.entry_text)
        if key != item.key:
            # The entry changed since the queue was built: another program (the plugin,
            # `flashmark rate`, a second reviewer) reviewed the card meanwhile.
            still = self._still_due(item, key, state, loc)
            if still is None:
                return None
            item = still
        self.current = self._shown(item, loc)
        self.revealed = False
        self._shown_at = self.timer()
        return self.current

    def _still_due(self, item: QueueCard, key: str, state: str,
                   loc: Located) -> QueueCard | None:
        """The queue entry of a card whose entry changed since it was queued, when it is
        still to be asked now; else None (put back for later today, or skipped with a
        notice in ``skipped``)."""
        if key == NEW:
            return item._replace(key=key, kind=NEW_CARD)
        if state == STATE_LEARNING and key < self.cutoff.instant:
            again = item._replace(key=key, kind=LEARNING)
            if not self._due(again, self.clock() + self.review.learn_ahead):
                self._give_back_budget(item)
                bisect.insort(self.learning, again, key=lambda c: (c.key, c.ordinal))
                return None
            return again
        if state != STATE_LEARNING and self.cutoff.is_due(key):
            return item._replace(key=key)
        self._give_back_budget(item)
        when = self.cutoff.day_of(key)
        self.skipped.append(
            f"{loc.rel}:{loc.question.span.line + 1}: card {item.id} skipped: it was "
            f"reviewed elsewhere since the queue was built"
            + (f" (next due {when.isoformat()})" if when is not None else ""))
        return None

    def _shown(self, item: QueueCard, loc: Located) -> ShownCard:
        front, back = card_sides(loc.card)
        text = decode_note(loc.rel, loc.data).text
        trail = tuple(heading_trail(text, loc.question.span.line))
        return ShownCard(item, loc.card, loc, front, back, trail, _stamp(loc.path),
                         loc.card.entry_text)

    @staticmethod
    def _siblings(loc: Located) -> list[str]:
        return [cid for cid in card_ids(loc.question, loc.rel) if cid != loc.card.id]

    def _require(self) -> ShownCard:
        if self.current is None:
            raise FlashmarkError("no card is shown")
        return self.current

    # -- answering ----------------------------------------------------------------------

    def reveal(self) -> None:
        self._require()
        self.revealed = True

    def scheduler(self) -> FsrsScheduler:
        if self._scheduler is None:
            from flashmark.scheduling import FsrsScheduler, SchedulerConfig

            self._scheduler = FsrsScheduler(SchedulerConfig.from_settings(
                self.settings.scheduling))
        return self._scheduler

    def previews(self) -> dict[Rating, dt.timedelta] | None:
        """Time until the card is due again for each rating (None: unreadable entry)."""
        cur = self._require()
        text = cur.card.entry_text
        entry = srcodec.parse_entry(text) if text is not None else None
        if entry is not None and not isinstance(entry, Sm2Entry | FsrsEntry):
            return None
        from flashmark.scheduling.load_balance import Balance

        with self._lock:
            balancer = self._balancer_locked()
        loc = cur.located
        balance = (Balance(balancer, sibling_days(loc.question, loc.rel, loc.card.id,
                                                  self.settings, self.clock()))
                   if balancer is not None else None)
        return self.scheduler().preview(entry, self.clock(), int(cur.card.id, 16), balance)

    def rate(self, rating: Rating, *, force: bool = False) -> RateResult:
        """Rate the card on screen: note and log are written before this returns.

        Checked first, against the note as it is now: a card gone from its note keeps the
        rating as a `pending` log line; a card whose entry changed since it was shown
        (rated elsewhere) is not rated but reported (``conflict``), unless ``force``."""
        cur = self._require()
        message = None
        duration = round(self.answer_seconds() * 1000)
        if self.note_changed():
            message = self.reread()
            now_shown = self.current
            if now_shown is None:
                return self._keep_pending(cur, rating, duration, message)
            if (now_shown.front, now_shown.back) != (cur.front, cur.back):
                return RateResult(False, message)
            cur = now_shown
        now = self.clock()
        try:
            with self._lock:
                outcome = rate_card(self.root, self.settings, cur.id, rating, now,
                                    duration_ms=duration, all_notes=self.all_notes,
                                    finder=self.finder, balancer=self._balancer_locked(),
                                    expect_entry=None if force else (cur.asked_entry,))
        except RatedElsewhereError as exc:
            return RateResult(False, f"This card was rated elsewhere since it was shown "
                                     f"({_describe_entry(exc.entry)}).", conflict=True)
        except (ConflictError, NoteWriteError) as exc:
            # rate_card logged the rating as `pending`: it is kept, not lost.
            self.current = None
            return RateResult(False, f"{exc.message} (the rating is kept in the review log "
                                     "as pending)")
        except CardNotFoundError:
            return self._keep_pending(cur, rating, duration, None)
        except FlashmarkError as exc:
            self.current = None
            self.skipped.append(f"{cur.path}:{cur.line}: {exc.message}")
            return RateResult(False, exc.message)
        self.reviewed_today[cur.id] += 1
        self.studied_today += 1
        self.studied_ms += duration
        action = _Action(ACTION_RATE, cur.item, outcome.event)
        key, state = key_and_state(outcome.after)
        if state == STATE_LEARNING and key < self.cutoff.instant:
            again = cur.item._replace(key=key, kind=LEARNING)
            bisect.insort(self.learning, again, key=lambda c: (c.key, c.ordinal))
            action.requeued = again
        if self.review.bury_siblings:
            siblings = set(self._siblings(cur.located))
            for k in range(len(self.reviews) - 1, -1, -1):
                if self.reviews[k].id in siblings:
                    action.removed.append(("reviews", k, self.reviews.pop(k)))
            for k in range(len(self.new) - 1, -1, -1):
                if self.new[k].id in siblings:
                    action.removed.append(("new", k, self._take_new(k)))
        leech = self._note_leech(cur, rating, outcome, action)
        self._history.append(action)
        self.done += 1
        self.current = None
        self.revealed = False
        return RateResult(True, message or leech, outcome, leech=leech)

    def _note_leech(self, cur: ShownCard, rating: Rating, outcome: RateOutcome,
                    action: _Action) -> str | None:
        """After a lapse: log a `Leech` (and suspend the card with ``leech_action:
        suspend``) when its lapses reach the threshold or another half of it, as
        `flashmark rate` does (`review.leech.note_leech`). Returns the reviewer's warning."""
        with self._lock:
            notice = note_leech(self.root, self.finder.log, self.review, outcome.event,
                                self.clock())
        if notice is None:
            return None
        action.leech_events.extend(notice.events)
        if notice.suspended:
            if action.requeued is not None and action.requeued in self.learning:
                self.learning.remove(action.requeued)
                action.requeued = None
            return f"{notice.warning} (! on the deck list lists it)"
        return notice.warning

    def _keep_pending(self, cur: ShownCard, rating: Rating, duration: int,
                      message: str | None) -> RateResult:
        """The card left its note before its rating could be written: log the rating as
        `pending` (as `flashmark rate` does), say so, go on with the next card."""
        with self._lock:
            keep_pending(self.root, self.settings, self.finder.log, cur.card, cur.path,
                         rating, self.clock(), duration_ms=duration, reason=GONE_REASON)
        gone = f"{cur.path}:{cur.line}: the card is no longer in the note"
        if gone in self.skipped:
            self.skipped.remove(gone)  # said once, below
        self.current = None
        self._give_back_budget(cur.item)
        return RateResult(False, f"{cur.path}:{cur.line}: the card is no longer in its note; "
                                 f"the {rating.value} rating is kept in the review log as "
                                 "pending" + (f" ({message})" if message else ""))

    def skip(self) -> None:
        """Leave the card on screen without rating it (after a conflict): it is not
        asked again in this session."""
        cur = self._require()
        self._give_back_budget(cur.item)
        self.current = None
        self.revealed = False

    # -- bury, suspend, undo ------------------------------------------------------------

    def _log_event(self, event: E) -> E:
        with self._lock, vault_lock(self.root):
            return self.finder.log.append(event)

    def bury(self) -> None:
        """Leave the card on screen for today (a `bury` event until local midnight)."""
        cur = self._require()
        event = self._log_event(Bury(time=srcodec.iso_ms(self.clock()), id=cur.id,
                                     path=cur.path,
                                     until=srcodec.iso_ms(cutoff_end(self.cutoff))))
        self._give_back_budget(cur.item)
        self._history.append(_Action(ACTION_BURY, cur.item, event))
        self.current = None

    def suspend(self) -> None:
        """Keep the card on screen out of every queue until it is un-suspended."""
        cur = self._require()
        event = self._log_event(Suspend(time=srcodec.iso_ms(self.clock()), id=cur.id,
                                        path=cur.path))
        self._give_back_budget(cur.item)
        self._history.append(_Action(ACTION_SUSPEND, cur.item, event))
        self.current = None

    @property
    def can_undo(self) -> bool:
        return bool(self._history)

    def undo(self) -> tuple[ActionKind, ShownCard | None]:
        """Take back the session's last rating, bury or suspend; that card is shown again.

        Returns what was undone (an ``ActionKind``) and the card shown."""
        if not self._history:
            raise FlashmarkError("nothing to undo in this session")
        action = self._history[-1]
        if action.kind == ACTION_RATE:
            with self._lock:
                self._undo_rating(action)
            for event in reversed(action.leech_events):  # the lapse is taken back too
                self._log_event(Undo(time=srcodec.iso_ms(self.clock()), of=event.uid,
                                     id=action.item.id, path=action.item.path))
        else:
            self._log_event(Undo(time=srcodec.iso_ms(self.clock()), of=action.event.uid,
                                 id=action.item.id, path=action.item.path))
        self._history.pop()
        if self.current is not None:  # the card on screen waits for its turn again
            self._put_back(self.current.item)
            self.current = None
        for name, index, item in reversed(action.removed):
            if name == "reviews":
                self.reviews.insert(index, item)
            else:
                self._insert_new(index, item)
        consume = action.kind != ACTION_RATE  # a rated new card kept its budget
        if consume and action.item.kind == NEW_CARD:
            group = self.review.group_of(action.item.deck)
            self.budgets[group] = self.budgets.get(group, 0) - 1
        shown = self._show(action.item, check_siblings=False)
        return action.kind, shown

    def _undo_rating(self, action: _Action) -> None:
        undo_last(self.root, self.settings, self.clock(), log=self.finder.log,
                  all_notes=self.all_notes, expect=action.event.uid)
        assert isinstance(action.event, Review)
        if self._balancer is not None:
            record_rating(self._balancer, self.settings, action.event.after,
                          action.event.before, self.clock())
        self.studied_today -= 1
        self.studied_ms -= min(action.event.duration_ms or 0,
                               self.review.max_answer_seconds * 1000)
        self.reviewed_today[action.item.id] -= 1
        if action.requeued is not None and action.requeued in self.learning:
            self.learning.remove(action.requeued)
        self.done -= 1

    def _put_back(self, item: QueueCard) -> None:
        if item.kind == LEARNING:
            bisect.insort(self.learning, item, key=lambda c: (c.key, c.ordinal))
        elif item.kind == NEW_CARD:
            self._insert_new(0, item)
            self._give_back_budget(item)
        else:
            self.reviews.insert(0, item)

    # -- the note on disk -----------------------------------------------------------------

    def note_changed(self) -> bool:
        """Did the note of the card on screen change on disk since it was read?"""
        cur = self.current
        if cur is None:
            return False
        if _stamp(cur.located.path) == cur.stamp:
            return False
        try:
            with open(cur.located.path, "rb") as fh:
                return fh.read() != cur.located.data
        except OSError:
            return True

    def reread(self, *, edited: bool = False) -> str | None:
        """Read the card on screen again from its note (after it changed on disk, or after
        ``edited`` in an editor). Returns a message for the user, None when nothing about
        the card changed. A card whose text changed gets a new id: it is found again by
        its text (``_relocate``); a card that is gone is dropped (the next card shows)."""
        cur = self._require()
        what = "the note was edited" if edited else f"{cur.path} changed on disk"
        self.finder._places.pop(cur.id, None)
        try:
            loc: Located | None = self._locate(cur.item)
        except FlashmarkError:
            loc = None
        if loc is not None:
            shown = dataclasses.replace(self._shown(cur.item, loc),
                                        asked_entry=cur.asked_entry)
            self.current = shown
            if (shown.front, shown.back, shown.card.entry_text) == (
                    cur.front, cur.back, cur.card.entry_text):
                return None if shown.located.data == cur.located.data else (
                    f"{what}; the card was re-read (it is unchanged)")
            if (shown.front, shown.back) == (cur.front, cur.back):
                return (f"{what}: this card was rated elsewhere since it was shown "
                        f"({_describe_entry(shown.card.entry_text)}); rating it asks first")
            return f"{what}; the card was re-read"
        moved = self._relocate(cur)
        if moved is None:
            self.current = None
            self.skipped.append(f"{cur.path}:{cur.line}: the card is no longer in the note")
            return f"{what} and the card is no longer there: going on with the next card"
        self.current = dataclasses.replace(moved, asked_entry=cur.asked_entry)
        return f"{what}; the card's text changed (new id {moved.id})"

    def _relocate(self, cur: ShownCard) -> ShownCard | None:
        """The card whose text changed (so did its id): the question of the note most
        like the old one (at least RELOCATE_SIMILARITY alike; the nearer wins a tie),
        same sibling slot."""
        try:
            with open(cur.located.path, "rb") as fh:
                data = fh.read()
            text = decode_note(cur.path, data).text
        except (OSError, FlashmarkError):
            return None
        note = parse_note(text, self.settings.parser, all_notes=self.all_notes)
        old: Question = cur.card.question
        best: Question | None = None
        best_score = 0.0
        for q in note.questions:
            matcher = difflib.SequenceMatcher(None, old.text, q.text, autojunk=False)
            if matcher.real_quick_ratio() < RELOCATE_SIMILARITY:
                continue
            score = matcher.ratio() - abs(q.span.line - old.span.line) * 1e-6
            if score > best_score:
                best, best_score = q, score
        if best is None or best_score < RELOCATE_SIMILARITY:
            return None
        cards = cards_of(best, cur.path)
        card = cards[min(cur.card.sibling, len(cards) - 1)]
        loc = Located(cur.path, cur.located.path, data, best, card)
        self.finder._places[card.id] = cur.path
        item = cur.item._replace(id=card.id, key=due_key(card.entry_text))
        return self._shown(item, loc)


def _describe_entry(entry: str | None) -> str:
    """What an entry says, in words: "now due 2026-12-01"."""
    if entry is None:
        return "its schedule was removed"
    key = due_key(entry)
    if key in (NEW, UNREADABLE):
        return "its schedule was reset" if key == NEW else "its entry is now unreadable"
    return f"now due {key[:10]}"


def _stamp(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (0, -1)
    return (st.st_mtime_ns, st.st_size)


def unsuspend(root: Path, card_id: str, path: str, now: dt.datetime,
              log: ReviewLog | None = None) -> Unsuspend:
    """Put a suspended card back into the queues (an `unsuspend` event)."""
    log = log or ReviewLog(root)
    with vault_lock(root):
        return log.append(Unsuspend(time=srcodec.iso_ms(now), id=card_id, path=path))


def suspended_cards(events: list[Event]) -> list[Suspend]:
    """The suspend events still in effect, oldest first."""
    current: dict[str, Suspend] = {}
    for e in in_effect(follow_renames(events)):
        if isinstance(e, Suspend):
            current[e.id] = e
        elif isinstance(e, Unsuspend):
            current.pop(e.id, None)
    return list(current.values())


def card_fronts(root: Path, settings: Settings, cards: list[tuple[str, str]], *,
                all_notes: bool = False) -> dict[str, str]:
    """The fronts (``Card.front``, the text the browser lists) of ``cards``, given as
    (id, vault-relative note path): each note is read once. A card no longer in its
    note, or in a note that cannot be read, has none."""
    wanted: dict[str, set[str]] = {}
    for card_id, rel in cards:
        wanted.setdefault(rel, set()).add(card_id)
    fronts: dict[str, str] = {}
    for rel, ids in wanted.items():
        try:  # (the paths come from the review log: data from disk, checked)
            text = read_note(rel, note_path(root, rel)).text
        except FlashmarkError:
            continue
        for question in parse_note(text, settings.parser, all_notes=all_notes).questions:
            for card in cards_of(question, rel):
                if card.id in ids:
                    fronts[card.id] = card.front
    return fronts


__all__ = ["RateResult", "ReviewSession", "ShownCard", "card_fronts", "editor_command",
           "suspended_cards", "unsuspend"]

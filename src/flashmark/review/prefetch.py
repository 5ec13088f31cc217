"""Building today's queues in a forked process while the UI starts (UI-free).

``flashmark review`` forks before it imports Textual: the child scans the vault and builds
the queues on another core while the parent imports Textual and builds the screens (a
thread would share the interpreter lock with them). This module imports little at the
top so that the fork happens early; the child imports what it needs itself.
"""

from __future__ import annotations

import gc
import marshal
import os
import threading
import traceback
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashmark.errors import FlashmarkError
from flashmark.parallel import gc_paused

if TYPE_CHECKING:
    from flashmark.config import Settings
    from flashmark.review.overview import Opened
    from flashmark.review.queue import Queue, QueueCard
    from flashmark.review.session import Clock
    from flashmark.review.settings import ReviewSettings
    from flashmark.stats import DueCutoff


def _pack_cards(cards: list[QueueCard]) -> list[tuple[str, str, str | None, str, str, int]]:
    return [tuple(c) for c in cards]  # type: ignore[misc]


def _pack(queue: Queue) -> tuple[object, ...]:
    st = queue.state
    return (
        _pack_cards(queue.learning), _pack_cards(queue.reviews), _pack_cards(queue.new),
        queue.budgets,
        {name: (dict(t.by_status), t.leeches, t.total) for name, t in queue.decks.items()},
        # the log's events as their JSON (marshal takes no dataclass)
        ([e.to_json() for e in st.suspended.values()], [e.to_json() for e in st.buried.values()],
         dict(st.reviewed_today), st.introduced_today, st.due_reviewed_today,
         [e.to_json() for e in st.leeches.values()]),
        {g: (r.new, r.review) for g, r in queue.limits.room.items()},
        queue.held_back, queue.suspended, queue.buried, queue.total, queue.leeches,
        queue.rated_today)


def _unpack(data: tuple[Any, ...], cutoff: DueCutoff, review: ReviewSettings) -> Queue:
    from flashmark.review.limits import DailyLimits, Room
    from flashmark.review.queue import LogState, Queue, QueueCard
    from flashmark.review.today import TodayCounts
    from flashmark.vault.reviewlog import CardEvent, event_from_json

    def events(packed: list[Any]) -> dict[str, Any]:
        found = (event_from_json(obj) for obj in packed)
        return {e.id: e for e in found if isinstance(e, CardEvent)}

    (learning, reviews, new, budgets, decks, state, room, held_back, suspended, buried,
     total, leeches, rated_today) = data
    limits = DailyLimits(review)
    limits.room = {g: Room(*r) for g, r in room.items()}
    return Queue(
        cutoff, review,
        LogState(events(state[0]), events(state[1]), Counter(state[2]), state[3], state[4],
                 events(state[5])),
        list(map(QueueCard._make, learning)), list(map(QueueCard._make, reviews)),
        list(map(QueueCard._make, new)), budgets,
        {name: TodayCounts(Counter(t[0]), t[1], t[2]) for name, t in decks.items()},
        limits, held_back, suspended, buried, total, leeches, rated_today)


class Prefetch:
    """Builds today's queues in a forked process, so that the scan runs on another core
    while this one imports Textual and builds the screens (a thread would share the
    interpreter lock with them); ``opened()`` takes the result (and reads the first
    card). The queues cross the pipe as `marshal`ed tuples: no pickle, no class import.
    Without ``os.fork`` (Windows) the work runs in a thread instead."""

    def __init__(self, root: Path, settings: Settings, review: ReviewSettings, clock: Clock,
                 *, deck: str | None = None, use_cache: bool = True, all_notes: bool = False,
                 first_card: bool = True, search: str | None = None) -> None:
        self.args = (root, settings, review, clock)
        self.deck = deck
        self.search = search
        self.use_cache = use_cache
        self.all_notes = all_notes
        self.first_card = first_card
        self.now = clock()
        self._pid = 0
        self._fd = -1
        self._thread: threading.Thread | None = None
        self._outcome: tuple[Any, ...] | None = None
        if hasattr(os, "fork"):
            self._fork()
        else:  # pragma: no cover - exercised on Windows only
            self._thread = threading.Thread(target=self._in_thread, daemon=True)
            self._thread.start()

    def _work(self) -> tuple[Any, ...]:
        root, settings, review, _ = self.args
        try:
            from flashmark.review.overview import build_queues


            overview, queue = build_queues(root, settings, review, self.now, deck=self.deck,
                                           use_cache=self.use_cache, all_notes=self.all_notes,
                                           search=self.search)
            return ("ok", _pack(overview), None if queue is overview else _pack(queue))
        except FlashmarkError as exc:
            return ("error", str(exc), exc.exit_code)
        except BaseException:
            return ("crash", traceback.format_exc())

    def _fork(self) -> None:
        read, write = os.pipe()
        gc.freeze()  # the child's page faults stay few when the collector skips our objects
        pid = os.fork()
        if pid == 0:  # the child: work, write the answer, leave without cleanup
            code = 0
            try:
                gc.disable()  # short-lived: collecting would only cost time
                os.close(read)
                data = marshal.dumps(self._work())
                with os.fdopen(write, "wb") as out:
                    out.write(data)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        gc.unfreeze()
        os.close(write)
        self._pid, self._fd = pid, read

    def _in_thread(self) -> None:
        self._outcome = self._work()

    def _collect(self) -> tuple[Any, ...]:
        if self._outcome is not None:
            return self._outcome
        if self._thread is not None:
            self._thread.join()
            assert self._outcome is not None
            return self._outcome
        with os.fdopen(self._fd, "rb") as fh:
            data = fh.read()
        os.waitpid(self._pid, 0)
        if not data:
            self._outcome = ("crash", "the process building the review queue died")
        else:
            self._outcome = marshal.loads(data)
        return self._outcome

    def raise_refusal(self) -> None:
        """Wait for the queues and raise what the vault or the command line got wrong (an
        unknown deck, a vault without cards, a broken config): the CLI calls it before
        the app takes the terminal, so such a mistake is a message, never a screen."""
        outcome = self._collect()
        if outcome[0] == "error":
            raise _RelayedError(outcome[1], outcome[2])

    def opened(self) -> Opened:
        """Wait for the queues, then build the session and read its first card."""
        from flashmark.review.overview import opened_from
        from flashmark.stats import DueCutoff

        root, settings, review, clock = self.args
        self.raise_refusal()
        outcome = self._collect()
        if outcome[0] != "ok":
            raise RuntimeError(f"building the review queue failed:\n{outcome[1]}")
        cutoff = DueCutoff(self.now, settings.scheduling.day_boundary)
        # A tuple per queued card (180,000 at ten times the real vault), no cycles: the
        # cyclic collector would walk them, and the app's objects, again and again.
        with gc_paused():
            overview = _unpack(outcome[1], cutoff, review)
            queue = overview if outcome[2] is None else _unpack(outcome[2], cutoff, review)
        return opened_from(root, settings, clock, (overview, queue), all_notes=self.all_notes,
                       first_card=self.first_card)


class _RelayedError(FlashmarkError):
    """A FlashmarkError raised in the prefetch process, with its message and exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

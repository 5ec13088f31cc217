"""`review.today.tally_today` (counting notes from their index tallies) against the
per-card definition `cards_today`: the same counts per deck and status, the same
forecast, the same queue and limits, on hand-made boundary cards and on a copy of the
real vault with a log that suspends, buries, rates siblings and marks leeches."""

from __future__ import annotations

import datetime as dt
import os
import random
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import pytest

from flashmark.config import DeckLimit, load_settings
from flashmark.model import (
    STATE_LEARNING,
    STATE_NEW,
    STATE_REVIEW,
    STATE_UNREADABLE,
    CardState,
)
from flashmark.review.overview import states_today
from flashmark.review.queue import LogState, Queue, build_queue, deck_counts, log_state
from flashmark.review.settings import ReviewSettings
from flashmark.review.today import (
    NoteCards,
    SiblingGroups,
    SummaryNote,
    TodayTally,
    cards_today,
    count_by_deck,
    due_forecast,
    note_sibling_groups,
    tally_today,
)
from flashmark.stats import NO_DECK, DueCutoff
from flashmark.vault.codec import NEW, UNREADABLE, Summary
from flashmark.vault.reviewlog import Bury, Event, Leech, Review, Suspend
from flashmark.vault.scan import scan_vault

CORPUS = Path(os.environ.get("FLASHMARK_CORPUS") or
              Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "information")
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


class Log:
    """The card ids a review log names (what `review.queue.log_state` gives)."""

    def __init__(self, suspended: Collection[str] = (), buried: Collection[str] = (),
                 reviewed: Collection[str] = (), leeches: Collection[str] = ()) -> None:
        self.suspended = set(suspended)
        self.buried = set(buried)
        self.reviewed = set(reviewed)
        self.leeches = set(leeches)

    @classmethod
    def of(cls, state: LogState) -> Log:
        return cls(state.suspended, state.buried, state.reviewed_today, state.leeches)

    def ids(self) -> set[str]:
        return self.suspended | self.buried | self.reviewed | self.leeches


def _fast(notes: Sequence[NoteCards], cutoff: DueCutoff, log: Log,
          siblings: SiblingGroups | None, *, waiting: bool = False,
          holders: Callable[[set[str]], set[str]] | None = None) -> TodayTally:
    return tally_today(notes, cutoff=cutoff, suspended=log.suspended, buried=log.buried,
                       reviewed_today=log.reviewed, leeches=log.leeches, siblings=siblings,
                       holders=holders, waiting=waiting)


def _every_note(notes: Sequence[NoteCards]) -> Callable[[set[str]], set[str]]:
    """Holders that name every note: `tally_today` then classifies every card."""
    return lambda _ids: {n.rel for n in notes}


def assert_same(notes: Sequence[NoteCards], cutoff: DueCutoff, log: Log,
                siblings: SiblingGroups | None = None) -> TodayTally:
    """The fast counts equal the per-card ones (`cards_today`); returns the fast tally."""
    cards = cards_today([(n.rel, n.summary) for n in notes], cutoff=cutoff,
                        suspended=log.suspended, buried=log.buried, reviewed_today=log.reviewed,
                        leeches=log.leeches, siblings=siblings)
    fast = _fast(notes, cutoff, log, siblings)
    per_card = count_by_deck(cards)
    assert fast.by_name() == per_card
    assert list(fast.by_name()) == list(per_card)  # decks in vault order, as before
    # only the notes the log touches were read card by card
    touched = {c.path for c in cards if c.id in log.ids()}
    assert {c.path for c in fast.cards} == touched
    # the same cards, ordinals included
    by_place = {(c.path, c.id): c for c in cards}
    assert all(by_place[c.path, c.id] == c for c in fast.cards)
    # the queue's lists: every waiting card, classified alike, in vault order, though
    # only the notes the log touches were classified card by card
    listing = _fast(notes, cutoff, log, siblings, waiting=True)
    assert listing.waiting_today() == [c for c in cards if c.waiting]
    assert {c.path for c in listing.cards} == touched
    assert listing.by_name() == per_card
    for days in (0, 1, 7, 30, 400):
        assert fast.forecast(cutoff, days) == due_forecast(cards, cutoff, days)
        assert listing.forecast(cutoff, days) == due_forecast(cards, cutoff, days)
    decks = Counter(c.deck for c in cards)
    for deck, _ in decks.most_common(4) + decks.most_common()[-2:]:  # big and small decks
        def selects(d: str | None, deck: str | None = deck) -> bool:
            return d == deck
        assert (fast.forecast(cutoff, 30, selects)
                == due_forecast([c for c in cards if c.deck == deck], cutoff, 30))
    return fast


def _card(deck: str | None, key: str, cid: str, state: CardState
          ) -> tuple[str | None, str, str, CardState]:
    return (deck, key, cid, state)


def test_boundary_keys_count_as_the_per_card_rule_says() -> None:
    cutoff = DueCutoff(NOW)
    end = cutoff.instant  # the next learner day starts: not due today
    today = cutoff.today_text
    tomorrow = (cutoff.today + dt.timedelta(days=1)).isoformat()
    before_end = end[:-5] + "59.999Z" if end.endswith(":00.000Z") else end
    summary: Summary = [
        _card("a", NEW, "n1", STATE_NEW), _card("a", UNREADABLE, "u1", STATE_UNREADABLE),
        _card("a", end, "l1", STATE_LEARNING), _card("a", "2026-11-23T08:00:00.000Z", "l2",
                                                     STATE_LEARNING),
        _card("a", today, "d1", STATE_REVIEW), _card("a", tomorrow, "d2", STATE_REVIEW),
        _card("a", "2020-01-01", "d3", STATE_REVIEW), _card("b", end, "i1", STATE_REVIEW),
        _card("b", before_end, "i2", STATE_REVIEW), _card(None, "2099-01-01", "d4",
                                                           STATE_REVIEW),
    ]
    notes = [SummaryNote("n.md", summary), SummaryNote("m.md", summary[:4]),
             SummaryNote("o.md", [])]
    assert_same(notes, cutoff, Log())
    fast = assert_same(notes, cutoff, Log(suspended=["l2"], buried=["d2"], leeches=["d1"]))
    assert {c.path for c in fast.cards} == {"n.md", "m.md"}  # l2 is in both notes


@pytest.fixture(scope="module")
def corpus_notes(tmp_path_factory: pytest.TempPathFactory,
                 writable_copy: Callable[[Path, Path], Path]) -> tuple[Path, list[NoteCards]]:
    """A copy of the real vault, scanned twice: the second scan's records come from the
    index (tallies loaded, summaries read when asked)."""
    root = writable_copy(CORPUS, tmp_path_factory.mktemp("today") / "vault")
    settings = load_settings(root)
    scan_vault(root, settings).close()
    result = scan_vault(root, settings)
    try:
        return root, list(result.flashcard_notes())
    finally:
        result.close()


def _log_for(notes: Sequence[NoteCards], root: Path, seed: int) -> list[Event]:
    """A review log drawn from the vault's cards: suspensions, buries (today, and until
    a later day), ratings today (new cards introduced, review cards, one card of
    questions with siblings) and leech events, some of them on suspended cards."""
    rng = random.Random(seed)
    cards = [(card[2], n.rel, card[1]) for n in notes for card in n.summary]
    siblings = note_sibling_groups(root, load_settings(root))
    where = {cid: rel for cid, rel, _ in cards}
    key_of = {cid: key for cid, _, key in cards}
    earlier, today = "2026-11-01T10:00:00.000Z", "2026-11-23T08:30:00.000Z"
    events: list[Event] = []
    for cid, rel, _ in rng.sample(cards, 300):
        events.append(Suspend(time=earlier, id=cid, path=rel))
        if rng.random() < 0.1:
            events.append(Leech(time=earlier, id=cid, path=rel, lapses=8))
    for cid, rel, _ in rng.sample(cards, 150):
        events.append(Bury(time=today, id=cid, path=rel,
                           until=None if rng.random() < 0.5 else "2026-12-20T00:00:00+00:00"))
    for cid, rel, _ in rng.sample(cards, 30):
        events.append(Leech(time=earlier, id=cid, path=rel, lapses=8))
    rated = [cid for cid, _, _ in rng.sample(cards, 40)]
    rated += [cid for cid, _, key in cards if key == NEW][:12]  # new cards introduced
    for note in rng.sample([n for n in notes if len(n.summary) > 1], 60):
        rated += [group[rng.randrange(len(group))] for group in siblings(note.rel)[:2]]
    for cid in rated:
        key = key_of[cid]
        before = None if key in (NEW, UNREADABLE) else f"{key[:10]},5,250"
        events.append(Review(time=today, id=cid, path=where[cid], sibling=0, rating="good",
                             before=before, after="2026-12-01,9,270"))
    return events


corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")


@corpus
@pytest.mark.corpus
@pytest.mark.parametrize("now", [NOW, dt.datetime(2027, 6, 1, 3, 30, tzinfo=dt.UTC)])
@pytest.mark.parametrize("seed", [1, 2])
def test_real_vault_counts_equal_the_per_card_counts(
        corpus_notes: tuple[Path, list[NoteCards]], now: dt.datetime, seed: int) -> None:
    root, notes = corpus_notes
    settings = load_settings(root)
    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    siblings = note_sibling_groups(root, settings)
    assert_same(notes, cutoff, Log(), siblings)
    log = Log.of(log_state(_log_for(notes, root, seed), cutoff))
    assert len(log.leeches) > 30 and len(log.suspended) == 300  # the log did its work
    assert len(log.reviewed) > 100 if now == NOW else not log.reviewed  # ratings of today
    fast = assert_same(notes, cutoff, log, siblings)
    assert fast.by_name()  # the log held something back in some deck
    held = sum(t.suspended + t.buried for t in fast.by_name().values())
    assert held >= 300  # suspended and buried cards, hidden siblings besides


@corpus
@pytest.mark.corpus
def test_real_vault_queue_and_limits_are_those_of_every_card(
        corpus_notes: tuple[Path, list[NoteCards]]) -> None:
    """With daily limits and ratings today (new cards introduced, reviews done), the
    queue built from the fast tally is the one built card by card: lists, budgets, room,
    per-deck counts after limits, cards per state."""
    root, notes = corpus_notes
    settings = load_settings(root)
    review = ReviewSettings(new_per_day=15, max_reviews_per_day=40, deck_limits=(
        ("flashcard/active", DeckLimit(new_per_day=5, max_reviews_per_day=12)),
        ("flashcard/active/general", 3)))
    cutoff = DueCutoff(NOW, settings.scheduling.day_boundary)
    siblings = note_sibling_groups(root, settings)
    state = log_state(_log_for(notes, root, 3), cutoff)
    assert state.introduced_today and state.due_reviewed_today  # limits used up in part

    def queue_of(tallied: TodayTally, deck: str | None = None, lists: bool = True) -> Queue:
        return build_queue((), state, cutoff, review, tallied=tallied, deck=deck, lists=lists)

    def tallied(fast: bool, waiting: bool) -> TodayTally:
        return tally_today(notes, cutoff=cutoff, suspended=state.suspended,
                           buried=state.buried, reviewed_today=state.reviewed_today,
                           leeches=state.leeches, siblings=siblings, waiting=waiting,
                           holders=None if fast else _every_note(notes))

    reference = tallied(fast=False, waiting=True)
    for deck in (None, "flashcard/active"):
        slow = queue_of(reference, deck)
        quick = queue_of(tallied(fast=True, waiting=True), deck)
        counts = queue_of(tallied(fast=True, waiting=False), deck, lists=False)
        for q in (quick, counts):
            assert q.decks == slow.decks
            assert {g: (r.new, r.review) for g, r in q.limits.room.items()} == {
                g: (r.new, r.review) for g, r in slow.limits.room.items()}
            assert (q.suspended, q.buried, q.total, q.leeches, q.rated_today) == (
                slow.suspended, slow.buried, slow.total, slow.leeches, slow.rated_today)
            names = [d for d in slow.decks if d != NO_DECK]
            assert deck_counts(q, names) == deck_counts(slow, names)
            assert states_today(tallied(True, False), q) == states_today(reference, slow)
        assert (quick.learning, quick.reviews, quick.new, quick.budgets, quick.held_back) == (
            slow.learning, slow.reviews, slow.new, slow.budgets, slow.held_back)
        # what the reviewer shows, after limits, is what the counts say
        shown = deck_counts(counts, list(counts.decks))
        assert (shown.new, shown.learning, shown.due) == slow.counts()

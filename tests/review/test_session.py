"""The UI-free review session: show, reveal, rate, undo, bury, suspend, re-read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from flashmark.config import load_settings
from flashmark.errors import FlashmarkError
from flashmark.model import LEARNING, NEW_CARD, REVIEW, QuestionType, Rating
from flashmark.review.overview import open_review
from flashmark.review.queue import QueueCard, load_queue
from flashmark.review.session import (
    ReviewSession,
    ShownCard,
    card_fronts,
    editor_command,
    suspended_cards,
    unsuspend,
)
from flashmark.review.settings import ReviewSettings
from flashmark.syntax.markdown import CLOZE_CLOSE, CLOZE_OPEN
from flashmark.vault.reviewlog import Bury, Event, Review, ReviewLog, Suspend, Undo, reviews

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _session(vault: Path, clock: Clock | None = None, review: ReviewSettings | None = None,
             deck: str | None = None) -> ReviewSession:
    clock = clock or Clock()
    settings = load_settings(vault)
    queue = load_queue(vault, settings, review or ReviewSettings(), clock(), deck=deck)
    return ReviewSession(vault, settings, queue, clock=clock)


def _events(vault: Path) -> list[Event]:
    """The log's events in effect (staged and committed ratings as one review each)."""
    return ReviewLog(vault).effective()


def _kinds(vault: Path) -> list[str]:
    """Every line's kind, bookkeeping included."""
    return [e.kind for e in ReviewLog(vault).events()]


def _current(session: ReviewSession) -> ShownCard:
    card = session.next_card()
    assert card is not None
    return card


def test_each_rating_is_in_the_note_and_the_log(vault: Path, expect: Any) -> None:
    session = _session(vault)
    for rating in Rating:
        card = _current(session)
        assert session.current is card and not session.revealed
        session.reveal()
        previews = session.previews()
        assert previews is not None and set(previews) == set(Rating)
        expected, after = expect.rating(card.id, card.path, rating, NOW)
        result = session.rate(rating)
        assert result.rated and result.outcome is not None
        assert (vault / card.path).read_bytes() == expected
        last = _events(vault)[-1]
        assert isinstance(last, Review)
        assert (last.id, last.rating, last.after) == (card.id, rating.value, after)
        assert last.before == card.card.entry_text
        assert session.current is None and session.done == list(Rating).index(rating) + 1
    assert len(reviews(_events(vault))) == 4


def test_first_card_and_its_context(vault: Path) -> None:
    opened = open_review(vault, load_settings(vault), ReviewSettings(), Clock())
    card = opened.first
    assert card is not None and opened.session.current is card
    assert card.path == "customers/customer segments.md" and card.line == 35
    assert card.trail == ("customer segments", "types of customer segments")
    assert card.is_cloze and card.item.kind == REVIEW
    assert f"{CLOZE_OPEN}[narrow]{CLOZE_CLOSE}" in card.front and "niche market" not in card.front
    assert f"{CLOZE_OPEN}niche market{CLOZE_CLOSE}" in card.back
    assert "mass market" in card.front  # the other deletions are shown
    assert opened.session.counts() == (20, 0, 33)
    assert opened.overview.counts() == (20, 0, 33)


def test_again_comes_back_when_due(vault: Path) -> None:
    clock = Clock()
    session = _session(vault, clock, ReviewSettings(learn_ahead=dt.timedelta(0)))
    first = _current(session)
    session.reveal()
    session.rate(Rating.AGAIN)
    assert [c.id for c in session.learning] == [first.id]
    assert session.learning[0].kind == LEARNING
    due = session.learning[0].due_at
    assert due == NOW + dt.timedelta(minutes=10)
    # not yet due: the reviews go first
    assert _current(session).id != first.id
    session.reveal()
    session.rate(Rating.GOOD)
    clock.now = NOW + dt.timedelta(minutes=11)
    back = _current(session)
    assert back.id == first.id and back.item.kind == LEARNING
    session.reveal()
    session.rate(Rating.GOOD)
    assert first.id not in [c.id for c in session.learning]  # graduated to review


def test_learn_ahead_and_waiting(vault: Path) -> None:
    clock = Clock()
    only = "flashcard/active/business/customers/personas"  # one due card, nothing new
    session = _session(vault, clock, ReviewSettings(learn_ahead=dt.timedelta(0)), deck=only)
    card = _current(session)
    session.reveal()
    session.rate(Rating.AGAIN)
    assert session.next_card() is None
    assert session.wait_until() == NOW + dt.timedelta(minutes=10)
    # with learn-ahead (default 20 minutes) it is shown at once
    ahead = _session(vault, clock, ReviewSettings(), deck=only)
    ahead.learning = list(session.learning)
    assert _current(ahead).id == card.id


def _rate_all(session: ReviewSession, limit: int) -> dict[tuple[str, int], set[str]]:
    """Rate up to ``limit`` cards Good: the cards shown of each question (note, line)."""
    questions: dict[tuple[str, int], set[str]] = {}
    for _ in range(limit):
        card = session.next_card()
        if card is None:
            break
        questions.setdefault((card.path, card.card.question.span.line), set()).add(card.id)
        session.reveal()
        session.rate(Rating.GOOD)
    return questions


def test_siblings_wait_for_another_day(vault: Path) -> None:
    first = _rate_all(_session(vault), 25)
    assert len(first) >= 20
    assert all(len(ids) == 1 for ids in first.values())  # one card per question a day
    # a new session the same day skips the siblings of cards reviewed today
    second = _rate_all(_session(vault), 200)
    assert second and not set(second) & set(first)
    assert all(len(ids) == 1 for ids in second.values())


def test_siblings_shown_when_not_burying(vault: Path) -> None:
    session = _session(vault, review=ReviewSettings(bury_siblings=False))
    reviews_before = len(session.reviews)
    _current(session)
    session.reveal()
    session.rate(Rating.GOOD)
    assert len(session.reviews) == reviews_before - 1


def test_new_cards_within_the_limit(vault: Path) -> None:
    deck = "flashcard/active/business/value_proposition/value_proposition"
    session = _session(vault, review=ReviewSettings(new_per_day=2), deck=deck)
    kinds = []
    while (card := session.next_card()) is not None:
        kinds.append(card.item.kind)
        if card.item.kind == NEW_CARD and kinds.count(NEW_CARD) == 1:
            session.bury()  # a buried new card gives its place back
            continue
        session.reveal()
        session.rate(Rating.EASY)
    assert kinds.count(REVIEW) == 4
    assert kinds.count(NEW_CARD) == 3  # 2 rated + 1 buried
    reviewed_new = [e for e in reviews(_events(vault)) if e.before in
                    (None, "2000-01-01,1,250")]
    assert len(reviewed_new) == 2
    # tomorrow: the limit starts again; today: nothing new left
    assert load_queue(vault, load_settings(vault), ReviewSettings(new_per_day=2), NOW,
                      deck=deck).budgets[""] == 0


def test_undo_restores_note_log_and_queue(vault: Path) -> None:
    session = _session(vault)
    first = _current(session)
    path = vault / first.path
    before = path.read_bytes()
    counts = session.counts()
    session.reveal()
    session.rate(Rating.AGAIN)
    assert path.read_bytes() != before and session.learning
    second = _current(session)
    kind, shown = session.undo()
    assert kind == "rate" and shown is not None and shown.id == first.id
    assert path.read_bytes() == before
    assert not session.learning and session.done == 0
    assert session.counts() == counts
    assert _kinds(vault) == ["review", "commit", "undo", "commit"]
    assert _events(vault) == []
    # the card that was on screen comes next again
    session.reveal()
    session.rate(Rating.GOOD)
    assert _current(session).id == second.id


def test_bury_and_suspend_are_logged_and_undoable(vault: Path) -> None:
    session = _session(vault)
    first = _current(session)
    session.bury()
    bury = _events(vault)[-1]
    assert isinstance(bury, Bury) and bury.id == first.id
    # buried until the next learner day starts (04:00, the default day boundary)
    assert bury.until == "2026-11-24T04:00:00.000Z" and bury.path == first.path
    second = _current(session)
    session.suspend()
    suspend = _events(vault)[-1]
    assert isinstance(suspend, Suspend) and suspend.id == second.id
    queue = load_queue(vault, load_settings(vault), ReviewSettings(), NOW)
    ids = [c.id for c in queue.reviews]
    assert first.id not in ids and second.id not in ids
    assert (queue.buried, queue.suspended) == (1, 1)
    # tomorrow the bury is over, the suspension is not
    later = load_queue(vault, load_settings(vault), ReviewSettings(),
                       NOW + dt.timedelta(days=60))
    later_ids = [c.id for c in later.reviews]
    assert first.id in later_ids and second.id not in later_ids
    # undo the suspend: the card is shown again and back in the queues
    kind, shown = session.undo()
    assert kind == "suspend" and shown is not None and shown.id == second.id
    undo = ReviewLog(vault).events()[-1]
    assert isinstance(undo, Undo) and undo.of == suspend.uid
    assert suspend not in _events(vault)
    assert second.id in [c.id for c in load_queue(vault, load_settings(vault),
                                                  ReviewSettings(), NOW).reviews]
    # un-suspend (what the deck list's suspended screen does)
    session.suspend()
    assert [e.id for e in suspended_cards(_events(vault))] == [second.id]
    unsuspend(vault, second.id, second.path, NOW)
    assert suspended_cards(_events(vault)) == []


def test_undo_refuses_a_foreign_rating(vault: Path) -> None:
    from flashmark.review.rating import rate_card

    session = _session(vault)
    _current(session)
    session.reveal()
    session.rate(Rating.GOOD)
    other = next(c for c in session.reviews)
    rate_card(vault, load_settings(vault), other.id, Rating.EASY, NOW)
    with pytest.raises(FlashmarkError, match="not this session's"):
        session.undo()
    with pytest.raises(FlashmarkError, match="nothing to undo"):
        _session(vault).undo()


def test_note_changed_elsewhere_rating_goes_on(vault: Path) -> None:
    session = _session(vault)
    card = _current(session)
    path = vault / card.path
    path.write_bytes(path.read_bytes().replace(b"# customer segments", b"# customer segments!"))
    assert session.note_changed()
    session.reveal()
    result = session.rate(Rating.GOOD)
    assert result.rated and result.message and "unchanged" in result.message


def test_note_changed_in_the_card_is_re_read(vault: Path) -> None:
    session = _session(vault)
    card = _current(session)
    path = vault / card.path
    entry = card.card.entry_text
    assert entry is not None
    # another tool (the Obsidian plugin) reviewed this card meanwhile
    path.write_bytes(path.read_bytes().replace(entry.encode(), b"2026-12-30,30,250", 1))
    session.reveal()
    result = session.rate(Rating.GOOD)
    # issue 12: not rated a second time unasked; the UI asks (rate anyway / skip)
    assert not result.rated and result.conflict
    assert result.message and "rated elsewhere" in result.message and "2026-12-30" in result.message
    assert session.current is not None and session.current.card.entry_text == "2026-12-30,30,250"
    assert not reviews(_events(vault))
    # asked again: still a conflict; forced: rated from the entry the note has now
    assert session.rate(Rating.GOOD).conflict
    forced = session.rate(Rating.GOOD, force=True)
    assert forced.rated and forced.outcome is not None
    assert forced.outcome.before == "2026-12-30,30,250"
    assert len(reviews(_events(vault))) == 1


def test_card_text_edited_gets_its_new_id(vault: Path) -> None:
    session = _session(vault)
    card = _current(session)
    path = vault / card.path
    path.write_bytes(path.read_bytes().replace(b"five typical patterns", b"5 typical patterns"))
    message = session.reread()
    assert message is not None and "new id" in message
    now = session.current
    assert now is not None and now.id != card.id and now.card.sibling == card.card.sibling
    assert "5 typical patterns" in now.front
    session.reveal()
    assert session.rate(Rating.GOOD).rated
    last = _events(vault)[-1]
    assert isinstance(last, Review) and last.id == now.id


def test_card_deleted_is_dropped(vault: Path) -> None:
    session = _session(vault)
    card = _current(session)
    path = vault / card.path
    lines = path.read_bytes().split(b"\n")
    del lines[card.line - 1]
    path.write_bytes(b"\n".join(lines))
    message = session.reread()
    assert message is not None and "no longer there" in message
    assert session.current is None
    assert _current(session).id != card.id


def test_reversed_and_other_card_types(vault: Path) -> None:
    deck = "flashcard/active/business/customers/customer_pains_and_gains"
    session = _session(vault, deck=deck)
    while (card := session.next_card()) is not None and not card.reversed:
        session.bury()
    assert card is not None and card.reversed
    assert card.card.question.type is QuestionType.MULTILINE_REVERSIBLE
    assert card.front.startswith("anything that annoys") and card.back == "pain"


def test_editor_command() -> None:
    assert editor_command("n.md", 7, "vim") == ["vim", "+7", "n.md"]
    assert editor_command("n.md", 7, "nvim -u NONE") == ["nvim", "-u", "NONE", "+7", "n.md"]
    assert editor_command("n.md", 7, "code") == ["code", "--wait", "-g", "n.md:7"]
    assert editor_command("n.md", 7, "hx") == ["hx", "n.md:7"]


def test_new_card_siblings_and_undo_keep_the_counts(vault: Path) -> None:
    deck = "flashcard/active/business/customers/customer_jobs"
    session = _session(vault, review=ReviewSettings(new_per_day=50), deck=deck)
    siblings: list[QueueCard] = []
    while (card := session.next_card()) is not None:
        siblings = [c for c in session.new if c.id in session._siblings(card.located)]
        if card.item.kind == NEW_CARD and siblings:  # a cloze with several new deletions
            break
        session.bury()
    assert card is not None and siblings
    before = session.counts()
    waiting = len(session.new)
    session.reveal()
    session.rate(Rating.GOOD)
    assert len(session.new) == waiting - len(siblings)
    assert session.counts()[0] == before[0] - 1 - len(siblings)
    session.undo()
    assert session.counts() == before and len(session.new) == waiting


def test_card_fronts_reads_each_card_from_its_note(vault: Path) -> None:
    session = _session(vault)
    first = _current(session)
    session.bury()
    second = _current(session)
    settings = load_settings(vault)
    asked = [(first.id, first.path), (second.id, second.path), ("0000ffff", first.path),
             (first.id + "0", "no such note.md")]
    fronts = card_fronts(vault, settings, asked)
    assert fronts == {first.id: first.card.front, second.id: second.card.front}
    assert first.card.front.strip() and first.card.front != second.card.front


def test_card_fronts_reads_no_path_outside_the_vault(tmp_path: Path) -> None:
    """The suspended list's paths come from the review log (data from disk, maybe merged
    from another machine): one that leaves the vault is not read."""
    from flashmark.cards import cards_of
    from flashmark.config import load_settings
    from flashmark.review.session import card_fronts
    from flashmark.syntax import parse_note

    root = tmp_path / "vault"
    root.mkdir()
    (root / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard"]\n')
    text = "#flashcard\n\nSecret question:@:answer\n"
    (tmp_path / "outside.md").write_text(text)
    (root / "inside.md").write_text(text)
    settings = load_settings(root)
    [question] = parse_note(text, settings.parser).questions
    inside = cards_of(question, "inside.md")[0].id
    outside = cards_of(question, "../outside.md")[0].id
    fronts = card_fronts(root, settings, [(inside, "inside.md"), (outside, "../outside.md"),
                                          (outside, str(tmp_path / "outside.md"))])
    assert fronts == {inside: "Secret question"}

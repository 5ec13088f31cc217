"""`flashmark rate` as a command: leeches exactly as the reviewer makes them (one function,
`review.leech.note_leech`), and a rating of a card that left its note kept as `pending`
when the card is known (exit 4), an error when the id was never seen (exit 3)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from flashmark.config import load_settings
from flashmark.errors import EXIT_CONFLICT, EXIT_INPUT, EXIT_OK
from flashmark.model import Rating
from flashmark.review.leech import logged_leeches
from flashmark.review.queue import load_queue
from flashmark.review.rating import GONE_REASON
from flashmark.review.session import ReviewSession
from flashmark.syntax.srcodec import canonical_text, parse_entry
from flashmark.vault.reviewlog import Leech, Pending, Review, ReviewLog, Suspend, in_effect
from tests.cli.conftest import Runner

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
NOW_TEXT = "2026-11-23T09:00:00+00:00"
FRONT = "hard word"


def _entry(lapses: int) -> str:
    """An FSRS review card due two days ago with ``lapses`` lapses."""
    return (f"fsrs,2026-11-21T09:00:00.000Z,10,10.0,5.0,2,{lapses + 3},{lapses},0,"
            "2026-11-11T09:00:00.000Z")


def _vault(tmp_path: Path, lapses: int, review: str = "") -> Path:
    root = tmp_path / "v"
    root.mkdir(parents=True)
    (root / "flashmark.yaml").write_text(review)
    (root / "cards.md").write_text(
        "# cards\n\n"
        f"{FRONT} :@: its meaning <!--SR:!{_entry(lapses)}-->\n\n"
        "north ::@:: south <!--SR:!2026-11-22,3,250!2026-11-22,3,250-->\n")
    return root


def _card(cli: Runner, root: Path, front: str = FRONT) -> dict[str, object]:
    code, out, _ = cli("scan", str(root), "--json")
    assert code == EXIT_OK
    return next(c for c in map(json.loads, out.splitlines()) if c["front"] == front)


def _leech_events(root: Path) -> list[Leech | Suspend]:
    return [e for e in in_effect(ReviewLog(root).events()) if isinstance(e, Leech | Suspend)]


def _by_the_reviewer(root: Path, rating: Rating) -> str | None:
    settings = load_settings(root)
    session = ReviewSession(root, settings, load_queue(root, settings, settings.review, NOW),
                            clock=lambda: NOW)
    shown = session.next_card()
    assert shown is not None and shown.card.question.front == FRONT
    session.reveal()
    return session.rate(rating).leech


def test_rate_makes_a_leech_as_the_reviewer_does(tmp_path: Path, cli: Runner) -> None:
    suspend = "review:\n  leech_action: suspend\n"
    by_cli = _vault(tmp_path / "cli", 7, suspend)
    by_reviewer = _vault(tmp_path / "tui", 7, suspend)
    card = _card(cli, by_cli)
    code, out, err = cli("rate", str(card["id"]), "again", str(by_cli), "--now", NOW_TEXT,
                         "--json")
    assert code == EXIT_OK
    assert json.loads(out)["leech"] == {"lapses": 8, "suspended": True}
    assert "cards.md:3: Leech: forgotten 8 times; suspended" in err
    reviewer_warning = _by_the_reviewer(by_reviewer, Rating.AGAIN)
    assert reviewer_warning is not None and reviewer_warning.startswith(
        "Leech: forgotten 8 times; suspended")
    # the same events, in the rating's batch, for both
    for root in (by_cli, by_reviewer):
        events = _leech_events(root)
        rating = next(e for e in ReviewLog(root).events() if isinstance(e, Review))
        assert [(e.kind, e.id) for e in events] == [("leech", card["id"]),
                                                    ("suspend", card["id"])]
        assert all(getattr(e, "batch", None) == rating.uid for e in events)
        assert logged_leeches(root) == {card["id"]: 8}
    # `flashmark undo` takes the lapse back with its leech and its suspension
    code, out, _ = cli("undo", str(by_cli), "--now", NOW_TEXT)
    assert code == EXIT_OK and "undid again" in out
    assert _leech_events(by_cli) == [] and logged_leeches(by_cli) == {}
    assert f"!{_entry(7)}" in (by_cli / "cards.md").read_text()


def test_rate_tags_a_leech_by_default_and_is_quiet_below_the_threshold(
        tmp_path: Path, cli: Runner) -> None:
    root = _vault(tmp_path / "tag", 7)
    code, _, err = cli("rate", str(_card(cli, root)["id"]), "again", str(root), "--now",
                       NOW_TEXT)
    assert code == EXIT_OK
    assert "Leech: forgotten 8 times; consider rewriting or splitting it" in err
    assert [e.kind for e in _leech_events(root)] == ["leech"]  # leech_action: tag
    quiet = _vault(tmp_path / "quiet", 6)
    code, _, err = cli("rate", str(_card(cli, quiet)["id"]), "again", str(quiet), "--now",
                       NOW_TEXT)
    assert code == EXIT_OK and "Leech" not in err and _leech_events(quiet) == []


def _edit_front(root: Path) -> None:
    """Change the card's text, so its id changes (ids follow the text)."""
    note = root / "cards.md"
    note.write_text(note.read_text().replace(FRONT, "a harder word"))


def _pending(root: Path) -> list[Pending]:
    return [e for e in ReviewLog(root).events() if isinstance(e, Pending)]


def test_a_card_known_from_the_log_keeps_its_rating_pending(tmp_path: Path,
                                                            cli: Runner) -> None:
    root = _vault(tmp_path, 0)
    card_id = str(_card(cli, root)["id"])
    assert cli("rate", card_id, "good", str(root), "--now", NOW_TEXT)[0] == EXIT_OK
    rated = next(e for e in ReviewLog(root).events() if isinstance(e, Review))
    _edit_front(root)
    later = "2026-11-25T09:00:00+00:00"
    code, out, err = cli("rate", card_id, "hard", str(root), "--now", later)
    assert code == EXIT_CONFLICT and out == ""
    assert (f"card {card_id} is no longer in cards.md; the hard rating is kept in the "
            "review log as pending") in err
    [pending] = _pending(root)
    assert (pending.id, pending.path, pending.sibling) == (card_id, "cards.md", 0)
    assert pending.rating == "hard" and pending.reason == GONE_REASON
    assert pending.before == rated.after and pending.after.startswith("fsrs,")
    assert pending.after != rated.after


def test_a_card_known_from_the_index_keeps_its_rating_pending(tmp_path: Path,
                                                              cli: Runner) -> None:
    root = _vault(tmp_path, 2)
    card_id = str(_card(cli, root)["id"])  # `scan --json` indexed it with its schedule
    _edit_front(root)
    code, _, err = cli("rate", card_id, "good", str(root), "--now", NOW_TEXT)
    assert code == EXIT_CONFLICT and "kept in the review log as pending" in err
    [pending] = _pending(root)
    # the entry as the index recorded it (its values; numbers written as the plugin does)
    assert pending.before == canonical_text(parse_entry(_entry(2))) and pending.sibling == 0
    assert pending.path == "cards.md" and pending.rating == "good"


def test_an_id_never_seen_is_an_error_and_nothing_is_kept(tmp_path: Path,
                                                          cli: Runner) -> None:
    root = _vault(tmp_path, 0)
    _card(cli, root)
    code, _, err = cli("rate", "0123456789ab", "good", str(root), "--now", NOW_TEXT)
    assert code == EXIT_INPUT and "no card with id 0123456789ab" in err
    assert _pending(root) == []


def test_a_note_empty_right_now_is_not_a_gone_card(tmp_path: Path, cli: Runner) -> None:
    """An empty note is being saved (most likely): try again, nothing kept pending."""
    root = _vault(tmp_path, 0)
    card_id = str(_card(cli, root)["id"])
    assert cli("rate", card_id, "good", str(root), "--now", NOW_TEXT)[0] == EXIT_OK
    (root / "cards.md").write_text("")
    code, _, err = cli("rate", card_id, "good", str(root), "--now", NOW_TEXT)
    assert code == EXIT_INPUT and "which is empty right now" in err
    assert _pending(root) == []

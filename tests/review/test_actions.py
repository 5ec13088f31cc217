"""The action commands as real processes: forget, set-due, reschedule (golden before/after
notes, and undo restores the bytes exactly), suspend/unsuspend/bury/flag (log events), one
`undo` per command, --search, --dry-run, --json, and bad input."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flashmark.errors import EXIT_USAGE
from flashmark.vault.reviewlog import Flag, Forget, ReviewLog, SetDue, Suspend, in_effect
from tests.review.search_support import NOW, make_vault

GOLDEN = Path(__file__).parent / "golden_actions"
NOW_TEXT = NOW.isoformat()

# name -> (command, the card's text in its front, extra arguments)
CASES = {
    "forget_fsrs": ("forget", "Three [...] and two words.", []),
    "forget_legacy": ("forget", "- second card", []),
    "set_due_legacy": ("set-due", "Paris", ["--days", "5"]),
    "set_due_fsrs_interval": ("set-due", "learning card", ["--days", "3!"]),
    "set_due_new": ("set-due", "brand new card", ["--days", "2-9"]),
}


def flashmark(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flashmark", *map(str, args)],
                          capture_output=True, text=True,
                          env={**os.environ, "TZ": "UTC"})


def _card_id(vault: Path, front: str) -> str:
    done = flashmark("search", "", vault, "--json")
    for row in map(json.loads, done.stdout.splitlines()):
        if row["front"] == front:
            return str(row["id"])
    raise AssertionError(f"no card {front!r}: {done.stdout}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_rewrite_and_undo(tmp_path: Path, name: str) -> None:
    command, front, extra = CASES[name]
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard"]\n')
    before = (GOLDEN / f"{name}.before.md").read_bytes()
    note = vault / "note.md"
    note.write_bytes(before)
    card = _card_id(vault, front)
    done = flashmark(command, card, *extra, "--vault", vault, "--now", NOW_TEXT, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["changed"] is True and result["id"] == card
    after = (GOLDEN / f"{name}.after.md").read_bytes()
    assert note.read_bytes() == after
    kinds = [e.kind for e in ReviewLog(vault).events()]
    assert kinds == [command.replace("-", "_"), "commit"]
    undo = flashmark("undo", vault, "--now", NOW_TEXT)
    assert undo.returncode == 0, undo.stderr
    assert undo.stdout == f"undid {command} of card {card} in note.md\n"
    assert note.read_bytes() == before
    assert flashmark("undo", vault).returncode == 3  # nothing left to undo


def test_a_dry_run_writes_nothing_and_shows_the_same_day(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard"]\n')
    note = vault / "note.md"
    note.write_bytes((GOLDEN / "set_due_new.before.md").read_bytes())
    card = _card_id(vault, "brand new card")
    dry = flashmark("set-due", card, "--days", "2-9", "--vault", vault, "--now", NOW_TEXT,
                    "--json", "--dry-run")
    assert dry.returncode == 0 and json.loads(dry.stdout)["dry_run"] is True
    assert note.read_bytes() == (GOLDEN / "set_due_new.before.md").read_bytes()
    assert not (vault / ".flashmark" / "reviews.jsonl").exists()
    real = flashmark("set-due", card, "--days", "2-9", "--vault", vault, "--now", NOW_TEXT,
                     "--json")
    assert json.loads(real.stdout)["after"] == json.loads(dry.stdout)["after"]


def test_log_actions_by_search_and_undo_per_command(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    ids = make_vault(vault)
    done = flashmark("suspend", "--search", "deck:flashcard/a is:due", "--vault", vault,
                     "--now", NOW_TEXT, "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert {r["id"] for r in rows} == {ids["due legacy"], ids["learning fsrs"],
                                       ids["leech card"]}
    assert "changed 3 of 3 cards" in done.stderr
    assert flashmark("flag", "3", ids["Paris"], ids["new one"], "--vault", vault,
                     "--now", NOW_TEXT).returncode == 0
    search = flashmark("search", "flag:3 or is:suspended", vault, "--now", NOW_TEXT,
                       "--json")
    found = {json.loads(line)["id"] for line in search.stdout.splitlines()}
    assert found == {ids["due legacy"], ids["learning fsrs"], ids["leech card"], ids["Paris"],
                     ids["new one"], ids["suspended due"]}
    effective = in_effect(ReviewLog(vault).events())
    assert sum(isinstance(e, Flag) for e in effective) == 2
    # suspending a suspended card changes nothing and logs nothing
    again = flashmark("suspend", ids["suspended due"], "--vault", vault, "--now", NOW_TEXT)
    assert again.stdout.endswith("unchanged\n") and "changed 0 of 1 card" in again.stderr
    undo = flashmark("undo", vault, "--now", NOW_TEXT)  # both flags, one command
    assert sorted(undo.stdout.splitlines()) == sorted(
        f"undid flag of card {ids[f]} in {p}" for f, p in (("Paris", "b/b.md"),
                                                            ("new one", "a.md")))
    assert flashmark("undo", vault, "--now", NOW_TEXT).returncode == 0  # the 3 suspends
    effective = in_effect(ReviewLog(vault).events())
    assert [e.id for e in effective if isinstance(e, Suspend)] == [ids["suspended due"]]
    assert not any(isinstance(e, Flag) for e in effective)
    # unsuspend, then undo brings the suspension back
    assert flashmark("unsuspend", ids["suspended due"], "--vault", vault,
                     "--now", NOW_TEXT).returncode == 0
    assert flashmark("search", "is:suspended", vault, "--count").stdout == "0\n"
    assert flashmark("undo", vault, "--now", NOW_TEXT).returncode == 0
    assert flashmark("search", "is:suspended", vault, "--count").stdout == "1\n"


def test_forget_and_set_due_of_many_cards_undo_together(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    make_vault(vault)
    notes = {p: p.read_bytes() for p in vault.rglob("*.md")}
    done = flashmark("forget", "--search", "is:review", "--vault", vault, "--now", NOW_TEXT)
    assert done.returncode == 0, done.stderr
    assert "changed 7 of 7 cards" in done.stderr
    assert flashmark("search", "is:review", vault, "--count").stdout == "0\n"
    assert flashmark("set-due", "--search", "is:new", "--days", "1", "--vault", vault,
                     "--now", NOW_TEXT).returncode == 0
    kinds = [e.kind for e in in_effect(ReviewLog(vault).events())]
    assert kinds.count("forget") == 7 and kinds.count("set_due") == 9
    assert flashmark("undo", vault, "--now", NOW_TEXT).returncode == 0
    assert flashmark("undo", vault, "--now", NOW_TEXT).returncode == 0
    assert {p: p.read_bytes() for p in vault.rglob("*.md")} == notes
    effective = in_effect(ReviewLog(vault).events())
    assert not any(isinstance(e, Forget | SetDue) for e in effective)


@pytest.mark.parametrize(("args", "message"), [
    (["forget"], "give card ids or --search QUERY"),
    (["set-due", "abcdef", "--days", "7-3"], "the range goes backwards"),
    (["set-due", "abcdef", "--days", "soon"], "is not a number of days"),
    (["suspend", "--search", "is:"], "'is:' needs a value"),
    (["flag", "9", "abcdef"], "invalid choice"),
])
def test_bad_input_is_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    vault = tmp_path / "vault"
    shutil.copytree(Path(__file__).parents[2] / "notes", vault)
    done = flashmark(*args, "--vault", vault)
    assert done.returncode == EXIT_USAGE
    assert message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("note_written", [True, False])
def test_a_set_due_killed_before_its_commit_is_settled_by_the_next_writer(
        tmp_path: Path, note_written: bool) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard"]\n')
    before = (GOLDEN / "set_due_legacy.before.md").read_bytes()
    note = vault / "note.md"
    note.write_bytes(before)
    card = _card_id(vault, "Paris")
    assert flashmark("set-due", card, "--days", "5", "--vault", vault,
                     "--now", NOW_TEXT).returncode == 0
    log = vault / ".flashmark" / "reviews.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    assert [json.loads(x)["event"] for x in lines] == ["set_due", "commit"]
    log.write_text(lines[0])  # killed after staging (and maybe after the note write)
    if not note_written:
        note.write_bytes(before)
    undo = flashmark("undo", vault, "--now", NOW_TEXT)
    kinds = [e.kind for e in ReviewLog(vault).events()]
    if note_written:  # committed by reconcile, then undone
        assert undo.returncode == 0 and kinds[:2] == ["set_due", "commit"]
    else:  # aborted: nothing stands to undo
        assert undo.returncode == 3 and kinds == ["set_due", "abort"]
    assert note.read_bytes() == before


def test_reschedule_moves_fsrs_review_cards_to_their_interval_and_undo_restores(
        tmp_path: Path) -> None:
    """At a desired retention other than the one the entries were written for, a
    reschedule gives each FSRS review card the interval its stability gives now, counted
    from its last review; legacy, new and learning cards are left as they are."""
    from flashmark.config import load_settings
    from flashmark.scheduling import FsrsScheduler, SchedulerConfig

    vault = tmp_path / "vault"
    ids = make_vault(vault)
    (vault / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard"]\n'
                                          "scheduling:\n  desired_retention: 0.85\n")
    notes = {p: p.read_bytes() for p in vault.rglob("*.md")}
    scheduler = FsrsScheduler(SchedulerConfig.from_settings(load_settings(vault).scheduling))
    done = flashmark("reschedule", "--search", "", "--vault", vault, "--now", NOW_TEXT,
                     "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in map(json.loads, done.stdout.splitlines())}
    changed = {i for i, r in rows.items() if r["changed"]}
    assert changed == {ids["later fsrs"], ids["leech card"]}
    later = round(scheduler.interval_of(30.5))
    assert later > 30  # a lower retention: a longer interval
    due = (dt.date(2026, 11, 20) + dt.timedelta(days=later)).isoformat()
    assert rows[ids["later fsrs"]]["after"] == (
        f"fsrs,{due}T00:00:00.000Z,{later},30.5,5,2,5,1,0,2026-11-20T00:00:00.000Z")
    events = [e for e in in_effect(ReviewLog(vault).events()) if isinstance(e, SetDue)]
    assert sorted(e.id for e in events) == sorted(changed)
    assert {e.days for e in events} == {"reschedule"}
    assert flashmark("undo", vault, "--now", NOW_TEXT).returncode == 0
    assert {p: p.read_bytes() for p in vault.rglob("*.md")} == notes
    assert not any(isinstance(e, SetDue) for e in in_effect(ReviewLog(vault).events()))


def test_forget_set_due_reschedule_then_undo_each_on_legacy_and_fsrs_cards(
        tmp_path: Path) -> None:
    """Three commands over the same legacy and FSRS cards, then three undos: after each
    undo the notes hold exactly the bytes they had before the command it takes back."""
    vault = tmp_path / "vault"
    ids = make_vault(vault)
    (vault / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard"]\n'
                                          "scheduling:\n  desired_retention: 0.8\n")
    cards = [ids["due legacy"], ids["later fsrs"], ids["capital of France"]]
    commands = [["set-due", *cards, "--days", "4!"], ["reschedule", *cards],
                ["forget", *cards]]
    states = []
    for command in commands:
        states.append({p: p.read_bytes() for p in vault.rglob("*.md")})
        done = flashmark(*command, "--vault", vault, "--now", NOW_TEXT)
        assert done.returncode == 0, done.stderr
        assert {p: p.read_bytes() for p in vault.rglob("*.md")} != states[-1]
    new = flashmark("search", "is:new", vault, "--now", NOW_TEXT, "--json")
    assert set(cards) <= {json.loads(line)["id"] for line in new.stdout.splitlines()}
    for before in reversed(states):
        assert flashmark("undo", vault, "--now", NOW_TEXT).returncode == 0
        assert {p: p.read_bytes() for p in vault.rglob("*.md")} == before


def test_an_undo_whose_note_cannot_be_put_back_leaves_the_leech_in_effect(
        tmp_path: Path) -> None:
    """A rating that made a leech (and suspended it): when its entry was changed by hand
    since, `undo` refuses, and the leech and the suspension stay with the rating (they
    were undone alone before: the card came back unsuspended, its rating standing)."""
    from flashmark.vault.reviewlog import Leech

    vault = tmp_path / "vault"
    ids = make_vault(vault)
    (vault / "flashmark.yaml").write_text(
        'parser:\n  flashcard_tags: ["#flashcard"]\n'
        "review:\n  leech_threshold: 1\n  leech_action: suspend\n")
    card = ids["due legacy"]
    done = flashmark("rate", card, "again", vault, "--now", NOW_TEXT, "--json")
    assert done.returncode == 0, done.stderr
    after = json.loads(done.stdout)["after"]
    effect = in_effect(ReviewLog(vault).events())
    assert any(isinstance(e, Leech) and e.id == card for e in effect)
    assert any(isinstance(e, Suspend) and e.id == card for e in effect)
    note = next(p for p in vault.rglob("*.md") if after in p.read_text())
    note.write_text(note.read_text().replace(after, "2026-12-01,3,250"))  # by hand
    undo = flashmark("undo", vault, "--now", NOW_TEXT)
    assert undo.returncode == 4 and "Traceback" not in undo.stderr, undo.stderr
    effect = in_effect(ReviewLog(vault).events())
    assert any(isinstance(e, Leech) and e.id == card for e in effect)
    assert any(isinstance(e, Suspend) and e.id == card for e in effect)


def test_reschedule_leaves_an_entry_past_the_calendar_alone(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard"]\n')
    note = vault / "n.md"
    note.write_text("#flashcard\n\nQ:@:A <!--SR:!2026-11-22,999999999,230-->\n")
    before = note.read_bytes()
    done = flashmark("reschedule", "--search", "", "--vault", vault, "--now", NOW_TEXT)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert note.read_bytes() == before


def test_a_rating_after_set_due_is_not_taken_for_an_outside_change(tmp_path: Path) -> None:
    """set-due (or forget, reschedule) writes the entry itself: the next rating starts
    from it without logging an `external` change."""
    from flashmark.vault.reviewlog import External

    vault = tmp_path / "vault"
    ids = make_vault(vault)
    card = ids["due legacy"]
    for args in (("rate", card, "good", vault), ("set-due", card, "--days", "3",
                                                  "--vault", vault),
                 ("rate", card, "good", vault), ("forget", card, "--vault", vault),
                 ("rate", card, "good", vault)):
        done = flashmark(*args, "--now", NOW_TEXT)
        assert done.returncode == 0, (args, done.stderr)
    assert not any(isinstance(e, External) for e in ReviewLog(vault).events())

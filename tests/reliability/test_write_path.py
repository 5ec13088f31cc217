"""Regression tests of the write path, one per defect the fault-injection campaign found
(numbered as in the write-safety issue; defects 6-9 are in test_generate_hardening.py,
test_worker_debris.py, test_caches.py and test_messages.py).

Real processes wherever the defect involved them: `python -m flashmark` subprocesses,
processes that SIGKILL themselves at a chosen instant, concurrent raters. The in-process
tests wrap a function of the write path to make another program's write happen at the
worst moment, deterministically.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

import flashmark.vault.edit as vault_edit
from flashmark.config import load_settings
from flashmark.errors import ConflictError
from flashmark.model import Rating
from flashmark.review import rating as rating_module
from flashmark.review.rating import rate_card
from flashmark.vault.lock import LockTimeoutError, vault_lock
from flashmark.vault.reviewlog import (
    Abort,
    Commit,
    Pending,
    Review,
    ReviewLog,
    in_effect,
    reviews,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "notes"
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TZ": "UTC"}
NOW = dt.datetime(2027, 1, 10, 9, 0, tzinfo=dt.UTC)
NOTE = "t/write.md"
HEAD = "---\ntags: [flashcard/active/t]\n---\n\n"
BODY = ("# write path\n\n"
        "Capital of France:@:Paris\n\n"
        "Capital of Italy:@:Rome\n\n"
        "Capital of Spain:@:Madrid\n\n"
        "Capital of Japan:@:Tokyo <!--SR:!2027-01-01,10,250-->\n\n"
        "Capital of Peru:@:Lima <!--SR:!2027-01-01,10,250-->\n")


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns(".flashmark"))
    (root / "t").mkdir()
    (root / NOTE).write_text(HEAD + BODY)
    return root


def flashmark(*args: str | Path, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "flashmark", *map(str, args)],
                          env=env or ENV, capture_output=True, text=True, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def cards_of(root: Path, rel: str = NOTE) -> dict[str, str]:
    """Front text -> card id of the note's cards (through `scan --json`)."""
    done = flashmark("scan", root, "--json")
    assert done.returncode == 0, done.stderr
    cards = [json.loads(line) for line in done.stdout.splitlines()]
    return {c["front"].strip(): c["id"] for c in cards if c["path"] == rel}


def card(root: Path, front: str) -> str:
    return cards_of(root)[front]


# --- 1: a stale insertion offset ------------------------------------------------------


def test_1_insertion_is_relocated_when_the_note_changed_after_it_was_read(
        vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new card's first SR comment is an insertion (empty `old`): when lines are added
    above the card between the read and the write, the comment still lands right after
    the card, and the added text is kept."""
    card_id = card(vault, "Capital of France")
    note = vault / NOTE
    real = vault_edit.apply_edits  # what the rating module calls

    def another_program_writes_first(*args: Any, **kwargs: Any) -> Any:
        text = note.read_text()
        note.write_text(text.replace("# write path\n", "# write path\n\nA new line.\n"
                                     "Another new line, longer than the first.\n"))
        return real(*args, **kwargs)

    monkeypatch.setattr(rating_module, "apply_edits", another_program_writes_first)
    outcome = rate_card(vault, load_settings(vault), card_id, Rating.GOOD, NOW)
    text = note.read_text()
    assert "A new line.\nAnother new line, longer than the first.\n" in text
    assert "Capital of France:@:Paris <!--SR:" in text
    after = text.split("Capital of France:@:Paris <!--SR:")[1]
    assert after.startswith(outcome.after.lstrip("!")) or outcome.after in after
    assert text.count("<!--SR:") == 3
    assert "Capital of Italy:@:Rome\n" in text  # no comment went to the wrong card


def test_1_insertion_point_gone_is_a_conflict_and_nothing_is_written(
        vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    card_id = card(vault, "Capital of France")
    note = vault / NOTE
    real = vault_edit.apply_edits  # what the rating module calls

    def card_deleted_meanwhile(*args: Any, **kwargs: Any) -> Any:
        note.write_text(note.read_text().replace("Capital of France:@:Paris\n", ""))
        return real(*args, **kwargs)

    monkeypatch.setattr(rating_module, "apply_edits", card_deleted_meanwhile)
    before_write = (HEAD + BODY).replace("Capital of France:@:Paris\n", "")
    with pytest.raises(ConflictError):
        rate_card(vault, load_settings(vault), card_id, Rating.GOOD, NOW)
    assert note.read_text() == before_write
    events = ReviewLog(vault).events()
    assert [type(e) for e in events] == [Review, Abort, Pending]  # kept, not lost
    assert not reviews(in_effect(events))


# --- 2: lost updates -------------------------------------------------------------------


def test_2_concurrent_raters_lose_nothing(vault: Path) -> None:
    """Four `flashmark rate` processes at once, each rating its own cards of one note,
    five rounds: every rating exits 0 and is in the note and in the log."""
    ids = cards_of(vault)
    fronts = sorted(ids)[:4]
    procs: list[subprocess.Popen[str]] = []
    for rnd in range(5):
        when = (NOW + dt.timedelta(days=rnd * 40)).isoformat()
        procs = [subprocess.Popen([sys.executable, "-m", "flashmark", "rate", ids[f],
                                   "good", str(vault), "--now", when, "--json"],
                                  env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for f in fronts]
        for p in procs:
            _, err = p.communicate()
            assert p.returncode == 0, err
    text = (vault / NOTE).read_text()
    assert "<!--SR:<!--SR:" not in text
    assert text.count("<!--SR:") == 4  # France, Italy, Japan, Peru (Spain: not rated)
    standing = reviews(ReviewLog(vault).effective())
    assert len(standing) == 20
    last = {r.id: r.after for r in standing}
    for front in fronts:
        line = next(ln for ln in text.splitlines() if ln.startswith(front))
        assert f"<!--SR:!{last[ids[front]]}-->" in line, (front, line)


def test_2_an_editor_saving_every_few_milliseconds_loses_no_edit(vault: Path) -> None:
    """Another program replaces the note (write to a temp file, rename) every 2 ms,
    appending a line each time, while 15 ratings are written: none of its lines is
    lost, no comment is nested, and every rating that exited 0 stands in the log."""
    note = vault / NOTE
    ids = cards_of(vault)
    stop = threading.Event()
    written: list[str] = []

    def editor() -> None:
        k = 0
        while not stop.is_set():
            data = note.read_bytes()
            line = f"editor line {k}\n"
            tmp = note.with_name(".editor-tmp")
            tmp.write_bytes(data + line.encode())
            os.replace(tmp, note)
            written.append(line)
            k += 1
            stop.wait(0.002)

    thread = threading.Thread(target=editor)
    thread.start()
    settings = load_settings(vault)
    try:
        for k in range(15):
            front = sorted(ids)[k % 5]
            # Refused after repeated changes is allowed (and logged as pending).
            with contextlib.suppress(ConflictError):
                rate_card(vault, settings, ids[front], Rating.GOOD,
                          NOW + dt.timedelta(days=k * 30))
    finally:
        stop.set()
        thread.join()
    text = note.read_text()
    assert "<!--SR:<!--SR:" not in text
    # The editor read before it wrote, so its own lines can only be lost if we
    # overwrote one of its versions: that must never happen.
    missing = [line for line in written if line not in text]
    assert not missing, missing[:3]


# --- 3: undo outside the vault ---------------------------------------------------------


@pytest.mark.parametrize("where", ["../outside.md", "ABSOLUTE"])
def test_3_undo_never_writes_outside_the_vault(vault: Path, tmp_path: Path,
                                               where: str) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("Capital of Peru:@:Lima <!--SR:!2027-02-01,20,250-->\n")
    path = str(outside) if where == "ABSOLUTE" else where
    line = {"event": "review", "time": "2027-01-10T09:00:00Z", "uid": "u1",
            "id": "0123456789ab", "path": path, "sibling": 0, "rating": "good",
            "before": "2027-01-01,10,250", "after": "2027-02-01,20,250",
            "edit": {"start": 24, "old": "!2027-02-01,20,250", "new": "!2027-01-01,10,250"}}
    log = vault / ".flashmark" / "reviews.jsonl"
    log.parent.mkdir(exist_ok=True)
    log.write_text(json.dumps(line) + "\n")
    before = outside.read_bytes()
    done = flashmark("undo", vault, "--now", "2027-01-10T10:00Z")
    assert done.returncode == 3, done.stderr
    assert "not a note inside the vault" in done.stderr
    assert outside.read_bytes() == before


# --- 4: the log's torn, wrong-typed and ambiguous lines ---------------------------------


def test_4_a_torn_last_line_does_not_swallow_the_next_rating(vault: Path) -> None:
    ids = cards_of(vault)
    assert flashmark("rate", ids["Capital of Japan"], "good", vault,
                     "--now", "2027-01-10T09:00Z").returncode == 0
    log = vault / ".flashmark" / "reviews.jsonl"
    with log.open("ab") as fh:
        fh.write(b'{"event":"review","time":"2027-01-10T09:')  # a torn write
    before_peru = (vault / NOTE).read_text()
    done = flashmark("rate", ids["Capital of Peru"], "good", vault,
                     "--now", "2027-01-10T09:05Z")
    assert done.returncode == 0, done.stderr
    lines = log.read_bytes().split(b"\n")
    assert lines[-1] == b"" and any(ln.endswith(b'09:') for ln in lines)
    problems: list[Any] = []
    events = ReviewLog(vault).events(problems)
    assert [r.id for r in reviews(in_effect(events))] == [ids["Capital of Japan"],
                                                          ids["Capital of Peru"]]
    assert len(problems) == 1
    # undo reverts the newest rating (Peru), not an older one
    assert flashmark("undo", vault, "--now", "2027-01-10T09:06Z").returncode == 0
    assert (vault / NOTE).read_text() == before_peru


@pytest.mark.parametrize("bad", ['{"event":"undo","of":{"a":1}}', '{"event":"review"}',
                                 '[1,2]', '{"event":"review","time":5}', 'null'])
def test_4_wrong_typed_lines_are_skipped_by_every_command(vault: Path, bad: str) -> None:
    ids = cards_of(vault)
    log = vault / ".flashmark" / "reviews.jsonl"
    log.parent.mkdir(exist_ok=True)
    log.write_text(bad + "\n")
    assert flashmark("rate", ids["Capital of Japan"], "good", vault,
                     "--now", "2027-01-10T09:00Z").returncode == 0
    for command in ("stats", "due", "undo"):
        args = (command, vault, "--now", "2027-01-10T10:00Z")
        done = flashmark(*args)
        assert done.returncode == 0, (args, done.stderr)
    assert (vault / NOTE).read_text() == HEAD + BODY
    assert log.read_text().startswith(bad + "\n")  # nothing is ever rewritten


def test_4_undo_finds_its_card_when_another_entry_is_byte_identical(vault: Path) -> None:
    ids = cards_of(vault)
    note = vault / NOTE
    done = flashmark("rate", ids["Capital of Japan"], "good", vault,
                     "--now", "2027-01-10T09:00Z", "--json")
    after = json.loads(done.stdout)["after"]
    # Make Peru's entry byte-identical to what the rating wrote for Japan, above it.
    rated = note.read_text()
    body = rated.replace("Capital of Peru:@:Lima <!--SR:!2027-01-01,10,250-->",
                         f"Capital of Peru:@:Lima <!--SR:!{after}-->")
    body = body.replace("# write path\n", f"# write path\n\nCapital of Chile:@:Santiago "
                                          f"<!--SR:!{after}-->\n")
    note.write_text(body)
    assert flashmark("undo", vault, "--now", "2027-01-10T09:01Z").returncode == 0
    text = note.read_text()
    assert "Capital of Japan:@:Tokyo <!--SR:!2027-01-01,10,250-->" in text
    assert f"Capital of Peru:@:Lima <!--SR:!{after}-->" in text
    assert f"Capital of Chile:@:Santiago <!--SR:!{after}-->" in text


# --- 5: note and log through crashes ----------------------------------------------------

# A `flashmark` process that SIGKILLs itself around the note write of a rating or undo:
# "before" (the staged event is logged, the note not written), "after" (note written,
# no commit yet).
KILL_AROUND_WRITE = textwrap.dedent("""
    import os, signal, sys
    import flashmark.review.rating as rating
    real = rating.apply_edits
    def apply_edits(*args, **kwargs):
        if sys.argv[1] == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    rating.apply_edits = apply_edits
    from flashmark.cli.main import main
    sys.exit(main(sys.argv[2:]))
""")


def killed(moment: str, *args: str | Path) -> None:
    done = subprocess.run([sys.executable, "-c", KILL_AROUND_WRITE, moment,
                           *map(str, args)], env=ENV, capture_output=True, text=True,
                          check=False)
    assert done.returncode == -9, done.stderr


@pytest.mark.parametrize("moment", ["before", "after"])
def test_5_a_rating_killed_around_the_note_write_is_reconciled(vault: Path,
                                                              moment: str) -> None:
    ids = cards_of(vault)
    note = vault / NOTE
    killed(moment, "rate", ids["Capital of Japan"], "good", vault,
           "--now", "2027-01-10T09:00Z")
    written = note.read_text() != HEAD + BODY
    assert written == (moment == "after")
    # The next writer (another rating) settles the open intent.
    assert flashmark("rate", ids["Capital of Peru"], "good", vault,
                     "--now", "2027-01-10T09:01Z").returncode == 0
    events = ReviewLog(vault).events()
    settled = [e for e in events if isinstance(e, Commit | Abort)]
    assert type(settled[0]) is (Commit if written else Abort)
    standing = reviews(in_effect(events))
    assert {r.id for r in standing} == ({ids["Capital of Japan"], ids["Capital of Peru"]}
                                        if written else {ids["Capital of Peru"]})
    # What stands in the log is what the note says.
    text = note.read_text()
    for r in standing:
        assert f"<!--SR:!{r.after}-->" in text


def test_5_an_undo_killed_after_the_note_write_does_not_block_later_undos(
        vault: Path) -> None:
    ids = cards_of(vault)
    note = vault / NOTE
    for k, front in enumerate(["Capital of Japan", "Capital of Peru"]):
        assert flashmark("rate", ids[front], "good", vault,
                         "--now", f"2027-01-10T09:0{k}Z").returncode == 0
    killed("after", "undo", vault, "--now", "2027-01-10T09:05Z")
    done = flashmark("undo", vault, "--now", "2027-01-10T09:06Z")
    assert done.returncode == 0, done.stderr
    assert note.read_text() == HEAD + BODY
    assert not reviews(ReviewLog(vault).effective())


def test_5_an_unwritable_log_leaves_the_note_untouched(vault: Path) -> None:
    ids = cards_of(vault)
    log = vault / ".flashmark" / "reviews.jsonl"
    log.parent.mkdir(exist_ok=True)
    log.mkdir()  # cannot be opened for appending, even by root
    done = flashmark("rate", ids["Capital of Japan"], "good", vault,
                     "--now", "2027-01-10T09:00Z")
    assert done.returncode == 3
    assert "review log" in done.stderr
    assert (vault / NOTE).read_text() == HEAD + BODY


# --- the lock ---------------------------------------------------------------------------


def test_a_writer_waits_for_the_lock_and_then_says_who_holds_it(vault: Path) -> None:
    ids = cards_of(vault)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path;"
         "from flashmark.vault.lock import vault_lock\n"
         "with vault_lock(Path(sys.argv[1])):\n    print('held', flush=True); "
         "time.sleep(30)", str(vault)], env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        done = flashmark("rate", ids["Capital of Japan"], "good", vault,
                         env={**ENV, "FLASHMARK_LOCK_TIMEOUT": "0.5"})
        assert done.returncode != 0
        assert f"another flashmark process (pid {holder.pid})" in done.stderr
        with pytest.raises(LockTimeoutError), vault_lock(vault, timeout=0.2):
            pass
    finally:
        holder.kill()
        holder.wait()
    assert (vault / NOTE).read_text() == HEAD + BODY
    with vault_lock(vault, timeout=1):  # the kernel dropped the killed holder's lock
        pass


# --- 10: owner, hard links, read-only notes ----------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a note another owner")
def test_10_owner_and_group_are_kept(vault: Path) -> None:
    ids = cards_of(vault)
    note = vault / NOTE
    os.chown(note, 4321, 8765)
    os.chmod(note, 0o640)
    assert flashmark("rate", ids["Capital of Japan"], "good", vault).returncode == 0
    st = note.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (4321, 8765, 0o640)
    assert note.read_text() != HEAD + BODY


def test_10_a_hard_linked_note_is_refused_unless_in_place_is_chosen(vault: Path,
                                                                   tmp_path: Path) -> None:
    ids = cards_of(vault)
    note = vault / NOTE
    link = tmp_path / "elsewhere.md"
    os.link(note, link)
    done = flashmark("rate", ids["Capital of Japan"], "good", vault, "--now", "2027-01-10")
    assert done.returncode == 3 and "hard links" in done.stderr
    assert note.read_text() == link.read_text() == HEAD + BODY
    assert [type(e) for e in ReviewLog(vault).events()][-1] is Pending
    (vault / "flashmark.yaml").write_text((vault / "flashmark.yaml").read_text()
                                          + "write:\n  in_place: true\n")
    done = flashmark("rate", ids["Capital of Japan"], "good", vault, "--now", "2027-01-10")
    assert done.returncode == 0, done.stderr
    assert note.read_text() == link.read_text() != HEAD + BODY  # one inode, both names
    assert os.stat(note).st_ino == os.stat(link).st_ino


def test_10_a_read_only_note_is_refused_and_the_rating_kept_as_pending(vault: Path) -> None:
    ids = cards_of(vault)
    note = vault / NOTE
    os.chmod(note, 0o444)
    done = flashmark("rate", ids["Capital of Japan"], "good", vault, "--now", "2027-01-10")
    assert done.returncode == 3
    assert "read-only" in done.stderr and "write.in_place" in done.stderr
    assert note.read_text() == HEAD + BODY and note.stat().st_mode & 0o777 == 0o444
    pending = [e for e in ReviewLog(vault).events() if isinstance(e, Pending)]
    assert len(pending) == 1 and pending[0].id == ids["Capital of Japan"]


# --- 11: messages that name the real cause -----------------------------------------------


def test_11_a_momentarily_empty_note_is_not_called_a_changed_id(vault: Path) -> None:
    ids = cards_of(vault)
    (vault / NOTE).write_text("")
    done = flashmark("rate", ids["Capital of Japan"], "good", vault)
    assert done.returncode == 3
    assert f"was in {NOTE}, which is empty right now" in done.stderr, done.stderr


def test_11_an_unreadable_note_is_named(vault: Path) -> None:
    ids = cards_of(vault)
    note = vault / NOTE
    note.unlink()
    note.mkdir()  # a folder where the note was: cannot be read as a file, even by root
    (note / "x").write_text("")
    done = flashmark("rate", ids["Capital of Japan"], "good", vault)
    assert done.returncode == 3, done.stderr
    assert NOTE in done.stderr and "cannot read" in done.stderr, done.stderr


# --- debris -----------------------------------------------------------------------------


def test_check_reports_a_stray_temporary_file_and_the_next_write_removes_journaled_ones(
        vault: Path) -> None:
    stray = vault / "t" / ".write.md.99999-abcd.flashmark-tmp"
    stray.write_text("leftover")
    done = flashmark("check", vault, "--json")
    found = [json.loads(line) for line in done.stdout.splitlines()]
    assert {
        k: v for k, v in next(f for f in found if f["code"] == "stray-temp").items()
        if k != "message"} == {"path": "t/.write.md.99999-abcd.flashmark-tmp", "line": None,
            "severity": "warning", "code": "stray-temp"}
    # A temp file the journal names is removed by the next writer.
    journal = vault / ".flashmark" / "tmp-journal"
    journal.parent.mkdir(exist_ok=True)
    journal.write_text(json.dumps({"tmp": str(stray), "old": "0" * 64, "new": "1" * 64})
                       + "\n")
    note_before = (vault / NOTE).read_bytes()
    ids = cards_of(vault)
    assert flashmark("rate", ids["Capital of Japan"], "good", vault).returncode == 0
    assert not stray.exists()
    # It held neither version of the note and the note was not ours: kept for the user.
    kept = list((vault / ".flashmark" / "recovered").iterdir())
    assert [p.read_text() for p in kept] == ["leftover"]
    assert note_before != (vault / NOTE).read_bytes()


def test_a_journal_naming_files_outside_the_vault_removes_nothing(vault: Path,
                                                                  tmp_path: Path) -> None:
    victim = tmp_path / ".victim.md.1-ab.flashmark-tmp"
    victim.write_text("not flashmark's")
    other = vault / "t" / "write.md"
    journal = vault / ".flashmark" / "tmp-journal"
    journal.parent.mkdir(exist_ok=True)
    journal.write_text("\n".join([
        json.dumps({"tmp": str(victim), "old": "0" * 64, "new": "1" * 64}),
        json.dumps({"tmp": str(other), "old": "0" * 64, "new": "1" * 64}),
        "garbage", "{}"]) + "\n")
    ids = cards_of(vault)
    assert flashmark("rate", ids["Capital of Japan"], "good", vault).returncode == 0
    assert victim.read_text() == "not flashmark's" and other.exists()


"""`flashmark import-anki`, end to end with the official `anki` library: export the sample
vault, import it into a fresh collection, review with Anki's own scheduler, close it, and
bring the reviews back; the notes are read back with `scan --json`."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import flashmark.vault.edit as vault_edit
from flashmark.cli.main import main
from flashmark.stats import DueCutoff
from tests.export.export_helpers import AnkiCollection, ExportRun

pytest.importorskip("anki")

MakeCollection = Callable[[], AnkiCollection]


def scan_cards(vault: Path) -> dict[tuple[str, int, int], dict[str, Any]]:
    """(path, line, sibling) -> the card as `scan --json` prints it."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["scan", "--json", str(vault)]) == 0
    cards = [json.loads(line) for line in buf.getvalue().splitlines()]
    return {(c["path"], c["line"], c["sibling"]): c for c in cards}


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def import_json(source: Path, vault: Path, *extra: str) -> dict[str, Any]:
    code, out, err = run_cli("import-anki", str(source), str(vault), "--json", *extra)
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def vault_bytes(vault: Path) -> dict[str, bytes]:
    """Every note and the review log (caches left out)."""
    files = {str(p.relative_to(vault)): p.read_bytes() for p in vault.rglob("*.md")}
    log = vault / ".flashmark" / "reviews.jsonl"
    files["reviews.jsonl"] = log.read_bytes() if log.exists() else b""
    return files


def log_events(vault: Path, kind: str) -> list[dict[str, Any]]:
    log = vault / ".flashmark" / "reviews.jsonl"
    if not log.exists():
        return []
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [r for r in rows if r["event"] == kind]


def key_of(card: Any) -> tuple[str, int, int]:
    """The vault card of an Anki card: its note's Source field is "path:line"."""
    rel, line = str(card.note()["Source"]).rsplit(":", 1)
    return rel, int(line), int(card.ord)


def anki_due_date(col: AnkiCollection, card: Any) -> dt.date:
    timing = col.col.sched._timing_today()
    today = dt.datetime.fromtimestamp(timing.next_day_at - 86400).date()
    if card.queue == 1:  # intraday learning: a Unix time
        return dt.datetime.fromtimestamp(card.due).date()
    return today + dt.timedelta(days=card.due - timing.days_elapsed)


def answer(col: AnkiCollection, card_id: int, ease: int) -> None:
    card = col.col.get_card(card_id)
    card.start_timer()
    col.col.sched.answerCard(card, ease)


def next_day(col: AnkiCollection) -> None:
    """A day passes in Anki: the collection's creation moves one day back."""
    col.make_older(1)


def load(vault: Path, tmp_path: Path, export: ExportRun, col: AnkiCollection,
         *extra: str) -> dict[tuple[str, int, int], Any]:
    """Export the vault, import the package into ``col``; vault card key -> Anki card."""
    code, _ = export(vault, tmp_path / "deck.apkg", *extra)
    assert code == 0
    col.import_package(tmp_path / "deck.apkg", with_scheduling=bool(extra))
    return {key_of(c): c for c in col.cards()}


def review_session(col: AnkiCollection, cards: dict[tuple[str, int, int], Any]
                   ) -> set[tuple[str, int, int]]:
    """Each button on some cards, several cards over several simulated days; returns the
    cards reviewed."""
    keys = sorted(cards)
    plan = {keys[0]: [1], keys[1]: [2], keys[2]: [3], keys[3]: [4],
            keys[4]: [3, 3, 3], keys[5]: [1, 3, 4, 3], keys[6]: [4, 4]}
    for day in range(4):
        for key, eases in plan.items():
            if day < len(eases):
                cid = cards[key].id
                current = col.col.get_card(cid)
                if day and current.queue == 2 and anki_due_date(col, current) > \
                        dt.datetime.fromtimestamp(col.col.sched._timing_today().next_day_at
                                                  - 86400).date():
                    col.col.sched.set_due_date([cid], "0")  # bring it forward, as a user may
                answer(col, cid, eases[day])
        next_day(col)
    return set(plan)


def assert_matches_anki(vault: Path, col: AnkiCollection, reviewed: set[tuple[str, int, int]],
                        *, fsrs: bool) -> None:
    scanned = scan_cards(vault)
    for key in reviewed:
        card = next(c for c in col.cards() if key_of(c) == key)
        schedule = scanned[key]["schedule"]
        assert schedule is not None, key
        if fsrs:
            assert schedule["kind"] == "fsrs"
            due = dt.datetime.fromisoformat(schedule["due"].replace("Z", "+00:00"))
            assert due.astimezone().date() == anki_due_date(col, card), key
            assert schedule["state"] == card.type
            assert schedule["interval"] == (card.ivl if card.type != 1 else 0)
            assert schedule["stability"] == pytest.approx(card.memory_state.stability,
                                                          abs=1e-6)
            assert schedule["difficulty"] == pytest.approx(card.memory_state.difficulty,
                                                           abs=1e-6)
            assert (schedule["reps"], schedule["lapses"]) == (card.reps, card.lapses)
        else:
            assert schedule["kind"] == "sm2"
            assert dt.date.fromisoformat(schedule["due"]) == anki_due_date(col, card), key
            assert schedule["interval"] == max(1, card.ivl)
            assert schedule["ease"] == (card.factor // 10 or 250)


@pytest.mark.parametrize("fsrs", [True, False], ids=["fsrs", "sm2"])
def test_reviews_come_back_into_the_notes(vault: Path, tmp_path: Path, export: ExportRun,
                                          anki_collection: MakeCollection,
                                          fsrs: bool) -> None:
    col = anki_collection()
    col.col.set_config("fsrs", fsrs)
    # FSRS on: the cards carry their vault schedule into Anki; off: all new, SM-2 only.
    cards = load(vault, tmp_path, export, col, *(["--with-scheduling"] if fsrs else []))
    untouched = scan_cards(vault)
    reviewed = review_session(col, cards)
    # (set_due_date adds "manual" rows with ease 0: they are no reviews)
    revlog = col.col.db.all("SELECT id, cid, ease FROM revlog WHERE ease > 0 ORDER BY id")
    assert len(revlog) == 1 + 1 + 1 + 1 + 3 + 4 + 2
    path = col.col.path
    col.close()
    before = vault_bytes(vault)

    result = import_json(Path(path), vault)
    col.col = __import__("anki.collection").collection.Collection(path)
    assert result["reviews_imported"] == len(revlog)
    assert result["updated"] == len(reviewed) and not result["conflicts"]
    assert result["unchanged"] == len(cards) - len(reviewed) and not result["unmatched"]
    assert_matches_anki(vault, col, reviewed, fsrs=fsrs)
    # one log line per Anki review, each naming its vault card and its revlog id
    imported = log_events(vault, "anki_review")
    assert sorted(e["revlog"] for e in imported) == [r[0] for r in revlog]
    scanned = scan_cards(vault)
    ids = {scanned[key]["id"] for key in reviewed}
    assert {e["id"] for e in imported} == ids
    ratings = {r[0]: ("again", "hard", "good", "easy")[r[2] - 1] for r in revlog}
    assert all(e["rating"] == ratings[e["revlog"]] for e in imported)
    # the other cards did not move
    for key, card in scanned.items():
        if key not in reviewed:
            assert card["schedule"] == untouched[key]["schedule"], key
    # only the SR comments changed in the notes
    after = vault_bytes(vault)
    for rel, data in before.items():
        if rel.endswith(".md"):
            old_lines, new_lines = data.splitlines(), after[rel].splitlines()
            assert len(old_lines) == len(new_lines)
            for a, b in zip(old_lines, new_lines, strict=True):
                if a != b:
                    assert a.split(b"<!--SR:")[0].rstrip() == b.split(b"<!--SR:")[0].rstrip()

    # again: nothing changes, not one byte
    col.close()
    again = import_json(Path(path), vault)
    assert again["reviews_imported"] == 0 and again["updated"] == 0
    assert again["unchanged"] == len(cards)
    assert vault_bytes(vault) == after

    # The phone's reviews count like the vault's own: in the statistics and in the
    # history the optimizer fits (one per Anki review, under the vault card's id).
    from flashmark.cli.optimize import optimizer_reviews
    from flashmark.stats import actual_retention, live_reviews
    from flashmark.vault.reviewlog import ReviewLog

    events = ReviewLog(vault).events()
    assert sorted(e.revlog for _, e in live_reviews(events)
                  if hasattr(e, "revlog")) == [r[0] for r in revlog]
    assert sorted((e.id, e.rating) for e in optimizer_reviews(vault)) == sorted(
        (e["id"], e["rating"]) for e in imported)
    review_rows = [e for e in imported if e["anki_type"] == "review"]
    cutoff = DueCutoff(dt.datetime.now(dt.UTC) + dt.timedelta(days=60))
    retention = actual_retention(events, cutoff, 0.9, days=365)
    assert retention.total == len(review_rows)
    assert retention.passed == sum(e["rating"] != "again" for e in review_rows)


def test_dry_run_writes_nothing_and_reports_the_same(
        vault: Path, tmp_path: Path, export: ExportRun,
        anki_collection: MakeCollection) -> None:
    col = anki_collection()
    col.col.set_config("fsrs", True)
    cards = load(vault, tmp_path, export, col, "--with-scheduling")
    reviewed = review_session(col, cards)
    path = Path(col.col.path)
    col.close()
    before = vault_bytes(vault)
    dry = import_json(path, vault, "--dry-run")
    assert vault_bytes(vault) == before
    assert dry["dry_run"] and dry["updated"] == len(reviewed)
    real = import_json(path, vault)
    assert {k: v for k, v in real.items() if k != "dry_run"} == \
        {k: v for k, v in dry.items() if k != "dry_run"}
    code, out, _ = run_cli("import-anki", str(path), str(vault), "--dry-run")
    assert code == 0 and "0 cards would be updated, 0 Anki reviews would be imported" in out


def _rate(vault: Path, card_id: str, rating: str, when: dt.datetime) -> None:
    code, _, err = run_cli("rate", card_id, rating, str(vault), "--now", when.isoformat())
    assert code == 0, err


@pytest.mark.parametrize("later", ["vault", "anki"])
def test_conflict_the_later_review_wins(vault: Path, tmp_path: Path, export: ExportRun,
                                        anki_collection: MakeCollection, later: str) -> None:
    col = anki_collection()
    col.col.set_config("fsrs", True)
    cards = load(vault, tmp_path, export, col, "--with-scheduling")
    key = ("science/mechanics.md", 5, 0)  # Speed:@:distance / time, new everywhere
    answer(col, cards[key].id, 3)
    answer(col, cards[key].id, 3)
    anki_time = dt.datetime.fromtimestamp(
        col.col.db.scalar("SELECT max(id) FROM revlog") / 1000).astimezone()
    if later == "anki":
        # the first Anki review two hours before the vault's, the last one after it
        col.col.db.execute("UPDATE revlog SET id = id - 7200000 WHERE id = "
                           "(SELECT min(id) FROM revlog)")
        vault_time = anki_time - dt.timedelta(hours=1)
    else:
        vault_time = anki_time + dt.timedelta(hours=1)
    path = Path(col.col.path)
    col.close()
    card_id = scan_cards(vault)[key]["id"]
    _rate(vault, card_id, "easy", vault_time)
    entry_before = scan_cards(vault)[key]["schedule"]

    result = import_json(path, vault)
    assert result["conflicts"] == 1 and result["reviews_imported"] == 2
    [outcome] = [c for c in result["cards"] if c["id"] == card_id]
    schedule = scan_cards(vault)[key]["schedule"]
    if later == "vault":
        assert outcome["conflict"] == "vault-later" and outcome["action"] == "kept"
        assert schedule == entry_before
    else:
        assert outcome["conflict"] == "anki-later" and outcome["action"] == "updated"
        assert schedule != entry_before
        assert schedule["reps"] == 2  # Anki's two reviews, not the vault's one
    code, out, _ = run_cli("import-anki", str(path), str(vault))
    assert code == 0 and "0 Anki reviews imported" in out


def test_colpkg_and_apkg_sources(vault: Path, tmp_path: Path, export: ExportRun,
                                 anki_collection: MakeCollection) -> None:
    from anki.collection import ExportAnkiPackageOptions

    col = anki_collection()
    col.col.set_config("fsrs", True)
    cards = load(vault, tmp_path, export, col, "--with-scheduling")
    reviewed = review_session(col, cards)
    apkg = tmp_path / "reviewed.apkg"
    col.col.export_anki_package(
        out_path=str(apkg), options=ExportAnkiPackageOptions(
            with_scheduling=True, with_media=False, with_deck_configs=True, legacy=True),
        limit=None)
    colpkg = tmp_path / "backup.colpkg"
    col.col.export_collection_package(str(colpkg), include_media=False, legacy=True)
    col.col.reopen()
    copies = {}
    for source in (apkg, colpkg):
        copy = tmp_path / f"vault-{source.suffix[1:]}"
        __import__("shutil").copytree(vault, copy)
        copies[source] = copy
        result = import_json(source, copy)
        assert result["updated"] == len(reviewed)
        assert result["reviews_imported"] == 13
        assert_matches_anki(copy, col, reviewed, fsrs=True)
    assert vault_bytes(copies[apkg]) != vault_bytes(vault)
    notes = {k: v for k, v in vault_bytes(copies[apkg]).items() if k.endswith(".md")}
    assert notes == {k: v for k, v in vault_bytes(copies[colpkg]).items() if k.endswith(".md")}


def test_round_trip_export_carries_the_imported_states(
        vault: Path, tmp_path: Path, export: ExportRun,
        anki_collection: MakeCollection) -> None:
    col = anki_collection()
    col.col.set_config("fsrs", True)
    cards = load(vault, tmp_path, export, col, "--with-scheduling")
    reviewed = review_session(col, cards)
    path = Path(col.col.path)
    col.close()
    import_json(path, vault)
    col.col = __import__("anki.collection").collection.Collection(str(path))
    fresh = anki_collection()
    back = load(vault, tmp_path, export, fresh, "--with-scheduling")
    for key in reviewed:
        source = next(c for c in col.cards() if key_of(c) == key)
        if source.type != 2:
            continue  # learning cards: the steps are carried, not Anki's exact moment
        copy = back[key]
        assert anki_due_date(fresh, copy) == anki_due_date(col, source)
        assert (copy.ivl, copy.reps, copy.lapses) == (source.ivl, source.reps, source.lapses)
        assert copy.memory_state.stability == pytest.approx(source.memory_state.stability)


def test_refuses_a_collection_open_in_anki(vault: Path, tmp_path: Path, export: ExportRun,
                                           anki_collection: MakeCollection) -> None:
    col = anki_collection()
    load(vault, tmp_path, export, col)
    path = col.col.path
    col.close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from anki.collection import Collection\n"
         "c = Collection(sys.argv[1]); c.set_config('touched', 1)\n"
         "print('open', flush=True); sys.stdin.readline(); c.close()", path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        before = sorted(p.name for p in Path(path).parent.iterdir())
        code, _, err = run_cli("import-anki", path, str(vault))
        assert code == 3 and "the collection is open in Anki" in err
        assert "Traceback" not in err
        assert sorted(p.name for p in Path(path).parent.iterdir()) == before
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait()
    code, _, err = run_cli("import-anki", path, str(vault))
    assert code == 0, err


def test_unmatched_cards_are_listed(vault: Path, tmp_path: Path, export: ExportRun,
                                    anki_collection: MakeCollection) -> None:
    col = anki_collection()
    cards = load(vault, tmp_path, export, col)
    key = ("science/mechanics.md", 5, 0)
    answer(col, cards[key].id, 3)
    path = Path(col.col.path)
    col.close()
    note = vault / "science/mechanics.md"
    note.write_text(note.read_text().replace("distance / time", "metres per second"))
    result = import_json(path, vault)
    assert result["reviews_imported"] == 0 and result["updated"] == 0
    [unmatched] = result["unmatched"]
    assert unmatched["front"] == "Speed" and "edited or deleted" in unmatched["reason"]


def test_suspended_and_buried_become_log_events(vault: Path, tmp_path: Path,
                                                export: ExportRun,
                                                anki_collection: MakeCollection) -> None:
    col = anki_collection()
    cards = load(vault, tmp_path, export, col)
    suspended = ("science/mechanics.md", 5, 0)
    buried = ("science/mechanics.md", 4, 1)
    col.col.sched.suspend_cards([cards[suspended].id])
    col.col.sched.bury_cards([cards[buried].id])
    path = Path(col.col.path)
    col.close()
    result = import_json(path, vault)
    assert (result["suspended"], result["buried"]) == (1, 1)
    scanned = scan_cards(vault)
    assert [e["id"] for e in log_events(vault, "suspend")] == [scanned[suspended]["id"]]
    assert [e["id"] for e in log_events(vault, "bury")] == [scanned[buried]["id"]]
    before = vault_bytes(vault)
    import_json(path, vault)
    assert vault_bytes(vault) == before


def test_bad_sources_are_one_line_errors(vault: Path, tmp_path: Path, export: ExportRun
                                         ) -> None:
    export(vault, tmp_path / "deck.apkg")
    (tmp_path / "junk.colpkg").write_bytes(b"not a zip")
    (tmp_path / "junk.anki2").write_bytes(b"not sqlite" * 100)
    for source, words in ((tmp_path / "missing.anki2", "no such file"),
                          (tmp_path / "junk.colpkg", "not an Anki package"),
                          (tmp_path / "junk.anki2", "Anki cannot read it"),
                          (tmp_path, "is a folder")):
        code, _, err = run_cli("import-anki", str(source), str(vault))
        assert code == 3 and words in err, (source, err)
        assert "Traceback" not in err
    other = tmp_path / "other"
    other.mkdir()
    code, _, err = run_cli("import-anki", str(tmp_path / "deck.apkg"), str(other))
    assert code == 3 and "no export manifest" in err


def test_without_the_anki_library(vault: Path, tmp_path: Path, export: ExportRun,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    export(vault, tmp_path / "deck.apkg")
    monkeypatch.setitem(sys.modules, "anki", None)
    monkeypatch.setitem(sys.modules, "anki.collection", None)
    code, _, err = run_cli("import-anki", str(tmp_path / "deck.apkg"), str(vault))
    assert code == 3
    assert "import-anki needs the official Anki library" in err
    assert "pip install 'flashmark[anki]'" in err


def test_anki_review_lines_are_validated(tmp_path: Path) -> None:
    from flashmark.vault.reviewlog import AnkiReview, ReviewLog, event_from_json, parse_line

    good = {"v": 1, "uid": "u", "event": "anki_review", "time": "2026-12-01T10:00:00.000Z",
            "id": "abcdef123456", "path": "n.md", "sibling": 0, "rating": "good",
            "revlog": 1796474105519, "duration_ms": 4000, "interval": 3,
            "anki_type": "review"}
    event = event_from_json(good)
    assert isinstance(event, AnkiReview) and event.to_json() == good
    for broken, why in (({**good, "rating": "fine"}, "rating"),
                        ({**good, "revlog": "12"}, "'revlog' should be int"),
                        ({k: v for k, v in good.items() if k != "revlog"}, "without 'revlog'")):
        found, problem = parse_line(json.dumps(broken).encode())
        assert found is None and problem is not None and why in problem
    # several lines in one append: all read back, in order
    log = ReviewLog(tmp_path)
    second = AnkiReview(time=event.time, id=event.id, path=event.path, sibling=0,
                        rating="again", revlog=2)
    log.append_all([event, second])
    assert [e.revlog for e in log.events() if isinstance(e, AnkiReview)] == [1796474105519, 2]


def test_a_review_written_by_another_program_during_the_import_is_not_overwritten(
        vault: Path, tmp_path: Path, export: ExportRun, anki_collection: MakeCollection,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from flashmark.export import anki_import

    col = anki_collection()
    col.col.set_config("fsrs", True)
    cards = load(vault, tmp_path, export, col, "--with-scheduling")
    key = ("science/mechanics.md", 5, 0)
    answer(col, cards[key].id, 3)
    path = Path(col.col.path)
    col.close()
    note = vault / key[0]
    theirs = "2031-01-01,900,270"  # the plugin reviewed the card in that instant
    real = vault_edit.apply_edits  # what import-anki calls

    def plugin_saves_first(*args: Any, **kwargs: Any) -> Any:
        text = note.read_text()
        line = next(ln for ln in text.splitlines() if ln.startswith("Speed:@:"))
        marked = (line.split(" <!--SR:")[0] + f" <!--SR:!{theirs}-->")
        note.write_text(text.replace(line, marked))
        return real(*args, **kwargs)

    monkeypatch.setattr(anki_import, "apply_edits", plugin_saves_first)
    code, _, err = run_cli("import-anki", str(path), str(vault))
    assert code == 4, err
    assert "nothing was written" in err and "imported next time" in err
    assert f"<!--SR:!{theirs}-->" in note.read_text()
    assert not log_events(vault, "anki_review")  # they wait for the next import

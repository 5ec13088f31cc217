"""Rating writes one entry into the note; undo puts back the exact bytes.

Golden files in tests/review/golden/: NAME.before.md is copied into a fresh vault, the
card on the given line and sibling is rated at a fixed time with the real scheduler,
and the note must equal NAME.after.md; undo must give back NAME.before.md byte for byte.
Regenerate with FLASHMARK_REGEN_GOLDEN=1 and review the diff by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

import flashmark.vault.edit as vault_edit
from flashmark.cards import cards_of
from flashmark.config import ParserSettings, SchedulingSettings, Settings
from flashmark.errors import ConflictError, FlashmarkError
from flashmark.model import Rating
from flashmark.review import rating as rating_module
from flashmark.review.rating import rate_card, undo_last
from flashmark.syntax import parse_note
from flashmark.vault.reviewlog import Abort, Pending, ReviewLog, reviews

GOLDEN = Path(__file__).parent / "golden"
CASES = json.loads((GOLDEN / "cases.json").read_text())
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
# Fuzz off: the golden files pin exact intervals (fuzz is on by default, see below).
SETTINGS = Settings(parser=ParserSettings(), scheduling=SchedulingSettings(fuzz=False))


def _card_id(data: bytes, rel: str, line: int, sibling: int) -> str:
    note = parse_note(data.decode("utf-8"), SETTINGS.parser)
    question = next(q for q in note.questions if q.span.line + 1 == line)
    return cards_of(question, rel)[sibling].id


def _vault_with(tmp_path: Path, name: str) -> tuple[Path, Path, bytes]:
    root = tmp_path / "vault"
    root.mkdir(parents=True)
    before = (GOLDEN / f"{name}.before.md").read_bytes()
    note = root / f"{name}.md"
    note.write_bytes(before)
    return root, note, before


@pytest.mark.parametrize("name", sorted(CASES))
def test_rate_golden_and_undo(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    root, note, before = _vault_with(tmp_path, name)
    now = dt.datetime.fromisoformat(case["now"]) if "now" in case else NOW
    card_id = _card_id(before, note.name, case["line"], case["sibling"])
    outcome = rate_card(root, SETTINGS, card_id, Rating(case["rating"]), now)
    after = note.read_bytes()
    expected = GOLDEN / f"{name}.after.md"
    if os.environ.get("FLASHMARK_REGEN_GOLDEN") == "1":
        expected.write_bytes(after)
    assert after == expected.read_bytes()
    assert outcome.card.id == card_id  # a rating does not change the card's identity
    [event] = reviews(ReviewLog(root).effective())
    assert event.id == card_id and event.rating == case["rating"]
    assert event.after == outcome.after and event.before == outcome.before
    undo_last(root, SETTINGS, now)
    assert note.read_bytes() == before
    # each change staged before the note is written and committed after
    assert [e.kind for e in ReviewLog(root).events()] == ["review", "commit", "undo", "commit"]
    assert ReviewLog(root).effective() == []


def test_legacy_good_on_due_day_is_about_906_days(tmp_path: Path) -> None:
    # README: `!2026-03-13,394,230`, Good on 2026-03-13 -> about 906 days.
    root, note, before = _vault_with(tmp_path, "legacy_entry")
    card_id = _card_id(before, note.name, 1, 0)
    outcome = rate_card(root, SETTINGS, card_id, Rating.GOOD,
                        dt.datetime(2026, 3, 13, 12, tzinfo=dt.UTC))
    interval = int(outcome.after.split(",")[2])
    assert 895 <= interval <= 915


def test_note_edited_between_read_and_write_is_relocated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, note, before = _vault_with(tmp_path, "legacy_entry")
    card_id = _card_id(before, note.name, 1, 1)
    real_apply = vault_edit.apply_edits  # what the rating module calls

    def edit_then_apply(*args, **kwargs):  # type: ignore[no-untyped-def]
        note.write_bytes(b"# A heading someone added\n\n" + note.read_bytes())
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(rating_module, "apply_edits", edit_then_apply)
    outcome = rate_card(root, SETTINGS, card_id, Rating.GOOD, NOW)
    text = note.read_bytes()
    assert text.startswith(b"# A heading someone added\n\nA canvas has")
    assert text.count(b"<!--SR:") == 1
    assert f"!2026-03-13,394,230!{outcome.after}-->".encode() in text


def test_card_deleted_between_read_and_write_keeps_rating_pending(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, note, before = _vault_with(tmp_path, "legacy_entry")
    card_id = _card_id(before, note.name, 1, 0)
    real_apply = vault_edit.apply_edits  # what the rating module calls
    replacement = b"The card was rewritten entirely.\n"

    def delete_then_apply(*args, **kwargs):  # type: ignore[no-untyped-def]
        note.write_bytes(replacement)
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(rating_module, "apply_edits", delete_then_apply)
    with pytest.raises(ConflictError):
        rate_card(root, SETTINGS, card_id, Rating.GOOD, NOW)
    assert note.read_bytes() == replacement
    staged, abort, pending = ReviewLog(root).events()
    assert isinstance(abort, Abort) and abort.of == staged.uid
    assert isinstance(pending, Pending) and pending.id == card_id
    assert pending.after.startswith("fsrs,")  # the rating itself is not lost
    assert ReviewLog(root).effective() == [pending]


def test_change_by_another_tool_is_recorded_as_external(tmp_path: Path) -> None:
    root, note, before = _vault_with(tmp_path, "osr_fsrs_entry")
    card_id = _card_id(before, note.name, 1, 0)
    first = rate_card(root, SETTINGS, card_id, Rating.GOOD, NOW)
    # the Obsidian plugin reviews the card: it rewrites the entry
    plugin_entry = "fsrs,2027-06-01T00:00:00.000Z,190,190.5,5.2,2,7,0,0,2026-11-24T08:00:00.000Z"
    note.write_bytes(note.read_bytes().replace(first.after.encode(), plugin_entry.encode()))
    later = NOW + dt.timedelta(days=200)
    second = rate_card(root, SETTINGS, card_id, Rating.GOOD, later)
    assert second.before == plugin_entry
    kinds = [(e.kind, getattr(e, "before", None), getattr(e, "after", None))
             for e in ReviewLog(root).effective()]
    assert kinds[1] == ("external", first.after, plugin_entry)
    assert [k[0] for k in kinds] == ["review", "external", "review"]


def test_unreadable_entry_is_not_overwritten(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    root.mkdir()
    data = b"q::@::a <!--SR:!2026-13-45,3,250!2026-11-01,3,250-->\n"
    (root / "n.md").write_bytes(data)
    card_id = _card_id(data, "n.md", 1, 0)
    with pytest.raises(FlashmarkError, match="cannot be read"):
        rate_card(root, SETTINGS, card_id, Rating.GOOD, NOW)
    assert (root / "n.md").read_bytes() == data


def test_sample_vault_rate_undo_round_trip(tmp_path: Path) -> None:
    """Rate every card of a copy of notes/ once (all four ratings), undo all: identical."""
    src = Path(__file__).resolve().parents[2] / "notes"
    root = tmp_path / "notes"
    shutil.copytree(src, root)
    originals = {p: p.read_bytes() for p in root.rglob("*.md")}
    from flashmark.config import load_settings
    from flashmark.review.rating import CardFinder

    settings = load_settings(root)
    ids = []
    for p, data in originals.items():
        rel = p.relative_to(root).as_posix()
        note = parse_note(data.decode(), settings.parser)
        if note.is_flashcard_note:
            ids += [c.id for q in note.questions for c in cards_of(q, rel)]
    assert len(ids) == 224
    finder = CardFinder(root, settings)
    ratings = list(Rating)
    for k, cid in enumerate(ids):
        rate_card(root, settings, cid, ratings[k % 4], NOW + dt.timedelta(minutes=k),
                  finder=finder)
    changed = [p for p, data in originals.items() if p.read_bytes() != data]
    assert len(changed) == 7  # every flashcard note got new entries
    for _ in ids:
        undo_last(root, settings, NOW)
    assert {p: p.read_bytes() for p in originals} == originals


def test_default_fuzz_is_reproducible_and_near_the_unfuzzed_interval(tmp_path: Path) -> None:
    fuzzed = Settings(parser=ParserSettings())
    assert fuzzed.scheduling.fuzz
    results = []
    for k in range(2):
        root, note, before = _vault_with(tmp_path / str(k), "legacy_entry")
        card_id = _card_id(before, note.name, 1, 0)
        results.append(rate_card(root, fuzzed, card_id, Rating.GOOD,
                                 dt.datetime(2026, 3, 13, 12, tzinfo=dt.UTC)).after)
    assert results[0] == results[1]  # same card, same time: same fuzz
    interval = int(results[0].split(",")[2])
    assert 859 <= interval <= 953  # py-fsrs's fuzz range around 906 days


def test_state_format_sm2_writes_the_legacy_triple(tmp_path: Path) -> None:
    settings = Settings(parser=ParserSettings(),
                        scheduling=SchedulingSettings(fuzz=False, state_format="sm2"))
    root, note, before = _vault_with(tmp_path, "legacy_entry")
    card_id = _card_id(before, note.name, 1, 0)
    outcome = rate_card(root, settings, card_id, Rating.GOOD,
                        dt.datetime(2026, 3, 13, 12, tzinfo=dt.UTC))
    assert outcome.after == "2028-09-04,906,213"
    assert note.read_bytes() == before.replace(b"!2026-03-13,394,230", b"!2028-09-04,906,213")
    # read back, the triple gives the stability FSRS computed (906.2 days -> 906)
    from flashmark.scheduling import FsrsScheduler, SchedulerConfig
    from flashmark.syntax.srcodec import parse_entry

    entry = parse_entry(outcome.after)
    state = FsrsScheduler(SchedulerConfig(enable_fuzzing=False)).memory_state(entry)  # type: ignore[arg-type]
    assert state is not None and abs(state[0] - 906) < 1e-6


def test_a_damaged_cache_row_does_not_stop_a_rating(tmp_path: Path) -> None:
    """The index's stored `scan --json` lines are a cache: a line that does not decode
    (damage, another version) is not believed, and a card still in its note is rated."""
    import sqlite3

    from flashmark.cardjson import pack_card_json
    from flashmark.config import load_settings
    from flashmark.review.rating import CardFinder
    from flashmark.vault.index import Index, default_index_path
    from flashmark.vault.scan import _fingerprint, iter_card_json, scan_vault

    root = tmp_path / "notes"
    shutil.copytree(Path(__file__).resolve().parents[2] / "notes", root)
    settings = load_settings(root)
    result = scan_vault(root, settings, card_json=True)
    try:
        line = next(iter(b"".join(iter_card_json(result, [
            r for r in result.flashcard_notes() if r.tally])).splitlines()))
    finally:
        result.close()
    card = json.loads(line)
    db = sqlite3.connect(root / ".flashmark" / "cache" / "index.sqlite3")
    for broken in (b'{"id": "' + card["id"].encode() + b'", broken',
                   b'["' + card["id"].encode() + b'"]',
                   json.dumps({"id": card["id"], "sibling": "0",
                               "schedule": {"kind": "sm2"}}).encode()):
        with db:
            db.execute("UPDATE notes SET cards_json=? WHERE path=?",
                       (pack_card_json(broken.decode() + "\n"), card["path"]))
        # the line is not believed (not a traceback, not a wrong entry)...
        index = Index(default_index_path(root), _fingerprint(settings, False))
        try:
            assert rating_module._indexed_card(index, card["path"], card["id"]) is None
        finally:
            index.close()
        # ... and the card, still in its note, is rated
        finder = CardFinder(root, settings)
        outcome = rate_card(root, settings, card["id"], Rating.GOOD, NOW, finder=finder)
        assert outcome.rel == card["path"]
        undo_last(root, settings, NOW)
    db.close()

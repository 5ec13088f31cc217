"""Every entry form the OSR plugin (1.15.4) reads, read with the plugin's meaning.

``PLUGIN`` is what the plugin makes of each form, taken from its source (comment-parser.ts
``parseScheduleSegment``: split on "!", trim, split on ","; ``parseInt`` for interval and
ease; dates by moment.js in "YYYY-MM-DD", "DD-MM-YYYY", "ddd MMM DD YYYY"; 2000-01-01 means
no schedule; FSRS timestamps by ``moment(input)``, any ISO-8601 offset). The tests check
that flashmark reads the same due day, interval, ease or FSRS fields, that the note's
bytes are kept (nothing is rewritten until the card is rated), and the due counts.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from flashmark.config import ParserSettings, load_settings
from flashmark.model import FsrsEntry, RawEntry, Sm2Entry
from flashmark.stats import DueCutoff
from flashmark.syntax import parse_note
from flashmark.syntax.srcodec import parse_body, parse_entry
from flashmark.vault.codec import key_and_state
from flashmark.vault.scan import scan_vault

FIXTURE = Path(__file__).parent / "fixtures" / "plugin_forms.md"
UTC = dt.UTC

# card front -> (the plugin's reading, from its source; flashmark's due key and state)
PLUGIN: dict[str, tuple[dict[str, Any], tuple[str, str]]] = {
    "ivl0": ({"due": "2026-12-05", "interval": 0, "ease": 230}, ("2026-12-05", "r")),
    "decimal": ({"due": "2026-12-05", "interval": 133, "ease": 270}, ("2026-12-05", "r")),
    "offset": ({"due": "2026-12-05T00:00:00.000Z", "interval": 3, "stability": 3.2,
                "difficulty": 5.1, "state": 2, "reps": 3, "lapses": 0, "step": 0,
                "last_review": "2026-12-02T02:00:00.000Z"},
               ("2026-12-05T00:00:00.000Z", "r")),
    "ddmm": ({"due": "2026-12-05", "interval": 3, "ease": 250}, ("2026-12-05", "r")),
    "space": ({"due": "2026-12-05", "interval": 3, "ease": 250}, ("2026-12-05", "r")),
    "fourth": ({"due": "2026-12-05", "interval": 3, "ease": 250}, ("2026-12-05", "r")),
    # the plugin's Reset: a schedule in state New, counted as due at its time
    "reset": ({"due": "2026-12-01T09:00:00.000Z", "interval": 0, "stability": 0.0,
               "difficulty": 0.0, "state": 0, "reps": 0, "lapses": 0, "step": 0,
               "last_review": None}, ("2026-12-01T09:00:00.000Z", "r")),
    "dummy": ({"new": True}, ("", "n")),  # 2000-01-01: no schedule
    "jsdate": ({"due": "2026-12-05", "interval": 3, "ease": 250}, ("2026-12-05", "r")),
}


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


def _our_reading(entry: object) -> dict[str, Any]:
    if isinstance(entry, Sm2Entry):
        if entry.is_new:
            return {"new": True}
        return {"due": entry.due.isoformat(), "interval": entry.interval, "ease": entry.ease}
    assert isinstance(entry, FsrsEntry), entry
    return {"due": _iso(entry.due), "interval": entry.interval, "stability": entry.stability,
            "difficulty": entry.difficulty, "state": entry.state, "reps": entry.reps,
            "lapses": entry.lapses, "step": entry.step, "last_review": _iso(entry.last_review)}


def _questions() -> dict[str, Any]:
    note = parse_note(FIXTURE.read_text(), ParserSettings(flashcard_tags=("flashcard/active",)),
                      lint=True)
    assert note.problems == ()  # every form is readable: `check` reports nothing
    return {q.front: q for q in note.questions}


def test_the_fixture_holds_every_form() -> None:
    assert sorted(_questions()) == sorted(PLUGIN)


@pytest.mark.parametrize("front", sorted(PLUGIN))
def test_read_like_the_plugin(front: str) -> None:
    q = _questions()[front]
    entries, single = parse_body(q.sr.body)
    assert not single
    (entry,) = entries
    assert not isinstance(entry, RawEntry)
    plugin, key = PLUGIN[front]
    assert _our_reading(entry) == plugin
    (text,) = q.sr.entry_texts
    assert key_and_state(text) == key  # what scan, due and the queue count


def test_entry_text_is_kept_verbatim() -> None:
    qs = _questions()
    assert qs["decimal"].sr.entry_texts == ["2026-12-05,133.4,270"]
    assert qs["fourth"].sr.entry_texts == ["2026-12-05,3,250,7"]
    assert qs["space"].sr.body == " !2026-12-05,3,250"
    assert parse_entry("2026-12-05,3,250,7").text == "2026-12-05,3,250,7"


def test_reset_and_lapsed_entries_count_as_due(tmp_path: Path) -> None:
    vault = tmp_path / "v"
    vault.mkdir()
    shutil.copy(FIXTURE, vault / "forms.md")
    before = (vault / "forms.md").read_bytes()
    result = scan_vault(vault, load_settings(vault))
    try:
        (record,) = result.flashcard_notes()
        keys = {cid: key for _, key, cid, _ in record.summary}
    finally:
        result.close()
    cutoff = DueCutoff(dt.datetime(2026, 12, 5, 12, tzinfo=UTC))
    due = [k for k in keys.values() if cutoff.is_due(k)]
    assert len(keys) == 9 and len(due) == 8  # all but the 2000-01-01 entry
    assert (vault / "forms.md").read_bytes() == before  # nothing rewritten by reading


@pytest.mark.parametrize(("text", "why"), [
    ("Fri Dec 05 2026,3,250", "wrong weekday (moment.js: invalid date)"),
    ("2026-12-05,abc,250", "not a number"),
    ("fsrs,2026-12-05T08:00:00.000,3,3.2,5.1,2,3,0,0,-", "no offset: local time to moment"),
    ("31-02-2026,3,250", "impossible date"),
])
def test_forms_still_refused(text: str, why: str) -> None:
    assert isinstance(parse_entry(text), RawEntry), why

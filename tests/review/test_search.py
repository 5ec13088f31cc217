"""The search language: golden parses, golden errors (with the column), and golden
matches over a vault with cards in every state (search_support), from the index's card
table and from a plain parse; `flashmark search` as a command."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flashmark.cli.main import main
from flashmark.config import load_settings
from flashmark.errors import EXIT_USAGE
from flashmark.review.search import SearchError, parse, search_vault
from flashmark.vault.scan import scan_vault
from tests.review.search_support import NOW, make_vault

PARSES = [
    ("", "(all)"),
    ("dog", "(text 'dog')"),
    ("dog cat", "(and (text 'dog') (text 'cat'))"),
    ("dog and cat", "(and (text 'dog') (text 'cat'))"),
    ("dog or cat", "(or (text 'dog') (text 'cat'))"),
    ("dog (cat or mouse)", "(and (text 'dog') (or (text 'cat') (text 'mouse')))"),
    ("a or b c", "(or (text 'a') (and (text 'b') (text 'c')))"),
    ("-cat", "(not (text 'cat'))"),
    ("-(is:new or is:learn)", "(not (or (is 'new') (is 'learn')))"),
    ('"a dog"', "(text 'a dog')"),
    ('"or" "AND"', "(and (text 'or') (text 'AND'))"),
    ("d*g d_g", "(and (text 'd*g') (text 'd_g'))"),
    ("a\\:b", "(text 'a\\\\:b')"),
    ('deck:"my deck"', "(deck 'my deck')"),
    ("deck:flashcard/active/* -deck:*/old", "(and (deck 'flashcard/active/*') "
                                            "(not (deck '*/old')))"),
    ("tag:topic::x path:b/b.md type:CLOZE id:abc123",
     "(and (tag 'topic::x') (path 'b/b.md') (type 'cloze') (id 'abc123'))"),
    ("is:due flag:3 flag:0", "(and (is 'due') (flag 3) (flag 0))"),
    ("prop:ivl>=10 prop:due<=-2 prop:lapses>3 prop:s>1.5 prop:d!=5 prop:r<0.9",
     "(and (prop ivl>=10) (prop due<=-2) (prop lapses>3) (prop s>1.5) (prop d!=5) "
     "(prop r<0.9))"),
    ("rated:7 rated:1:1 introduced:30",
     "(and (rated 7) (rated 1:1) (introduced 30))"),
    ("IS:New", "(is 'new')"),
]


@pytest.mark.parametrize(("query", "tree"), PARSES)
def test_parse(query: str, tree: str) -> None:
    assert str(parse(query)) == tree


ERRORS = [
    ("a or", 3, "'or' needs a term after it"),
    ("or a", 1, "a term is missing here"),
    ("and a", 1, "'and' needs a term on each side"),
    ("(a", 1, "'(' is not closed"),
    ("a)", 2, "')' without '('"),
    ('"open', 1, 'a quote (") is not closed'),
    ("foo:bar", 1, "unknown search field 'foo'"),
    ("deck:", 6, "'deck:' needs a value"),
    ("is:fresh", 4, "is:fresh is not one of"),
    ("flag:8", 6, "flag: takes 0 (no flag) to 7"),
    ("prop:ivl", 6, "prop: needs a comparison"),
    ("prop:x>1", 6, "prop:x is not one of"),
    ("prop:ivl>ten", 10, "'ten' is not a number"),
    ("rated:0", 7, "rated: takes a number of days"),
    ("rated:2:5", 9, "the answer is 1 (again)"),
    ("type:basic", 6, "type 'basic' is not one of"),
    ("a -)", 3, "'-' before ')'"),
    ("x\\", 2, "'\\' at the end of the query"),
]


@pytest.mark.parametrize(("query", "column", "reason"), ERRORS)
def test_parse_errors_name_the_column(query: str, column: int, reason: str) -> None:
    with pytest.raises(SearchError) as caught:
        parse(query)
    assert caught.value.column + 1 == column
    assert caught.value.reason.startswith(reason)
    assert caught.value.exit_code == EXIT_USAGE


MATCHES = [
    ("", ["new one", "due legacy", "later fsrs", "learning fsrs", "leech card",
          "capital of France", "Paris", "The [...] is the powerhouse of the cell.",
          "suspended due", "buried due"]),
    ("is:new", ["new one", "The [...] is the powerhouse of the cell."]),
    ("is:learn", ["learning fsrs"]),
    ("is:review", ["due legacy", "later fsrs", "leech card", "capital of France", "Paris",
                   "suspended due", "buried due"]),
    ("is:due", ["due legacy", "learning fsrs", "leech card", "capital of France"]),
    ("is:suspended", ["suspended due"]),
    ("is:buried", ["buried due"]),
    ("is:leech", ["leech card"]),
    ("-is:due -is:new", ["later fsrs", "Paris", "suspended due", "buried due"]),
    ("deck:flashcard/a is:due", ["due legacy", "learning fsrs", "leech card"]),
    ("deck:*/b", ["capital of France", "Paris", "The [...] is the powerhouse of the cell.",
                "suspended due", "buried due"]),
    ("deck:flashcard/b/*", ["capital of France", "Paris",
                            "The [...] is the powerhouse of the cell.", "suspended due",
                            "buried due"]),
    ("deck:flashcard::a", ["new one", "due legacy", "later fsrs", "learning fsrs",
                           "leech card"]),
    ("tag:topic", ["new one", "due legacy", "later fsrs", "learning fsrs", "leech card"]),
    ("path:b", ["capital of France", "Paris", "The [...] is the powerhouse of the cell.",
                "suspended due", "buried due"]),
    ("path:*.md type:reversible", ["capital of France", "Paris"]),
    ("type:cloze or type:reversible", ["capital of France", "Paris",
                                       "The [...] is the powerhouse of the cell."]),
    ("mitochondria", ["The [...] is the powerhouse of the cell."]),
    ("PARIS", ["capital of France", "Paris"]),
    ("answer*five", ["leech card"]),
    ("answer_two", ["due legacy"]),  # _ is any one character, a space too
    ("answer\\_two", []),
    ("the\\\\*cell", []),  # an escaped backslash, then a wildcard
    ("POWER*cell", ["The [...] is the powerhouse of the cell."]),
    ("powerhouse", ["The [...] is the powerhouse of the cell."]),
    ("deck:a", []),  # a deck pattern is a whole tag path from its start
    ('"answer two"', ["due legacy"]),
    ("answer -answer", []),
    ("prop:ivl>=30", ["later fsrs", "Paris"]),
    ("prop:ivl=0", ["learning fsrs"]),
    ("prop:due<=0", ["due legacy", "learning fsrs", "leech card", "capital of France",
                     "suspended due", "buried due"]),
    ("prop:due<0", ["due legacy", "leech card", "suspended due", "buried due"]),
    ("prop:due>20", ["later fsrs", "Paris"]),
    ("prop:lapses>1", ["leech card"]),
    ("prop:reps>=5", ["later fsrs", "leech card"]),
    ("prop:s>30", ["later fsrs", "Paris"]),
    ("prop:d>9", ["leech card"]),
    ("prop:r<0.8", ["suspended due", "buried due"]),
    ("prop:r>=0.98", ["later fsrs", "learning fsrs", "Paris"]),
    ("rated:1", ["learning fsrs"]),
    ("rated:1:3", ["learning fsrs"]),
    ("rated:1:1", []),
    ("rated:4:1", ["leech card"]),
    ("rated:3:1", []),
    ("introduced:1", ["learning fsrs"]),
    ("flag:0 deck:flashcard/a", ["new one", "due legacy", "later fsrs", "learning fsrs",
                                 "leech card"]),
    ("flag:1", []),
]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("search") / "vault"
    make_vault(root)
    return root


@pytest.mark.parametrize(("query", "fronts"), MATCHES)
@pytest.mark.parametrize("use_cache", [True, False])
def test_matches(sample: Path, query: str, fronts: list[str], use_cache: bool) -> None:
    result = search_vault(sample, load_settings(sample), query, NOW, texts=True,
                          use_cache=use_cache)
    assert [r.front for r in result.rows] == fronts


def test_a_warm_search_reads_no_note(tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "vault"
    make_vault(root)
    settings = load_settings(root)
    for note in root.rglob("*.md"):  # old enough for the index to trust size and mtime
        os.utime(note, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    expected = [r.id for r in search_vault(root, settings, "is:due deck:flashcard/a",
                                           NOW).rows]
    assert len(expected) == 3

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a note was read")

    import flashmark.vault.cardtable
    import flashmark.vault.scan

    monkeypatch.setattr(flashmark.vault.scan, "read_note", no_reading)
    monkeypatch.setattr(flashmark.vault.cardtable, "read_note", no_reading)
    again = search_vault(root, settings, "is:due deck:flashcard/a", NOW)
    assert [r.id for r in again.rows] == expected
    texts = search_vault(root, settings, "answer*", NOW, texts=True)  # texts stored too
    assert len(texts.rows) == 5


def test_an_edited_note_is_searched_as_it_is_now(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    make_vault(root)
    settings = load_settings(root)
    assert search_vault(root, settings, "elephant", NOW).rows == []
    note = root / "a.md"
    note.write_text(note.read_text() + "\nelephant:@:big\n")
    os.utime(note, ns=(1_700_000_000_000_000_000, 1_800_000_000_000_000_000))
    assert [r.front for r in search_vault(root, settings, "elephant", NOW, texts=True).rows
            ] == ["elephant"]


def test_sorting(sample: Path) -> None:
    settings = load_settings(sample)
    by_ivl = search_vault(sample, settings, "deck:flashcard/a", NOW, sort="ivl", texts=True).rows
    assert [r.front for r in by_ivl] == ["learning fsrs", "leech card", "due legacy",
                                         "later fsrs", "new one"]  # new ones last
    by_due = search_vault(sample, settings, "is:review", NOW, sort="due", texts=True).rows
    assert [r.front for r in by_due][:2] == ["suspended due", "buried due"]


def test_the_command(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "is:due deck:*/b", str(sample), "--json",
                 "--now", NOW.isoformat()]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert row["front"] == "capital of France" and row["back"] == "Paris"
    assert row["path"] == "b/b.md" and row["type"] == "reversible" and row["sibling"] == 0
    assert row["schedule"] == {"kind": "sm2", "due": "2026-11-23", "interval": 3,
                               "ease": 230}
    assert row["states"] == ["due", "review"] and row["flag"] == 0
    # the fields of `scan --json` for the same card, as they are there
    assert main(["scan", str(sample), "--json"]) == 0
    scanned = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    same = next(s for s in scanned if s["id"] == row["id"])
    assert {k: row[k] for k in same} == same


def test_a_bad_query_is_a_usage_error_in_a_real_process(sample: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "flashmark", "search", "prop:ivl>x",
                           str(sample)], capture_output=True, text=True)
    assert done.returncode == EXIT_USAGE
    assert done.stderr.startswith("flashmark: search 'prop:ivl>x', column 10: 'x' is not "
                                  "a number")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("days_later", [0, 1, 13, 400])
def test_fast_retrievability_is_the_adapters(sample: Path, days_later: int) -> None:
    import datetime as dt

    from flashmark.model import FsrsEntry, Sm2Entry
    from flashmark.scheduling import FsrsScheduler, SchedulerConfig
    from flashmark.syntax import srcodec

    settings = load_settings(sample)
    now = NOW + dt.timedelta(days=days_later, hours=7)
    result = search_vault(sample, settings, "", now)
    scheduler = FsrsScheduler(SchedulerConfig.from_settings(settings.scheduling))
    compared = 0
    for row in result.rows:
        entry = srcodec.parse_entry(row.entry_text) if row.entry_text else None
        assert entry is None or isinstance(entry, Sm2Entry | FsrsEntry)
        expected = scheduler.retrievability(entry, now)
        got = result.recall(row)
        assert (got is None) == (expected is None)
        if got is not None:
            assert got == pytest.approx(expected, abs=1e-12)
            compared += 1
        memory = scheduler.memory_state(entry) if entry is not None else None
        assert result.memory(row) == (None if memory is None else pytest.approx(memory))
    assert compared == 8  # every card reviewed once: 7 in review, 1 learning



def test_a_sibling_of_todays_review_is_buried_not_due(tmp_path: Path) -> None:
    """Rating one side of a two-sided card today hides its due other side until
    tomorrow: search has it buried, not due, as `due` and the reviewer do (review.today);
    with review.bury_siblings off it stays due."""
    (tmp_path / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard"]\n')
    (tmp_path / "n.md").write_text("#flashcard\n\nsun::@::star "
                                   "<!--SR:!2026-11-20,3,250!2026-11-21,3,250-->\n")
    settings = load_settings(tmp_path)
    first, other = search_vault(tmp_path, settings, "is:due", NOW).rows
    assert main(["rate", first.id, "good", str(tmp_path), "--now", NOW.isoformat()]) == 0
    assert [r.id for r in search_vault(tmp_path, settings, "is:due", NOW).rows] == []
    assert [r.id for r in search_vault(tmp_path, settings, "is:buried", NOW).rows] == [other.id]
    tomorrow = NOW + dt.timedelta(days=1)
    assert [r.id for r in search_vault(tmp_path, settings, "is:due", tomorrow).rows] == [other.id]
    (tmp_path / "flashmark.yaml").write_text(
        'parser:\n  flashcard_tags: ["#flashcard"]\nreview:\n  bury_siblings: false\n')
    off = load_settings(tmp_path)
    assert [r.id for r in search_vault(tmp_path, off, "is:due", NOW).rows] == [other.id]


def test_card_texts_read_per_note_equal_the_searchs_texts(tmp_path: Path) -> None:
    """`CardTexts` (the browser's rows read their texts when drawn) gives what a search
    with ``texts`` keeps, from the card table, and from the note when the table has no
    current row for it (here: the note changed since)."""
    from flashmark.review.search import CardTexts

    vault = tmp_path / "vault"
    make_vault(vault)
    settings = load_settings(vault)
    with_texts = search_vault(vault, settings, "", NOW, texts=True).rows
    without = search_vault(vault, settings, "", NOW).rows
    assert [r.id for r in without] == [r.id for r in with_texts]
    assert not any(r.front or r.back for r in without)
    reader = CardTexts(vault, settings)
    assert [reader.of(r) for r in without] == [(r.front, r.back) for r in with_texts]
    # prose added (the cards and their ids stay): the index knows the note changed, the
    # card table does not, so its texts are read from the note
    note = vault / "a.md"
    note.write_text(note.read_text() + "\nSome prose after the cards.\n")
    scan_vault(vault, settings).close()
    fresh = CardTexts(vault, settings)
    assert [fresh.of(r) for r in without] == [(r.front, r.back) for r in with_texts]


# Cards sharing what scheduler_views keeps answers by: the same legacy entry twice, the
# same interval and ease on other days, the same due day and interval with another
# ease, an FSRS last review shared with another stability, a hand-written date (decoded,
# not kept as written), an interval 0, an FSRS Reset, a new card.
_SHARED = """#flashcard

a1:@:b <!--SR:!2026-11-20,3,250-->

a2:@:b <!--SR:!2026-11-20,3,250-->

a3:@:b <!--SR:!2026-10-02,3,250-->

a4:@:b <!--SR:!2026-11-20,3,130-->

a5:@:b <!--SR:!20-11-2026,3,250-->

a6:@:b <!--SR:!2026-11-25,0,210-->

f1:@:b <!--SR:!fsrs,2026-11-30T10:00:00.000Z,9,9.5,4.2,2,3,0,0,2026-11-21T10:00:00.000Z-->

f2:@:b <!--SR:!fsrs,2026-12-30T10:00:00.000Z,30,31.25,6.8,2,5,1,0,2026-11-21T10:00:00.000Z-->

f3:@:b <!--SR:!fsrs,2026-11-30T10:00:00.000Z,9,9.5,4.2,0,3,0,0,2026-11-21T10:00:00.000Z-->

n1:@:b
"""


def _shared_vault(root: Path, note: str = _SHARED) -> Path:
    root.mkdir(exist_ok=True)
    (root / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard"]\n')
    (root / "n.md").write_text(note)
    return root


@pytest.mark.parametrize("days_later", [0, 3, 400])
def test_answers_kept_per_shared_entry_are_each_cards_own(tmp_path: Path,
                                                          days_later: int) -> None:
    """Every card of a search gets the scheduler's own retrievability and memory state,
    whatever it shares with the cards asked about before it, in either order."""
    from flashmark.model import FsrsEntry, Sm2Entry
    from flashmark.review.search import scheduler_views
    from flashmark.scheduling import FsrsScheduler, SchedulerConfig
    from flashmark.syntax import srcodec

    root = _shared_vault(tmp_path / "v")
    settings = load_settings(root)
    now = NOW + dt.timedelta(days=days_later, hours=7)
    rows = search_vault(root, settings, "", now).rows
    assert len(rows) == 10
    scheduler = FsrsScheduler(SchedulerConfig.from_settings(settings.scheduling))
    for order in (rows, rows[::-1]):
        memory, recall = scheduler_views(settings, now)  # one pair: its answers kept
        for row in order:
            entry = srcodec.parse_entry(row.entry_text) if row.entry_text else None
            assert entry is None or isinstance(entry, Sm2Entry | FsrsEntry)
            expected = scheduler.retrievability(entry, now)
            got = recall(row)
            assert (got is None) == (expected is None), row
            assert got is None or got == pytest.approx(expected, abs=1e-12)
            state = scheduler.memory_state(entry) if entry is not None else None
            assert memory(row) == (None if state is None else pytest.approx(state))
            fresh_memory, fresh_recall = scheduler_views(settings, now)  # nothing kept
            assert (recall(row), memory(row)) == (fresh_recall(row), fresh_memory(row))
    same_entry = [r for r in rows if r.entry_text == "2026-11-20,3,250"]
    assert len(same_entry) == 2 and recall(same_entry[0]) == recall(same_entry[1])
    same_last = [r for r in rows if r.entry_text and "2026-11-21T10" in r.entry_text]
    assert len({recall(r) for r in same_last}) == 3  # f1, f2 differ; f3 (Reset): None


def test_a_changed_entry_is_not_served_a_kept_answer(tmp_path: Path) -> None:
    """The same card, its entry rewritten (another interval and ease; another last
    review): the views that answered for the old entry answer for the new one."""
    from flashmark.review.search import scheduler_views

    root = _shared_vault(tmp_path / "v")
    settings = load_settings(root)
    memory, recall = scheduler_views(settings, NOW)
    before = {r.id: (recall(r), memory(r)) for r in search_vault(root, settings, "",
                                                                  NOW).rows}
    note = (root / "n.md").read_text()
    (root / "n.md").write_text(
        note.replace("a1:@:b <!--SR:!2026-11-20,3,250-->", "a1:@:b <!--SR:!2026-11-20,19,170-->")
        .replace("9,9.5,4.2,2,3,0,0,2026-11-21T10", "9,9.5,4.2,2,3,0,0,2026-11-01T10"))
    after = search_vault(root, settings, "", NOW).rows
    fresh_memory, fresh_recall = scheduler_views(settings, NOW)
    changed = 0
    for row in after:
        assert (recall(row), memory(row)) == (fresh_recall(row), fresh_memory(row))
        changed += (recall(row), memory(row)) != before[row.id]
    assert changed == 2

"""`flashmark scan` on the sample vault notes/ (a copy), in process and as a real command."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flashmark.cli.main import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CARDS = 224  # cards in notes/ (8 decks)
KEYS = {"id", "path", "line", "end_line", "type", "sibling", "deck", "front", "back",
        "schedule"}
TYPES = {"one_sided", "reversible", "multiline", "multiline_reversible", "cloze"}
NOW = "2026-11-23T12:00:00+00:00"


Runner = Callable[..., tuple[int, str, str]]


def _cards(cli: Runner, vault: Path, *extra: str) -> list[dict[str, Any]]:
    code, out, err = cli("scan", str(vault), "--json", *extra)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def _total_row(out: str) -> list[str]:
    last = out.strip().splitlines()[-1]
    assert last.startswith("total (")
    return last.split()[-4:]  # New, Learn, Due, total


def test_json_lists_every_card(cli: Runner, vault: Path) -> None:
    cards = _cards(cli, vault)
    assert len(cards) == SAMPLE_CARDS
    assert all(set(c) == KEYS for c in cards)
    assert len({c["id"] for c in cards}) == SAMPLE_CARDS
    assert all(re.fullmatch(r"[0-9a-f]{12}", c["id"]) for c in cards)
    assert {c["type"] for c in cards} <= TYPES
    assert all(c["deck"].startswith("flashcard/active/business/") for c in cards)
    assert all(1 <= c["line"] <= c["end_line"] for c in cards)
    assert all((vault / c["path"]).is_file() for c in cards)
    # no card from the untagged reading list
    assert not any(c["path"] == "value proposition/reading list.md" for c in cards)


def test_json_schedules(cli: Runner, vault: Path) -> None:
    cards = _cards(cli, vault)
    new = [c for c in cards if c["schedule"] is None]
    scheduled = [c for c in cards if c["schedule"] is not None]
    assert len(new) == 107  # the table's "new" column, see below
    assert {c["schedule"]["kind"] for c in scheduled} == {"sm2", "fsrs"}
    for c in scheduled:
        s = c["schedule"]
        if s["kind"] == "sm2":
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", s["due"])
            assert s["due"] != "2000-01-01"  # the placeholder is new, not scheduled
            assert s["interval"] > 0 and 130 <= s["ease"] <= 500
        else:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", s["due"])
            assert s["state"] in (1, 2, 3)


def test_json_siblings_follow_the_sr_comment(cli: Runner,
                                             vault: Path) -> None:
    cards = _cards(cli, vault)
    first = [c for c in cards if c["path"] == "customers/customer interviews.md"
             and c["line"] == 21]
    # <!--SR:!2026-12-07,25,250!2026-11-20,12,230!fsrs,...!2000-01-01,1,250!2027-01-02,48,270-->
    assert [c["sibling"] for c in first] == [0, 1, 2, 3, 4]
    assert [c["schedule"] and c["schedule"]["due"] for c in first] == [
        "2026-12-07", "2026-11-20", "2026-12-01T00:00:00.000Z", None, "2027-01-02"]
    assert first[1]["front"].startswith(
        "Common ways to reach potential customers are one-on-one interviews, [...], and")
    assert "[observation]" in first[3]["front"]  # the hint replaces the blank


def test_json_ids_are_stable_across_runs_and_cache(cli: Runner,
                                                   vault: Path) -> None:
    cold = _cards(cli, vault)
    warm = _cards(cli, vault)
    nocache = _cards(cli, vault, "--no-cache")
    assert cold == warm == nocache


def test_table_totals(cli: Runner, vault: Path, utc: None) -> None:
    code, out, _ = cli("scan", str(vault), "--now", NOW)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["deck", "New", "Learn", "Due", "total"]
    assert lines[-1].startswith("total (8 decks)")
    # 107 new cards wait, 20 of them within the default review.new_per_day
    assert _total_row(out) == ["20", "0", "33", str(SAMPLE_CARDS)]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:-1]}
    assert len(rows) == 8
    assert sum(int(r[3]) for r in rows.values()) == SAMPLE_CARDS
    assert rows["flashcard/active/business/customers/personas"] == ["0", "0", "1", "1"]


@pytest.mark.parametrize(("now", "due"), [
    ("2020-01-01T00:00:00+00:00", "0"),
    ("2026-11-23T12:00:00+00:00", "33"),
    ("2026-12-31T12:00:00+00:00", "98"),
    ("2100-01-01T00:00:00+00:00", "117"),  # every card that is not new
])
def test_due_count_follows_now(cli: Runner, vault: Path, utc: None,
                               now: str, due: str) -> None:
    code, out, _ = cli("scan", str(vault), "--now", now)
    assert code == 0
    assert _total_row(out) == ["20", "0", due, str(SAMPLE_CARDS)]


@pytest.mark.parametrize("day", ["2026-11-23", "2026-12-01", "2027-01-15"])
def test_due_count_agrees_with_the_json_schedules(cli: Runner, vault: Path, utc: None,
                                                  day: str) -> None:
    expected = 0
    for card in _cards(cli, vault):
        s = card["schedule"]
        if s is None:
            continue
        # a legacy date is due on its day; an FSRS instant before the next learner day
        # starts (04:00 local, the default day boundary; the test runs in UTC)
        next_day = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
        expected += (s["due"] <= day if s["kind"] == "sm2"
                     else s["due"] < next_day + "T04:00:00.000Z")
    code, out, _ = cli("scan", str(vault), "--now", day + "T12:00:00+00:00")
    assert code == 0
    assert _total_row(out)[2] == str(expected)


def test_depth_groups_decks(cli: Runner, vault: Path, utc: None) -> None:
    code, out, _ = cli("scan", str(vault), "--now", NOW, "--depth", "4")
    assert code == 0
    rows = [line.split()[0] for line in out.strip().splitlines()[1:-1]]
    assert rows == ["flashcard/active/business/customers",
                    "flashcard/active/business/value_proposition"]
    assert _total_row(out) == ["20", "0", "33", str(SAMPLE_CARDS)]


def test_no_cards(cli: Runner, tmp_path: Path) -> None:
    (tmp_path / "n.md").write_text("# nothing\n")
    (tmp_path / "flashmark.yaml").write_text("parser:\n  flashcard_tags: [flashcard/active]\n")
    code, out, err = cli("scan", str(tmp_path))
    assert code == 0 and out == ""  # the message is on stderr: stdout stays a table or empty
    assert err.startswith(f"flashmark: no cards in {tmp_path}: ")
    assert "#flashcard/active, from flashmark.yaml" in err and "`--all`" in err


def test_missing_vault_is_a_one_line_error(cli: Runner,
                                           tmp_path: Path) -> None:
    code, out, err = cli("scan", str(tmp_path / "missing"))
    assert code == 3
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("flashmark: ")
    assert "does not exist" in err
    assert "Traceback" not in err


def test_bad_now_is_a_usage_error(cli: Runner, vault: Path) -> None:
    code, _, err = cli("scan", str(vault), "--now", "garbage")
    assert code == 2
    assert "garbage" in err
    assert "Traceback" not in err


def test_bad_config_is_an_input_error(cli: Runner, vault: Path) -> None:
    (vault / "flashmark.yaml").write_text("parser:\n  no_such_setting: 1\n")
    code, _, err = cli("scan", str(vault))
    assert code == 3
    assert "no_such_setting" in err
    assert "Traceback" not in err


def test_unknown_option_exits_2(cli: Runner) -> None:
    with pytest.raises(SystemExit) as info:
        main(["scan", "--no-such-option"])
    assert info.value.code == 2


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_real_command(vault: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "flashmark", "scan", str(vault), "--json"],
                          capture_output=True, text=True, timeout=120, env=_env())
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == SAMPLE_CARDS
    assert set(json.loads(lines[0])) == KEYS
    missing = subprocess.run([sys.executable, "-m", "flashmark", "scan", str(vault / "nope")],
                             capture_output=True, text=True, timeout=120, env=_env())
    assert missing.returncode == 3
    assert len(missing.stderr.strip().splitlines()) == 1


def test_scan_does_not_import_textual(vault: Path) -> None:
    code = ("import sys, flashmark.cli.main as m; "
            f"rc = m.main(['scan', {str(vault)!r}]); "
            "assert rc == 0, rc; "
            "assert 'textual' not in sys.modules, 'textual imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=_env())
    assert proc.returncode == 0, proc.stderr
    assert "total (8 decks)" in proc.stdout


def test_main_writes_to_the_current_stdout(vault: Path) -> None:
    """Each main() call writes to sys.stdout as it is then (redirect_stdout, capsys, an
    embedding program), not to the stream of the first call."""
    outputs = []
    for _ in range(2):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            assert main(["scan", str(vault), "--json"]) == 0
        outputs.append(buffer.getvalue())
    assert [len(o.splitlines()) for o in outputs] == [SAMPLE_CARDS, SAMPLE_CARDS]


def test_table_columns_align_with_wide_characters(cli: Runner, vault: Path,
                                                  utc: None) -> None:
    # A deck name of the real vault (special/指定文言經典學習材料篇目.md).
    deck = "flashcard/active/special/指定文言經典學習材料篇目"
    (vault / "指定.md").write_text(f"---\ntags:\n  - {deck}\n---\n\nq ::@:: a\n",
                                   encoding="utf-8")
    code, out, _ = cli("scan", str(vault), "--now", NOW)
    assert code == 0
    from rich.cells import cell_len
    lines = out.rstrip("\n").splitlines()
    # every number column ends in the same terminal column on every line
    ends = {cell_len(line) for line in lines}
    assert len(ends) == 1, lines
    assert any("指定文言經典學習材料篇目" in line for line in lines)

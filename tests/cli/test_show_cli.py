"""`flashmark show CARD_ID [VAULT]`: a card drawn as the reviewer draws it, as a real
process (piped: plain text) and in-process (--json, --color, errors)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flashmark.errors import EXIT_USAGE
from tests.cli.conftest import Runner


def _card(cli: Runner, vault: Path, path: str, line: int, sibling: int = 0) -> dict[str, object]:
    _, out, _ = cli("scan", str(vault), "--json")
    for row in map(json.loads, out.splitlines()):
        if row["path"] == path and row["line"] == line and row["sibling"] == sibling:
            return row  # type: ignore[no-any-return]
    raise AssertionError(f"no card at {path}:{line}")


def test_cloze_front_and_answer_as_a_piped_process(cli: Runner, vault: Path) -> None:
    card = _card(cli, vault, "value proposition/value proposition canvas.md", 29, sibling=1)
    cmd = [sys.executable, "-m", "flashmark", "show", str(card["id"]), str(vault)]
    front = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert front.stdout == "Draw one canvas per customer segment, because [...].\n"
    back = subprocess.run([*cmd, "--answer"], capture_output=True, text=True, check=True)
    assert back.stdout == ("Draw one canvas per customer segment, because each segment has "
                           "its own jobs,\npains, and gains.\n")  # 80 columns when piped
    assert "\x1b[" not in front.stdout + back.stdout  # plain text when piped
    coloured = subprocess.run([*cmd, "--answer", "--color", "always"], capture_output=True,
                              text=True, check=True)
    assert "\x1b[" in coloured.stdout and "each segment" in coloured.stdout


def test_json_and_width(cli: Runner, vault: Path) -> None:
    card = _card(cli, vault, "value proposition/value proposition.md", 15, sibling=1)
    code, out, _ = cli("show", str(card["id"]), str(vault), "--json", "--width", "40")
    assert code == 0
    shown = json.loads(out)
    assert set(shown) == {"id", "path", "line", "front", "back"}
    assert (shown["id"], shown["path"], shown["line"]) == (card["id"], card["path"], 15)
    assert shown["front"].startswith("A value proposition is [...]")
    assert "{@{" not in shown["back"] and "the reason a specific" in " ".join(
        shown["back"].split())
    assert max(map(len, shown["front"].splitlines())) <= 40


def test_unknown_card_and_narrow_width_are_one_line_errors(cli: Runner, vault: Path) -> None:
    code, _, err = cli("show", "abcdef123456", str(vault))
    assert code != 0 and "no card with id abcdef123456" in err
    assert "Traceback" not in err
    code, _, err = cli("show", "abcdef123456", str(vault), "--width", "3")
    assert code == EXIT_USAGE and "--width 3 is too narrow" in err

"""Options may come between a command's positionals, as users type them:
`flashmark search QUERY --json VAULT`, `flashmark rate ID good --now T VAULT`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli.conftest import SAMPLE, Runner

NOW = "2026-11-23T09:00Z"


def test_options_between_positionals(tmp_path: Path, cli: Runner) -> None:
    vault = tmp_path / "notes"
    shutil.copytree(SAMPLE, vault)
    before = {p: p.read_bytes() for p in vault.rglob("*.md")}
    code, out, err = cli("search", "is:due", "--json", "--now", NOW, str(vault))
    assert (code, err) == (0, "")
    cards = [json.loads(line) for line in out.splitlines()]
    assert cards and all("due" in c["states"] for c in cards)
    code, counted, _ = cli("search", "--count", "is:due", str(vault), "--now", NOW)
    assert (code, counted.strip()) == (0, str(len(cards)))
    card = cards[0]["id"]
    code, out, err = cli("info", card, "--json", str(vault), "--now", NOW)
    assert (code, err) == (0, "") and json.loads(out)["id"] == card
    code, out, err = cli("rate", card, "good", "--now", NOW, str(vault))
    assert (code, err) == (0, "") and "good" in out
    assert cli("undo", "--now", NOW, str(vault))[0] == 0
    assert {p: p.read_bytes() for p in vault.rglob("*.md")} == before


def test_a_stray_argument_is_still_refused(tmp_path: Path, cli: Runner) -> None:
    vault = tmp_path / "notes"
    shutil.copytree(SAMPLE, vault)
    try:
        cli("search", "is:due", "--json", str(vault), "extra")
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("an extra argument was accepted")

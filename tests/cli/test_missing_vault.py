"""A vault folder that does not exist is a user mistake: exit 3, one clear line, no
traceback, and nothing created on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashmark.cli.main import main

COMMANDS = [["scan"], ["scan", "--json"], ["check"], ["due"], ["stats"], ["undo"],
            ["optimize"], ["export"], ["rate", "abcdef123456", "good"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_missing_vault(tmp_path: Path, command: list[str],
                       capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no such vault"
    assert main([*command, str(missing)]) == 3
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    assert not missing.exists()


def test_a_file_is_not_a_vault(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    note = tmp_path / "note.md"
    note.write_text("q::@::a\n")
    assert main(["scan", str(note)]) == 3
    assert "is not a folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note.md"]

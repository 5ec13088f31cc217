"""`check` flags cards in generated sections whose note changed since `generate` ran,
without running any note code itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flashmark.cli.main import main

NOTES = Path(__file__).resolve().parents[2] / "notes"
NOTE = "customers/customer interviews.md"


def test_stale_generated_section_is_reported_until_regenerated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "notes"
    shutil.copytree(NOTES, root, ignore=shutil.ignore_patterns(".flashmark"))
    assert main(["check", str(root)]) == 0
    assert "generated-stale" not in capsys.readouterr().out  # never generated: unknown
    assert main(["generate", str(root)]) == 0
    capsys.readouterr()
    assert main(["check", str(root)]) == 0
    assert "generated-stale" not in capsys.readouterr().out
    note = root / NOTE
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace("what you already believe", "what you believe today", 1),
                    encoding="utf-8")
    assert main(["check", str(root)]) == 0  # a warning, not an error
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if "generated-stale" in x]
    section_line = text.splitlines().index(
        next(x for x in text.splitlines() if 'section="b21c"' in x)) + 1
    assert line.startswith(f"{NOTE}:{section_line}: warning:")
    assert main(["generate", str(root)]) == 0
    capsys.readouterr()
    main(["check", str(root)])
    assert "generated-stale" not in capsys.readouterr().out

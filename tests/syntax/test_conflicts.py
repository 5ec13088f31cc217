"""`flashmark check` reports git conflict markers in or next to SR comments."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flashmark.config import ParserSettings
from flashmark.syntax import parse_note

REPO = Path(__file__).resolve().parents[2]

NOTE = """\
---
tags: [flashcard/active]
---

A heading
=======

<<<<<<< HEAD
Q:@:A <!--SR:!2026-12-05,3,250-->
=======
Q:@:A <!--SR:!2026-12-09,7,250-->
>>>>>>> other

<<<<<<< HEAD
plain text
=======
other text
>>>>>>> other

R:@:B
<<<<<<< HEAD
<!--SR:!2026-12-05,3,250-->
"""


def _conflicts(text: str) -> list[tuple[int, str]]:
    note = parse_note(text, ParserSettings(flashcard_tags=("flashcard/active",)), lint=True)
    return [(_one_based(p.line), p.severity) for p in note.problems if p.code == "merge-conflict"]


def test_conflicts_touching_sr_comments_are_errors() -> None:
    # the heading underline and the conflict in plain text are not reported; the
    # unclosed conflict just before a comment is
    assert _conflicts(NOTE) == [(8, "error"), (21, "error")]


def test_no_markers_no_report() -> None:
    assert _conflicts(NOTE.replace("<<<<<<<", "<<<<<<").replace(">>>>>>>", ">>>>>>")) == []


def test_check_command_reports_path_and_line(tmp_path: Path) -> None:
    (tmp_path / "note.md").write_text(NOTE)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "flashmark", "check", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 1
    lines = [line for line in proc.stdout.splitlines() if "[merge-conflict]" in line]
    assert [line.split(": ")[0:2] for line in lines] == [["note.md:8", "error"],
                                                          ["note.md:21", "error"]]


def _one_based(line: int | None) -> int:
    assert line is not None  # these problems are all on a line
    return line + 1

"""Helpers for the generate tests: the pytextgen 9.0.1 oracle and the corpus."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

CORPUS = Path(os.environ.get("FLASHMARK_CORPUS") or
              Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "information")

_ORACLE: list[str | None] = []


def find_oracle() -> str | None:
    """A Python with pytextgen 9.0.1: $FLASHMARK_PYTEXTGEN, else `python3.12` when it can
    import pytextgen. None when there is none (the oracle tests then skip)."""
    if _ORACLE:
        return _ORACLE[0]
    candidates = [os.environ.get("FLASHMARK_PYTEXTGEN") or "", shutil.which("python3.12") or ""]
    found = None
    for python in candidates:
        if not python:
            continue
        try:
            done = subprocess.run(
                [python, "-c", "import pytextgen.meta as m; print(m.VERSION)"],
                capture_output=True, text=True, timeout=60, env={**os.environ, "TZ": "UTC"})
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0 and done.stdout.strip() == "9.0.1":
            found = python
            break
    _ORACLE.append(found)
    return found


def run_pytextgen(python: str, cwd: Path, notes: list[Path]) -> subprocess.CompletedProcess[str]:
    """Run pytextgen's generator in place (only ever on temporary copies). pytextgen fails
    at import west of UTC, so it runs with TZ=UTC."""
    return subprocess.run([python, "-m", "pytextgen", "generate", "--no-code-cache",
                           *map(str, notes)], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "TZ": "UTC"})


HEADER = re.compile(r"<!-- The following content is generated at [^ ]+\. Any edits will be "
                    r"overridden! -->")
SR = re.compile(r" ?<!--SR:.*?-->")


def card_text(note: str) -> str:
    """The note without headers and SR comments, LF newlines: what must agree."""
    return SR.sub("", HEADER.sub("", note.replace("\r\n", "\n")))

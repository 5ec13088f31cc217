"""Golden before/after notes for every helper the vault uses and for each error case.

Each `golden/NAME.before.md` is generated in a temporary vault (with `golden/scripts/`,
a small helper library in the style of a real vault's `scripts/utility.py.md`) at a fixed
time with a negative UTC offset; the note must then equal `golden/NAME.after.md` byte for
byte, and the problems reported must be those listed in `golden/cases.json`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from flashmark.config import Settings
from flashmark.generate.engine import Options, Report, generate

GOLDEN = Path(__file__).resolve().parent / "golden"
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
CASES: dict[str, list[list[object]]] = json.loads((GOLDEN / "cases.json").read_text())
NAMES = sorted(p.name.removesuffix(".before.md") for p in GOLDEN.glob("*.before.md"))


def run_case(tmp_path: Path, name: str, **kw: object) -> tuple[Path, Report]:
    shutil.copytree(GOLDEN / "scripts", tmp_path / "scripts")
    note = tmp_path / f"{name}.md"
    shutil.copy(GOLDEN / f"{name}.before.md", note)
    report = generate(tmp_path, Settings(), Options(now=NOW), targets=[note],
                      use_cache=False, jobs=1, **kw)  # type: ignore[arg-type]
    return note, report


def test_every_fixture_has_a_case() -> None:
    assert sorted(CASES) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_golden(tmp_path: Path, name: str) -> None:
    note, report = run_case(tmp_path, name)
    assert note.read_bytes() == (GOLDEN / f"{name}.after.md").read_bytes()
    got = [(p.line + 1 if p.line is not None else None, p.severity, p.message)
           for p in report.problems]
    expected = CASES[name]
    assert len(got) == len(expected), got
    for (line, severity, message), (want_line, want_text) in zip(got, expected, strict=True):
        assert line == want_line, (got, expected)
        assert str(want_text) in message, (message, want_text)
        assert severity == "error" or want_text == "without a section start"


@pytest.mark.parametrize("name", NAMES)
def test_golden_is_a_fixed_point(tmp_path: Path, name: str) -> None:
    """Generating the after file again changes nothing (the old header stays)."""
    shutil.copytree(GOLDEN / "scripts", tmp_path / "scripts")
    note = tmp_path / f"{name}.md"
    shutil.copy(GOLDEN / f"{name}.after.md", note)
    generate(tmp_path, Settings(), Options(now=NOW + dt.timedelta(days=1)), targets=[note],
             use_cache=False, jobs=1)
    assert note.read_bytes() == (GOLDEN / f"{name}.after.md").read_bytes()

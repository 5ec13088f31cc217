"""`flashmark generate` on a copy of the real vault (../shared/corpus/information).

With no edits every note stays byte-identical, except notes whose sections are really
stale (their data block says something else than the section: there pytextgen 9.0.1
changes the card text the same way). Notes that cannot run are reported and untouched.
No SR entry is lost or orphaned: with re-matching (issue 19) each one stays in its note.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from flashmark.config import load_settings
from flashmark.generate.engine import Options, generate
from tests.generate.gen_support import CORPUS

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")]

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
# The vault's only note whose generated table was edited after generation (a linter put
# <...> around links); its data block says otherwise, so the sections are stale.
STALE = {"general/eng/reactivity series.md"}
# Notes whose code cannot run here: a syntax error in the note, and two that import a
# third-party module (cihai) that is not installed (on 3.11 one of them already fails on
# its f-strings).
BROKEN = {"special/academia/HKUST/COMP 1029V/formula.md",
          "special/language acquisition/中文/简化字总表.md",
          "special/language acquisition/中文/倉頡輸入法難字.md"}
if sys.version_info < (3, 12):  # f-strings this note uses need Python 3.12 (PEP 701)
    BROKEN |= {"general/eng/spectral color.md"}
ENTRY = re.compile(r"!(?:fsrs,[^!>]*|\d{4}-\d{2}-\d{2},\d+,\d+)(?=!|-->)")


def _entries(text: str) -> list[str]:
    return [e for c in re.findall(r"<!--SR:(.*?)-->", text) for e in ENTRY.findall(c + "-->")]


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory,
         writable_copy: Callable[[Path, Path], Path]) -> Path:
    return writable_copy(CORPUS, tmp_path_factory.mktemp("corpus") / "vault")


def test_no_edit_run_leaves_the_vault_byte_identical(copy: Path) -> None:
    originals = {p.relative_to(copy).as_posix(): p.read_bytes() for p in copy.rglob("*.md")}
    report = generate(copy, load_settings(copy), Options(now=NOW), use_cache=True)
    assert report.notes == 162
    errored = {p.path for p in report.problems if p.severity == "error"}
    assert errored == BROKEN
    changed = {rel for rel, data in originals.items() if (copy / rel).read_bytes() != data}
    assert changed == STALE
    assert not list(copy.rglob("*.flashmark-tmp"))
    # no schedule is orphaned: the stale note's 17 schedules whose cards differ only in
    # the form of a link are re-matched (normalized), and their ids' histories joined
    assert not report.orphans
    moves = [m for o in report.outcomes for up in o.updates for m in up.moves]
    assert sum(1 for m in moves if m.stage == "normalized") == 17
    assert {m.stage for m in moves} == {"exact", "normalized"}
    log = [json.loads(x) for x in (copy / ".flashmark" / "reviews.jsonl").read_text().splitlines()]
    assert {e["event"] for e in log} == {"renamed"} and {e["path"] for e in log} == STALE
    assert {e["via"] for e in log} == {"normalized"} and len(log) == 19  # 2 pairs x 2 sides
    for rel in STALE:  # every SR entry is still in the note, verbatim
        after = (copy / rel).read_text()
        assert sorted(_entries(originals[rel].decode())) == sorted(_entries(after))
    # a second run: nothing runs; the notes that failed are reported again (from the cache)
    again = generate(copy, load_settings(copy), Options(now=NOW), use_cache=True)
    assert again.ran <= len(STALE)
    assert {p.path for p in again.problems if p.severity == "error"} == BROKEN


def test_crlf_notes_stay_crlf(tmp_path: Path) -> None:
    rel = "special/value proposition canvas.md"
    root = tmp_path / "vault"
    (root / "special").mkdir(parents=True)
    (root / "scripts").mkdir()
    shutil.copy(CORPUS / "scripts" / "utility.py.md", root / "scripts" / "utility.py.md")
    crlf = (CORPUS / rel).read_bytes().replace(b"\n", b"\r\n")
    (root / rel).write_bytes(crlf)
    report = generate(root, load_settings(root), Options(now=NOW), use_cache=False)
    assert not report.problems and (root / rel).read_bytes() == crlf
    edited = crlf.replace(b"teamwork: frustrated", b"collaboration: frustrated", 1)
    (root / rel).write_bytes(edited)
    generate(root, load_settings(root), Options(now=NOW), use_cache=False)
    after = (root / rel).read_bytes()
    assert after != edited and after.count(b"\n") == after.count(b"\r\n")
    assert b"\r\n> 3. collaboration: frustrated" in after


REACTIVITY = "general/eng/reactivity series.md"
R_CU = 'r_cu = "reacts slowly with [air](air.md)"'
COPPER = ("[copper](copper.md):@:reacts slowly with [air](air.md)",
          "reacts slowly with [air](air.md):@:[copper](copper.md)")


def _reactivity(tmp_path: Path, copy_of: Callable[[Path, Path], Path], data_string: str
                ) -> tuple[Path, bytes]:
    """A writable copy of the vault's reactivity note (and the helper library it
    imports), generated once so that only the edit below is left to regenerate."""
    root = tmp_path / "vault"
    (root / "general" / "eng").mkdir(parents=True)
    copy_of(CORPUS / "scripts", root / "scripts")
    note = root / REACTIVITY
    shutil.copy(CORPUS / REACTIVITY, note)
    note.chmod(0o644)
    generate(root, load_settings(root), Options(now=NOW), use_cache=False, jobs=1)
    before = note.read_bytes()
    assert R_CU.encode() in before
    note.write_bytes(before.replace(R_CU.encode(), data_string.encode()))
    (root / ".flashmark" / "reviews.jsonl").unlink()
    return note, before


def _comment_of(text: str, card: str) -> str | None:
    line = next(x for x in text.splitlines() if x.startswith(f"- {card}"))
    found = re.search(r"<!--SR:.*?-->", line)
    return found[0] if found else None


def test_an_edited_data_string_keeps_both_copper_schedules(
        tmp_path: Path, writable_copy: Callable[[Path, Path], Path]) -> None:
    note, before = _reactivity(tmp_path, writable_copy,
                               'r_cu = "reacts slowly with [air](air.md) when moist"')
    report = generate(note.parents[2], load_settings(note.parents[2]), Options(now=NOW),
                      use_cache=False, jobs=1)
    assert not report.orphans and not report.problems
    after = note.read_text()
    for card in COPPER:
        edited = card.replace("[air](air.md)", "[air](air.md) when moist")
        assert _comment_of(after, edited) == _comment_of(before.decode(), card) is not None
    moved = [m for o in report.outcomes for up in o.updates for m in up.moves
             if m.stage != "exact"]
    assert sorted(m.old_card for m in moved) == sorted(COPPER)
    assert {m.stage for m in moved} == {"similar"}
    log = [json.loads(x) for x in (note.parents[2] / ".flashmark" / "reviews.jsonl")
           .read_text().splitlines()]
    assert [(e["event"], e["via"]) for e in log] == [("renamed", "similar")] * 2


def test_an_unrelated_data_string_orphans_the_copper_schedules(
        tmp_path: Path, writable_copy: Callable[[Path, Path], Path]) -> None:
    """Similarity does not over-match: a replaced answer is another card."""
    note, before = _reactivity(tmp_path, writable_copy,
                               'r_cu = "is a [noble metal](noble%20metal.md) used in coins"')
    report = generate(note.parents[2], load_settings(note.parents[2]), Options(now=NOW),
                      use_cache=False, jobs=1)
    assert sorted(o.card for _, _, o in report.orphans) == sorted(COPPER)
    assert sorted(o.comment for _, _, o in report.orphans) == sorted(
        c for c in (_comment_of(before.decode(), card) for card in COPPER) if c)
    after = note.read_text()
    assert _comment_of(after, "[copper](copper.md):@:is a [noble metal]") is None
    log = [json.loads(x) for x in (note.parents[2] / ".flashmark" / "reviews.jsonl")
           .read_text().splitlines()]
    assert sorted(e["event"] for e in log) == ["orphan", "orphan"]


def test_diff_shows_the_stage_and_generate_rematch_stops_it(
        tmp_path: Path, writable_copy: Callable[[Path, Path], Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    from flashmark.cli.main import main

    note, _ = _reactivity(tmp_path, writable_copy,
                               'r_cu = "reacts slowly with [air](air.md) when moist"')
    root = note.parents[2]
    edited = note.read_bytes()
    assert main(["generate", "--diff", "--no-cache", str(root)]) == 0
    out, err = capsys.readouterr()
    moved = [line for line in out.splitlines() if line.startswith("# ")]
    assert len(moved) == 2 and all(" moved (similar): " in line for line in moved)
    assert moved[0].startswith(f"# {REACTIVITY}:") and "[copper](copper.md)" in moved[0]
    assert "matches no regenerated card" not in err
    assert note.read_bytes() == edited  # --diff writes nothing
    (root / "flashmark.yaml").write_text("generate:\n  rematch: normalized\n")
    assert main(["generate", "--diff", "--no-cache", str(root)]) == 0
    out, err = capsys.readouterr()
    assert not [line for line in out.splitlines() if line.startswith("# ")]
    assert err.count("matches no regenerated card") == 2
    (root / "flashmark.yaml").write_text("generate:\n  rematch: fuzzy\n")
    assert main(["generate", "--diff", str(root)]) != 0
    assert "generate.rematch must be one of exact, normalized, similar" in capsys.readouterr().err

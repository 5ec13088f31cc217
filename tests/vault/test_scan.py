"""`scan_vault` with a ``json_sink`` (a cold `scan --json`): the lines reach the sink in
vault order while the scan runs, parsed by forked workers, the index rows are committed
at the end, and memory does not grow with the output."""

from __future__ import annotations

import os
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from flashmark.cardjson import note_json_lines
from flashmark.config import load_settings
from flashmark.syntax import parse_note
from flashmark.vault import scan as scan_module
from flashmark.vault.scan import PARALLEL_MIN, scan_vault
from flashmark.vault.walk import NoteFile, walk_notes
from tests.measured import run_measured

OLD_NS = 1_700_000_000 * 10**9
WORDS = ["alpha", "beta", "gamma", "delta", "kappa", "sigma", "omega", "theta", "zeta"]


def _make_vault(root: Path, notes: int) -> Path:
    """``notes`` flashcard notes in nested folders, each with a basic card and a cloze
    (flashmark's default separators)."""
    rng = random.Random(17)
    for k in range(notes):
        folder = root / f"d{k % 7}" / f"e{k % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        words = " ".join(rng.choice(WORDS) for _ in range(12))
        (folder / f"n{k:04d}.md").write_text(
            f"#flashcard/deck{k % 5}\n\nq{k} {words}:@:a{k}\n\n"
            f"{words} {{@{{c{k}}}@}} and {{@{{d{k}}}@}} {k}\n", encoding="utf-8")
        os.utime(folder / f"n{k:04d}.md", ns=(OLD_NS, OLD_NS))  # not racy: the index trusts it
    return root


def _expected(root: Path) -> bytes:
    """The lines note by note in walk order, made here from each note."""
    settings = load_settings(root)
    out = []
    for f in walk_notes(str(root), settings.ignore):
        note = parse_note(Path(f.path).read_text(encoding="utf-8"), settings.parser)
        if note.is_flashcard_note:
            out.append(note_json_lines(note.questions, f.rel))
    return "".join(out).encode("utf-8")


def _rows(root: Path) -> int:
    """Committed rows of the index as another connection sees them."""
    db = sqlite3.connect(root / ".flashmark" / "cache" / "index.sqlite3")
    try:
        return int(db.execute("SELECT count(*) FROM notes").fetchone()[0])
    except sqlite3.OperationalError:  # no table yet
        return 0
    finally:
        db.close()


def test_cold_lines_stream_in_vault_order_before_the_index_is_committed(
        tmp_path: Path) -> None:
    root = _make_vault(tmp_path / "v", PARALLEL_MIN + 40)
    settings = load_settings(root)
    got: list[bytes] = []
    committed_while_streaming: list[int] = []

    def sink(lines: bytes) -> None:
        got.append(lines)
        if len(got) % 100 == 1:
            committed_while_streaming.append(_rows(root))

    result = scan_vault(root, settings, jobs=2, json_sink=sink)
    result.close()
    assert b"".join(got) == _expected(root)
    assert len(got) == PARALLEL_MIN + 40  # one write per note with cards
    assert set(committed_while_streaming) == {0}  # written while the scan still ran
    assert _rows(root) == PARALLEL_MIN + 40
    # Warm: served from the index, the same bytes; one process: the same bytes.
    warm: list[bytes] = []
    scan_vault(root, settings, jobs=2, json_sink=warm.append).close()
    assert warm == got
    alone: list[bytes] = []
    scan_vault(root, settings, jobs=1, use_cache=False, json_sink=alone.append).close()
    assert b"".join(alone) == b"".join(got)


def test_a_sink_that_fails_keeps_the_rows_made_so_far(tmp_path: Path) -> None:
    """`scan --json | head`: the rows of the notes parsed before the reader left are
    committed (the next run parses only the rest) and the next output is whole."""
    root = _make_vault(tmp_path / "v", PARALLEL_MIN + 10)
    settings = load_settings(root)
    written: list[bytes] = []

    def broken(lines: bytes) -> None:
        if len(written) == 300:
            raise BrokenPipeError("the reader went away")
        written.append(lines)

    with pytest.raises(BrokenPipeError):
        scan_vault(root, settings, jobs=2, json_sink=broken)
    assert _rows(root) == 300
    again: list[bytes] = []
    result = scan_vault(root, settings, jobs=2, json_sink=again.append)
    result.close()
    assert result.parsed_now == PARALLEL_MIN + 10 - 300
    assert b"".join(again) == _expected(root)
    assert again[:300] == written


def test_notes_that_change_after_the_walk(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A note deleted between the walk and its read is a warning (the others are
    printed); one edited in between is printed as read, and its row keeps the walk's
    size: the next run reads it again (same content: the row is corrected)."""
    root = _make_vault(tmp_path / "v", PARALLEL_MIN + 10)
    settings = load_settings(root)
    gone, edited = root / "d1" / "e1" / "n0001.md", root / "d3" / "e0" / "n0003.md"

    def walk_then_change(*args: object, **kwargs: object) -> Iterator[NoteFile]:
        files = list(walk_notes(*args, **kwargs))  # type: ignore[arg-type]
        gone.unlink()
        edited.write_text("#flashcard/deck3\n\nchanged after the walk:@:yes\n",
                          encoding="utf-8")
        os.utime(edited, ns=(OLD_NS, OLD_NS + 10**9))
        return iter(files)

    monkeypatch.setattr(scan_module, "walk_notes", walk_then_change)
    got: list[bytes] = []
    result = scan_vault(root, settings, jobs=2, json_sink=got.append)
    result.close()
    [problem] = result.problems
    assert (problem.path, problem.code) == ("d1/e1/n0001.md", "unreadable")
    assert b"".join(got) == _expected(root)  # the edited note as it is now
    assert b'"front": "changed after the walk"' in b"".join(got)
    monkeypatch.undo()
    later: list[bytes] = []
    result = scan_vault(root, settings, jobs=2, json_sink=later.append)
    result.close()
    assert later == got
    # The edited note's row had the walk's size: read again, found unchanged, corrected.
    db = sqlite3.connect(root / ".flashmark" / "cache" / "index.sqlite3")
    (size,) = db.execute("SELECT size FROM notes WHERE path='d3/e0/n0003.md'").fetchone()
    db.close()
    assert size == edited.stat().st_size


# A cloze block longer than zlib's 32 KB window: its repeats in the lines do not compress,
# so holding every note's compressed lines (as the scan did before it streamed) takes
# about as much memory as the output.
BIG_NOTES = 240


def _make_big_vault(root: Path) -> Path:
    rng = random.Random(5)
    root.mkdir(parents=True)
    for k in range(BIG_NOTES):
        text = " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7))
                        for _ in range(6000))  # 48 KB
        words = text.split(" ")
        for d in range(0, 6000, 1000):
            words[d] = f"{{@{{{words[d]}}}@}}"
        (root / f"n{k:03d}.md").write_text(f"#flashcard/big\n\n{' '.join(words)}\n",
                                           encoding="utf-8")
    return root


@pytest.mark.slow
def test_cold_scan_json_memory_does_not_grow_with_the_output(tmp_path: Path) -> None:
    """~140 MB of lines (~90 MB compressed) through a process whose own peak (VmHWM:
    ru_maxrss would count the pytest worker it was forked from) stays far below."""
    root = _make_big_vault(tmp_path / "big")
    out = tmp_path / "out.jsonl"
    with out.open("wb") as sink:
        code, err, peak_kb = run_measured(["scan", "--json", root], stdout=sink)
    assert code == 0, err
    assert out.stat().st_size > 120 << 20
    # KB: the lines of a chunk at a time (holding them all: 117 MB)
    assert peak_kb < 85 << 10, peak_kb
    with out.open("rb") as lines:
        assert sum(1 for _ in lines) == BIG_NOTES * 6

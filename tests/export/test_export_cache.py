"""The render cache: a re-export renders only changed notes and writes the same package."""

from __future__ import annotations

import os
import sqlite3
import zipfile
from pathlib import Path

import pytest

from flashmark.export.render import Renderer
from flashmark.vault.scan import NoteRecord
from tests.export.export_helpers import ExportRun


def rows(apkg: Path, tmp: Path) -> list[tuple[object, ...]]:
    """Every note's GUID, fields and tags, and its cards (without ids and times)."""
    folder = tmp / apkg.stem
    with zipfile.ZipFile(apkg) as zf:
        zf.extract("collection.anki2", folder)
    conn = sqlite3.connect(folder / "collection.anki2")
    try:
        return conn.execute(
            "SELECT n.guid, n.flds, n.tags, c.ord, c.did, c.due FROM notes n JOIN cards c "
            "ON c.nid = n.id ORDER BY n.guid, c.ord").fetchall()
    finally:
        conn.close()


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The notes whose questions were rendered."""
    seen: list[str] = []
    cloze, side = Renderer.cloze, Renderer.side

    def count_cloze(self: Renderer, q: object, ctx: object) -> object:
        seen.append(ctx.rel)  # type: ignore[attr-defined]
        return cloze(self, q, ctx)  # type: ignore[arg-type]

    def count_side(self: Renderer, text: str, ctx: object, *, single_line: bool) -> object:
        seen.append(ctx.rel)  # type: ignore[attr-defined]
        return side(self, text, ctx, single_line=single_line)  # type: ignore[arg-type]

    monkeypatch.setattr(Renderer, "cloze", count_cloze)
    monkeypatch.setattr(Renderer, "side", count_side)
    return seen


def test_reexport_renders_only_changed_notes(vault: Path, tmp_path: Path, export: ExportRun,
                                             renders: list[str]) -> None:
    export(vault, tmp_path / "1.apkg")
    assert set(renders) == {"science/physics.md", "science/mechanics.md", "history/rome.md"}
    assert (vault / ".flashmark" / "cache" / "export.sqlite3").is_file()
    renders.clear()
    _, out = export(vault, tmp_path / "2.apkg")
    assert renders == []
    assert "2 media files" in out  # the images of cached notes are still packaged
    assert rows(tmp_path / "1.apkg", tmp_path) == rows(tmp_path / "2.apkg", tmp_path)


def test_an_image_that_appears_renders_its_notes_again(
        vault: Path, tmp_path: Path, export: ExportRun, renders: list[str],
        capsys: pytest.CaptureFixture[str]) -> None:
    export(vault, tmp_path / "1.apkg")
    assert "image 'nowhere.png' not found" in capsys.readouterr().err
    renders.clear()
    export(vault, tmp_path / "2.apkg")
    # the problem is reported again even though the note came from the cache
    assert renders == [] and "image 'nowhere.png' not found" in capsys.readouterr().err
    (vault / "history" / "nowhere.png").write_bytes(b"\x89PNG")
    _, out = export(vault, tmp_path / "3.apkg")
    assert set(renders) == {"history/rome.md"} and "3 media files" in out
    assert "nowhere.png" not in capsys.readouterr().err


def test_cached_export_equals_uncached(tmp_path: Path, export: ExportRun,
                                       renders: list[str]) -> None:
    from tests.export.export_helpers import write_vault

    notes = {
        "a.md": "#flashcard/active/a\n\nq1:@:a1\n\nx {@{y}@} z\n\nq2::@::$m_1$\n",
        "b.md": "#flashcard/active/b\n\nfront\n?@?\nback **bold**\n",
    }
    vault = write_vault(tmp_path / "v", notes)
    export(vault, tmp_path / "1.apkg")
    renders.clear()
    export(vault, tmp_path / "2.apkg")
    assert renders == []  # everything came from the cache
    (vault / "b.md").write_text(notes["b.md"].replace("bold", "strong"), encoding="utf-8")
    export(vault, tmp_path / "3.apkg")
    assert set(renders) == {"b.md"}
    export(vault, tmp_path / "4.apkg", "--no-cache")
    assert rows(tmp_path / "3.apkg", tmp_path) == rows(tmp_path / "4.apkg", tmp_path)
    assert rows(tmp_path / "1.apkg", tmp_path) != rows(tmp_path / "3.apkg", tmp_path)


def test_selection_and_settings_changes(tmp_path: Path, export: ExportRun,
                                        renders: list[str]) -> None:
    from tests.export.export_helpers import write_vault

    notes = {"a.md": "#flashcard/active/a\n\nq1:@:a1\n", "b.md": "#flashcard/active/b\n\nq:@:b\n"}
    vault = write_vault(tmp_path / "v", notes)
    export(vault, tmp_path / "1.apkg", "--deck", "flashcard/active/a")
    assert set(renders) == {"a.md"}
    renders.clear()
    _, out = export(vault, tmp_path / "2.apkg")
    assert set(renders) == {"b.md"} and "2 notes" in out
    renders.clear()
    export(vault, tmp_path / "3.apkg", "--vault-name", "Other")  # links change: no reuse
    assert set(renders) == {"a.md", "b.md"}


def test_parallel_export_survives_a_dying_worker(tmp_path: Path, export: ExportRun,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers render a big vault; when one dies, the rest is rendered here: the package
    holds the same rows as a one-process export."""
    from flashmark.export import exporter
    from tests.export.export_helpers import write_vault

    notes = {f"n{k:02d}.md": "---\ntags: [flashcard/active/bulk]\n---\n" + "".join(
        f"q{k}-{j}::@::a{k}-{j}\n\n" for j in range(30)) for k in range(40)}
    vault = write_vault(tmp_path / "big", notes)  # 40 notes, 2,400 cards: several chunks
    monkeypatch.setenv("FLASHMARK_JOBS", "1")
    assert export(vault, tmp_path / "serial.apkg", "--no-cache")[0] == 0
    monkeypatch.setenv("FLASHMARK_JOBS", "2")
    monkeypatch.setattr(exporter, "PARALLEL_MIN_CARDS", 1)
    assert export(vault, tmp_path / "parallel.apkg", "--no-cache")[0] == 0
    real_note = exporter._NoteWorker.note

    def dies_after_the_first_note(worker: exporter._NoteWorker, record: NoteRecord) -> object:
        """A worker process dies on every note but the first (this process does not)."""
        if os.getpid() != _TEST_PROCESS and record.rel != "n00.md":
            os._exit(9)
        return real_note(worker, record)

    monkeypatch.setattr(exporter._NoteWorker, "note", dies_after_the_first_note)
    assert export(vault, tmp_path / "broken.apkg", "--no-cache")[0] == 0
    expected = rows(tmp_path / "serial.apkg", tmp_path)
    assert len(expected) == 2400
    assert rows(tmp_path / "parallel.apkg", tmp_path) == expected
    assert rows(tmp_path / "broken.apkg", tmp_path) == expected


_TEST_PROCESS = os.getpid()

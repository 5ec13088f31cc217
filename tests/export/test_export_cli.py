"""`flashmark export` as a command: options, output, messages; no Anki needed."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from flashmark.errors import EXIT_USAGE, FlashmarkError, UnknownDeckError
from flashmark.export import scheduling
from flashmark.export.exporter import ExportOptions, anki_deck_name, deck_selected
from tests.export.export_helpers import ExportRun, write_vault


def package_rows(apkg: Path, tmp_path: Path) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """(guid, flds, tags) of every note, and the media map."""
    with zipfile.ZipFile(apkg) as zf:
        zf.extract("collection.anki2", tmp_path)
        media = json.loads(zf.read("media"))
    conn = sqlite3.connect(tmp_path / "collection.anki2")
    try:
        rows = conn.execute("SELECT guid, flds, tags FROM notes ORDER BY id").fetchall()
    finally:
        conn.close()
    return rows, media


def test_default_output_is_decks_vault_name(vault: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse
    import io

    from flashmark.cli import export as export_cli

    monkeypatch.chdir(tmp_path)
    parser = argparse.ArgumentParser()
    export_cli.register(parser.add_subparsers())
    args = parser.parse_args(["export", str(vault)])
    out = io.StringIO()
    assert export_cli.run(args, out) == 0
    assert (tmp_path / "decks" / "vault.apkg").is_file()
    assert "wrote decks/vault.apkg: 13 notes, 22 cards" in out.getvalue()


def test_the_notes_are_never_written(vault: Path, tmp_path: Path, export: ExportRun) -> None:
    before = {p: p.read_bytes() for p in vault.rglob("*.md")}
    export(vault, tmp_path / "x.apkg")
    assert {p: p.read_bytes() for p in vault.rglob("*.md")} == before
    assert (vault / ".flashmark" / "export-manifest.json").is_file()


def test_package_contents(vault: Path, tmp_path: Path, export: ExportRun) -> None:
    export(vault, tmp_path / "x.apkg")
    rows, media = package_rows(tmp_path / "x.apkg", tmp_path)
    assert len(rows) == 13 and len({g for g, _, _ in rows}) == 13
    assert all(g.startswith("fm-") for g, _, _ in rows)
    assert sorted(media.values()) == sorted(
        n for n in media.values() if n.startswith(("photo-", "diagram-")))
    assert len(media) == 2


def test_deck_options(vault: Path, tmp_path: Path, export: ExportRun) -> None:
    code, out = export(vault, tmp_path / "x.apkg", "--strip-prefix", "flashcard/active",
                       "--parent-deck", "Vault", "--deck-depth", "1")
    assert code == 0 and "2 decks" in out
    with zipfile.ZipFile(tmp_path / "x.apkg") as zf:
        zf.extract("collection.anki2", tmp_path)
    conn = sqlite3.connect(tmp_path / "collection.anki2")
    decks = json.loads(conn.execute("SELECT decks FROM col").fetchone()[0])
    conn.close()
    assert {d["name"] for d in decks.values()} == {"Default", "Vault::science", "Vault::history"}


def test_deck_names_and_patterns() -> None:
    opts = ExportOptions(Path("x.apkg"))
    assert anki_deck_name("flashcard/active/general/eng", opts, "v") == \
        "flashcard::active::general::eng"
    strip = ExportOptions(Path("x"), strip_prefixes=("flashcard/active", "#flashcard"))
    assert anki_deck_name("flashcard/active/general/eng", strip, "v") == "general::eng"
    assert anki_deck_name("flashcard/archive/x", strip, "v") == "archive::x"
    assert anki_deck_name("flashcard/active", strip, "v") == "v"
    assert anki_deck_name(None, opts, "my vault") == "my vault"
    assert deck_selected("flashcard/active/general/eng", ("flashcard/active/general",))
    assert not deck_selected("flashcard/active/generalities", ("flashcard/active/general",))
    assert deck_selected("flashcard/active/general/eng", ("*/general",))
    assert deck_selected("flashcard/active/general/eng", ("flashcard::active::*",))
    assert not deck_selected(None, ("x",))
    assert deck_selected(None, ())


def test_nothing_selected(vault: Path, tmp_path: Path, export: ExportRun) -> None:
    code, out = export(vault, tmp_path / "x.apkg", "--tag", "no/such/tag")
    assert code == 0 and "0 notes, 0 cards" in out and "no cards selected" in out


def test_unknown_deck_is_refused(vault: Path, tmp_path: Path, export: ExportRun) -> None:
    with pytest.raises(UnknownDeckError, match="no deck matches 'no/such/deck'") as caught:
        export(vault, tmp_path / "x.apkg", "--deck", "flashcard/active/history", "--deck",
               "no/such/deck")
    assert caught.value.exit_code == 3
    assert not (tmp_path / "x.apkg").exists()


def test_with_scheduling_without_anki(vault: Path, tmp_path: Path, export: ExportRun,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduling, "anki_available", lambda: False)
    with pytest.raises(FlashmarkError) as err:
        export(vault, tmp_path / "x.apkg", "--with-scheduling")
    assert "--with-scheduling needs the official Anki library" in str(err.value)
    assert "pip install 'flashmark[anki]'" in str(err.value)
    assert not (tmp_path / "x.apkg").exists()


def test_bad_output_and_depth(vault: Path, tmp_path: Path, export: ExportRun) -> None:
    (tmp_path / "dir.apkg").mkdir()
    with pytest.raises(FlashmarkError) as err:
        export(vault, tmp_path / "dir.apkg")
    assert err.value.exit_code == EXIT_USAGE
    with pytest.raises(FlashmarkError, match="deck-depth"):
        export(vault, tmp_path / "x.apkg", "--deck-depth", "-1")


def test_damaged_manifest_is_an_error_not_a_traceback(vault: Path, tmp_path: Path,
                                                       export: ExportRun) -> None:
    (vault / ".flashmark").mkdir(exist_ok=True)
    (vault / ".flashmark" / "export-manifest.json").write_text("[]")
    with pytest.raises(FlashmarkError, match="damaged"):
        export(vault, tmp_path / "x.apkg")


def test_progress_bar_only_for_big_exports(tmp_path: Path, export: ExportRun,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from flashmark.cli import export as export_cli

    calls: list[tuple[int, int]] = []

    class Bar:
        def __init__(self, label: str) -> None:
            pass

        def __call__(self, done: int, total: int) -> None:
            calls.append((done, total))

        def close(self) -> None:
            pass

    monkeypatch.setattr(export_cli, "ProgressBar", Bar)
    small = write_vault(tmp_path / "small")
    export(small, tmp_path / "s.apkg")
    assert calls == []
    big = write_vault(tmp_path / "big", {
        f"n{k}.md": "#flashcard/active\n\n" + "\n".join(f"q{k}-{j}:@:a" for j in range(40))
        for k in range(10)})
    export(big, tmp_path / "b.apkg")
    assert calls and calls[-1] == (400, 400)


def test_manifest_that_cannot_be_written_is_a_warning(
        vault: Path, tmp_path: Path, export: ExportRun, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from flashmark.export import exporter

    def refuse(path: str, data: bytes, **_: object) -> None:
        assert path.endswith("export-manifest.json")
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(exporter, "write_file_atomically", refuse)
    code, out = export(vault, tmp_path / "x.apkg")
    assert code == 0 and "13 notes" in out
    err = capsys.readouterr().err
    assert "warning: cannot write" in err and "Permission denied" in err
    assert "edited cards will become new Anki notes" in err

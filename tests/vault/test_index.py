"""scan_vault and its index: what is re-read when, and how the cache survives damage."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flashmark.config import ParserSettings, Settings
from flashmark.errors import Notice, VaultError
from flashmark.vault.index import Index
from flashmark.vault.scan import ScanResult, _fingerprint, scan_vault

SETTINGS = Settings(parser=ParserSettings(flashcard_tags=("flashcard/active",)))
OLD = 1_600_000_000 * 10**9  # 2020-09-13: far from "racy"
HEAD = "---\ntags: [flashcard/active/t]\n---\n"

NOTES = {
    "a.md": HEAD + "q1:@:a1 <!--SR:!2026-01-01,3,250-->\n",
    "sub/b.md": HEAD + "{@{x}@} and {@{y}@}\n",
    "sub/deeper/c.md": HEAD + "r::@::s\n",
    "plain.md": "# no tag\n\nq:@:a\n",
}


def _write(root: Path, rel: str, text: str | bytes, mtime_ns: int = OLD) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    for rel, text in NOTES.items():
        _write(root, rel, text)
    return root


@pytest.fixture
def scans() -> Iterator[list[ScanResult]]:
    """Results to close at the end of the test (the index keeps a connection)."""
    opened: list[ScanResult] = []
    yield opened
    for r in opened:
        r.close()


def _scan(scans: list[ScanResult], root: Path, settings: Settings = SETTINGS,
          **kwargs: Any) -> ScanResult:
    result = scan_vault(root, settings, **kwargs)
    result.close()  # the records stay usable; closing releases the index
    scans.append(result)
    return result


def _summary(result: ScanResult) -> dict[str, list[tuple[object, ...]]]:
    return {n.rel: [tuple(s) for s in n.summary] for n in result.notes}


def _index_rows(root: Path) -> dict[str, tuple[int, int]]:
    index = Index(root / ".flashmark" / "cache" / "index.sqlite3",
                  _fingerprint(SETTINGS, False))
    try:
        return {p: (r.size, r.mtime_ns) for p, r in index.rows().items()}
    finally:
        index.close()


def test_first_scan_reads_everything(vault: Path, scans: list[ScanResult]) -> None:
    r = _scan(scans, vault)
    assert r.parsed_now == 4
    assert r.problems == []
    assert sorted(n.rel for n in r.notes) == ["a.md", "plain.md", "sub/b.md",
                                                "sub/deeper/c.md"]
    assert sorted(n.rel for n in r.flashcard_notes()) == ["a.md", "sub/b.md", "sub/deeper/c.md"]
    cards = _summary(r)
    assert [len(cards[k]) for k in ("a.md", "sub/b.md", "sub/deeper/c.md", "plain.md")] == [
        1, 2, 2, 0]
    assert cards["a.md"][0][:2] == ("flashcard/active/t", "2026-01-01")
    assert (vault / ".flashmark" / "cache" / "index.sqlite3").is_file()
    assert "cache/" in (vault / ".flashmark" / ".gitignore").read_text()


def test_second_scan_reads_nothing(vault: Path, scans: list[ScanResult]) -> None:
    first = _scan(scans, vault)
    second = _scan(scans, vault)
    assert second.parsed_now == 0
    assert _summary(second) == _summary(first)


def test_editing_one_note_reparses_exactly_that_note(vault: Path,
                                                     scans: list[ScanResult]) -> None:
    _scan(scans, vault)
    _write(vault, "sub/b.md", HEAD + "{@{x}@} and {@{y}@} and {@{z}@}\n", OLD + 10**9)
    r = _scan(scans, vault)
    assert r.parsed_now == 1
    assert len(_summary(r)["sub/b.md"]) == 3
    assert _scan(scans, vault).parsed_now == 0


def test_touching_a_note_reparses_nothing(vault: Path, scans: list[ScanResult]) -> None:
    first = _scan(scans, vault)
    newer = OLD + 3600 * 10**9
    os.utime(vault / "a.md", ns=(newer, newer))
    r = _scan(scans, vault)
    assert r.parsed_now == 0
    assert _summary(r) == _summary(first)
    # the new mtime was recorded, so the next scan does not even hash the file again
    assert _index_rows(vault)["a.md"][1] == newer
    assert _scan(scans, vault).parsed_now == 0


def test_deleting_a_note_removes_it(vault: Path, scans: list[ScanResult]) -> None:
    _scan(scans, vault)
    (vault / "sub" / "b.md").unlink()
    r = _scan(scans, vault)
    assert r.parsed_now == 0
    assert "sub/b.md" not in _summary(r)
    assert "sub/b.md" not in _index_rows(vault)
    assert set(_index_rows(vault)) == {"a.md", "plain.md", "sub/deeper/c.md"}


def test_adding_a_note(vault: Path, scans: list[ScanResult]) -> None:
    _scan(scans, vault)
    _write(vault, "new.md", HEAD + "n:@:m\n")
    r = _scan(scans, vault)
    assert r.parsed_now == 1
    assert len(_summary(r)["new.md"]) == 1


def test_racy_mtime_forces_a_content_check(vault: Path, scans: list[ScanResult]) -> None:
    """A note written in the same clock tick as the index row: a later write of the same
    size within that tick keeps size and mtime, so only its content can tell."""
    # "now", plus a margin so that a slow machine cannot make the row non-racy
    now = time.time_ns() + 30 * 10**9
    _write(vault, "racy.md", HEAD + "q:@:a <!--SR:!2026-01-01,3,250-->\n", now)
    first = _scan(scans, vault)
    assert _summary(first)["racy.md"][0][1] == "2026-01-01"
    _write(vault, "racy.md", HEAD + "q:@:a <!--SR:!2027-12-31,9,250-->\n", now)  # same size
    second = _scan(scans, vault)
    assert second.parsed_now == 1
    assert _summary(second)["racy.md"][0][1] == "2027-12-31"


def test_racy_but_unchanged_note_is_hashed_not_parsed(vault: Path,
                                                      scans: list[ScanResult]) -> None:
    now = time.time_ns() + 30 * 10**9
    _write(vault, "racy.md", HEAD + "q:@:a\n", now)
    assert _scan(scans, vault).parsed_now == 5
    assert _scan(scans, vault).parsed_now == 0


def test_no_cache_writes_nothing(vault: Path, scans: list[ScanResult]) -> None:
    r1 = _scan(scans, vault, use_cache=False)
    r2 = _scan(scans, vault, use_cache=False)
    assert not (vault / ".flashmark").exists()
    assert r1.parsed_now == r2.parsed_now == 4
    assert _summary(r1) == _summary(r2)


def test_corrupted_index_is_rebuilt(vault: Path, scans: list[ScanResult]) -> None:
    first = _scan(scans, vault)
    index = vault / ".flashmark" / "cache" / "index.sqlite3"
    for extra in (index.with_name(index.name + "-wal"), index.with_name(index.name + "-shm")):
        extra.unlink(missing_ok=True)
    index.write_bytes(b"this is not a database\x00" * 100)
    with pytest.warns(Notice, match="was damaged .file is not a database.: deleted"):
        r = _scan(scans, vault)
    assert r.parsed_now == 4
    assert _summary(r) == _summary(first)
    assert _scan(scans, vault).parsed_now == 0


def test_truncated_index_is_rebuilt(vault: Path, scans: list[ScanResult]) -> None:
    _scan(scans, vault)
    index = vault / ".flashmark" / "cache" / "index.sqlite3"
    index.write_bytes(index.read_bytes()[:100])
    with pytest.warns(Notice, match="was damaged"):
        assert _scan(scans, vault).parsed_now == 4


def test_other_settings_rebuild_the_index(vault: Path, scans: list[ScanResult]) -> None:
    _scan(scans, vault)
    r = _scan(scans, vault, all_notes=True)
    assert r.parsed_now == 4
    assert len(_summary(r)["plain.md"]) == 1
    other = Settings(parser=ParserSettings(flashcard_tags=("flashcard/active/t",)))
    assert _scan(scans, vault, other).parsed_now == 4


def test_readonly_vault_uses_the_user_cache(vault: Path, tmp_path: Path,
                                            scans: list[ScanResult],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    vault.chmod(0o555)
    try:
        if os.access(vault, os.W_OK):
            pytest.skip("running as root: a read-only folder is still writable")
        first = _scan(scans, vault)
        second = _scan(scans, vault)
    finally:
        vault.chmod(0o755)
    assert not (vault / ".flashmark").exists()
    assert list(cache.glob("flashmark/*/index.sqlite3"))
    assert first.parsed_now == 4
    assert second.parsed_now == 0


def test_unusable_state_folder_falls_back_to_the_user_cache(
        vault: Path, tmp_path: Path, scans: list[ScanResult],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Same fallback as for a read-only vault, provoked in a way that works as root too:
    `.flashmark` is a file, so its cache folder cannot be made."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    (vault / ".flashmark").write_text("not a folder\n")
    first = _scan(scans, vault)
    second = _scan(scans, vault)
    assert (vault / ".flashmark").read_text() == "not a folder\n"
    (found,) = cache.glob("flashmark/*/index.sqlite3")
    assert found.is_file()
    assert (first.parsed_now, second.parsed_now) == (4, 0)


def test_invalid_utf8_note_is_reported_and_left_alone(vault: Path,
                                                      scans: list[ScanResult]) -> None:
    bad = HEAD.encode() + b"caf\xe9:@:coffee\n"
    path = _write(vault, "bad.md", bad)
    stat_before = path.stat()
    for _ in range(2):  # a bad note is not cached as good
        r = _scan(scans, vault)
        assert [p.path for p in r.problems] == ["bad.md"]
        (problem,) = r.problems
        assert "UTF-8" in problem.message
        assert "line 4" in problem.message
        assert "bad.md" not in _summary(r)
        assert len(_summary(r)) == 4
    assert path.read_bytes() == bad
    assert path.stat().st_mtime_ns == stat_before.st_mtime_ns


def test_binary_note_is_reported(vault: Path, scans: list[ScanResult]) -> None:
    _write(vault, "img.md", b"\x89PNG\r\n\x1a\n\x00\x00")
    r = _scan(scans, vault)
    assert [(p.path, "binary" in p.message) for p in r.problems] == [("img.md", True)]


def test_parsed_reads_full_questions(vault: Path, scans: list[ScanResult]) -> None:
    r = _scan(scans, vault)
    parsed = r.parsed()
    assert sorted(parsed) == ["a.md", "sub/b.md", "sub/deeper/c.md"]
    assert [q.type.value for q in parsed["sub/b.md"].questions] == ["cloze"]


def test_parallel_and_serial_scans_agree(tmp_path: Path, scans: list[ScanResult]) -> None:
    root = tmp_path / "big"
    for k in range(420):  # above PARALLEL_MIN, so a cold scan uses worker processes
        body = (f"q{k}:@:a{k}\n\n{{@{{c{k}}}@}} and {{@{{d}}@}} "
                f"<!--SR:!2026-01-{k % 28 + 1:02d},3,250-->\n")
        _write(root, f"d{k % 7}/n{k:03d}.md", HEAD + body)
    serial = _scan(scans, root, use_cache=False, jobs=1)
    parallel = _scan(scans, root, use_cache=False, jobs=2)
    assert serial.parsed_now == parallel.parsed_now == 420
    assert _summary(parallel) == _summary(serial)
    assert sum(len(v) for v in _summary(serial).values()) == 420 * 3


def test_progress_is_reported(vault: Path, scans: list[ScanResult]) -> None:
    calls: list[tuple[int, int]] = []
    _scan(scans, vault, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (4, 4)


def test_missing_vault_and_file_as_vault(tmp_path: Path) -> None:
    with pytest.raises(VaultError):
        scan_vault(tmp_path / "missing", SETTINGS)
    (tmp_path / "file.md").write_text("x")
    with pytest.raises(VaultError):
        scan_vault(tmp_path / "file.md", SETTINGS)


def test_state_gitignore_keeps_machine_files_out_and_upgrades_an_old_one(
        tmp_path: Path) -> None:
    import subprocess

    from flashmark.vault.fallback import keep_local_files_out_of_git
    from flashmark.vault.lock import vault_lock

    vault = tmp_path / "v"
    state = vault / ".flashmark"
    state.mkdir(parents=True)
    # What an older flashmark wrote (no final newline to make it harder), plus a
    # line of the user's own.
    (state / ".gitignore").write_text("# flashmark: old\ncache/\nmine.txt")
    with vault_lock(vault):
        pass
    keep_local_files_out_of_git(state)  # idempotent
    lines = (state / ".gitignore").read_text().splitlines()
    assert lines == ["# flashmark: old", "cache/", "mine.txt", "lock", "tmp-journal",
                     "recovered/"]
    # And git agrees: of the machine's files only the review log would be committed.
    for name in ("reviews.jsonl", "tmp-journal"):
        (state / name).write_text("x\n")
    (state / "recovered").mkdir()
    (state / "recovered" / "n.md.1").write_text("x\n")
    subprocess.run(["git", "init", "-q", str(vault)], check=True)
    listed = subprocess.run(["git", "-C", str(vault), "ls-files", "--others",
                             "--exclude-standard"], capture_output=True, text=True,
                            check=True).stdout.split()
    assert listed == [".flashmark/.gitignore", ".flashmark/reviews.jsonl"]

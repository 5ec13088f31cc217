"""The one write path: minimal splice, atomic write, guard against concurrent changes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from flashmark.errors import ConflictError
from flashmark.vault import edit as edit_module
from flashmark.vault.edit import Edit, NoteWriteError, apply_edits, splice

NOTE = b"# title\r\n\r\nq::@::a <!--SR:!2026-01-01,3,250!2026-01-02,4,250-->\r\nrest\r\n"


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def test_splice_changes_only_the_edited_bytes() -> None:
    data = b"abc def ghi"
    assert splice(data, [Edit(4, 7, b"def", b"XY"), Edit(0, 0, b"", b">")]) == b">abc XY ghi"


def test_splice_rejects_overlaps_and_wrong_old_bytes() -> None:
    with pytest.raises(ValueError):
        splice(b"abcdef", [Edit(0, 3, b"abc", b""), Edit(2, 4, b"cd", b"")])
    with pytest.raises(ConflictError):
        splice(b"abcdef", [Edit(0, 3, b"xyz", b"")])


def test_edit_checks_its_own_consistency() -> None:
    with pytest.raises(ValueError):
        Edit(3, 5, b"abc", b"")


def test_apply_keeps_every_other_byte_and_the_mode(tmp_path: Path) -> None:
    path = _write(tmp_path / "n.md", NOTE)
    os.chmod(path, 0o640)
    start = NOTE.index(b"2026-01-02,4,250")
    applied = apply_edits(path, "n.md", [Edit(start, start + 16, b"2026-01-02,4,250",
                                               b"2026-02-02,30,270")], basis=NOTE)
    after = Path(path).read_bytes()
    assert after == NOTE.replace(b"2026-01-02,4,250", b"2026-02-02,30,270")
    assert applied.before == NOTE and applied.after == after
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    # no temp file left (.flashmark/ holds the vault's lock)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".flashmark", "n.md"]


def test_changed_note_is_relocated(tmp_path: Path) -> None:
    path = _write(tmp_path / "n.md", NOTE)
    start = NOTE.index(b"2026-01-02,4,250")
    stale = Edit(start, start + 16, b"2026-01-02,4,250", b"NEW")
    # someone inserts a line above the card after we read the note
    Path(path).write_bytes(b"inserted line\r\n" + NOTE)
    calls: list[bytes] = []

    def relocate(data: bytes) -> list[Edit]:
        calls.append(data)
        at = data.index(b"2026-01-02,4,250")
        return [Edit(at, at + 16, b"2026-01-02,4,250", b"NEW")]

    apply_edits(path, "n.md", [stale], relocate, basis=NOTE)
    assert Path(path).read_bytes() == b"inserted line\r\n" + NOTE.replace(b"2026-01-02,4,250",
                                                                         b"NEW")
    assert len(calls) == 1


def test_card_gone_means_conflict_and_nothing_written(tmp_path: Path) -> None:
    path = _write(tmp_path / "n.md", NOTE)
    start = NOTE.index(b"2026-01-02,4,250")
    other = b"the card was deleted\n"
    Path(path).write_bytes(other)
    with pytest.raises(ConflictError, match="could not be found"):
        apply_edits(path, "n.md", [Edit(start, start + 16, b"2026-01-02,4,250", b"X")],
                    lambda data: None, basis=NOTE)
    assert Path(path).read_bytes() == other


def test_failure_after_temp_file_leaves_old_note(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "n.md", NOTE)
    seen: list[str] = []

    def crash(tmp: str) -> None:
        seen.append(tmp)
        assert Path(tmp).read_bytes() == b"%" + NOTE[1:]  # the new note, fully written
        raise OSError("simulated power loss before the rename")

    monkeypatch.setattr(edit_module, "_before_rename", crash)
    with pytest.raises(NoteWriteError, match="simulated"):
        apply_edits(path, "n.md", [Edit(0, 1, b"#", b"%")], basis=NOTE)
    assert Path(path).read_bytes() == NOTE
    assert seen and not Path(seen[0]).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".flashmark", "n.md"]


def test_write_by_another_program_during_our_write_is_not_overwritten(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "n.md", NOTE)
    theirs = NOTE + b"added by Obsidian\r\n"

    def other_writer(tmp: str) -> None:
        Path(path).write_bytes(theirs)

    monkeypatch.setattr(edit_module, "_before_rename", other_writer)
    with pytest.raises(ConflictError, match="changed since it was read"):
        apply_edits(path, "n.md", [Edit(0, 1, b"#", b"%")], basis=NOTE)
    assert Path(path).read_bytes() == theirs


def test_symlinked_note_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.md"
    real.write_bytes(NOTE)
    link = tmp_path / "link.md"
    link.symlink_to(real)
    apply_edits(str(link), "link.md", [Edit(0, 1, b"#", b"%")], basis=NOTE)
    assert link.is_symlink()
    assert real.read_bytes() == b"%" + NOTE[1:]


def test_missing_note_is_a_conflict(tmp_path: Path) -> None:
    with pytest.raises(ConflictError, match="no longer exists"):
        apply_edits(str(tmp_path / "gone.md"), "gone.md", [Edit(0, 0, b"", b"x")], basis=b"")


def test_state_files_are_replaced_whole_and_keep_their_mode(tmp_path: Path) -> None:
    from flashmark.vault.edit import write_file_atomically

    target = tmp_path / ".flashmark" / "weights.json"
    write_file_atomically(str(target), b'{"a": 1}\n')
    assert target.read_bytes() == b'{"a": 1}\n'
    os.chmod(target, 0o600)
    write_file_atomically(str(target), b'{"a": 2}\n')
    assert target.read_bytes() == b'{"a": 2}\n'
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["weights.json"]


def test_state_file_writes_sweep_dead_temporaries_only_when_asked(tmp_path: Path) -> None:
    # A temporary file of a killed rating beside a note is the write path's to recover
    # (its journal says what it holds): a plain write of another file there (git-setup's
    # .gitattributes, the merge driver's result) must leave it alone.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stray = tmp_path / f".n.md.{dead}-abcd.flashmark-tmp"
    stray.write_bytes(b"another program's version")
    edit_module.write_file_atomically(str(tmp_path / ".gitattributes"), b"*.md merge=x\n")
    assert stray.exists()
    edit_module.write_file_atomically(str(tmp_path / "state.json"), b"{}", sweep=True)
    assert not stray.exists()

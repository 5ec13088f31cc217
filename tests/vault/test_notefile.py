"""Reading a note: bytes in, text out; undecodable notes are errors, never guesses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flashmark.errors import EXIT_INPUT, NoteReadError
from flashmark.vault.notefile import BOM, decode_note, read_note


def test_plain_utf8() -> None:
    data = "# Überschrift\n中文 😀\n".encode()
    note = decode_note("a/n.md", data)
    assert note.data is data
    assert note.text == "# Überschrift\n中文 😀\n"
    assert not note.has_bom
    assert note.newline == "\n"


def test_bom_is_kept_as_a_character() -> None:
    data = BOM + b"---\ntags: [x]\n---\n"
    note = decode_note("n.md", data)
    assert note.has_bom
    assert note.text.startswith("\ufeff---")
    # offsets into the text stay aligned with the bytes: the BOM is 1 char, 3 bytes
    assert len(note.text.encode("utf-8")) == len(data)


@pytest.mark.parametrize(("data", "newline"), [
    (b"a\r\nb\r\n", "\r\n"),
    (b"a\nb\r\n", "\n"),
    (b"a\rb\r", "\r"),
    (b"no newline", "\n"),
    (b"\r\n", "\r\n"),
])
def test_newline_is_the_first_one_found(data: bytes, newline: str) -> None:
    assert decode_note("n.md", data).newline == newline


def test_invalid_utf8_names_file_and_line() -> None:
    data = b"line one\nline two\nbad \xff byte\n"
    with pytest.raises(NoteReadError) as info:
        decode_note("folder/bad note.md", data)
    err = info.value
    assert err.path == "folder/bad note.md"
    assert "line 3" in err.reason
    assert "UTF-8" in err.reason
    assert str(err).startswith("folder/bad note.md: ")
    assert err.exit_code == EXIT_INPUT


def test_latin1_text_is_not_guessed() -> None:
    with pytest.raises(NoteReadError) as info:
        decode_note("n.md", "caf\u00e9\n".encode("latin-1"))
    assert "line 1" in info.value.reason


def test_truncated_multibyte_sequence_at_the_end() -> None:
    with pytest.raises(NoteReadError) as info:
        decode_note("n.md", "ok\n中".encode()[:-1])
    assert "line 2" in info.value.reason


def test_nul_bytes_mean_binary() -> None:
    with pytest.raises(NoteReadError) as info:
        decode_note("img.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    assert info.value.path == "img.md"
    assert "binary" in info.value.reason


def test_utf16_is_reported_as_binary() -> None:
    with pytest.raises(NoteReadError):
        decode_note("n.md", "hello\n".encode("utf-16"))


def test_read_note_reads_exact_bytes(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbfa\r\nb\rc\n"
    (tmp_path / "n.md").write_bytes(data)
    note = read_note("n.md", str(tmp_path / "n.md"))
    assert note.data == data
    assert note.text == "\ufeffa\r\nb\rc\n"


@pytest.mark.parametrize("hint", [-1, 0, 5, 69_999, 70_000, 70_001, 10**6])
def test_read_note_reads_the_whole_file_whatever_the_size_hint(tmp_path: Path,
                                                                hint: int) -> None:
    # the size from the walk may be stale: the note grew or shrank since
    data = ("é line\r\n" * 7_000).encode()  # 70,000 bytes
    (tmp_path / "n.md").write_bytes(data)
    assert read_note("n.md", str(tmp_path / "n.md"), hint).data == data
    (tmp_path / "e.md").write_bytes(b"")
    assert read_note("e.md", str(tmp_path / "e.md"), hint).data == b""


def test_read_missing_note(tmp_path: Path) -> None:
    with pytest.raises(NoteReadError) as info:
        read_note("gone.md", str(tmp_path / "gone.md"))
    assert info.value.path == "gone.md"
    assert "cannot read" in info.value.reason


def test_read_folder_instead_of_note(tmp_path: Path) -> None:
    (tmp_path / "dir.md").mkdir()
    with pytest.raises(NoteReadError):
        read_note("dir.md", str(tmp_path / "dir.md"))


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True,
                    reason="root can read any file")
def test_read_unreadable_note(tmp_path: Path) -> None:
    path = tmp_path / "secret.md"
    path.write_text("x\n")
    path.chmod(0)
    try:
        with pytest.raises(NoteReadError) as info:
            read_note("secret.md", str(path))
        assert "cannot read" in info.value.reason
    finally:
        path.chmod(0o644)

"""Finding a vault's notes: dot-folders, symlinks, ignore globs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flashmark.model import Diagnostic
from flashmark.vault.walk import walk_notes


def _touch(path: Path, text: str = "x\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _rels(root: Path, ignore: tuple[str, ...] = (),
          problems: list[Diagnostic] | None = None) -> list[str]:
    return [f.rel for f in walk_notes(str(root), ignore, problems)]


def test_finds_markdown_notes_in_sorted_order(tmp_path: Path) -> None:
    for rel in ["b.md", "a.md", "sub/z.md", "sub/deeper/y.md", "notes.txt", "image.png",
                "sub/README.MD"]:
        _touch(tmp_path / rel)
    assert _rels(tmp_path) == ["a.md", "b.md", "sub/deeper/y.md", "sub/z.md"]


def test_note_file_fields(tmp_path: Path) -> None:
    _touch(tmp_path / "dir" / "n.md", "hello\n")
    os.utime(tmp_path / "dir" / "n.md", ns=(1_600_000_000_000_000_000, 1_600_000_000_123_456_789))
    (f,) = walk_notes(str(tmp_path))
    assert f.rel == "dir/n.md"
    assert Path(f.path) == tmp_path / "dir" / "n.md"
    assert f.size == 6
    assert f.mtime_ns == 1_600_000_000_123_456_789


def test_skips_dot_folders_and_dot_files(tmp_path: Path) -> None:
    for rel in [".obsidian/plugins/x.md", ".git/x.md", ".trash/old.md", ".flashmark/cache/x.md",
                ".hidden.md", "sub/.secret/x.md", "keep.md", "sub/keep.md"]:
        _touch(tmp_path / rel)
    assert _rels(tmp_path) == ["keep.md", "sub/keep.md"]


def test_follows_a_symlinked_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    vault = tmp_path / "vault"
    _touch(outside / "linked.md")
    _touch(vault / "own.md")
    os.symlink(outside, vault / "link")
    assert _rels(vault) == ["link/linked.md", "own.md"]


def test_symlinked_folder_inside_the_vault_is_visited_once(tmp_path: Path) -> None:
    _touch(tmp_path / "real" / "n.md")
    os.symlink(tmp_path / "real", tmp_path / "zlink")
    problems: list[Diagnostic] = []
    assert _rels(tmp_path, problems=problems) == ["real/n.md"]
    assert [p.path for p in problems] == ["zlink"]


def test_survives_a_symlink_loop(tmp_path: Path) -> None:
    _touch(tmp_path / "a" / "n.md")
    os.symlink(tmp_path, tmp_path / "a" / "up")  # a/up -> the vault itself
    os.symlink(tmp_path / "a", tmp_path / "a" / "self")  # a/self -> a
    problems: list[Diagnostic] = []
    assert _rels(tmp_path, problems=problems) == ["a/n.md"]
    assert sorted(p.path for p in problems) == ["a/self", "a/up"]
    assert all("already visited" in p.message for p in problems)


def test_broken_symlink_is_not_a_note(tmp_path: Path) -> None:
    _touch(tmp_path / "n.md")
    os.symlink(tmp_path / "missing.md", tmp_path / "dangling.md")
    assert _rels(tmp_path) == ["n.md"]


def test_symlinked_note_is_found(tmp_path: Path) -> None:
    _touch(tmp_path / "elsewhere" / "real.txt")
    (tmp_path / "vault").mkdir()
    os.symlink(tmp_path / "elsewhere" / "real.txt", tmp_path / "vault" / "alias.md")
    assert _rels(tmp_path / "vault") == ["alias.md"]


@pytest.mark.parametrize(("ignore", "expected"), [
    ((), ["a.md", "drafts/d.md", "drafts/sub/e.md", "pics/p.excalidraw.md"]),
    (("drafts/*",), ["a.md", "pics/p.excalidraw.md"]),
    (("drafts/",), ["a.md", "pics/p.excalidraw.md"]),
    (("**/*.excalidraw.md",), ["a.md", "drafts/d.md", "drafts/sub/e.md"]),
    (("a.md", "drafts/sub/*"), ["drafts/d.md", "pics/p.excalidraw.md"]),
    (("nothing/*",), ["a.md", "drafts/d.md", "drafts/sub/e.md", "pics/p.excalidraw.md"]),
    # several globs are one regular expression: classes, "?" and case as fnmatchcase has them
    (("[ab].md", "pics/*.excalidraw.md"), ["drafts/d.md", "drafts/sub/e.md"]),
    (("drafts/s?b/*", "*.MD"), ["a.md", "drafts/d.md", "pics/p.excalidraw.md"]),
    (("[!a].md", "drafts/[!s]*"), ["a.md", "drafts/sub/e.md", "pics/p.excalidraw.md"]),
])
def test_ignore_globs(tmp_path: Path, ignore: tuple[str, ...], expected: list[str]) -> None:
    for rel in ["a.md", "drafts/d.md", "drafts/sub/e.md", "pics/p.excalidraw.md"]:
        _touch(tmp_path / rel)
    assert _rels(tmp_path, ignore) == expected


def test_missing_root_yields_nothing(tmp_path: Path) -> None:
    assert _rels(tmp_path / "nope") == []


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True,
                    reason="root can list any folder")
def test_unreadable_folder_is_a_problem(tmp_path: Path) -> None:
    _touch(tmp_path / "ok.md")
    _touch(tmp_path / "locked" / "n.md")
    (tmp_path / "locked").chmod(0)
    try:
        problems: list[Diagnostic] = []
        assert _rels(tmp_path, problems=problems) == ["ok.md"]
        assert [p.path for p in problems] == ["locked"]
    finally:
        (tmp_path / "locked").chmod(0o755)

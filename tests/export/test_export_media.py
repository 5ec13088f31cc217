"""Finding images the way Obsidian does, and their names in the package."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flashmark.export.media import MediaIndex, packaged_name
from flashmark.export.render import NoteContext


def files(root: Path, *rels: str) -> Path:
    for rel in rels:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"\x89PNG")
    return root


def test_relative_paths_vault_paths_and_names(tmp_path: Path) -> None:
    root = files(tmp_path / "v", "notes/a.png", "img/b.png", "deep/x/c.png", "notes/sub/d.png")
    idx = MediaIndex(root)
    assert idx.find("a.png", "notes/n.md") == ("notes/a.png", None)  # same folder
    assert idx.find("../img/b.png", "notes/n.md") == ("img/b.png", None)  # relative
    assert idx.find("img/b.png", "notes/n.md") == ("img/b.png", None)  # from the root
    assert idx.find("/img/b.png", "notes/n.md") == ("img/b.png", None)
    assert idx.find("c.png", "notes/n.md") == ("deep/x/c.png", None)  # unique name
    assert idx.find("x/c.png", "notes/n.md") == ("deep/x/c.png", None)  # path suffix
    assert idx.find("C.PNG", "notes/n.md") == ("deep/x/c.png", None)  # case-insensitive name
    assert idx.find("sub/d.png#frag", "notes/n.md") == ("notes/sub/d.png", None)


def test_ambiguous_names(tmp_path: Path) -> None:
    root = files(tmp_path / "v", "a/p.png", "b/p.png", "attach/p.png", "zz/long/path/p.png")
    idx = MediaIndex(root)
    assert idx.find("p.png", "a/n.md") == ("a/p.png", None)  # the note's folder first
    assert idx.find("p.png", "c/n.md")[0] in {"a/p.png", "b/p.png", "attach/p.png"}
    (root / ".obsidian").mkdir()
    (root / ".obsidian" / "app.json").write_text(json.dumps({"attachmentFolderPath": "attach"}))
    assert MediaIndex(root).find("p.png", "c/n.md") == ("attach/p.png", None)
    (root / ".obsidian" / "app.json").write_text(json.dumps({"attachmentFolderPath": "./"}))
    assert MediaIndex(root).find("p.png", "b/n.md") == ("b/p.png", None)


def test_outside_and_missing(tmp_path: Path) -> None:
    root = files(tmp_path / "v", "in.png")
    files(tmp_path, "secret.png")
    idx = MediaIndex(root)
    assert idx.find("../secret.png", "n.md") == (None, "'../secret.png' resolves outside the vault")
    assert idx.find("file:///etc/x.png", "n.md")[0] is None
    assert idx.find("nope.png", "n.md") == (None, "'nope.png' not found")


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_symlink_out_of_the_vault_is_refused(tmp_path: Path) -> None:
    root = files(tmp_path / "v", "ok.png")
    files(tmp_path, "outside/secret.png")
    (root / "link.png").symlink_to(tmp_path / "outside" / "secret.png")
    idx = MediaIndex(root)
    found, problem = idx.find("link.png", "n.md")
    assert found is None and problem is not None and "outside the vault" in problem


def test_resolve_records_media_and_problems(tmp_path: Path) -> None:
    root = files(tmp_path / "v", "img/a b.png")
    idx = MediaIndex(root)
    ctx = NoteContext("n.md", "v")
    name, problem = idx.resolve("img/a b.png", ctx)
    assert problem is None and name == packaged_name("img/a b.png") and ctx.media == {"img/a b.png"}
    assert idx.resolve("x.png", ctx) == (None, "n.md: image 'x.png' not found")


def test_packaged_names_are_unique_stable_and_safe() -> None:
    a, b = packaged_name("a/diagram.png"), packaged_name("b/diagram.png")
    assert a != b and a == packaged_name("a/diagram.png")
    assert a.startswith("diagram-") and a.endswith(".png")
    odd = packaged_name('x/we ird#na"me?.PNG')
    assert odd.endswith(".png") and not set(odd) & set(' #"?/\\')
    assert packaged_name("noext").startswith("noext-")

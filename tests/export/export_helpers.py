"""Helpers for the export tests: a small vault with every card type and the Obsidian
syntax Anki cannot show, running the command, and reading a package back with the
official `anki` library. (Its own module name: test folders share one namespace.)"""

from __future__ import annotations

import argparse
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flashmark.cli import export as export_cli

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("FLASHMARK_CORPUS") or
              REPO / ".." / "shared" / "corpus" / "information")

# 1x1 PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da6364f8cf00000301010018dd8db40000000049454e44ae426082")

NOTES: dict[str, str] = {
    "science/physics.md": """\
---
tags:
  - flashcard/active/science/physics
---
# Physics

Energy of a photon:@:$E = h\\nu$ <!--SR:!2026-03-13,394,230-->

Newton's second law::@::$F = ma$, see [[mechanics#Laws|the laws]]

A cloze with math {@{$\\frac{a}{b}$}@} and {@{$x^{y^{2}}$}@} and a hinted {@{answer;;hint}@}.

Numbered clozes: {@{1;;first}@} then {@{2;;second}@} and {@{1;;first again}@}.

What is shown?
?@?
A ==highlighted== word, `inline code`, and a picture ![[diagram.png]]
```python
x = {"a": 1}
```

> [!tip] Remember
> Units are {@{joules}@} ^block1
""",
    "science/mechanics.md": """\
---
tags: [flashcard/active/science/mechanics, topic/classical]
---
Mass::@::a measure of inertia #extra/inline
Speed:@:distance / time

Front line one
Front line two
??@??
Back with **bold** and a [link](physics.md) and <img src="sub/photo.png">
""",
    "science/sub/photo.png": "",
    "science/diagram.png": "",
    "history/rome.md": """\
#flashcard/active/history

Rome was founded in {@{753 BC}@} by {@{Romulus}@}. <!--SR:!2026-01-02,10,250!2000-01-01,1,250-->

Julius Caesar crossed the::@::Rubicon

A gap: {@{1;;one}@} and {@{3;;three}@}

Images:@:![a missing one](nowhere.png) and ![](../../etc/passwd.png)
""",
    "not cards.md": "# no flashcard tag here\nq:@:a\n",
}


def write_vault(root: Path, notes: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in (NOTES if notes is None else notes).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".png"):
            path.write_bytes(PNG)
        else:
            path.write_text(text, encoding="utf-8")
    (root / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard/active"]\n',
                                         encoding="utf-8")
    return root


ExportRun = Callable[..., tuple[int, str]]


def run_export(vault: Path, out: Path, *extra: str) -> tuple[int, str]:
    """Run the command module as `flashmark export` would (its own parser: the command
    is registered in cli/main.py by the integrator)."""
    parser = argparse.ArgumentParser(prog="flashmark")
    sub = parser.add_subparsers()
    export_cli.register(sub)
    args = parser.parse_args(["export", str(vault), "-o", str(out), *extra])
    buf = io.StringIO()
    code = export_cli.run(args, buf)
    return code, buf.getvalue()


class AnkiCollection:
    """A fresh Anki collection in a temporary folder (the official `anki` package)."""

    def __init__(self, folder: Path) -> None:
        from anki.collection import Collection

        self.col: Any = Collection(str(folder / "collection.anki2"))

    def make_older(self, days: int) -> None:
        """Pretend the collection was created ``days`` days earlier (reopened, so that
        Anki's day count follows)."""
        from anki.collection import Collection

        self.col.db.execute("update col set crt = crt - ?", 86400 * days)
        path = self.col.path
        self.col.close()
        self.col = Collection(path)

    def import_package(self, path: Path, *, with_scheduling: bool = True) -> Any:
        from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

        result = self.col.import_anki_package(ImportAnkiPackageRequest(
            package_path=str(path.resolve()),
            options=ImportAnkiPackageOptions(with_scheduling=with_scheduling)))
        return result.log

    def notes(self) -> dict[str, Any]:
        """GUID -> note."""
        return {self.col.get_note(nid).guid: self.col.get_note(nid)
                for nid in self.col.find_notes("")}

    def cards(self) -> list[Any]:
        return [self.col.get_card(cid) for cid in self.col.find_cards("")]

    def close(self) -> None:
        self.col.close()

"""Benchmark `flashmark export` on a copy of the real vault against a genanki floor
(the figures in docs/benchmarks.md).

Whole-process wall times, median of --runs runs each, measured in one run:

- floor: a Python process that builds, with genanki's own `Package.write_to_file`,
  the same number of plain notes as the export writes, each with the same number of
  cards (one-sided notes on a basic model, reversible ones on a two-template model,
  cloze blocks as cloze notes with as many plain `{{cN::x}}` deletions): the package
  without any Markdown, identity or deck work;
- first export: `flashmark export` with a warm index (as after any command) but no
  export manifest and no render cache yet;
- re-export, nothing changed: the manifest and the render cache in place;
- re-export after 10 notes changed (what a user does after a study session): only
  those are read, parsed and rendered again.

Prints a Markdown table with the ratios to the floor (the median of each round's ratio:
the rounds are interleaved, so a busy neighbour on a shared machine slows a whole round).

    python scripts/bench_export.py [--vault ../shared/corpus/information] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

RUNNER = r"""
import argparse, sys
from flashmark.cli import export
p = argparse.ArgumentParser(prog="flashmark")
sub = p.add_subparsers()
export.register(sub)
args = p.parse_args(sys.argv[1:])
sys.exit(args.run(args))
"""

FLOOR = r"""
import json, sys
import genanki
shape = json.load(open(sys.argv[1]))
basic = genanki.Model(1607392301, "floor basic", fields=[{"name": "Front"}, {"name": "Back"}],
                      templates=[{"name": "C1", "qfmt": "{{Front}}",
                                  "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}])
rev = genanki.Model(1607392302, "floor reversed", fields=[{"name": "Front"}, {"name": "Back"}],
                    templates=[{"name": "C1", "qfmt": "{{Front}}",
                                "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"},
                               {"name": "C2", "qfmt": "{{Back}}",
                                "afmt": "{{FrontSide}}<hr id=answer>{{Front}}"}])
cloze = genanki.Model(1607392303, "floor cloze", fields=[{"name": "Text"}],
                      templates=[{"name": "Cloze", "qfmt": "{{cloze:Text}}",
                                  "afmt": "{{cloze:Text}}"}],
                      model_type=genanki.Model.CLOZE)
deck = genanki.Deck(2059400191, "floor")
for k, (kind, cards) in enumerate(shape):
    if kind == "c":
        text = " ".join(f"{{{{c{j + 1}::word {j}}}}}" for j in range(cards))
        note = genanki.Note(model=cloze, fields=[f"plain note {k}: {text}"], guid=f"g{k}")
    else:
        note = genanki.Note(model=rev if kind == "r" else basic,
                            fields=[f"plain front {k}", f"plain back {k}"], guid=f"g{k}")
    deck.add_note(note)
genanki.Package(deck).write_to_file(sys.argv[2])
"""


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def package_shape(apkg: Path) -> list[tuple[str, int]]:
    """(model letter, card count) of every note of an exported package."""
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(apkg) as zf:
            zf.extract("collection.anki2", tmp)
        conn = sqlite3.connect(Path(tmp) / "collection.anki2")
        try:
            models = {int(mid): m["name"] for mid, m in
                      json.loads(conn.execute("SELECT models FROM col").fetchone()[0]).items()}
            rows = conn.execute("SELECT n.mid, COUNT(c.id) FROM notes n JOIN cards c "
                                "ON c.nid = n.id GROUP BY n.id ORDER BY n.id").fetchall()
        finally:
            conn.close()
    letter = {name: ("c" if "Cloze" in name else "r" if "reversed" in name else "b")
              for name in models.values()}
    return [(letter[models[mid]], n) for mid, n in rows]


def main() -> int:
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vault", type=Path, default=here.parent / "shared/corpus/information")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        vault = tmp / "vault"
        shutil.copytree(args.vault, vault, ignore=shutil.ignore_patterns(".flashmark"))
        out = tmp / "out.apkg"
        export = [py, "-c", RUNNER, "export", str(vault), "-o", str(out)]
        manifest = vault / ".flashmark" / "export-manifest.json"
        render_cache = vault / ".flashmark" / "cache" / "export.sqlite3"
        changing = sorted(vault.rglob("*.md"), key=lambda p: (p.stat().st_size, str(p)))
        changing = [p for p in changing if "flashcard/active" in p.read_text("utf-8")][-10:]
        import flashmark

        # compiled bytecode, as an install or a first run leaves it (see bench_scan.py)
        subprocess.run([py, "-m", "compileall", "-q", str(Path(flashmark.__file__).parent)],
                       check=True)
        subprocess.run([py, "-m", "flashmark", "scan", str(vault)], check=True,
                       stdout=subprocess.DEVNULL)  # a warm index, as after any command
        subprocess.run(export, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shape = package_shape(out)
        shape_file = tmp / "shape.json"
        shape_file.write_text(json.dumps(shape))
        floor_cmd = [py, "-c", FLOOR, str(shape_file), str(tmp / "floor.apkg")]
        floor: list[float] = []
        first: list[float] = []
        again: list[float] = []
        edited: list[float] = []
        for _ in range(args.runs):  # interleaved: machine noise hits all alike
            floor.append(timed(floor_cmd))
            manifest.unlink(missing_ok=True)
            render_cache.unlink(missing_ok=True)
            first.append(timed(export))
            again.append(timed(export))
            for p in changing:
                with p.open("a", encoding="utf-8") as fh:
                    fh.write("\n")
            edited.append(timed(export))
        f, a, b, c = (statistics.median(x) for x in (floor, first, again, edited))
        # the ratio of each round (a busy neighbour slows a whole round), then the median
        ra, rb, rc = (statistics.median(x / y for x, y in zip(xs, floor, strict=True))
                      for xs in (first, again, edited))
        first_ratios = sorted(x / y for x, y in zip(first, floor, strict=True))
        notes, cards = len(shape), sum(n for _, n in shape)
        print(f"vault: {args.vault} ({notes:,} notes, {cards:,} cards); median of "
              f"{args.runs} runs; {os.cpu_count()} CPUs\n")
        print("| what | wall time | vs floor |")
        print("|---|---:|---:|")
        print(f"| floor: genanki writes {notes:,} plain notes / {cards:,} cards | {f:.2f} s "
              "| 1.00x |")
        print(f"| `flashmark export`, first (no manifest, no render cache) | {a:.2f} s "
              f"| {ra:.2f}x |")
        print(f"| `flashmark export` again, nothing changed | {b:.2f} s | {rb:.2f}x |")
        print(f"| `flashmark export` again, the 10 biggest notes changed | {c:.2f} s "
              f"| {rc:.2f}x |")
        print(f"\nfirst export / floor, per round: {first_ratios[0]:.2f}x to "
              f"{first_ratios[-1]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

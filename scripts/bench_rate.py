"""Benchmark rating: whole-process `flashmark rate` on a copy of the real vault
with a warm index, and the in-process cost of one write-back (schedule + edit + atomic
write with fsync + log append) on a ~100 KB note. Medians; prints a Markdown table.

    python scripts/bench_rate.py [--vault ../shared/corpus/information] [--runs 15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flashmark.cards import cards_of
from flashmark.config import load_settings
from flashmark.model import Rating
from flashmark.review.rating import CardFinder, rate_card, undo_last
from flashmark.syntax import parse_note
from flashmark.vault.scan import scan_vault


def main() -> int:
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vault", type=Path, default=here.parent / "shared/corpus/information")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "vault"
        shutil.copytree(args.vault, root)
        settings = load_settings(root)
        scan_vault(root, settings).close()  # warm index
        # a flashcard note close to 100 KB
        notes = [(abs(p.stat().st_size - 100_000), p) for p in root.rglob("*.md")
                 if "flashcard/active" in p.read_text(encoding="utf-8")]
        _, big = min(notes)
        rel = big.relative_to(root).as_posix()
        size_kb = big.stat().st_size / 1000
        parsed = parse_note(big.read_text(encoding="utf-8"), settings.parser)
        ids = [c.id for q in parsed.questions for c in cards_of(q, rel)]
        now = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)

        noop = statistics.median(_timed([py, "-c", "pass"]) for _ in range(args.runs))
        proc = []
        for k in range(args.runs):
            cmd = [py, "-m", "flashmark", "rate", ids[k % len(ids)], "good", str(root),
                   "--now", (now + dt.timedelta(minutes=k)).isoformat()]
            proc.append(_timed(cmd))
        finder = CardFinder(root, settings)
        finder.find(ids[0])  # id map loaded once, as in a review session
        inproc = []
        for k in range(args.runs * 3):
            start = time.perf_counter()
            rate_card(root, settings, ids[k % len(ids)], Rating.GOOD,
                      now + dt.timedelta(hours=k), finder=finder)
            inproc.append(time.perf_counter() - start)
        for _ in range(args.runs * 4):
            undo_last(root, now, finder.log)
    print(f"runs: {args.runs} (process) / {args.runs * 3} (in-process), median; "
          f"note: {rel} ({size_kb:.0f} KB)\n")
    print("| what | median (ms) |")
    print("|---|---:|")
    print(f"| `python -c pass` (interpreter start, the floor) | {noop * 1000:.0f} |")
    print(f"| whole-process `flashmark rate ID good VAULT` (warm index) | "
          f"{statistics.median(proc) * 1000:.0f} |")
    print(f"| in-process rating write-back on the note (find, schedule, atomic write + "
          f"fsync, log append + fsync) | {statistics.median(inproc) * 1000:.1f} |")
    return 0


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark `flashmark search` on a copy of the real vault.

    python scripts/bench_search.py [--vault ../shared/corpus/information] [--runs 7]

Copies the vault (it is read-only), runs one cold search (the card table is filled),
then each query --runs times as a whole process with --count, and prints a Markdown
table of medians and minimums against `python -c pass` and a warm `flashmark scan`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
QUERIES = [
    "deck:flashcard/active/general/* is:due",
    "is:due",
    "is:new",
    "prop:ivl>=30 -is:suspended",
    "prop:r<0.8",
    "tag:language/in/English type:cloze",
    "mitochondria",
    "deck:flashcard/active/special/* (enzyme or protein)",
    '"cell membrane" or nucleus',
]


def timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vault", type=Path, default=HERE.parent / "shared/corpus/information")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--browser", action="store_true",
                    help="also: open the reviewer's browser on a query matching 10,000+ "
                         "cards (in-process, Pilot at 120x40)")
    args = ap.parse_args()
    fm = [sys.executable, "-m", "flashmark"]
    with tempfile.TemporaryDirectory() as tmp:
        vault = Path(tmp) / "vault"
        shutil.copytree(args.vault, vault, ignore=shutil.ignore_patterns(".flashmark"))
        for p in vault.rglob("*"):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        timed([*fm, "scan", str(vault)])
        cold, _ = timed([*fm, "search", "is:due", str(vault), "--count"])
        print(f"load average {os.getloadavg()[0]:.2f}; cold search (index and card table "
              f"built): {cold:.2f} s\n")
        print("| what | matches | median (s) | min (s) |\n|---|---:|---:|---:|")
        rows: list[tuple[str, list[str]]] = [
            ("floor: `python -c pass`", [sys.executable, "-c", "pass"]),
            ("`flashmark scan` (warm)", [*fm, "scan", str(vault)])]
        rows += [(f"`search '{q}'`", [*fm, "search", q, str(vault), "--count"])
                 for q in QUERIES]
        rows.append(("`search 'is:due' --json` (every field printed)",
                     [*fm, "search", "is:due", str(vault), "--json"]))
        for label, cmd in rows:
            times = []
            out = ""
            for _ in range(args.runs):
                t, out = timed(cmd)
                times.append(t)
            matches = out if out.isdigit() else (str(len(out.splitlines()))
                                                 if "--json" in cmd else "")
            print(f"| {label} | {matches} | {statistics.median(times):.3f} | "
                  f"{min(times):.3f} |")
        if args.browser:
            for query in ("-is:new", "deck:flashcard/active/general/*"):
                print(f"\nbrowser opened on {query!r}: {browser_seconds(vault, query):.2f} s "
                      "from the key to the table drawn")
    return 0


def browser_seconds(vault: Path, query: str) -> float:
    """Seconds from pressing `b` on the deck list (the query typed in first) to the
    browser's table filled and painted."""
    import asyncio
    import datetime as dt

    from flashmark.config import load_settings
    from flashmark.review.settings import load_review_settings
    from flashmark.tui.app import Context, FlashmarkApp
    from flashmark.tui.browser_screen import BrowserScreen

    ctx = Context(vault, load_settings(vault), load_review_settings(vault),
                  lambda: dt.datetime.now().astimezone())
    app = FlashmarkApp(ctx, start="decks")
    took = 0.0

    async def main() -> None:
        nonlocal took
        async with app.run_test(size=(120, 40)) as pilot:
            while not app.ready:
                await pilot.pause(0.05)
            app.ready = False
            start = time.perf_counter()
            await app.push_screen(BrowserScreen(query))
            while not app.ready:
                await pilot.pause(0.01)
            await pilot.pause()
            took = time.perf_counter() - start

    asyncio.run(main())
    return took


if __name__ == "__main__":
    sys.exit(main())

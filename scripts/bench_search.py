"""Benchmark `flashmark search` on a copy of the real vault.

    python scripts/bench_search.py [--vault ../shared/corpus/information] [--runs 7]
                                   [--reviews N]

Copies the vault (it is read-only), runs one cold search (the card table is filled),
then each query --runs times as a whole process with --count, and prints a Markdown
table of medians and minimums against `python -c pass` and a warm `flashmark scan`.
``--reviews N`` first writes a review log of N made-up ratings over the last year
(seeded: tests/tui/stats_log.py), as a daily user's vault has, and also times `due` and
`stats`: a search folds the whole log.
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
    "prop:s>100",
    "prop:d>5",
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
    ap.add_argument("--reviews", type=int, default=0,
                    help="ratings in a made-up review log of the last year (default none)")
    ap.add_argument("--browser", action="store_true",
                    help="also: open the reviewer's browser on a query matching 10,000+ "
                         "cards (in-process, Pilot at 80x24 and 120x40)")
    args = ap.parse_args()
    fm = [sys.executable, "-m", "flashmark"]
    with tempfile.TemporaryDirectory() as tmp:
        vault = Path(tmp) / "vault"
        shutil.copytree(args.vault, vault, ignore=shutil.ignore_patterns(".flashmark"))
        for p in vault.rglob("*"):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        timed([*fm, "scan", str(vault)])
        if args.reviews:
            import datetime as dt

            sys.path.insert(0, str(HERE))  # the repository: the `tests` package
            from tests.tui.stats_log import write_year_of_reviews

            write_year_of_reviews(vault, dt.datetime.now(dt.UTC), reviews=args.reviews)
        cold, _ = timed([*fm, "search", "is:due", str(vault), "--count"])
        print(f"load average {os.getloadavg()[0]:.2f}; {args.reviews} ratings in the log; "
              f"cold search (index and card table built): {cold:.2f} s\n")
        print("| what | matches | median (s) | min (s) |\n|---|---:|---:|---:|")
        rows: list[tuple[str, list[str]]] = [
            ("floor: `python -c pass`", [sys.executable, "-c", "pass"]),
            ("`flashmark scan` (warm)", [*fm, "scan", str(vault)])]
        rows += [(f"`search '{q}'`", [*fm, "search", q, str(vault), "--count"])
                 for q in QUERIES]
        rows.append(("`search 'is:due' --json` (every field printed)",
                     [*fm, "search", "is:due", str(vault), "--json"]))
        if args.reviews:
            rows += [("`flashmark due`", [*fm, "due", str(vault)]),
                     ("`flashmark stats`", [*fm, "stats", str(vault)])]
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
            print()
            for query in ("-is:new", "deck:flashcard/active/general/*"):
                for size in ((80, 24), (120, 40)):
                    runs = [browser_seconds(vault, query, size) for _ in range(3)]
                    first = statistics.median(t[0] for t in runs)
                    every = statistics.median(t[1] for t in runs)
                    print(f"browser opened on {query!r} at {size[0]}x{size[1]}: first rows "
                          f"drawn {first:.2f} s, every row in the table {every:.2f} s "
                          "(medians of 3)")
    return 0


def browser_seconds(vault: Path, query: str, size: tuple[int, int] = (120, 40)
                    ) -> tuple[float, float]:
    """Seconds from opening the browser on ``query`` over the deck list to its first
    rows in the table (painted at the next screen refresh, while the rest are added), and
    to every shown row in the table and painted (all its workers done). Before the rows
    were added in chunks (issue 14), both were the same moment."""
    import asyncio
    import datetime as dt

    from textual.worker import WorkerState

    from flashmark.config import load_settings
    from flashmark.review.settings import load_review_settings
    from flashmark.tui.app import Context, FlashmarkApp
    from flashmark.tui.browser_screen import BrowserScreen

    ctx = Context(vault, load_settings(vault), load_review_settings(vault),
                  lambda: dt.datetime.now().astimezone())
    app = FlashmarkApp(ctx, start="decks")
    first = took = 0.0
    busy = (WorkerState.PENDING, WorkerState.RUNNING)

    async def main() -> None:
        nonlocal first, took
        async with app.run_test(size=size) as pilot:

            async def settle() -> None:
                while True:
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                    if not any(w.state in busy for w in app.workers):
                        return

            await settle()  # the deck list loaded
            start = time.perf_counter()
            screen = BrowserScreen(query)
            await app.push_screen(screen)
            table = screen.query_one("#browser-table")
            while not getattr(table, "row_count", 0):  # (pilot.pause waits for idle)
                await asyncio.sleep(0.002)
            first = time.perf_counter() - start  # painted at the next refresh
            await settle()
            await pilot.pause()
            took = time.perf_counter() - start
            assert screen.result is not None and screen.result.rows

    asyncio.run(main())
    return first, took


if __name__ == "__main__":
    sys.exit(main())

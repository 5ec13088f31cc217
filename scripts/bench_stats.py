#!/usr/bin/env python3
"""Opening the stats screen on a copy of the real vault, and `flashmark stats --json`.

The real vault has no review log: the copy gets a made-up but fixed one (``--reviews``
ratings of its cards over the last year, seeded: tests/tui/stats_log.py). The index is
warmed by one `flashmark scan` first. Then, ``--runs`` times each:

* the stats screen: the app is started on the deck list (Pilot, 80x24, in this
  process), and the time is taken from the key `s` to the summary drawn (the review
  log's figures) and to every graph drawn (the cards' schedules read from every note);
* `flashmark stats --json`: the whole process.

    python scripts/bench_stats.py [--vault PATH] [--runs 3] [--reviews 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "information"
sys.path.insert(0, str(REPO))

from tests.conftest import copy_writable  # noqa: E402
from tests.tui.stats_log import write_year_of_reviews  # noqa: E402
from tests.tui.tui_support import Clock, make_app, ready  # noqa: E402

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


async def open_stats(vault: Path) -> tuple[float, float]:
    from flashmark.tui.stats_screen import StatsScreen

    app = make_app(vault, start="decks", clock=Clock(NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        t0 = time.perf_counter()
        await pilot.press("s")
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        summary = None
        while screen.stats is None:
            if summary is None and screen.report is not None:
                summary = time.perf_counter() - t0
            await asyncio.sleep(0.005)
        await pilot.pause()
        done = time.perf_counter() - t0
    return summary if summary is not None else done, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vault", type=Path, default=CORPUS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reviews", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vault = copy_writable(args.vault, Path(tmp) / "vault")
        write_year_of_reviews(vault, NOW, reviews=args.reviews)
        flashmark = [sys.executable, "-m", "flashmark"]
        subprocess.run([*flashmark, "scan", str(vault)], check=True, capture_output=True)
        screen, summary, cli = [], [], []
        # Whether starting the app imports the stats screen (it should not).
        loaded = subprocess.run(
            [sys.executable, "-c", "import sys; import flashmark.tui.app, flashmark.tui.screens;"
             " print('flashmark.tui.stats_screen' in sys.modules)"],
            check=True, capture_output=True, text=True).stdout.strip()
        for _ in range(args.runs):
            first, done = asyncio.run(open_stats(vault))
            summary.append(first)
            screen.append(done)
            t0 = time.perf_counter()
            subprocess.run([*flashmark, "stats", str(vault), "--json", "--now",
                            NOW.isoformat()], check=True, capture_output=True)
            cli.append(time.perf_counter() - t0)
        print(f"{args.reviews} reviews in the log, {args.runs} runs; the app's start "
              f"imports the stats screen: {loaded}\n")
        print("| what | median (s) | min (s) |\n|---|---:|---:|")
        for what, values in (("key s → summary drawn", summary),
                             ("key s → every graph drawn", screen),
                             ("`flashmark stats --json` (whole process)", cli)):
            print(f"| {what} | {statistics.median(values):.2f} | {min(values):.2f} |")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

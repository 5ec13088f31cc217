"""Benchmark `flashmark scan` on a copy of the real vault (figures: docs/benchmarks.md).

Whole-process wall times, median of --runs runs each, measured in one run together
with a floor: a Python process that reads every `.md` file and makes one regex pass
over it (what any scanner must at least do). Prints a Markdown table.

The floor and the cold scans run interleaved (floor, cold, cold one process, no-cache,
then again), so a busy neighbour on a shared machine slows both alike; the ratio column
is the median of the per-round ratios. flashmark's bytecode is compiled first, as a
normal install or first run leaves it (environments with PYTHONDONTWRITEBYTECODE=1
would otherwise compile every module in every run).

    python scripts/bench_scan.py [--vault ../shared/corpus/information] [--runs 7]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_support import FLOOR


def timed(cmd: list[str], before: object = None) -> float:
    if callable(before):
        before()
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_of(runs: int, cmd: list[str], before: object = None) -> float:
    return statistics.median(timed(cmd, before) for _ in range(runs))


def main() -> int:
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vault", type=Path, default=here.parent / "shared/corpus/information")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        vault = Path(tmp) / "vault"
        shutil.copytree(args.vault, vault)
        cache = vault / ".flashmark" / "cache"
        scan = [py, "-m", "flashmark", "scan", str(vault)]

        def drop_cache() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        note = next(p for p in sorted(vault.rglob("*.md")) if "flashcard/active" in p.read_text())
        counter = [0]

        def touch_one() -> None:
            counter[0] += 1
            t = time.time() - 10 + counter[0] * 0.001
            os.utime(note, (t, t))

        def edit_one() -> None:
            with note.open("a", encoding="utf-8") as fh:
                fh.write("\n")

        import flashmark

        subprocess.run([py, "-m", "compileall", "-q", str(Path(flashmark.__file__).parent)],
                       check=True)

        def serial() -> None:
            drop_cache()
            os.environ["FLASHMARK_JOBS"] = "1"

        rounds: list[tuple[float, float, float, float]] = []
        for _ in range(args.runs):
            floor_s = timed([py, "-c", FLOOR, str(vault)])
            cold_s = timed(scan, drop_cache)
            serial_s = timed(scan, serial)
            os.environ.pop("FLASHMARK_JOBS", None)
            nocache_s = timed([*scan, "--no-cache"])
            rounds.append((floor_s, cold_s, serial_s, nocache_s))
        floor, cold, cold_serial, nocache = (statistics.median(r[k] for r in rounds)
                                             for k in range(4))
        ratios = {k: statistics.median(r[k] / r[0] for r in rounds) for k in range(1, 4)}
        cold_ratios = sorted(r[1] / r[0] for r in rounds)
        subprocess.run(scan, check=True, stdout=subprocess.DEVNULL)
        warm = median_of(args.runs, scan)
        touched = median_of(args.runs, scan, touch_one)
        edited = median_of(args.runs, scan, edit_one)
        probe = subprocess.run(
            [py, "-c", "import sys, flashmark.cli.main as m; m.main(['scan', sys.argv[1]]);"
                       "print('textual' in sys.modules)", str(vault)],
            check=True, capture_output=True, text=True)
        textual_loaded = probe.stdout.strip().splitlines()[-1]
    rows = [
        ("floor: read every .md + one regex pass", floor, 1.0),
        ("cold `flashmark scan` (no index, 2 processes)", cold, ratios[1]),
        ("cold `flashmark scan`, one process (FLASHMARK_JOBS=1)", cold_serial, ratios[2]),
        ("`flashmark scan --no-cache`", nocache, ratios[3]),
        ("warm `flashmark scan` (nothing changed)", warm, warm / floor),
        ("warm, one note touched (mtime only)", touched, touched / floor),
        ("warm, one note edited", edited, edited / floor),
    ]
    print(f"runs per row: {args.runs} (median), machine: {os.cpu_count()} cores, "
          f"Python {sys.version.split()[0]}\n")
    print("| what | median wall (s) | ratio to floor |")
    print("|---|---:|---:|")
    for name, value, ratio in rows:
        print(f"| {name} | {value:.3f} | {ratio:.2f}x |")
    print(f"\ncold scan / floor, per round: {cold_ratios[0]:.2f}x to {cold_ratios[-1]:.2f}x")
    print(f"Textual imported by `scan`: {textual_loaded}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

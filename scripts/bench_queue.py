#!/usr/bin/env python3
"""Issue 12's benchmark: building today's queue and the deck list's counts on a copy of
the real vault, against the reviewer's first-card time measured in the same run.

Each round, interleaved: `open_review` without reading a card (both queues, siblings,
daily limits: what the reviewer builds before its first card), `deck_tree` on that queue
(every deck's New / Learn / Due after limits: the deck list), then one `flashmark review`
in an 80x24 pty that exits after painting its first card (`bench_review.run_once`; its
in-app time, start of the command to the card painted). The index is warm (a scan runs
first, unmeasured). Prints medians and the median of the per-round ratios.

    python scripts/bench_queue.py [--vault PATH] [--rounds 7] [--now ISO]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_review import CORPUS, REPO, command, run_once

sys.path.insert(0, str(REPO / "src"))
from flashmark.config import load_settings
from flashmark.review.overview import open_review
from flashmark.review.queue import deck_tree
from flashmark.vault.scan import scan_vault


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vault", type=Path, help="a vault to use as is (default: a fresh "
                    "copy of ../shared/corpus/information)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--now", default="2026-11-23T09:00:00+00:00",
                    help="the moment the in-process queue is built for")
    args = ap.parse_args()
    now = dt.datetime.fromisoformat(args.now)
    with tempfile.TemporaryDirectory(prefix="flashmark-bench-") as tmp:
        vault = args.vault or Path(tmp) / "vault"
        if args.vault is None:
            shutil.copytree(CORPUS, vault, ignore=shutil.ignore_patterns(".flashmark"))
        env = dict(os.environ, TERM="xterm-256color", FLASHMARK_EXIT_AFTER_FIRST_CARD="1",
                   PYTHONPATH=str(REPO / "src"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        scan_vault(vault, load_settings(vault)).close()  # a warm index
        run_once(command(vault), env, timeout=300)  # unmeasured: the bytecode cache
        settings = load_settings(vault)
        opened = open_review(vault, settings, settings.review, lambda: now, first_card=False)
        counts = opened.overview.counts()
        rows: list[tuple[float, float, float]] = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            opened = open_review(vault, settings, settings.review, lambda: now,
                                 first_card=False)
            t1 = time.perf_counter()
            deck_tree(opened.overview)
            t2 = time.perf_counter()
            first_card = run_once(command(vault), env)[0]
            rows.append((t1 - t0, t2 - t1, first_card))
        load = os.getloadavg()[0]
        print(f"{vault.name}: {sum(1 for _ in vault.rglob('*.md')):,} notes, today at "
              f"{args.now}: New {counts[0]:,} · Learn {counts[1]:,} · Due {counts[2]:,}; "
              f"{os.cpu_count()} CPUs, load average {load:.2f}, {args.rounds} rounds\n")
        print("| step | median | ratio to the first card (median of rounds) |")
        print("|---|---:|---:|")
        for k, name in enumerate(("today's queue (`open_review`, no card read)",
                                  "the deck list's counts (`deck_tree`)",
                                  "first card painted (`flashmark review`, in-app)")):
            ratio = statistics.median(r[k] / r[2] for r in rows)
            print(f"| {name} | {statistics.median(r[k] for r in rows):.3f} s "
                  f"| {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

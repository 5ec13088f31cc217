"""Benchmark every everyday command at 1x and Nx the real vault (issue 17).

    python scripts/bench_scale.py [--big /tmp/big10] [--runs 3]
                                  [--doc docs/benchmarks.md --label NAME]

The 1x vault is a fresh writable copy of ../shared/corpus/information; the big one is
``--big`` (made first with scripts/make_big_vault.py 10 when it does not exist; it is
used in place: its index is dropped and rebuilt, and `rate` writes a card's schedule).
Each round runs, per vault: the floor (a process that reads every .md and makes one
regex pass), a cold `scan` (no index), a cold `scan --json` (no index), then on the warm
index `scan`, `scan --json`, `due`, `stats`, `rate ID good` (a different card each
round), the reviewer's start (`open_review` in a fresh process: scan, queues, first card)
and two searches on a warm search table. ``--skip ROW`` leaves a row out (the cold
ones take minutes at 10x; without the cold `scan --json`, an untimed one fills the index
for the warm rows). Wall times are medians over ``--runs`` rounds; ratios are medians of
the per-round ratios to that round's floor; memory is the peak resident set of the command's process
(``ru_maxrss`` from ``wait4``, its largest process when it forks workers).
With ``--doc``, the table replaces (or adds) the subsection ``### LABEL`` of the section
"## Scale (issue 17)" in that file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_support import FLOOR, copy_writable  # noqa: E402

SOURCE = HERE.parent / ".." / "shared" / "corpus" / "information"
SECTION = "## Scale (issue 17)"


ROWS = [
    ("floor", "read + regex floor"),
    ("cold_scan", "cold `scan`"),
    ("cold_json", "cold `scan --json`"),
    ("warm_scan", "warm `scan`"),
    ("warm_json", "warm `scan --json`"),
    ("due", "`due`"),
    ("stats", "`stats`"),
    ("rate", "`rate ID good` (warm index)"),
    ("review", "reviewer's start (`open_review`, first card read)"),
    ("search_due", "`search is:due --count`"),
    ("search_text", "`search WORD --limit 20`"),
]

# The reviewer's start without a terminal: what its prefetch process does before the
# first card is painted (scan, log, today's queues, the first card read from its note).
REVIEW_START = r"""
import datetime as dt, sys
from pathlib import Path
from flashmark.config import load_settings
from flashmark.review.overview import open_review
from flashmark.review.settings import load_review_settings
root = Path(sys.argv[1]).absolute()
now = dt.datetime.fromisoformat(sys.argv[2])
settings = load_settings(root)
opened = open_review(root, settings, load_review_settings(root), lambda: now)
assert opened.first is not None
"""


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of the command's process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else b""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()}")
    return wall, usage.ru_maxrss / 1024


def card_ids(vault: Path, count: int) -> list[str]:
    db = sqlite3.connect(vault / ".flashmark" / "cache" / "index.sqlite3")
    try:
        ids: list[str] = []
        for (text,) in db.execute("SELECT ids FROM notes WHERE ids != '' ORDER BY path"):
            ids += text.split()
            if len(ids) >= count:
                break
    finally:
        db.close()
    return ids[:count]


def measure(vault: Path, runs: int, skip: set[str]) -> dict[str, tuple[float, float, float]]:
    """Per row: median wall, median ratio to the floor, peak MB."""
    py = sys.executable
    fm = [py, "-m", "flashmark"]
    index = vault / ".flashmark" / "cache"
    samples: dict[str, list[tuple[float, float]]] = {key: [] for key, _ in ROWS}
    floors: list[float] = []
    now = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
    ids: list[str] = []
    for k in range(runs):
        floor = run([py, "-c", FLOOR, str(vault)])
        floors.append(floor[0])
        samples["floor"].append(floor)
        if "cold_scan" not in skip:
            shutil.rmtree(index, ignore_errors=True)
            samples["cold_scan"].append(run([*fm, "scan", str(vault)]))
        if "cold_json" not in skip:
            shutil.rmtree(index, ignore_errors=True)
            samples["cold_json"].append(run([*fm, "scan", "--json", str(vault)]))
        else:  # untimed: the warm rows read the JSON lines from the index
            run([*fm, "scan", "--json", str(vault)])
        samples["warm_scan"].append(run([*fm, "scan", str(vault)]))
        samples["warm_json"].append(run([*fm, "scan", "--json", str(vault)]))
        samples["due"].append(run([*fm, "due", str(vault)]))
        samples["stats"].append(run([*fm, "stats", str(vault)]))
        if not ids:
            ids = card_ids(vault, runs)
        when = (now + dt.timedelta(minutes=k)).isoformat()
        if "rate" not in skip:
            samples["rate"].append(run([*fm, "rate", ids[k % len(ids)], "good", str(vault),
                                        "--now", when]))
        samples["review"].append(run([py, "-c", REVIEW_START, str(vault), when]))
        # untimed: fills the index's search table, which the cold scans above dropped
        run([*fm, "search", "is:new", str(vault), "--count", "--now", when])
        samples["search_due"].append(run([*fm, "search", "is:due", str(vault), "--count",
                                          "--now", when]))
        samples["search_text"].append(run([*fm, "search", "entropy", str(vault), "--limit",
                                           "20", "--now", when]))
        print(f"  round {k + 1}: floor {floor[0]:.2f} s, warm scan "
              f"{samples['warm_scan'][-1][0]:.2f} s, due {samples['due'][-1][0]:.2f} s",
              file=sys.stderr)
    return {key: (statistics.median(s[0] for s in samples[key]),
                  statistics.median(s[0] / f for s, f in zip(samples[key], floors, strict=True)),
                  max(s[1] for s in samples[key]))
            for key, _ in ROWS if key not in skip}


def table(results: dict[str, dict[str, tuple[float, float, float]]]) -> str:
    scales = list(results)
    head = "| command | " + " | ".join(f"{s} wall (ratio to floor) | {s} peak MB"
                                        for s in scales) + " |"
    lines = [head, "|---|" + "---:|---:|" * len(scales)]
    for key, name in ROWS:
        cells = []
        if not all(key in results[s] for s in scales):
            continue
        for s in scales:
            wall, ratio, mb = results[s][key]
            cells += [f"{wall:.2f} s ({ratio:.2f}x)", f"{mb:.0f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_doc(doc: Path, label: str, body: str) -> None:
    text = doc.read_text(encoding="utf-8")
    block = f"### {label}\n\n{body}\n"
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\n{block}"
    else:
        start = text.index(SECTION)
        end_match = re.compile(r"^## ", re.M).search(text, start + len(SECTION))
        end = end_match.start() if end_match else len(text)
        section = text[start:end]
        sub = re.compile(rf"^### {re.escape(label)}\n.*?(?=^### |\Z)", re.M | re.S)
        section = (sub.sub(lambda _: block + "\n", section, count=1) if sub.search(section)
                   else section.rstrip("\n") + "\n\n" + block + "\n")
        rest = "\n" + text[end:] if end < len(text) else ""
        text = text[:start] + section.rstrip("\n") + "\n" + rest
    doc.write_text(text, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=SOURCE)
    ap.add_argument("--big", type=Path, default=Path("/tmp/big10"),
                    help="the big vault (made with make_big_vault.py 10 if missing)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=["1x", "big"], help="measure one vault only")
    ap.add_argument("--doc", type=Path, help="write the table into this file")
    ap.add_argument("--label", default="measured", help="subsection title in --doc")
    ap.add_argument("--skip", action="append", default=[], choices=[k for k, _ in ROWS[1:]],
                    help="leave this row out (repeatable), e.g. the cold rows")
    args = ap.parse_args()
    py = sys.executable
    import flashmark

    subprocess.run([py, "-m", "compileall", "-q", str(Path(flashmark.__file__).parent)],
                   check=True)
    if args.only != "1x" and not args.big.exists():
        subprocess.run([py, str(HERE / "make_big_vault.py"), "10", str(args.big),
                        "--source", str(args.source)], check=True)
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "big":
            print("1x:", file=sys.stderr)
            results["1x"] = measure(copy_writable(args.source, Path(tmp) / "vault"), args.runs,
                                    set(args.skip))
        if args.only != "1x":
            copies = sum(1 for e in os.scandir(args.big) if e.name.startswith("copy"))
            print(f"{copies}x:", file=sys.stderr)
            results[f"{copies}x"] = measure(args.big, args.runs, set(args.skip))
    commit = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    argv = " ".join(sys.argv[1:])
    at = f"commit {commit}, " if commit else ""
    body = (f"`python scripts/bench_scale.py {argv}` ({dt.date.today()}, {at}"
            f"{os.cpu_count()} cores, Python {sys.version.split()[0]}; median of "
            f"{args.runs} rounds):\n\n{table(results)}")
    print(body)
    if args.doc:
        write_doc(args.doc, args.label, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark `flashmark generate` against pytextgen 9.0.1 on copies of the real vault.

    python scripts/bench_generate.py [--runs 5] [--corpus PATH] [--pytextgen PYTHON]

Each run copies the vault to a temporary folder (not timed) and times, as separate
processes: pytextgen 9.0.1 regenerating the 162 notes with data blocks (cold), flashmark
doing the same (cold: no cache, default jobs and --jobs 1), and flashmark again on the
same copy (no-op: the cache skips unchanged notes). Prints medians as a Markdown table.
pytextgen needs Python >= 3.12 with `pip install pytextgen==9.0.1` ($FLASHMARK_PYTEXTGEN
or `python3.12`); without it only flashmark is measured.
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

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = Path(os.environ.get("FLASHMARK_CORPUS") or
                      ROOT / ".." / "shared" / "corpus" / "information")
# Until `generate` is registered in flashmark.cli.main, run it through its own register().
SHIM = ("import argparse,sys\nfrom flashmark.cli import generate as g\n"
        "p=argparse.ArgumentParser(prog='flashmark');g.register(p.add_subparsers())\n"
        "a=p.parse_args(sys.argv[1:]);sys.exit(a.run(a))\n")


def flashmark_cmd() -> list[str]:
    done = subprocess.run([sys.executable, "-m", "flashmark", "generate", "--help"],
                          capture_output=True, check=False)
    if done.returncode == 0:
        return [sys.executable, "-m", "flashmark", "generate"]
    return [sys.executable, "-c", SHIM, "generate"]


def find_pytextgen(given: str | None) -> str | None:
    for python in (given, os.environ.get("FLASHMARK_PYTEXTGEN"), shutil.which("python3.12")):
        if not python:
            continue
        done = subprocess.run([python, "-c", "import pytextgen"], capture_output=True,
                              check=False, env={**os.environ, "TZ": "UTC"})
        if done.returncode == 0:
            return python
    return None


def data_notes(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.md")
                  if b"# pytextgen generate data" in p.read_bytes())


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, capture_output=True, check=False,
                   env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def fresh_copy(corpus: Path, tmp: Path, name: str) -> Path:
    target = tmp / name
    shutil.rmtree(target, ignore_errors=True)
    # copy2 keeps the notes' modification times, as in a vault that is not being edited
    shutil.copytree(corpus, target, ignore=shutil.ignore_patterns(".flashmark"))
    return target


def changed_notes(corpus: Path, copy: Path) -> int:
    return sum(1 for p in corpus.rglob("*.md")
               if p.read_bytes() != (copy / p.relative_to(corpus)).read_bytes())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--pytextgen", help="a Python with pytextgen 9.0.1 installed")
    args = ap.parse_args()
    corpus = args.corpus.resolve()
    ours = flashmark_cmd()
    oracle = find_pytextgen(args.pytextgen)
    notes = data_notes(corpus)
    times: dict[str, list[float]] = {"pytextgen": [], "cold": [], "cold1": [], "noop": []}
    changed: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for _ in range(args.runs):
            if oracle:
                copy = fresh_copy(corpus, tmp, "pytextgen")
                times["pytextgen"].append(timed(
                    [oracle, "-m", "pytextgen", "generate", "--no-code-cache", *notes], copy,
                    {"TZ": "UTC"}))
                changed["pytextgen"] = changed_notes(corpus, copy)
            copy = fresh_copy(corpus, tmp, "flashmark1")
            times["cold1"].append(timed([*ours, str(copy), "-q", "--jobs", "1"], copy))
            copy = fresh_copy(corpus, tmp, "flashmark")
            times["cold"].append(timed([*ours, str(copy), "-q"], copy))
            changed["flashmark"] = changed_notes(corpus, copy)
            times["noop"].append(timed([*ours, str(copy), "-q"], copy))
    med = {k: statistics.median(v) for k, v in times.items() if v}
    print(f"`flashmark generate` vs pytextgen 9.0.1 on the real vault ({len(notes)} notes with "
          f"data blocks, {os.cpu_count()} CPUs, median of {args.runs} runs)\n")
    print("| run | time (s) | vs pytextgen | notes changed |")
    print("|---|---:|---:|---:|")

    def row(label: str, key: str, note: str = "") -> None:
        if key not in med:
            return
        ratio = f"{med['pytextgen'] / med[key]:.1f}x faster" if "pytextgen" in med else "n/a"
        if key == "pytextgen":
            ratio = "1.0x"
        print(f"| {label} | {med[key]:.2f} | {ratio} | {note} |")

    row("pytextgen 9.0.1, cold", "pytextgen", str(changed.get("pytextgen", "")))
    row("flashmark generate, cold", "cold", str(changed.get("flashmark", "")))
    row("flashmark generate --jobs 1, cold", "cold1")
    row("flashmark generate, no-op (cache)", "noop", "0")
    if not oracle:
        print("\n(pytextgen 9.0.1 not found: set FLASHMARK_PYTEXTGEN or pass --pytextgen)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Time from `flashmark review` start to the first card painted, on a copy of the real
vault, with a warm index and a cold one (no index). Prints a Markdown table of medians.

Each run starts `flashmark review VAULT` in a pseudo-terminal of 80x24 with
FLASHMARK_EXIT_AFTER_FIRST_CARD=1: the app quits as soon as the first card is painted
and reports the time since its `run` started and the moment of painting. Three numbers
per run:

* in-app: from the review command's start (after Python started and imported the CLI)
  to the first card painted, measured inside the app;
* to first card: from spawning the process to the first card painted (wall clock);
* whole process: from spawning to exit (includes Textual's shutdown after painting).

Python's bytecode cache decides a good part of the startup: by default it is kept in a
private folder (PYTHONPYCACHEPREFIX) and filled by a first, unmeasured run, as it is
for an installed flashmark; `--no-bytecode-cache` measures with PYTHONDONTWRITEBYTECODE
as set in some sandboxes (the installed packages keep their bytecode, but every module
of an editable flashmark checkout is compiled again on every start).

    python scripts/bench_review.py [--vault PATH] [--runs 7] [--cold-runs 3]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "information"

# Until `review` is registered in flashmark.cli.main, start it through its register().
LAUNCHER = """
import sys
from flashmark.cli import main, review
build = main.build_parser
def parser():
    p = build()
    sub = next(a for a in p._actions if a.__class__.__name__ == "_SubParsersAction")
    if "review" not in sub.choices:
        review.register(sub)
    return p
main.build_parser = parser
sys.exit(main.main())
"""

PAINTED = re.compile(rb"first card painted after ([\d.]+) s \(at ([\d.]+)\)")


def command(vault: Path) -> list[str]:
    return [sys.executable, "-c", LAUNCHER, "review", str(vault)]


def run_once(cmd: list[str], env: dict[str, str], timeout: float = 60.0
             ) -> tuple[float, float, float]:
    """(in-app, spawn to first card, whole process) seconds of one run."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    spawned = time.time()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    out = bytearray()
    deadline = start + timeout
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    else:
        proc.kill()
        raise RuntimeError("flashmark review did not exit in time")
    proc.wait()
    whole = time.perf_counter() - start
    os.close(master)
    m = PAINTED.search(bytes(out))
    if m is None:
        tail = bytes(out[-800:]).decode("utf-8", "replace")
        raise RuntimeError(f"no first card reported (exit {proc.returncode}):\n{tail}")
    return float(m[1]), float(m[2]) - spawned, whole


def measure(vault: Path, runs: int, env: dict[str, str], cold: bool) -> list[tuple[float, ...]]:
    cache = vault / ".flashmark" / "cache"
    results: list[tuple[float, ...]] = []
    for _ in range(runs):
        if cold:
            shutil.rmtree(cache, ignore_errors=True)
        results.append(run_once(command(vault), env))
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vault", type=Path, help="a vault to use as is (default: a fresh "
                    "copy of ../shared/corpus/information)")
    ap.add_argument("--runs", type=int, default=7, help="warm runs (default 7)")
    ap.add_argument("--cold-runs", type=int, default=3, help="cold runs (default 3)")
    ap.add_argument("--no-bytecode-cache", action="store_true",
                    help="run with PYTHONDONTWRITEBYTECODE=1 and no cached bytecode")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="flashmark-bench-") as tmp:
        if args.vault is not None:
            vault = args.vault
        else:
            vault = Path(tmp) / "vault"
            shutil.copytree(CORPUS, vault, ignore=shutil.ignore_patterns(".flashmark"))
        env = dict(os.environ, TERM="xterm-256color", FLASHMARK_EXIT_AFTER_FIRST_CARD="1",
                   PYTHONPATH=str(REPO / "src"))
        if args.no_bytecode_cache:  # installed packages keep their own bytecode
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            env.pop("PYTHONPYCACHEPREFIX", None)
        else:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        # unmeasured: builds the index (and the bytecode cache)
        run_once(command(vault), env, timeout=300)
        rows = [("warm", measure(vault, args.runs, env, cold=False))]
        if args.cold_runs:
            rows.append(("cold", measure(vault, args.cold_runs, env, cold=True)))
        load = os.getloadavg()[0]
        print(f"flashmark review on {vault.name} ({sum(1 for _ in vault.rglob('*.md')):,} "
              f"notes), 80x24 pty, {os.cpu_count()} CPUs, load average {load:.2f}, "
              f"bytecode cache {'off' if args.no_bytecode_cache else 'on'}\n")
        print("| index | runs | in-app: start → first card | spawn → first card "
              "| whole process |")
        print("|---|---:|---:|---:|---:|")
        for name, results in rows:
            cols = [statistics.median(r[k] for r in results) for k in range(3)]
            print(f"| {name} | {len(results)} | " + " | ".join(f"{c:.3f} s" for c in cols)
                  + " |")
        print("\nmedians; in-app starts when the review command starts (after Python and "
              "the CLI are loaded)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

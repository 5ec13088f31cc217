"""Cold and warm `scan --json` against a baseline flashmark, interleaved (issue 17).

    python scripts/bench_json.py VAULT --base-src DIR [--runs 5]

``DIR`` is the ``src`` folder of the flashmark to compare with (e.g. ``git archive
BASE src | tar -x -C /tmp/base``); it runs with ``PYTHONPATH=DIR``. ``VAULT`` must be
writable (its index is deleted before each cold run; ``scripts/bench_scale.py`` makes
copies). Each round runs a cold `scan` (this checkout), a cold `scan --json` with the
baseline, one with this checkout, then warm `scan --json` with each (on the index the
cold run of the same code left), output to /dev/null. Reported: median wall seconds,
median CPU seconds (user + system of the command and its workers), median ratio to the
round's cold `scan`, and peak resident MB of the largest process (``ru_maxrss`` from
``wait4``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROWS = [("cold_scan", "cold `scan`"), ("cold_json_base", "cold `scan --json`, baseline"),
        ("cold_json", "cold `scan --json`, this checkout"),
        ("warm_json_base", "warm `scan --json`, baseline"),
        ("warm_json", "warm `scan --json`, this checkout")]


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident MB of the command's processes."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read() if proc.stderr else b""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {err.decode()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("vault", type=Path)
    ap.add_argument("--base-src", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    here = dict(os.environ)
    here.pop("PYTHONPATH", None)
    base = {**here, "PYTHONPATH": str(args.base_src.resolve())}
    fm = [sys.executable, "-m", "flashmark", "scan"]
    vault = str(args.vault)
    cache = args.vault / ".flashmark" / "cache"
    samples: dict[str, list[tuple[float, float, float]]] = {key: [] for key, _ in ROWS}
    for k in range(args.runs):
        shutil.rmtree(cache, ignore_errors=True)
        samples["cold_scan"].append(run([*fm, vault], here))
        for key, env in (("json_base", base), ("json", here)):
            shutil.rmtree(cache, ignore_errors=True)
            samples[f"cold_{key}"].append(run([*fm, "--json", vault], env))
            samples[f"warm_{key}"].append(run([*fm, "--json", vault], env))
        print(f"  round {k + 1}: " + ", ".join(f"{key} {s[-1][0]:.2f} s"
                                               for key, s in samples.items()), file=sys.stderr)
    scans = [s[0] for s in samples["cold_scan"]]
    print("| command | wall | CPU | ratio to cold `scan` | peak MB |\n|---|---:|---:|---:|---:|")
    for key, name in ROWS:
        rows = samples[key]
        ratio = statistics.median(r[0] / s for r, s in zip(rows, scans, strict=True))
        print(f"| {name} | {statistics.median(r[0] for r in rows):.2f} s | "
              f"{statistics.median(r[1] for r in rows):.2f} s | {ratio:.2f}x | "
              f"{max(r[2] for r in rows):.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Running flashmark in a child process and reading its own peak memory.

The peak is the child's VmHWM from /proc: getrusage's ``ru_maxrss`` survives exec on
Linux, so a child of a large pytest worker would report the worker's size, not its own.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO


def _script(address_limit: int | None) -> str:
    limit = ("import resource\n"
             f"resource.setrlimit(resource.RLIMIT_AS, ({address_limit}, {address_limit}))\n"
             if address_limit is not None else "")
    return (
        "import sys\n" + limit +
        "from flashmark.cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        "hwm = next(line.split()[1] for line in open('/proc/self/status')\n"
        "           if line.startswith('VmHWM:'))\n"
        "print('maxrss', hwm, file=sys.stderr)\n"
        "sys.exit(code)\n")


def run_measured(args: Sequence[str | Path], *, stdout: IO[bytes] | None = None,
                 env: Mapping[str, str] | None = None, address_limit: int | None = None
                 ) -> tuple[int, str, int]:
    """``flashmark ARGS`` in a child (its address space capped at ``address_limit``
    bytes when given, so that a runaway allocation fails instead of swamping the
    machine): (exit code, stderr without the measurement line, peak resident kB).
    Standard output goes to ``stdout`` (default: captured and dropped)."""
    done = subprocess.run([sys.executable, "-c", _script(address_limit), *map(str, args)],
                          stdout=stdout if stdout is not None else subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, check=False)
    err = done.stderr.decode("utf-8", "replace")
    *lines, last = err.splitlines() or [""]
    if not last.startswith("maxrss "):
        raise AssertionError(f"flashmark {' '.join(map(str, args))} did not finish "
                             f"(exit {done.returncode}):\n{err}")
    return done.returncode, "\n".join(lines), int(last.split()[1])

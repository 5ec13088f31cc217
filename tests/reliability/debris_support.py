"""Helpers for the reliability tests: processes seen through /proc, hostile notes.
(Its own module name: test folders share one namespace.)"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

FLASHMARK = [sys.executable, "-m", "flashmark"]


def process_table() -> dict[int, tuple[str, int, int]]:
    """pid -> (state, parent pid, session id) of every process we can see."""
    table: dict[int, tuple[str, int, int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except OSError:  # it just ended
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        table[int(name)] = (fields[0], int(fields[1]), int(fields[3]))
    return table


def live_in_session(session: int) -> list[int]:
    """Processes of ``session`` that still run (zombies are dead: only not reaped yet)."""
    return [pid for pid, (state, _, sid) in process_table().items()
            if sid == session and state not in ("Z", "X")]


def live_children(pid: int) -> list[int]:
    return [p for p, (state, ppid, _) in process_table().items()
            if ppid == pid and state not in ("Z", "X")]


def wait_for(condition: Callable[[], bool], what: str, limit: float = 120.0) -> None:
    """Wait until ``condition()`` holds; fail (not a timing assertion: the limit is only
    there so that a broken guarantee ends the test) when it never does."""
    end = time.monotonic() + limit
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


def kill_session(session: int) -> None:
    """Clean up after a failed test: whatever is left of the session."""
    for pid in live_in_session(session):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def start(argv: list[str], env: dict[str, str], *, capture: bool = False
          ) -> subprocess.Popen[bytes]:
    """flashmark in its own session (session id = its pid): its workers are found by
    session even after they lose their parent. Its output is kept only with ``capture``
    (then read it: a full pipe would stop it)."""
    target = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen([*FLASHMARK, *argv], env={**os.environ, **env}, stdout=target,
                            stderr=target, start_new_session=True)


DATA_NOTE = """\
```Python
# pytextgen generate data
from pytextgen.compat import gen, util
{code}
return util.Result(location=__env__.cwf_sect("s"), text=gen.quotette("regenerated"))
```

<!--pytextgen generate section="s"--><!-- The following content is generated at \
2025-03-01T20:00:00.000000+08:00. Any edits will be overridden! -->

> stale

<!--/pytextgen-->
"""

REGENERATED = "> regenerated\n"


def generate_vault(root: Path, notes: dict[str, str], timeout: float | None = None) -> Path:
    """A vault with one data note per name (``code`` runs before the block returns)."""
    (root / ".obsidian").mkdir(parents=True)
    if timeout is not None:
        (root / "flashmark.yaml").write_text(f"generate:\n  timeout: {timeout}\n")
    for name, code in notes.items():
        (root / f"{name}.md").write_text(DATA_NOTE.format(code=code))
    return root


def export_vault(root: Path, notes: int, cards: int) -> Path:
    (root / ".obsidian").mkdir(parents=True)
    for k in range(notes):
        (root / f"n{k:04d}.md").write_text(
            "---\ntags: [flashcard/active/bulk]\n---\n" + "".join(
                f"question {k}-{j} with **bold** and `code`::@::answer {k}-{j}\n\n"
                for j in range(cards)))
    return root

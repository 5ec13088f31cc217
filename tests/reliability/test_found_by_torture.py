"""Problems the torture script (scripts/torture.py) pointed at, each reproduced
deterministically with real processes (both were strict xfails until fixed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=str(REPO / "src"))

# A `flashmark` process that SIGKILLs itself the moment it would rename the temporary
# file of TARGET into place: as a kill -9 in that instant would.
DIE_BEFORE_RENAME = textwrap.dedent("""
    import os, signal, sys
    target = sys.argv[1]
    real_replace = os.replace
    def replace(src, dst, *a, **k):
        if os.fspath(dst).endswith(target):
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst, *a, **k)
    os.replace = replace
    from flashmark.cli.main import main
    sys.exit(main(sys.argv[2:]))
""")


def flashmark(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flashmark", *args], env=ENV,
                          capture_output=True, text=True, check=False)


def test_a_killed_export_leaves_no_manifest_temporary_after_the_next_writes(
        tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    shutil.copytree(REPO / "notes", vault)
    deck = tmp_path / "deck.apkg"
    killed = subprocess.run([sys.executable, "-c", DIE_BEFORE_RENAME, "export-manifest.json",
                             "export", str(vault), "-o", str(deck)],
                            env=ENV, capture_output=True, text=True, check=False)
    assert killed.returncode == -9, killed.stderr
    stray = list((vault / ".flashmark").glob("*.flashmark-tmp"))
    assert stray, "the kill did not happen while the manifest's temporary file existed"
    # The next writer, a rating, removes it (it sweeps .flashmark/ as well as the
    # journal); an export after it finds nothing either.
    card = flashmark("scan", "--json", str(vault)).stdout.split('"id": "')[1][:12]
    assert flashmark("rate", card, "good", str(vault), "--now", "2027-01-01").returncode == 0
    assert list((vault / ".flashmark").glob("*.flashmark-tmp")) == []
    assert flashmark("export", str(vault), "-o", str(deck)).returncode == 0
    assert list((vault / ".flashmark").glob("*.flashmark-tmp")) == []


# A `flashmark` process in which another program saves the note (atomic replace) right
# after flashmark's last look, and which is SIGKILLed right after its swap: its version
# (the rating) is in the note, the other program's is in the temporary file, and the
# check that would have swapped them back never runs.
KILLED_AFTER_SWAP = textwrap.dedent("""
    import os, signal, sys
    import flashmark.vault.edit as edit
    real_exchange = edit._exchange
    def exchange(a, b):
        data = open(b, "rb").read()
        with open(b + ".other", "wb") as fh:
            fh.write(data + b"\\nline written by another program\\n")
        os.replace(b + ".other", b)
        real_exchange(a, b)
        os.kill(os.getpid(), signal.SIGKILL)
    edit._exchange = exchange
    from flashmark.cli.main import main
    sys.exit(main(sys.argv[1:]))
""")


def test_a_kill_right_after_the_swap_does_not_lose_the_other_programs_edit(
        tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    shutil.copytree(REPO / "notes", vault)
    cards = [line.split('"id": "')[1][:12]
             for line in flashmark("scan", "--json", str(vault)).stdout.splitlines()]
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER_SWAP, "rate", cards[0],
                             "good", str(vault), "--now", "2027-01-01"],
                            env=ENV, capture_output=True, text=True, check=False)
    assert killed.returncode == -9, killed.stderr
    temps = list(vault.rglob("*.flashmark-tmp"))
    assert len(temps) == 1 and b"line written by another program" in temps[0].read_bytes()
    # The next writer sweeps the temporary file and reconciles the rating.
    assert flashmark("rate", cards[-1], "good", str(vault), "--now", "2027-01-02"
                     ).returncode == 0
    assert list(vault.rglob("*.flashmark-tmp")) == []
    notes = "".join(p.read_text() for p in vault.rglob("*.md"))
    assert "line written by another program" in notes

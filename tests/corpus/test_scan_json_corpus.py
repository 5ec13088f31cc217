"""`flashmark scan --json` on the real vault, as a script would run it: the output is
pinned by its SHA-256 (recorded before issue 17 reworked how it is produced: streamed,
parsed in every process when cold, served from the index when warm), for a cold run, a
warm one, a warm one after a note was touched, and a one-process cold run."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flashmark.cli.main import main

CORPUS = Path(os.environ.get("FLASHMARK_CORPUS") or
              Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "information")

pytestmark = [pytest.mark.corpus, pytest.mark.slow,
              pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the real vault is not at {CORPUS}")]

# sha256 of `flashmark scan --json VAULT --now 2026-12-01` on the real vault, recorded
# with flashmark at add4f41 (before issue 17): 142,133 lines.
SCAN_JSON_SHA256 = "d341287dbcbe287d12c39540c65d382b164756760946546a843794b427408488"
CARDS = 142133


def _scan_json(vault: Path, *extra: str, env: dict[str, str] | None = None) -> bytes:
    done = subprocess.run([sys.executable, "-m", "flashmark", "scan", "--json", str(vault),
                           "--now", "2026-12-01", *extra],
                          capture_output=True, check=False, env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b""
    return done.stdout


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus-json") / "information"
    shutil.copytree(CORPUS, root, ignore=shutil.ignore_patterns(".flashmark"))
    return root


def test_cold_then_warm_output_is_the_pinned_json(vault: Path) -> None:
    cold = _scan_json(vault)
    assert cold.count(b"\n") == CARDS
    assert hashlib.sha256(cold).hexdigest() == SCAN_JSON_SHA256
    assert (vault / ".flashmark").is_dir()  # the cold run left an index: the next is warm
    warm = _scan_json(vault)
    assert hashlib.sha256(warm).hexdigest() == SCAN_JSON_SHA256


def test_warm_after_a_touched_note_and_one_process(vault: Path) -> None:
    note = vault / "general" / "eng" / "Albustix.md"
    stat = note.stat()
    os.utime(note, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert hashlib.sha256(_scan_json(vault)).hexdigest() == SCAN_JSON_SHA256
    one = _scan_json(vault, "--no-cache", env={"FLASHMARK_JOBS": "1"})
    assert hashlib.sha256(one).hexdigest() == SCAN_JSON_SHA256


def test_deck_filter_is_a_subset_in_the_same_order(vault: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    everything = _scan_json(vault).decode().splitlines()
    deck = "flashcard/active/general/eng"
    chosen = _scan_json(vault, "--deck", deck).decode().splitlines()
    expected = [line for line in everything
                if f"{json.loads(line)['deck'] or ''}/".lower().startswith(deck + "/")]
    assert chosen == expected
    assert 0 < len(chosen) < len(everything)
    assert main(["scan", "--json", str(vault), "--now", "2026-12-01"]) == 0  # in-process
    assert hashlib.sha256(capsys.readouterr().out.encode()).hexdigest() == SCAN_JSON_SHA256

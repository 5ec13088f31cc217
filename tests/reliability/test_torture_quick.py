"""The torture script (scripts/torture.py): its short version passes, and its checks do
catch what they look for (a checker that cannot fail would prove nothing)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "torture.py"


def _torture() -> ModuleType:
    spec = importlib.util.spec_from_file_location("torture", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["torture"] = module
    spec.loader.exec_module(module)
    return module


T = _torture()


@pytest.fixture
def vault(tmp_path: Path) -> Any:
    return T.Vault(tmp_path, lambda root: T.Runner(root, tmp_path))


def _rate(vault: Any, k: int = 1) -> Any:
    card = vault.stable_in(T.GEN_NOTE)[0]
    when = T.moment(k)
    run = vault.runner.run(*vault.runner.rate_args(card, "good", when))
    assert run.returncode == 0, run.stderr
    return T.rated_of(card, when)


@pytest.mark.slow
def test_quick_torture_run_passes() -> None:
    # No --allow-orphaned-workers: generate's and export's workers die with their
    # parent (parallel.stream_chunks), so a worker left behind fails the run.
    run = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--seed", "7"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "| kill -9 at random instants" in run.stdout
    assert "| external writer every 5 ms" in run.stdout


def test_clean_vault_after_a_rating_passes_every_check(vault: Any) -> None:
    rated = [_rate(vault)]
    result = T.Result("clean")
    T.check_all(vault, result, rated)
    assert not result.failed(), result.problems


def test_a_truncated_note_counts_as_corrupted(vault: Any) -> None:
    note = vault.root / T.EXT_NOTE
    data = note.read_bytes()
    note.write_bytes(data[: len(data) // 2])
    result = T.Result("tampered")
    T.check_structure(vault, result)
    assert result.corrupted == 1
    assert result.nested_misplaced >= 1  # its second half's cards are gone


def test_a_comment_inside_an_sr_comment_counts_as_nested(vault: Any) -> None:
    note = vault.root / T.EXT_NOTE
    text = note.read_text()
    at = text.index("<!--SR:") + len("<!--SR:")
    note.write_text(text[:at] + "<!--SR:!2027-01-01,3,250-->" + text[at:])
    result = T.Result("tampered")
    T.check_structure(vault, result)
    assert result.nested_misplaced >= 1


def test_a_rating_whose_commit_is_missing_is_a_divergence_and_lost(vault: Any) -> None:
    rated = [_rate(vault)]
    log = vault.root / ".flashmark" / "reviews.jsonl"
    # The note keeps the rating; the log loses it (its staged review and its commit).
    kept = [ln for ln in log.read_text().splitlines()
            if json.loads(ln)["event"] not in ("review", "commit")]
    log.write_text("".join(ln + "\n" for ln in kept))
    result = T.Result("tampered")
    T.check_agreement(vault, result, rated)
    assert result.divergences == 1
    assert result.lost_ratings == 1


def test_a_stray_temp_file_and_a_live_tagged_process_are_counted(vault: Any) -> None:
    stray = vault.root / "customers" / ".x.md.1-ab.flashmark-tmp"
    stray.write_text("debris")
    runner = vault.runner
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                               env=runner.env)
    try:
        result = T.Result("tampered")
        T.check_temps(vault, result)
        assert result.leftover_temps == 1
        assert runner.leftovers(wait=0) == [sleeper.pid]
    finally:
        sleeper.kill()
        sleeper.wait()
    assert runner.leftovers(wait=1) == []


def test_the_generate_toggle_round_trips() -> None:
    data = (REPO / "notes" / T.GEN_NOTE).read_bytes()
    assert T.toggle(data) != data
    assert T.toggle(T.toggle(data)) == data

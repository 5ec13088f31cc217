"""Shared fixtures for the command-line tests: a private copy of the sample vault."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flashmark.cli.main import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "notes"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """A copy of notes/ (without any index a previous run left in it)."""
    dest = tmp_path / "notes"
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns(".flashmark"))
    return dest


@pytest.fixture
def utc() -> Iterator[None]:
    """Run in UTC: "due today" depends on the local day."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


Runner = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Runner:
    """``cli("scan", VAULT, ...)`` runs ``flashmark.cli.main.main`` in this process and
    returns (exit code, stdout, stderr) as captured by capsys."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run

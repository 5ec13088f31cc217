"""Shared fixtures for the command-line tests: a private copy of the sample vault."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from flashmark.cli.main import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "notes"


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

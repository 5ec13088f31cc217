"""Fixtures for the export tests (helpers in export_helpers.py)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.export.export_helpers import AnkiCollection, ExportRun, run_export, write_vault


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(tmp_path / "vault")


@pytest.fixture
def export() -> ExportRun:
    return run_export


@pytest.fixture
def anki_collection() -> Iterator[Callable[[], AnkiCollection]]:
    pytest.importorskip("anki")
    made: list[AnkiCollection] = []
    folders: list[str] = []

    def make() -> AnkiCollection:
        folder = tempfile.mkdtemp(prefix="flashmark-anki-test-")
        folders.append(folder)
        made.append(AnkiCollection(Path(folder)))
        return made[-1]

    yield make
    for c in made:
        c.close()
    for f in folders:
        shutil.rmtree(f, ignore_errors=True)

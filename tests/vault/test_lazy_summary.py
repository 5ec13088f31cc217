"""A warm scan does not load the per-card summaries; a record reads its own from the
index when first asked (issue 17), and parses its note when the index cannot say."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flashmark.config import load_settings
from flashmark.vault.scan import scan_vault


def _summaries(vault: Path) -> dict[str, object]:
    result = scan_vault(vault, load_settings(vault), use_cache=False)
    return {r.rel: r.summary for r in result.flashcard_notes()}


def test_warm_records_read_their_summary_then_or_parse(vault: Path) -> None:
    expected = _summaries(vault)
    scan_vault(vault, load_settings(vault)).close()
    warm = scan_vault(vault, load_settings(vault))
    assert warm.parsed_now == 0
    records = warm.flashcard_notes()
    first, second, third = records[0], records[1], records[2]
    assert first._summary is None and first._blob is None  # not loaded by the scan
    assert first.summary == expected[first.rel]
    # Another process rewrote the row meanwhile (different content): not trusted.
    db = sqlite3.connect(vault / ".flashmark" / "cache" / "index.sqlite3")
    db.execute("UPDATE notes SET digest=x'00', summary=x'00' WHERE path=?", (second.rel,))
    db.commit()
    db.close()
    assert second.summary == expected[second.rel]
    warm.close()  # after the index is closed, the note is parsed
    assert third.summary == expected[third.rel]
    assert [r.summary for r in records] == [expected[r.rel] for r in records]

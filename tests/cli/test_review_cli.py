"""`flashmark review --search`: a query that cannot be read, or asked together with
--decks, is a usage error (exit 2) before the vault is read or a terminal is needed.
(The reviewer over a search is driven in tests/tui/test_browser_screen.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from flashmark.cli.main import main
from flashmark.errors import EXIT_USAGE


@pytest.mark.parametrize(("args", "message"), [
    (["--search", "prop:ivl>x"], "column 10: 'x' is not a number"),
    (["--search", "is:new", "--decks"], "give one of the two"),
])
def test_review_search_usage_errors(tmp_path: Path, args: list[str], message: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "not read"
    assert main(["review", *args, str(missing)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not missing.exists()

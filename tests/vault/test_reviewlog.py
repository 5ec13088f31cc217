"""Reading log lines: what `parse_line` keeps and what it skips, and why."""

from __future__ import annotations

import json

import pytest

from flashmark.vault.reviewlog import Review, parse_line

LINE = {"v": 1, "event": "review", "uid": "u1", "time": "2026-11-23T08:00:00.000Z",
        "id": "aaaaaaaaaaa1", "path": "n.md", "sibling": 0, "rating": "good",
        "before": None, "after": "2026-11-30,7,250"}


def _line(**changes: object) -> bytes:
    return json.dumps({**LINE, **changes}, separators=(",", ":")).encode()


def test_a_valid_line_and_its_byte_order_mark() -> None:
    event, problem = parse_line(_line())
    assert isinstance(event, Review) and problem is None
    assert (event.id, event.before, event.after) == ("aaaaaaaaaaa1", None, "2026-11-30,7,250")
    # an editor's BOM in front of the first line: the line still reads
    assert parse_line(b"\xef\xbb\xbf" + _line()) == (event, None)
    assert parse_line(b"   ") == (None, None)


@pytest.mark.parametrize(("line", "reason"), [
    (_line(id=5), "'id' should be str, not int"),
    (_line(id=None), "'id' is missing"),
    (_line(sibling="0"), "'sibling' should be int, not str"),
    (_line(sibling=True), "'sibling' should be int, not bool"),
    (_line(before=7), "'before' should be str, not int"),
    (_line(rating="fine"), "rating 'fine' is not one of"),
    (_line(time="yesterday"), "'time' is not an ISO date and time"),
    (b'{"v":1,"event":"review","id":"\xff"}', "not a JSON line"),
    (b'{"v":1,"event":"review"', "not a JSON line"),
])
def test_a_bad_line_is_skipped_with_its_reason(line: bytes, reason: str) -> None:
    event, problem = parse_line(line)
    assert event is None and problem is not None
    assert reason in problem

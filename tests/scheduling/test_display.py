from __future__ import annotations

import datetime as dt

import pytest

from flashmark.scheduling import format_interval

S = dt.timedelta(seconds=1)
M = dt.timedelta(minutes=1)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


@pytest.mark.parametrize(("delta", "label"), [
    (dt.timedelta(0), "<1m"),
    (-5 * M, "<1m"),
    (30 * S, "<1m"),
    (59 * S, "<1m"),
    (60 * S, "1m"),
    (89 * S, "1m"),
    (90 * S, "2m"),  # half up
    (5.5 * M, "6m"),
    (10 * M, "10m"),
    (59 * M, "59m"),
    (59 * M + 40 * S, "1h"),  # rounds to 60 minutes: shown in hours
    (H, "1h"),
    (90 * M, "1.5h"),
    (3 * H, "3h"),
    (23 * H, "23h"),
    (23 * H + 59 * M, "1d"),
    (D, "1d"),
    (36 * H, "2d"),
    (3 * D, "3d"),
    (8 * D, "8d"),
    (30 * D, "30d"),
    (31 * D, "1mo"),
    (72 * D, "2.4mo"),
    (100 * D, "3.3mo"),
    (364 * D, "12mo"),
    (365 * D, "1y"),
    (394 * D, "1.1y"),
    (906 * D, "2.5y"),
    (36500 * D, "100y"),
])
def test_format_interval(delta: dt.timedelta, label: str) -> None:
    assert format_interval(delta) == label

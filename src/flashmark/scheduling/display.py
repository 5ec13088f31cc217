"""Intervals as short labels for answer buttons ("10m", "3d", "2.4mo", "1.1y")."""

from __future__ import annotations

import datetime as dt
import math

_MINUTE = 60.0
_HOUR = 60.0 * _MINUTE
_DAY = 24.0 * _HOUR
_YEAR = 365.0 * _DAY
_MONTH = _YEAR / 12.0  # 30.42 days, as Anki counts a month


def _half_up(x: float, digits: int = 0) -> float:
    scale = 10.0 ** digits
    return math.floor(x * scale + 0.5) / scale


def _one_decimal(x: float) -> str:
    text = f"{_half_up(x, 1):.1f}"
    return text[:-2] if text.endswith(".0") else text


def format_interval(delta: dt.timedelta) -> str:
    """Anki-like label: "<1m", "10m", "1.5h", "3d", "2.4mo", "1.1y".

    Under a minute: "<1m"; minutes and days are whole numbers, hours, months
    (365/12 days) and years (365 days) have one decimal ("3h", not "3.0h"); rounding is
    half up. A value that rounds up to the next unit is shown in it (59.7 minutes:
    "1h"). Negative durations count as zero.
    """
    seconds = max(delta.total_seconds(), 0.0)
    if seconds < _MINUTE:
        return "<1m"
    minutes = int(_half_up(seconds / _MINUTE))
    if minutes < 60:
        return f"{minutes}m"
    hours = _half_up(seconds / _HOUR, 1)
    if hours < 24:
        return f"{_one_decimal(hours)}h"
    if seconds < _MONTH:
        return f"{int(_half_up(seconds / _DAY))}d"
    if seconds < _YEAR:
        return f"{_one_decimal(seconds / _MONTH)}mo"
    return f"{_one_decimal(seconds / _YEAR)}y"

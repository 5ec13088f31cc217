"""The review tests run in UTC ("today" and day boundaries depend on the local time
zone); `vault`, `utc` and `expect` come from tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _local_time_is_utc(utc: None) -> None:
    """Every test here runs with TZ=UTC."""

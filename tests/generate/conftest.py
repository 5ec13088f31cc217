"""The `oracle` fixture: a Python with pytextgen 9.0.1, or a skip with the reason."""

from __future__ import annotations

import pytest

from tests.generate.gen_support import find_oracle


@pytest.fixture
def oracle() -> str:
    python = find_oracle()
    if python is None:
        pytest.skip("pytextgen 9.0.1 is not available: set FLASHMARK_PYTEXTGEN to a Python "
                    "(>= 3.12) with `pip install pytextgen==9.0.1` (see docs/generate.md)")
    return python

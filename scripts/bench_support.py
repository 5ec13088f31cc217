"""What several benchmark scripts share: the floor they compare against, and a
writable copy of a vault (the one the tests make: `tests.conftest.copy_writable`)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # the repository: the `tests` package

from tests.conftest import copy_writable  # noqa: E402

# The floor: walk the vault, read every note and find the card markers with one regular
# expression, in a fresh process (`python -c FLOOR VAULT`): what any tool reading the
# vault must at least do.
FLOOR = r"""
import os, re, sys
pat = re.compile(r"<!--SR:|\{@\{|:@:")
n = 0
def walk(d):
    global n
    for e in os.scandir(d):
        if e.is_dir(follow_symlinks=False):
            if not e.name.startswith("."):
                walk(e.path)
        elif e.name.endswith(".md"):
            with open(e.path, "rb") as f:
                n += len(pat.findall(f.read().decode("utf-8")))
walk(sys.argv[1])
"""

__all__ = ["FLOOR", "copy_writable"]

"""`flashmark rate` (the real command, on a tmp vault) continues from the state the OSR
plugin reads in each entry form it writes (tests/syntax/fixtures/plugin_forms.md).

Fuzz is off so that equivalent forms must give byte-identical next entries: a decimal
interval rates like its whole part, an offset timestamp like the same instant in UTC,
DD-MM-YYYY and "ddd MMM DD YYYY" like YYYY-MM-DD, a space after SR: or a 4th field like
the plain entry. The next entry of each form is pinned.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parents[1] / "syntax" / "fixtures" / "plugin_forms.md"
NOW = "2026-12-05T12:00:00+00:00"
LAST = "2026-12-05T12:00:00.000Z"

# The plain forms the others must equal, appended to the fixture's cards.
PLAIN = """
integer:@:interval <!--SR:!2026-12-05,133,270-->

utc:@:timestamp <!--SR:!fsrs,2026-12-05T00:00:00.000Z,3,3.2,5.1,2,3,0,0,2026-12-02T02:00:00.000Z-->

plain:@:entry <!--SR:!2026-12-05,3,250-->
"""

# A legacy 3-day entry due today, Good: S = 3 -> 7.5 (ease 250); an SM-2 Again entry
# (interval 0) migrates as the plugin moves it to FSRS: S = 1 day, last review the day
# before; Reset and the 2000-01-01 entry are rated as new cards (first learning step).
AS_NEW = f"fsrs,2026-12-05T12:10:00.000Z,0,2.3065,2.11810397,1,1,0,1,{LAST}"
THREE_DAYS = f"fsrs,2026-12-13T12:00:00.000Z,8,7.5,7.64422903,2,1,0,0,{LAST}"
NEXT = {
    # S 2.3 is 2 days, as Hard's S 1.78: Good is kept a day above Hard (issue 12, Anki)
    "ivl0": f"fsrs,2026-12-08T12:00:00.000Z,3,2.3,8.57371207,2,1,0,0,{LAST}",
    "decimal": f"fsrs,2027-11-29T12:00:00.000Z,359,359.1,3.86473114,2,1,0,0,{LAST}",
    "integer": f"fsrs,2027-11-29T12:00:00.000Z,359,359.1,3.86473114,2,1,0,0,{LAST}",
    "offset": f"fsrs,2026-12-18T12:00:00.000Z,13,12.98800338,5.09012837,2,4,0,0,{LAST}",
    "utc": f"fsrs,2026-12-18T12:00:00.000Z,13,12.98800338,5.09012837,2,4,0,0,{LAST}",
    "ddmm": THREE_DAYS,
    "space": THREE_DAYS,
    "fourth": THREE_DAYS,
    "jsdate": THREE_DAYS,
    "plain": THREE_DAYS,
    "reset": AS_NEW,
    "dummy": AS_NEW,
}


def _env() -> dict[str, str]:
    env = dict(os.environ, TZ="UTC")
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _flashmark(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flashmark", *args], capture_output=True,
                          text=True, timeout=120, env=_env())


@pytest.fixture(scope="module")
def rated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    vault = tmp_path_factory.mktemp("plugin-forms")
    (vault / "forms.md").write_text(FIXTURE.read_text() + PLAIN)
    (vault / "flashmark.yaml").write_text("scheduling:\n  fuzz: false\n")
    scan = _flashmark("scan", "--json", str(vault))
    assert scan.returncode == 0, scan.stderr
    cards = {c["front"]: c["id"] for c in map(json.loads, scan.stdout.splitlines())}
    assert sorted(cards) == sorted(NEXT)
    before = (vault / "forms.md").read_text()
    check = _flashmark("check", str(vault))
    assert check.returncode == 0, check.stdout + check.stderr
    assert (vault / "forms.md").read_text() == before
    for front, card_id in cards.items():
        proc = _flashmark("rate", card_id, "good", str(vault), "--now", NOW)
        assert proc.returncode == 0, (front, proc.stderr)
    text = (vault / "forms.md").read_text()
    entries = {}
    for line in text.splitlines():
        if ":@:" in line:
            front = line.split(":@:")[0]
            entries[front] = line.split("<!--SR:", 1)[1].removesuffix("-->")
    return text, entries


@pytest.mark.parametrize("front", sorted(NEXT))
def test_rate_continues_from_the_plugins_state(rated: tuple[str, dict[str, str]],
                                               front: str) -> None:
    _, entries = rated
    lead = " " if front == "space" else ""  # the space after SR: stays
    assert entries[front] == lead + "!" + NEXT[front]


def test_only_the_rated_entries_changed(rated: tuple[str, dict[str, str]]) -> None:
    text, _ = rated
    rest = FIXTURE.read_text().split("\n\n")
    kept = [p for p in rest if ":@:" not in p]
    for paragraph in kept:  # the plugin's readings, the frontmatter: byte for byte
        assert paragraph in text

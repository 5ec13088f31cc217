"""A review log of a year of made-up but fixed reviews for the sample vault's cards (a
seeded generator: the same lines every run), for the stats screen's tests."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

from flashmark.config import load_settings
from flashmark.vault.scan import scan_vault

BEFORE = (None, "2026-11-01,5,250", "2026-10-01,40,250",
          "fsrs,2026-11-20T00:00:00.000Z,0,1.2,6.0,1,1,0,0,2026-11-19T12:00:00.000Z",
          "fsrs,2026-11-20T00:00:00.000Z,0,2.0,7.5,3,6,1,0,2026-11-19T12:00:00.000Z")


def write_year_of_reviews(vault: Path, now: dt.datetime, *, reviews: int = 400,
                          timed: bool = True, seed: int = 14) -> int:
    """Append ``reviews`` ratings of the vault's cards over the year before ``now``
    (more of them lately); returns how many there are."""
    result = scan_vault(vault, load_settings(vault))
    ids = [(n.rel, cid) for n in result.flashcard_notes() for _, _, cid, _ in n.summary]
    result.close()
    rng = random.Random(seed)
    lines: list[dict[str, Any]] = []
    for k in range(reviews):
        days_ago = min(364, int(rng.expovariate(1 / 60)))
        when = (now.replace(hour=0, minute=0, second=0, microsecond=0)
                - dt.timedelta(days=days_ago)
                + dt.timedelta(hours=rng.choice((7, 8, 8, 9, 12, 13, 18, 20, 21, 22)),
                               minutes=rng.randrange(60)))
        if when >= now:
            when -= dt.timedelta(days=1)
        rel, cid = rng.choice(ids)
        line: dict[str, Any] = {
            "v": 1, "event": "review", "uid": f"s{k:05d}",
            "time": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "id": cid, "path": rel,
            "sibling": 0, "rating": rng.choices(("again", "hard", "good", "easy"),
                                                (12, 8, 70, 10))[0],
            "before": rng.choices(BEFORE, (15, 35, 35, 10, 5))[0], "after": "x"}
        if timed and rng.random() < 0.9:
            line["duration_ms"] = rng.randrange(2000, 20000)
        lines.append(line)
    lines.sort(key=lambda e: str(e["time"]))
    log = vault / ".flashmark" / "reviews.jsonl"
    log.parent.mkdir(exist_ok=True)
    with log.open("a", encoding="utf-8") as fh:
        # compact, as flashmark writes its lines (the fast log reader counts on it)
        fh.writelines(json.dumps(e, separators=(",", ":")) + "\n" for e in lines)
    return len(lines)

"""A small vault with cards in every state, and a review log to go with it, for the
search, card info and action tests (NOW is the tests' clock)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from flashmark.config import load_settings
from flashmark.review.search import search_vault
from flashmark.vault.reviewlog import Bury, Leech, Review, ReviewLog, Suspend

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)

# ruff: noqa: E501 (an SR comment is one line)
NOTE_A = """---
tags:
  - flashcard/a
  - topic/x
---

new one:@:answer one

due legacy:@:answer two <!--SR:!2026-11-20,10,250-->

later fsrs:@:answer three <!--SR:!fsrs,2026-12-20T00:00:00.000Z,30,30.5,5,2,5,1,0,2026-11-20T00:00:00.000Z-->

learning fsrs:@:answer four <!--SR:!fsrs,2026-11-23T08:00:00.000Z,0,1.2,7,1,1,0,0,2026-11-23T07:50:00.000Z-->

leech card:@:answer five <!--SR:!fsrs,2026-11-22T00:00:00.000Z,2,2,9.5,2,20,9,0,2026-11-20T00:00:00.000Z-->
"""

NOTE_B = """---
tags:
  - flashcard/b/sub
---

capital of France::@::Paris <!--SR:!2026-11-23,3,230!2026-12-30,40,270-->

The {@{mitochondria}@} is the powerhouse of the cell.

suspended due:@:x <!--SR:!2026-11-01,5,250-->

buried due:@:y <!--SR:!2026-11-02,5,250-->
"""


def make_vault(root: Path) -> dict[str, str]:
    """Write the vault and its log; returns front -> card id."""
    (root / "b").mkdir(parents=True)
    (root / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard"]\n')
    (root / "a.md").write_text(NOTE_A)
    (root / "b" / "b.md").write_text(NOTE_B)
    settings = load_settings(root)
    rows = search_vault(root, settings, "", NOW, texts=True).rows
    ids = {r.front: r.id for r in rows}
    path = {r.id: r.path for r in rows}
    log = ReviewLog(root)
    learning = ids["learning fsrs"]
    log.append_all([
        Suspend(time="2026-11-20T10:00:00.000Z", id=ids["suspended due"],
                path=path[ids["suspended due"]]),
        Bury(time="2026-11-23T08:30:00.000Z", id=ids["buried due"],
             path=path[ids["buried due"]]),
        Review(time="2026-11-23T07:50:00.000Z", id=learning, path=path[learning],
               sibling=0, rating="good", before=None,
               after="fsrs,2026-11-23T08:00:00.000Z,0,1.2,7,1,1,0,0,2026-11-23T07:50:00.000Z",
               duration_ms=3100),
        # its eighth lapse made it a leech (review.leech): what is:leech and info read
        Leech(time="2026-11-14T00:00:05.000Z", id=ids["leech card"],
              path=path[ids["leech card"]], lapses=8),
        Review(time="2026-11-20T12:00:00.000Z", id=ids["leech card"],
               path=path[ids["leech card"]], sibling=0, rating="again",
               before="fsrs,2026-11-19T00:00:00.000Z,5,5,9,2,19,8,0,2026-11-14T00:00:00.000Z",
               after="fsrs,2026-11-22T00:00:00.000Z,2,2,9.5,2,20,9,0,2026-11-20T00:00:00.000Z"),
    ])
    return ids


def dump(obj: object) -> str:
    return json.dumps(obj, sort_keys=True)

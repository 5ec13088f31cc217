"""`flashmark stats --json`'s graph data (flashmark.statistics) against a fixture vault
and review log whose figures are worked out by hand below.

The clock: NOW = Monday 2026-11-23 09:00 UTC, TZ=UTC, the day starting at 04:00 (the
default), so a review at 02:30 on the 23rd belongs to the 22nd. ``--days 7``: the
window is 2026-11-17 .. 2026-11-23.

The cards (note order), and what their entries give:

  C1 legacy 2026-11-20,10,250   young (10 < 21 d); S = 10 (at r = 0.9 the stability is
     the interval); D = 11 - 1.5 / (e^w8 * 10^-w9 * expm1(0.1 * w10)) = 11 - 1.5 / 0.36711
     = 6.914; last review 2026-11-10 (due - interval), 13 days ago:
     R = (1 + F * 13 / 10) ^ -w20 with F = 0.9 ^ (-1 / w20) - 1 = 0.98035 (w20 = 0.1542):
     0.8810
  C2 legacy 2026-12-30,40,250   mature; S = 40; D = 11 - 1.5 / 0.29140 = 5.853; last review
     2026-11-20, 3 days: R = (1 + F * 3 / 40) ^ -w20 = 0.9891
  C3 FSRS review, ivl 5, S 5.0, D 4.5, 8 lapses (a leech: logged), last review 2026-11-20 12:00,
     3 days: R = (1 + F * 3 / 5) ^ -w20 = 0.9312
  C4 FSRS learning (state 1), ivl 0, S 1.2, D 6.2, last review today 08:00: R = 1.0
  C5 no entry: new (and buried today by the log)

  (w8 = 1.8722, w9 = 0.1666, w10 = 0.796, w20 = 0.1542: py-fsrs 6's default weights.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flashmark.config import load_settings
from flashmark.vault.scan import scan_vault

NOW = "2026-11-23T09:00:00+00:00"

NOTE = """#flashcard/active/stats

q1:@:a1 <!--SR:!2026-11-20,10,250-->

q2:@:a2 <!--SR:!2026-12-30,40,250-->

q3:@:a3 <!--SR:!fsrs,2026-11-25T00:00:00.000Z,5,5.0,4.5,2,9,8,0,2026-11-20T12:00:00.000Z-->

q4:@:a4 <!--SR:!fsrs,2026-11-23T09:10:00.000Z,0,1.2,6.2,1,1,0,0,2026-11-23T08:00:00.000Z-->

q5:@:a5
"""


def _events(c1: str, c2: str, c3: str, c4: str, c5: str) -> list[dict[str, Any]]:
    def review(uid: str, when: str, card: str, rating: str, before: str | None,
               ms: int | None) -> dict[str, Any]:
        e: dict[str, Any] = {"v": 1, "event": "review", "uid": uid, "time": when, "id": card,
                             "path": "stats.md", "sibling": 0, "rating": rating,
                             "before": before, "after": "x"}
        if ms is not None:
            e["duration_ms"] = ms
        return e

    old_c2 = "oldc2oldc2ol"  # C2's id before its text was edited
    return [
        # E9: 387 days ago: in "all" only, outside the heatmap's year
        review("e9", "2025-11-01T12:00:00.000Z", c2, "good", "2025-10-01,31,250", None),
        # E8: 2026-10-01, 53 days ago: the year and the heatmap, not the window
        review("e8", "2026-10-01T12:00:00.000Z", c2, "good", "2026-09-01,30,250", None),
        # E5: 11-20 (3 days ago), young (interval 5), Again, 8 s
        review("e5", "2026-11-20T12:00:00.000Z", c1, "again", "2026-11-10,5,250", 8000),
        # E6, undone by E7: counts nowhere
        review("e6", "2026-11-20T12:05:00.000Z", c1, "good", "2026-11-10,5,250", 5000),
        {"v": 1, "event": "undo", "uid": "e7", "of": "e6", "time": "2026-11-20T12:06:00.000Z"},
        # E11: an Anki review of C3 on 11-21, its first: young; 3 s
        {"v": 1, "event": "anki_review", "uid": "e11", "time": "2026-11-21T12:00:00.000Z",
         "id": c3, "path": "stats.md", "sibling": 0, "rating": "good", "revlog": 1,
         "duration_ms": 3000, "interval": 25, "anki_type": "review"},
        # E12: C2 under its old id on 11-21 09:00, mature (interval 30), Good, untimed;
        # the rename below makes it C2's
        review("e12", "2026-11-21T09:00:00.000Z", old_c2, "good", "2026-10-22,30,250", None),
        {"v": 1, "event": "renamed", "uid": "r1", "time": "2026-11-21T10:00:00.000Z",
         "id": old_c2, "to": c2, "path": "stats.md", "via": "edit"},
        # E4: C4 new on 11-22 10:00, Easy, 10 s
        review("e4", "2026-11-22T10:00:00.000Z", c4, "easy", None, 10000),
        # E3: 11-23 02:30 is before 04:00: the 22nd; mature (FSRS review, interval 25), Hard
        review("e3", "2026-11-23T02:30:00.000Z", c3, "hard",
               "fsrs,2026-11-22T00:00:00.000Z,25,25.0,4.5,2,8,7,0,2026-10-28T00:00:00.000Z",
               None),
        # E1, E2: today 08:00 and 08:01: C1 young Good 6 s, C2 mature Again 4 s
        review("e1", "2026-11-23T08:00:00.000Z", c1, "good", "2026-11-20,10,250", 6000),
        review("e2", "2026-11-23T08:01:00.000Z", c2, "again", "2026-11-10,30,250", 4000),
        # C3 marked a leech (its entry counts 8 lapses; review.leech) after E11
        {"v": 1, "event": "leech", "uid": "l1", "time": "2026-11-21T12:00:01.000Z", "id": c3,
         "path": "stats.md", "lapses": 8},
        # C5 buried today (no end: for the day)
        {"v": 1, "event": "bury", "uid": "b1", "time": "2026-11-23T08:30:00.000Z", "id": c5,
         "path": "stats.md"},
    ]


@pytest.fixture
def stats_vault(tmp_path: Path) -> Path:
    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "flashmark.yaml").write_text('parser:\n  flashcard_tags: ["#flashcard/active"]\n')
    (vault / "stats.md").write_text(NOTE)
    result = scan_vault(vault, load_settings(vault), use_cache=False)
    ids = [cid for n in result.flashcard_notes() for _, _, cid, _ in n.summary]
    result.close()
    assert len(ids) == 5
    log = vault / ".flashmark" / "reviews.jsonl"
    log.parent.mkdir(exist_ok=True)
    log.write_text("".join(json.dumps(e) + "\n" for e in _events(*ids)))
    return vault


def _stats_json(vault: Path, *extra: str) -> dict[str, Any]:
    env = {**os.environ, "TZ": "UTC"}
    proc = subprocess.run([sys.executable, "-m", "flashmark", "stats", str(vault), "--json",
                           "--now", NOW, "--days", "7", *extra],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def test_stats_json_figures(stats_vault: Path) -> None:
    data = _stats_json(stats_vault)
    # The keys that were there keep their meaning (today's ratings: E1 Good, E2 Again).
    assert data["reviews_per_day"][-1]["total"] == 2
    assert data["states"]["buried"] == 1

    # Heatmap, 2025-11-24 .. 2026-11-23: E1 E2 on the 23rd; E3 (02:30) and E4 on the
    # 22nd; E11 E12 on the 21st; E5 on the 20th; E8 on 10-01. E9 is older; E6 undone.
    heat = data["heatmap"]
    assert (heat["first"], heat["last"]) == ("2025-11-24", "2026-11-23")
    assert heat["counts"] == {"2026-10-01": 1, "2026-11-20": 1, "2026-11-21": 2,
                              "2026-11-22": 2, "2026-11-23": 2}
    assert (heat["total"], heat["days_studied"]) == (8, 5)

    # True retention (reviews of young and mature cards only; E4 was new):
    #   today: E1 young pass, E2 mature fail
    #   yesterday: E3 mature pass
    #   week = month: young E1 pass, E11 pass, E5 fail; mature E3 E12 pass, E2 fail
    #   year: + E8 mature pass; all: + E9 mature pass
    tr = data["true_retention"]
    assert tr["today"]["young"] == {"passed": 1, "failed": 0, "retention": 1.0}
    assert tr["today"]["mature"] == {"passed": 0, "failed": 1, "retention": 0.0}
    assert tr["today"]["total"] == {"passed": 1, "failed": 1, "retention": 0.5}
    assert tr["yesterday"]["mature"]["passed"] == 1
    assert tr["yesterday"]["young"]["retention"] is None
    for period in ("week", "month"):
        assert tr[period]["young"] == {"passed": 2, "failed": 1, "retention": 0.6667}
        assert tr[period]["mature"] == {"passed": 2, "failed": 1, "retention": 0.6667}
    assert tr["year"]["mature"] == {"passed": 3, "failed": 1, "retention": 0.75}
    assert tr["all"]["mature"] == {"passed": 4, "failed": 1, "retention": 0.8}
    assert tr["all"]["total"] == {"passed": 6, "failed": 2, "retention": 0.75}

    # Per day, 11-17 .. 11-23, by rating and by state, with the logged time
    days = {d["date"]: d for d in data["review_days"]}
    assert min(days) == "2026-11-17" and len(days) == 7
    d23, d22, d21, d20 = (days[f"2026-11-{k}"] for k in (23, 22, 21, 20))
    assert (d23["again"], d23["good"], d23["young"], d23["mature"]) == (1, 1, 1, 1)
    assert (d23["timed"], d23["seconds"]) == (2, 10.0)  # 6 s + 4 s
    assert (d22["hard"], d22["easy"], d22["mature"], d22["new"]) == (1, 1, 1, 1)
    assert (d22["timed"], d22["seconds"]) == (1, 10.0)  # E4 only: E3 has no time
    assert (d21["good"], d21["young"], d21["mature"], d21["timed"]) == (2, 1, 1, 1)
    assert (d20["again"], d20["young"], d20["seconds"]) == (1, 1, 8.0)
    assert all(days[f"2026-11-{k}"]["total"] == 0 for k in (17, 18, 19))

    # Time over the window: 7 reviews, 5 timed, 31 s (6 + 4 + 10 + 3 + 8); all time: E3,
    # E8, E9, E12 have no time
    t = data["time"]
    assert (t["reviews"], t["timed"], t["untimed"], t["seconds"]) == (7, 5, 2, 31.0)
    assert t["seconds_per_review"] == 6.2
    assert (t["timed_all_time"], t["untimed_all_time"]) == (5, 4)

    # Answer buttons in the window: learning (new E4 Easy); young E1 Good, E5 Again, E11
    # Good; mature E2 Again, E3 Hard, E12 Good
    b = data["buttons"]
    assert b["learning"] == {"again": 0, "hard": 0, "good": 0, "easy": 1}
    assert b["young"] == {"again": 1, "hard": 0, "good": 2, "easy": 0}
    assert b["mature"] == {"again": 1, "hard": 1, "good": 1, "easy": 0}

    # Hours (UTC): 8h E1 E2 (1 passed), 2h E3, 9h E12, 10h E4, 12h E5 (fail) E11
    hours = {h["hour"]: (h["reviews"], h["passed"]) for h in data["hours"] if h["reviews"]}
    assert hours == {2: (1, 1), 8: (2, 1), 9: (1, 1), 10: (1, 1), 12: (2, 1)}

    # Cards: C1 C3 young, C2 mature, C4 learning, C5 buried
    assert data["cards"] == {"new": 0, "learning": 1, "relearning": 0, "young": 2,
                             "mature": 1, "suspended": 0, "buried": 1, "unreadable": 0,
                             "total": 5}
    # First seen: C1 at E5 (11-20), C3 at E11 (11-21), C4 at E4 (11-22), C5 at its bury
    # (11-23); C2 first at E9, a year ago
    added = {a["date"]: a["count"] for a in data["added_per_day"] if a["count"]}
    assert added == {"2026-11-20": 1, "2026-11-21": 1, "2026-11-22": 1, "2026-11-23": 1}
    assert data["leeches"] == {"count": 1}  # C3: its leech event

    # Histograms of the four scheduled cards (C5 is new)
    h = data["histograms"]

    def counts(name: str) -> dict[str, int]:
        return {b["label"]: b["count"] for b in h[name]["buckets"] if b["count"]}

    # intervals 10, 40, 5, 0: mean 55 / 4
    assert counts("interval") == {"≤1d": 1, "4-7d": 1, "8-14d": 1, "1-3m": 1}
    assert h["interval"]["mean"] == 13.75
    # stability 10, 40, 5.0, 1.2: mean 56.2 / 4
    assert counts("stability") == {"2d": 1, "4-7d": 1, "8-14d": 1, "1-3m": 1}
    assert h["stability"]["mean"] == pytest.approx(14.05)
    # difficulty 6.914 (C1), 5.853 (C2), 4.5, 6.2: mean 23.467 / 4
    assert counts("difficulty") == {"4-5": 1, "5-6": 1, "6-7": 2}
    assert h["difficulty"]["mean"] == pytest.approx(5.8666, abs=1e-3)
    # retrievability 0.8810 (C1), 0.9891, 0.9312, 1.0: mean 3.8013 / 4
    assert counts("retrievability") == {"80-90%": 1, "90-100%": 3}
    assert h["retrievability"]["mean"] == pytest.approx(0.9503, abs=1e-3)


def test_stats_json_per_deck(stats_vault: Path) -> None:
    """--deck selects the cards and their reviews: a card of another deck and its review
    count for the whole vault only; an unknown deck is an error, not empty figures."""
    (stats_vault / "other.md").write_text("#flashcard/active/other\n\nx:@:y\n")
    result = scan_vault(stats_vault, load_settings(stats_vault), use_cache=False)
    other = next(cid for n in result.flashcard_notes() if n.rel == "other.md"
                 for _, _, cid, _ in n.summary)
    result.close()
    with (stats_vault / ".flashmark" / "reviews.jsonl").open("a") as log:
        log.write(json.dumps({"v": 1, "event": "review", "uid": "o1", "id": other,
                              "time": "2026-11-23T07:00:00.000Z", "path": "other.md",
                              "sibling": 0, "rating": "good", "before": None,
                              "after": "x"}) + "\n")
    whole = _stats_json(stats_vault)
    assert (whole["cards"]["total"], whole["heatmap"]["total"]) == (6, 9)
    assert whole["review_days"][-1]["new"] == 1
    deck = _stats_json(stats_vault, "--deck", "flashcard/active/stats")
    assert (deck["cards"]["total"], deck["heatmap"]["total"]) == (5, 8)
    assert deck["review_days"][-1]["new"] == 0
    assert deck["histograms"] == _stats_json(stats_vault, "--deck", "*/stats")["histograms"]
    env = {**os.environ, "TZ": "UTC"}
    proc = subprocess.run([sys.executable, "-m", "flashmark", "stats", str(stats_vault),
                           "--json", "--now", NOW, "--deck", "nosuchdeck"],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode != 0 and "no deck matches" in proc.stderr
    assert "Traceback" not in proc.stderr

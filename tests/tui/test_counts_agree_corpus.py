"""Issue 12's "one definition": on a copy of the real vault, at a fixed --now, the counts
derived from `scan --json` (by the rules written out below, not by flashmark's code),
`due --json`, `stats --json`, the `scan` table and the reviewer's deck list (Pilot) are
the same numbers, in total and deck by deck: before any rating, after rating cards of a
reversible and a cloze question (their siblings hidden), forgetting a card (Learn),
burying one card and suspending another, and with daily limits set."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flashmark.cli.main import main
from flashmark.config import load_settings
from flashmark.review.settings import load_review_settings
from flashmark.tui.app import START_DECKS, Context, FlashmarkApp
from flashmark.tui.deck_screen import DeckScreen
from flashmark.vault.lock import vault_lock
from flashmark.vault.reviewlog import Bury, ReviewLog, Suspend
from tests.tui.tui_support import ready

CORPUS = Path(os.environ.get("FLASHMARK_CORPUS") or
              Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "information")
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
NOW_TEXT = "2026-11-23T09:00:00+00:00"
TODAY = "2026-11-23"  # the learner's day at 09:00 UTC (day boundary 04:00, TZ=UTC)
END_OF_DAY = "2026-11-24T04:00:00.000Z"
LIMITED_DECK = "flashcard/active/general"

pytestmark = [pytest.mark.corpus, pytest.mark.slow,
              pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")]


def _run(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


def _lines(*argv: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _run(*argv).splitlines()]


class Expected:
    """The counts worked out from `scan --json`'s schedules and what the test did."""

    def __init__(self, cards: list[dict[str, Any]], rated: set[str], buried: set[str],
                 suspended: set[str]) -> None:
        questions: dict[tuple[str, int], list[str]] = defaultdict(list)
        for c in cards:
            questions[c["path"], c["line"]].append(c["id"])
        # a sibling of a card rated today waits for tomorrow (bury_siblings: true)
        hidden = {cid for ids in questions.values() if rated & set(ids)
                  for cid in ids if cid not in rated}
        self.status: dict[str, str] = {}
        self.deck: dict[str, str | None] = {}
        for c in cards:
            cid, s = c["id"], c["schedule"]
            self.deck[cid] = c["deck"]
            if s is not None and s["kind"] == "invalid":
                status = "unreadable"
            elif cid in suspended:
                status = "suspended"
            elif cid in buried:
                status = "buried"
            elif s is None:
                status = "new"
            elif s["kind"] == "fsrs" and s["state"] in (1, 3):
                status = "learning" if s["due"] < END_OF_DAY else "later"
            elif (s["due"][:10] <= TODAY if s["kind"] == "sm2" else s["due"] < END_OF_DAY):
                status = "due"
            else:
                status = "later"
            if status in ("new", "due") and cid in hidden:
                status = "buried"
            self.status[cid] = status
        self.counts = Counter(self.status.values())

    def per_deck(self) -> dict[str | None, Counter[str]]:
        """Cards per status in each deck (its own cards, not its sub-decks')."""
        out: dict[str | None, Counter[str]] = defaultdict(Counter)
        for cid, status in self.status.items():
            out[self.deck[cid]][status] += 1
        return out

    def pools(self, limited: bool) -> dict[str, Counter[str]]:
        """Waiting cards per limit group: LIMITED_DECK's and the rest's."""
        out: dict[str, Counter[str]] = defaultdict(Counter)
        for cid, status in self.status.items():
            deck = self.deck[cid] or ""
            pool = "limited" if limited and (deck + "/").startswith(LIMITED_DECK + "/") else ""
            out[pool][status] += 1
        return out


DeckCounts = dict[str, tuple[int, int, int]]


def _deck_list(root: Path) -> tuple[tuple[int, int, int], str, DeckCounts]:
    """The deck list's totals (New, Learn, Due), its totals line and every deck's row."""
    ctx = Context(root, load_settings(root), load_review_settings(root), lambda: NOW)
    app = FlashmarkApp(ctx, start=START_DECKS)
    found: list[Any] = []

    async def go() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(pilot)
            screen = app.screen
            assert isinstance(screen, DeckScreen) and screen.overview is not None
            node = screen.nodes["flashcard"]  # every deck of the vault is under it
            assert (node.new, node.learning, node.review) == screen.overview.counts()
            found.append(screen.overview.counts())
            found.append(str(screen.query_one("#totals").render()))
            found.append({name: (n.new, n.learning, n.review)
                          for name, n in screen.nodes.items()})

    asyncio.run(go())
    return found[0], found[1], found[2]


def _check_all(root: Path, expected: tuple[int, int, int], waiting: Expected) -> None:
    new, learning, due = expected
    total = _lines("due", str(root), "--now", NOW_TEXT, "--json", "--days", "2")[-1]
    assert total["deck"] is None
    assert (total["new"], total["learning"], total["due"]) == expected
    assert total["due_waiting"] == waiting.counts["due"]
    assert total["new_waiting"] == waiting.counts["new"]
    assert total["suspended"] == waiting.counts["suspended"]
    assert total["buried"] == waiting.counts["buried"]
    assert total["forecast"][0]["count"] == waiting.counts["due"] + waiting.counts["learning"]
    stats = json.loads(_run("stats", str(root), "--now", NOW_TEXT, "--json"))
    assert stats["queue"] == {"new": new, "learn": learning, "due": due}
    assert stats["states"]["due_today"] == waiting.counts["due"]
    assert stats["states"]["learning_today"] == waiting.counts["learning"]
    assert stats["states"]["suspended"] == waiting.counts["suspended"]
    assert stats["states"]["buried"] == waiting.counts["buried"]
    assert stats["forecast"][0]["count"] == total["forecast"][0]["count"]
    table = _run("scan", str(root), "--now", NOW_TEXT).strip().splitlines()
    assert table[0].split() == ["deck", "New", "Learn", "Due", "total"]
    assert [int(n) for n in table[-1].split()[-4:-1]] == list(expected)
    counts, line, rows = _deck_list(root)
    assert counts == expected
    assert f"New {new:,} · Learn {learning:,} · Due {due:,}" in line
    # deck by deck: `due --json`'s line of each deck (with its sub-decks: what reviewing
    # it shows) that no other line is under is the deck list's row, and its waiting
    # cards are scan --json's
    decks = [d for d in _lines("due", str(root), "--now", NOW_TEXT, "--json", "--days", "1")
             if d["deck"] is not None]
    names = {d["deck"] for d in decks}
    leaves = [d for d in decks if not any(n.startswith(d["deck"] + "/") for n in names)]
    assert len(leaves) > 20
    per_deck = waiting.per_deck()
    for d in leaves:
        assert rows[d["deck"]] == (d["new"], d["learning"], d["due"]), d["deck"]
        mine = sum((c for deck, c in per_deck.items()
                    if deck is not None and (deck + "/").startswith(d["deck"] + "/")),
                   Counter[str]())
        assert (d["new_waiting"], d["learning"], d["due_waiting"], d["suspended"],
                d["buried"]) == (mine["new"], mine["learning"], mine["due"],
                                 mine["suspended"], mine["buried"]), d["deck"]


def test_every_count_agrees(tmp_path: Path, utc: None,
                            writable_copy: Callable[[Path, Path], Path]) -> None:
    root = writable_copy(CORPUS, tmp_path / "vault")
    # data.json says burySiblingCards: false; flashmark.yaml overrides it
    (root / "flashmark.yaml").write_text("review:\n  bury_siblings: true\n")
    cards = _lines("scan", str(root), "--json")
    before = Expected(cards, set(), set(), set())
    assert before.counts["due"] > 10_000
    # default limits: 20 new a day, no review limit
    _check_all(root, (min(20, before.counts["new"]), before.counts["learning"],
                      before.counts["due"]), before)

    # rate one card of a reversible and one of a cloze question whose cards are all due,
    # bury one due card and suspend another
    by_question: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for c in cards:
        by_question[c["path"], c["line"]].append(c)

    def pick(kind: str) -> dict[str, Any]:
        return next(group[0] for group in by_question.values()
                    if group[0]["type"] == kind and len(group) >= 2
                    and all(before.status[c["id"]] == "due" for c in group))

    reversible, cloze = pick("reversible"), pick("cloze")
    for cid in (reversible["id"], cloze["id"]):
        _run("rate", cid, "good", str(root), "--now", NOW_TEXT)
    singles = [g[0] for g in by_question.values()
               if len(g) == 1 and before.status[g[0]["id"]] == "due"]
    bury, suspend, forgotten = singles[0], singles[1], singles[2]
    # a lapse: the card is in relearning, due again within the day (Learn)
    _run("rate", forgotten["id"], "again", str(root), "--now", NOW_TEXT)
    rated = {reversible["id"], cloze["id"], forgotten["id"]}
    log = ReviewLog(root)
    with vault_lock(root):
        log.append(Bury(time="2026-11-23T09:00:00.000Z", id=bury["id"], path=bury["path"],
                        until=END_OF_DAY))
        log.append(Suspend(time="2026-11-23T09:00:00.000Z", id=suspend["id"],
                           path=suspend["path"]))
    cards = _lines("scan", str(root), "--json")
    after = Expected(cards, rated, {bury["id"]}, {suspend["id"]})
    hidden = len(by_question[reversible["path"], reversible["line"]]) - 1 + len(
        by_question[cloze["path"], cloze["line"]]) - 1
    # the three rated cards are no longer due; the siblings of two, the buried and the
    # suspended card neither; the forgotten one is learning
    assert after.counts["due"] == before.counts["due"] - 3 - hidden - 2
    assert after.counts["learning"] == before.counts["learning"] + 1
    assert after.counts["buried"] == hidden + 1 and after.counts["suspended"] == 1
    _check_all(root, (min(20, after.counts["new"]), after.counts["learning"],
                      after.counts["due"]), after)

    # daily limits: general's decks get 300 reviews a day, the others 1,000; 5 new each
    (root / "flashmark.yaml").write_text(
        "review:\n  bury_siblings: true\n  new_per_day: 5\n  max_reviews_per_day: 1000\n"
        f"  decks:\n    {LIMITED_DECK}: {{max_reviews_per_day: 300}}\n")
    pools = after.pools(limited=True)
    rated_in = Counter("limited" if ((after.deck[c] or "") + "/").startswith(
        LIMITED_DECK + "/") else "" for c in rated)  # reviews done today, per group
    due = new = 0
    for pool, limit in (("", 1000), ("limited", 300)):
        room = limit - rated_in[pool]
        took = min(pools[pool]["due"], room)
        due += took
        new += max(0, min(5, pools[pool]["new"], room - took))  # new cards: what is left
    assert due < after.counts["due"]  # the limits hold reviews back
    _check_all(root, (new, after.counts["learning"], due), after)

"""Card info: everything flashmark knows about one card, and its review history.

The schedule comes from the card's SR entry in the note (the truth); the history from
the review log (`vault.reviewlog`: the events in effect, under the id the card has now,
`follow_renames`). A card the Obsidian plugin reviewed before flashmark has no history
in the log: its one known review is the one its entry describes (``source`` "note").
The state words (suspended, buried, leech, flag) come from `review.search`'s adapter,
the one place that derives them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from flashmark.config import Settings
from flashmark.model import FsrsEntry, RawEntry, Sm2Entry
from flashmark.review.rating import Located
from flashmark.review.search import card_states, lapses_of, log_facts, vault_siblings
from flashmark.stats import DueCutoff
from flashmark.syntax import srcodec
from flashmark.vault.cardtable import rows_of
from flashmark.vault.reviewlog import (
    AnkiReview,
    Bury,
    Event,
    External,
    Renamed,
    Review,
    Suspend,
    Unsuspend,
    follow_renames,
    in_effect,
    rename_map,
)

_FSRS_STATES = {0: "new", 1: "learning", 2: "review", 3: "relearning"}
NOTE_ENTRY = "note"  # a history line made from an SR entry, not from a log event
RATED = (Review.kind, AnkiReview.kind, NOTE_ENTRY)  # the history lines that are ratings


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One line of a card's history."""

    time: str  # ISO 8601 UTC
    event: str  # review, anki_review, bury, suspend, unsuspend, external, renamed, note
    rating: str | None = None
    interval: int | None = None  # days, after the review
    stability: float | None = None
    difficulty: float | None = None
    duration_ms: int | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class CardInfo:
    id: str
    path: str
    line: int  # 1-based
    deck: str | None
    type: str
    sibling: int
    front: str
    back: str
    entry: str | None  # the SR entry as written (without "!")
    state: str  # new, learning, review, relearning, unreadable
    added: str | None  # the first time the log mentions the card (None: never)
    first_review: str | None
    latest_review: str | None
    due: str | None
    interval: int | None
    stability: float | None
    difficulty: float | None
    retrievability: float | None
    reps: int
    lapses: int
    suspended: bool
    buried: bool
    leech: bool
    flag: int
    history_source: str  # "log", "note" (the entry only) or "none"
    history: list[HistoryItem] = field(default_factory=list)
    former_ids: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["history"] = [{k: v for k, v in asdict(h).items() if v is not None}
                          for h in self.history]
        return out


def _entry_numbers(entry_text: str | None) -> tuple[int | None, float | None, float | None]:
    if entry_text is None:
        return None, None, None
    entry = srcodec.parse_entry(entry_text)
    if isinstance(entry, FsrsEntry) and not entry.is_new:
        return entry.interval, entry.stability, entry.difficulty
    if isinstance(entry, Sm2Entry) and not entry.is_new:
        return entry.interval, None, None
    return None, None, None


def card_info(root: Path, settings: Settings, loc: Located, events: list[Event],
              now: dt.datetime) -> CardInfo:
    """The info of the card ``loc`` (found by `review.rating.CardFinder`) at ``now``,
    from the log's ``events`` (all of them, oldest first)."""
    from flashmark.review.search import scheduler_views

    card = loc.card
    row = next(r for r in rows_of(_single(loc), loc.rel) if r.id == card.id)
    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    facts = log_facts(events, cutoff, siblings=vault_siblings(root, settings))
    memory, recall = scheduler_views(settings, now)
    states = card_states(row, facts)
    entry = srcodec.parse_entry(card.entry_text) if card.entry_text is not None else None

    renamed = rename_map(events)
    former = sorted(old for old, new in renamed.items() if new == card.id)
    mine = [e for e in in_effect(follow_renames(events))
            if getattr(e, "id", None) == card.id and not isinstance(e, Renamed)]
    history: list[HistoryItem] = []
    for e in mine:
        if isinstance(e, Review):
            ivl, s, d = _entry_numbers(e.after)
            history.append(HistoryItem(e.time, e.kind, e.rating, ivl, s, d, e.duration_ms))
        elif isinstance(e, AnkiReview):
            ivl = e.interval if e.interval is not None and e.interval >= 0 else 0
            history.append(HistoryItem(e.time, e.kind, e.rating, ivl,
                                       duration_ms=e.duration_ms, detail=e.anki_type))
        elif isinstance(e, Bury):
            history.append(HistoryItem(e.time, "bury", detail=e.until))
        elif isinstance(e, Suspend | Unsuspend):
            history.append(HistoryItem(e.time, e.kind))
        elif isinstance(e, External):
            history.append(HistoryItem(e.time, "external",
                                       detail=f"{e.before or '(none)'} -> {e.after or '(none)'}"))
        elif hasattr(e, "kind"):
            history.append(HistoryItem(e.time, e.kind, detail=_describe(e)))
    first = next((e for e in mine if isinstance(e, Review)), None)
    if first is not None and first.before is not None:
        # The card had a schedule before its first rating here: the plugin's review.
        ivl0, s0, d0 = _entry_numbers(first.before)
        when = _last_review_of(first.before)
        if when is not None:
            history.insert(0, HistoryItem(when, NOTE_ENTRY, None, ivl0, s0, d0,
                                          detail="the SR entry before flashmark's first "
                                                 "rating"))
    ratings = [h for h in history if h.event in RATED[:2]]
    source = "log" if ratings else "none"
    ivl, stability, difficulty = _entry_numbers(card.entry_text)
    sd = memory(row)
    if sd is not None:
        stability, difficulty = sd
    last_review = _last_review_of(card.entry_text)
    if not ratings and last_review is not None:
        # Reviewed before flashmark kept a log (the Obsidian plugin): the entry is the
        # one review known.
        source = "note"
        history.insert(0, HistoryItem(last_review, NOTE_ENTRY, None, ivl, stability, difficulty,
                                      detail="the SR entry in the note (reviewed before "
                                             "flashmark's log)"))
    # The ratings the log holds; an FSRS entry counts the plugin's too; a legacy entry
    # of a card reviewed before the log says at least one.
    reps = len(ratings)
    if isinstance(entry, FsrsEntry):
        reps = max(reps, entry.reps)
    elif reps == 0 and last_review is not None:
        reps = 1
    state = _state_name(entry)
    return CardInfo(
        id=card.id, path=loc.rel, line=loc.question.span.line + 1, deck=loc.question.deck,
        type=loc.question.type.value, sibling=card.sibling, front=card.front,
        back=card.back, entry=card.entry_text, state=state,
        added=mine[0].time if mine else None,
        first_review=next((h.time for h in history if h.event in RATED), None),
        latest_review=ratings[-1].time if ratings else last_review,
        due=_due_text(entry), interval=ivl, stability=stability, difficulty=difficulty,
        retrievability=recall(row), reps=reps, lapses=lapses_of(row, facts),
        suspended="suspended" in states, buried="buried" in states,
        leech="leech" in states, flag=facts.flags.get(card.id, 0),
        history_source=source, history=history, former_ids=former)


def _single(loc: Located) -> Any:
    """A one-question note for `rows_of` (the card's question, as parsed)."""
    from flashmark.model import ParsedNote

    return ParsedNote(True, loc.question.deck, (), (loc.question,))


def _last_review_of(entry_text: str | None) -> str | None:
    """When the review that wrote an entry took place (a legacy entry: its date less
    its interval), None for a new or unreadable one."""
    entry = srcodec.parse_entry(entry_text) if entry_text is not None else None
    if isinstance(entry, FsrsEntry) and not entry.is_new and entry.last_review is not None:
        return srcodec.iso_ms(entry.last_review)
    if isinstance(entry, Sm2Entry) and not entry.is_new:
        return (entry.due - dt.timedelta(days=max(1, entry.interval))).isoformat()
    return None


def _state_name(entry: object) -> str:
    if entry is None:
        return "new"
    if isinstance(entry, RawEntry):
        return "unreadable"
    if isinstance(entry, Sm2Entry):
        return "new" if entry.is_new else "review"
    assert isinstance(entry, FsrsEntry)
    return _FSRS_STATES.get(entry.state, "review")


def _due_text(entry: object) -> str | None:
    if isinstance(entry, FsrsEntry) and not entry.is_new:
        return srcodec.iso_ms(entry.due)
    if isinstance(entry, Sm2Entry) and not entry.is_new:
        return entry.due.isoformat()
    return None


def _describe(event: Event) -> str | None:
    """A short description of an event kind this module does not know by name (the
    actions added after it: flags, forget, set-due)."""
    for name in ("flag", "after", "days"):
        value = getattr(event, name, None)
        if value is not None:
            return f"{name} {value}"
    return None


def _number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def info_text(info: CardInfo) -> str:
    """The info as aligned lines (the CLI's and the reviewer's `i` screen's text)."""
    from io import StringIO

    from rich.cells import cell_len

    def table(rows: list[list[str]], right: set[int], out: StringIO) -> None:
        widths = [max(cell_len(r[c]) for r in rows) for c in range(len(rows[0]))]
        for r in rows:
            cells = [" " * (widths[c] - cell_len(v)) + v if c in right
                     else v + " " * (widths[c] - cell_len(v)) for c, v in enumerate(r)]
            out.write("  ".join(cells).rstrip() + "\n")

    marks = [w for w, on in (("suspended", info.suspended), ("buried", info.buried),
                             ("leech", info.leech)) if on]
    if info.flag:
        marks.append(f"flag {info.flag}")
    rows = [
        ["card", info.id + (f" (before: {', '.join(info.former_ids)})"
                            if info.former_ids else "")],
        ["note", f"{info.path}:{info.line}"],
        ["deck", info.deck or "(no deck)"],
        ["type", f"{info.type}, card {info.sibling + 1}"],
        ["state", info.state + (f" ({', '.join(marks)})" if marks else "")],
        ["added", info.added or "— (not in the review log)"],
        ["first review", info.first_review or "—"],
        ["latest review", info.latest_review or "—"],
        ["due", info.due or "—"],
        ["interval", "—" if info.interval is None else f"{info.interval} d"],
        ["stability", "—" if info.stability is None else f"{info.stability:.2f} d"],
        ["difficulty", _number(info.difficulty)],
        ["retrievability", "—" if info.retrievability is None
         else f"{info.retrievability * 100:.1f} %"],
        ["reps", str(info.reps)],
        ["lapses", str(info.lapses)],
        ["entry", "!" + info.entry if info.entry is not None else "(none)"],
    ]
    buffer = StringIO()
    table([[k + ":", v] for k, v in rows], set(), buffer)
    source = {"log": "from the review log", "note": "the SR entry in the note only, "
              "reviewed before flashmark's log", "none": "none yet"}[info.history_source]
    buffer.write(f"\nhistory ({source}):\n")
    if info.history:
        lines = [["time", "event", "rating", "ivl", "S", "D", "took"]]
        for h in info.history:
            lines.append([h.time[:16].replace("T", " "), h.event, h.rating or "",
                          "" if h.interval is None else str(h.interval),
                          _number(h.stability), _number(h.difficulty),
                          "" if h.duration_ms is None else f"{h.duration_ms / 1000:.1f}s"])
        table(lines, {3, 4, 5, 6}, buffer)
    return buffer.getvalue()

"""Rate a card and write the result into its note; undo the last rating.

A rating is: find the card by id → schedule it (FSRS, injected clock) → one `Edit` of
its SR entry → `apply_edits` (re-reads, re-locates, atomic) → one `review` line in the
review log. When the note changed so that the card is gone, nothing is written to the
note and the rating is logged as `pending`, so it is not lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flashmark.cards import Card, cards_of
from flashmark.config import Settings
from flashmark.errors import CardNotFoundError, ConflictError, FlashmarkError
from flashmark.identity import ID_LENGTH, card_ids
from flashmark.model import CardId, FsrsEntry, Question, Rating, RawEntry, Sm2Entry
from flashmark.syntax import parse_note, srcodec
from flashmark.vault.edit import Applied, Edit, apply_edits
from flashmark.vault.index import Index, default_index_path
from flashmark.vault.notefile import decode_note
from flashmark.vault.reviewlog import ReviewLog
from flashmark.vault.scan import _fingerprint, scan_vault
from flashmark.vault.srwrite import sr_edit


@dataclass(frozen=True, slots=True)
class Located:
    rel: str
    path: str
    data: bytes
    question: Question
    card: Card


def _find_in(rel: str, path: str, data: bytes, card_id: str, settings: Settings,
             all_notes: bool, seen: dict[str, str] | None = None) -> Located | None:
    """The card ``card_id`` in this note; ``seen`` collects every id of the note."""
    text = decode_note(rel, data).text
    note = parse_note(text, settings.parser, all_notes=all_notes)
    found = None
    for q in note.questions:
        ids = card_ids(q, rel)
        if seen is not None:
            seen.update(dict.fromkeys(ids, rel))
        if found is None and card_id in ids:
            found = Located(rel, path, data, q, cards_of(q, rel)[ids.index(CardId(card_id))])
            if seen is None:
                break
    return found


class CardFinder:
    """Finds cards by id: the index says which note holds the id (one SQL query, no walk
    of the vault); when it is stale, a scan brings it up to date and the query runs
    again. Ratings do not change ids, so one finder serves a whole review session."""

    def __init__(self, root: Path, settings: Settings, *, all_notes: bool = False) -> None:
        self.root = root
        self.settings = settings
        self.all_notes = all_notes
        self.log = ReviewLog(root)
        self._places: dict[str, str] = {}  # card id -> note, for ids found before

    def _paths(self, card_id: str, fresh: bool) -> list[str]:
        if fresh:
            scan_vault(self.root, self.settings, all_notes=self.all_notes).close()
        index = Index(default_index_path(self.root), _fingerprint(self.settings, self.all_notes))
        try:
            return index.paths_with_card(card_id)
        finally:
            index.close()

    def find(self, card_id: str) -> Located:
        if len(card_id) < 6 or any(c not in "0123456789abcdef" for c in card_id):
            raise CardNotFoundError(
                f"{card_id!r} is not a card id",
                hint="card ids are 12 hex digits, as `flashmark scan --json` prints them "
                     "(a unique prefix of 6 or more works)")
        known = self._places.get(card_id)
        if known:
            hit = self._look_in(known, card_id)
            if hit:
                return hit[0]
        attempts: list[list[str]] = []
        for fresh in (False, True):
            attempts.append(self._paths(card_id, fresh))
            found = [loc for rel in attempts[-1] for loc in self._look_in(rel, card_id)]
            ids = sorted({loc.card.id for loc in found})
            if len(ids) > 1:
                raise FlashmarkError(f"card id {card_id!r} is ambiguous: "
                                     f"{', '.join(ids[:5])} all start with it",
                                     hint="give more digits")
            if found:
                self._places[found[0].card.id] = found[0].rel
                return found[0]
        raise CardNotFoundError(f"no card with id {card_id} in {self.root}",
                                hint="ids change when a card's text changes; "
                                     "`flashmark scan --json` lists the current ones")

    def _look_in(self, rel: str, card_id: str) -> list[Located]:
        """The cards of note ``rel`` whose id is (or starts with) ``card_id``."""
        path = str(self.root / rel)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            return []
        if len(card_id) == ID_LENGTH:
            loc = _find_in(rel, path, data, card_id, self.settings, self.all_notes,
                           self._places)
            return [loc] if loc is not None else []
        return _find_prefix(rel, path, data, card_id, self.settings, self.all_notes)


def find_card(root: Path, settings: Settings, card_id: str, *, all_notes: bool = False
              ) -> Located:
    """Find a card by its id; the index is tried first, then a fresh scan."""
    return CardFinder(root, settings, all_notes=all_notes).find(card_id)


def _find_prefix(rel: str, path: str, data: bytes, prefix: str, settings: Settings,
                 all_notes: bool) -> list[Located]:
    text = decode_note(rel, data).text
    note = parse_note(text, settings.parser, all_notes=all_notes)
    return [Located(rel, path, data, q, card) for q in note.questions
            for card in cards_of(q, rel) if card.id.startswith(prefix)]


@dataclass(frozen=True, slots=True)
class RateOutcome:
    card: Card
    rel: str
    before: str | None
    after: str
    applied: Applied
    event: dict[str, Any]


def _now_utc(now: dt.datetime) -> str:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return srcodec.iso_ms(now)


def _last_known(events: list[dict[str, Any]], card_id: str) -> tuple[bool, str | None]:
    """What the log last says this card's entry is: (known, entry text)."""
    undone = {e.get("of") for e in events if e.get("event") == "undo"}
    for e in reversed(events):
        if e.get("id") != card_id or e.get("uid") in undone:
            continue
        if e.get("event") in ("review", "external"):
            return True, e.get("after")
    return False, None


def rate_card(root: Path, settings: Settings, card_id: str, rating: Rating, now: dt.datetime,
              *, duration_ms: int | None = None, all_notes: bool = False,
              finder: CardFinder | None = None) -> RateOutcome:
    """Rate one card: schedule it, write its entry into the note, log the review."""
    from flashmark.scheduling import FsrsScheduler, SchedulerConfig

    time_text = _now_utc(now)
    finder = finder or CardFinder(root, settings, all_notes=all_notes)
    loc = finder.find(card_id)
    card = loc.card
    before = card.entry_text
    entry = srcodec.parse_entry(before) if before is not None else None
    if isinstance(entry, RawEntry):
        raise FlashmarkError(
            f"{loc.rel}:{loc.question.span.line + 1}: the SR entry '!{entry.text}' of this card "
            f"cannot be read ({entry.reason}); flashmark will not overwrite it",
            hint="fix the entry by hand or delete it to start the card anew")
    assert entry is None or isinstance(entry, Sm2Entry | FsrsEntry)
    scheduler = FsrsScheduler(SchedulerConfig.from_settings(settings.scheduling))
    key = int(card.id, 16)
    if settings.scheduling.state_format == "sm2":
        new_entry: Sm2Entry | FsrsEntry = scheduler.review_as_sm2(entry, rating, now, key)
    else:
        new_entry = scheduler.review(entry, rating, now, key)
    after = new_entry.text
    log = finder.log
    events = log.events()
    known, last = _last_known(events, card.id)
    if known and last != before:
        # Another tool (the Obsidian plugin, a hand edit) changed this card since our
        # last rating: the note is the truth; record what we saw and go on from it.
        log.append({"event": "external", "time": time_text, "id": card.id, "path": loc.rel,
                    "sibling": card.sibling, "before": last, "after": before})
    same_line = settings.parser.comment_on_same_line
    edit = sr_edit(loc.data, loc.question, card.sibling, after, same_line=same_line)

    def relocate(data: bytes) -> list[Edit] | None:
        again = _find_in(loc.rel, loc.path, data, card.id, settings, all_notes)
        if again is None:
            return None
        return [sr_edit(data, again.question, card.sibling, after, same_line=same_line)]

    record = {"time": time_text, "id": card.id, "path": loc.rel, "sibling": card.sibling,
              "rating": rating.value, "duration_ms": duration_ms, "before": before,
              "after": after, "scheduler": scheduler.version}
    try:
        applied = apply_edits(loc.path, loc.rel, [edit], relocate)
    except ConflictError:
        log.append({"event": "pending", **record})
        raise
    done = applied.edits[0]
    event = log.append({"event": "review", **record,
                        "edit": {"start": done.start, "old": done.old.decode("utf-8"),
                                 "new": done.new.decode("utf-8")}})
    return RateOutcome(card, loc.rel, before, after, applied, event)


@dataclass(frozen=True, slots=True)
class UndoOutcome:
    event: dict[str, Any]  # the review that was undone
    applied: Applied


def undo_last(root: Path, now: dt.datetime, log: ReviewLog | None = None) -> UndoOutcome:
    """Revert the newest rating that is not undone yet: the note gets back the exact
    bytes it had, and an `undo` line is logged."""
    log = log or ReviewLog(root)
    events = log.events()
    undone = {e.get("of") for e in events if e.get("event") == "undo"}
    review = next((e for e in reversed(events)
                   if e.get("event") == "review" and e.get("uid") not in undone), None)
    if review is None:
        raise FlashmarkError("nothing to undo: the review log has no rating left to revert")
    rel = review["path"]
    edit_info = review["edit"]
    old = edit_info["old"].encode("utf-8")
    new = edit_info["new"].encode("utf-8")
    start = int(edit_info["start"])
    reverse = Edit(start, start + len(new), new, old)

    def relocate(data: bytes) -> list[Edit] | None:
        # The note changed since the rating: revert the written bytes where they are now,
        # provided they occur exactly once.
        if data.count(new) != 1 or not new:
            return None
        at = data.find(new)
        return [Edit(at, at + len(new), new, old)]

    try:
        applied = apply_edits(str(root / rel), rel, [reverse], relocate)
    except ConflictError as exc:
        raise ConflictError(f"cannot undo the rating of card {review['id']} in {rel}: "
                            f"{exc.message}", hint="the note changed in the same place since; "
                                                   "edit the SR comment by hand") from None
    log.append({"event": "undo", "time": _now_utc(now), "of": review["uid"], "id": review["id"],
                "path": rel})
    return UndoOutcome(review, applied)

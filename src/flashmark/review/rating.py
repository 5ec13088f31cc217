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
             all_notes: bool) -> Located | None:
    text = decode_note(rel, data).text
    note = parse_note(text, settings.parser, all_notes=all_notes)
    for q in note.questions:
        ids = card_ids(q, rel)
        if card_id in ids:
            return Located(rel, path, data, q, cards_of(q, rel)[ids.index(CardId(card_id))])
    return None


def _id_map(root: Path, settings: Settings, all_notes: bool, fresh: bool
            ) -> dict[str, list[str]]:
    """card id -> the notes whose index summary holds it (from the index alone, or after
    a scan that brings the index up to date)."""
    from flashmark.vault.codec import load_summary

    if fresh:
        result = scan_vault(root, settings, all_notes=all_notes)
        summaries = {n.rel: n.summary for n in result.notes}
        result.close()
    else:
        index = Index(default_index_path(root), _fingerprint(settings, all_notes))
        try:
            summaries = {rel: load_summary(row.summary) for rel, row in index.rows().items()}
        finally:
            index.close()
    ids: dict[str, list[str]] = {}
    for rel, summary in summaries.items():
        for _, _, cid, _ in summary:
            ids.setdefault(cid, []).append(rel)
    return ids


class CardFinder:
    """Finds cards by id. The id -> note map is built once (from the index, without
    walking the vault) and rebuilt by a real scan only when an id is not where the map
    says; ratings do not change ids, so one map serves a whole review session."""

    def __init__(self, root: Path, settings: Settings, *, all_notes: bool = False) -> None:
        self.root = root
        self.settings = settings
        self.all_notes = all_notes
        self.log = ReviewLog(root)
        self._ids: dict[str, list[str]] | None = None
        self._fresh = False

    def _lookup(self, card_id: str) -> list[str]:
        assert self._ids is not None
        if len(card_id) == ID_LENGTH:
            return self._ids.get(card_id, [])
        hits = {cid for cid in self._ids if cid.startswith(card_id)}
        if len(hits) > 1:
            raise FlashmarkError(f"card id {card_id!r} is ambiguous: it starts "
                                 f"{', '.join(sorted(hits)[:5])}", hint="give more digits")
        return [rel for cid in hits for rel in self._ids[cid]]

    def find(self, card_id: str) -> Located:
        if len(card_id) < 6 or any(c not in "0123456789abcdef" for c in card_id):
            raise CardNotFoundError(
                f"{card_id!r} is not a card id",
                hint="card ids are 12 hex digits, as `flashmark scan --json` prints them "
                     "(a unique prefix of 6 or more works)")
        for fresh in (False, True):
            if self._ids is None or (fresh and not self._fresh):
                self._ids = _id_map(self.root, self.settings, self.all_notes, fresh)
                self._fresh = fresh
            for rel in self._lookup(card_id):
                path = str(self.root / rel)
                try:
                    with open(path, "rb") as fh:
                        data = fh.read()
                except OSError:
                    continue
                loc = (_find_in(rel, path, data, card_id, self.settings, self.all_notes)
                       if len(card_id) == ID_LENGTH
                       else _find_prefix(rel, path, data, card_id, self.settings,
                                         self.all_notes))
                if loc is not None:
                    return loc
            if self._fresh:
                break
        raise CardNotFoundError(f"no card with id {card_id} in {self.root}",
                                hint="ids change when a card's text changes; "
                                     "`flashmark scan --json` lists the current ones")


def find_card(root: Path, settings: Settings, card_id: str, *, all_notes: bool = False
              ) -> Located:
    """Find a card by its id; the index is tried first, then a fresh scan."""
    return CardFinder(root, settings, all_notes=all_notes).find(card_id)


def _find_prefix(rel: str, path: str, data: bytes, prefix: str, settings: Settings,
                 all_notes: bool) -> Located | None:
    text = decode_note(rel, data).text
    note = parse_note(text, settings.parser, all_notes=all_notes)
    for q in note.questions:
        for card in cards_of(q, rel):
            if card.id.startswith(prefix):
                return Located(rel, path, data, q, card)
    return None


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

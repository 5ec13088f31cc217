"""Bring reviews done in Anki back into the vault (`flashmark import-anki`).

The source is read with the official `anki` library into a temporary collection, never
written: a ``collection.anki2`` is copied (refused while Anki has it open), a
``.colpkg`` backup is restored, an ``.apkg`` is imported with its scheduling.

Every Anki card whose note GUID is one flashmark exported (``.flashmark/
export-manifest.json``) is matched to its vault card: the manifest names the note file
and the key (the id of the question's first card); the Anki card's template / cloze
number is the sibling. Then, for each matched card with Anki reviews not imported yet
(revlog ids already in the review log are skipped):

- every such review becomes an `AnkiReview` line in ``.flashmark/reviews.jsonl``;
- the card's state in Anki (`scheduling.entry_from_anki`) goes into the note's SR entry
  through the one write path (`apply_edits`), logged as `External`, when Anki's latest
  review is later than the note's (the FSRS entry's last review, the review log);
  otherwise the note keeps its entry. When the vault has a review later than the first
  new Anki review, both sides were reviewed since the last sync: a conflict, decided by
  the later review and reported;
- a card suspended in Anki is logged as `Suspend`, one buried as `Bury` (until the end
  of the day the collection was last changed).

Nothing here prints; the summary goes back to the CLI.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flashmark.config import Settings
from flashmark.errors import ConflictError, FlashmarkError
from flashmark.export.manifest import MANIFEST_FILE, load_manifest
from flashmark.export.scheduling import (
    AnkiCardState,
    AnkiDays,
    anki_days,
    entry_from_anki,
    require_anki,
)
from flashmark.identity import card_ids
from flashmark.model import PLACEHOLDER_TEXT, FsrsEntry, Question, RawEntry, Sm2Entry
from flashmark.review.rating import reconcile
from flashmark.syntax import parse_note, srcodec
from flashmark.vault.edit import Edit, NoteWriteError, apply_edits, read_bytes
from flashmark.vault.lock import vault_lock
from flashmark.vault.notefile import decode_note
from flashmark.vault.reviewlog import (
    RATINGS,
    AnkiReview,
    Bury,
    Event,
    External,
    Review,
    ReviewLog,
    Suspend,
    Unsuspend,
    in_effect,
)
from flashmark.vault.srwrite import sr_edit

__all__ = ["AnkiSourceError", "CardOutcome", "ImportSummary", "import_anki"]

STATE_DIR = ".flashmark"
_REVLOG_TYPES = {0: "learn", 1: "review", 2: "relearn", 3: "filtered", 4: "manual",
                 5: "rescheduled"}
# SQLite's lock bytes (its os_unix.c): a connection that has the database open in
# exclusive mode, as Anki does, holds a write lock on the shared range.
_SHARED_FIRST = 0x40000002
_SHARED_SIZE = 510


class AnkiSourceError(FlashmarkError):
    """The Anki file cannot be read (open in Anki, damaged, not a collection)."""


@dataclass(frozen=True, slots=True)
class RevlogRow:
    id: int  # milliseconds since the epoch: when the review was done
    ease: int  # 1 again .. 4 easy; 0 for a manual change
    ivl: int
    time_ms: int
    type: int

    @property
    def moment(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.id / 1000, dt.UTC)


@dataclass(slots=True)
class AnkiCard:
    guid: str
    ord: int
    cid: int
    front: str  # the start of the note's first field, to name it in reports
    queue: int
    revlog: list[RevlogRow] = field(default_factory=list)
    state: AnkiCardState | None = None  # read for the cards that need it

    @property
    def reviews(self) -> int:
        """How many reviews Anki has of the card (not counting manual changes)."""
        return sum(1 for r in self.revlog if r.ease)


@dataclass(frozen=True, slots=True)
class CardOutcome:
    """What happened to one vault card."""

    id: str
    path: str
    line: int  # 1-based
    sibling: int
    action: str  # "updated", "kept" (the note's review is later), "unchanged"
    reviews: int  # Anki reviews imported
    before: str | None
    after: str | None  # the entry written (None when nothing was)
    conflict: str | None = None  # "vault-later", "anki-later"
    anki_review: str | None = None  # Anki's latest review (ISO)
    vault_review: str | None = None  # the note's latest review (ISO)


@dataclass(frozen=True, slots=True)
class Unmatched:
    guid: str
    ord: int
    front: str
    reviews: int
    reason: str
    in_manifest: bool  # the note was exported, the card is no longer in it


@dataclass(slots=True)
class ImportSummary:
    source: Path
    dry_run: bool
    cards: list[CardOutcome] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    reviews_imported: int = 0
    suspended: int = 0
    buried: int = 0
    not_flashmark: int = 0  # Anki cards whose notes flashmark did not export
    matched: int = 0  # Anki cards whose notes are in the export manifest
    failed: list[str] = field(default_factory=list)  # notes that could not be written

    @property
    def updated(self) -> list[CardOutcome]:
        return [c for c in self.cards if c.action == "updated"]

    @property
    def conflicts(self) -> list[CardOutcome]:
        return [c for c in self.cards if c.conflict is not None]

    @property
    def unchanged(self) -> int:
        """Matched cards whose entry stays as it is (no new review, or the same state)."""
        missing = sum(1 for u in self.unmatched if u.in_manifest)
        return self.matched - missing - sum(1 for c in self.cards if c.action != "unchanged")


# --- reading the Anki side ----------------------------------------------------------------


def _held_by_another(path: Path) -> bool:
    """Does another process (Anki) have the collection open? Tested on SQLite's own lock
    bytes, so that nothing is created beside the file (a read-only SQLite connection
    would leave -wal and -shm files there)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, _SHARED_SIZE, _SHARED_FIRST)
        except OSError:
            return True
        fcntl.lockf(fd, fcntl.LOCK_UN, _SHARED_SIZE, _SHARED_FIRST)
        return False
    finally:
        os.close(fd)


_OPEN_HINT = ("close Anki (or the profile) first, or use a backup: File > Export > "
              "Anki Collection Package (.colpkg)")


def _copy_collection(source: Path, work: str) -> str:
    """Copy ``collection.anki2`` (and a write-ahead log a crash left) into ``work``."""
    if _held_by_another(source):
        raise AnkiSourceError(f"{source}: the collection is open in Anki", hint=_OPEN_HINT)
    target = os.path.join(work, "collection.anki2")
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, target + "-wal")
    if _held_by_another(source):  # opened while we copied: the copy may be torn
        raise AnkiSourceError(f"{source}: the collection was opened in Anki while it was "
                              "read", hint=_OPEN_HINT)
    return target


def _open_source(source: Path, work: str) -> Any:
    """A collection in ``work`` holding what ``source`` holds."""
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    suffix = source.suffix.lower()
    if suffix in (".colpkg", ".apkg") and not zipfile.is_zipfile(source):
        raise AnkiSourceError(f"{source}: not an Anki package (not a zip file)")
    try:
        if suffix == ".colpkg":
            from anki._backend import RustBackend

            path = os.path.join(work, "collection.anki2")
            RustBackend().import_collection_package(
                col_path=path, backup_path=str(source.resolve()),
                media_folder=os.path.join(work, "media"),
                media_db=os.path.join(work, "media.db"))
            return Collection(path)
        if suffix == ".apkg":
            col = Collection(os.path.join(work, "collection.anki2"))
            try:
                col.import_anki_package(ImportAnkiPackageRequest(
                    package_path=str(source.resolve()),
                    options=ImportAnkiPackageOptions(with_scheduling=True,
                                                     with_deck_configs=False)))
            except BaseException:
                col.close()
                raise
            return col
        return Collection(_copy_collection(source, work))
    except FlashmarkError:
        raise
    except Exception as exc:  # the anki library's errors: a damaged or foreign file
        raise AnkiSourceError(f"{source}: Anki cannot read it: {exc}",
                              hint="give a collection.anki2, a .colpkg backup or an .apkg "
                                   "exported with scheduling") from None


def _read_cards(col: Any, known: Callable[[str], bool]) -> tuple[list[AnkiCard], int, int]:
    """The cards of flashmark-made notes (GUIDs starting with "fm-") that were reviewed,
    suspended or buried, with their revlog; how many cards ``known`` GUIDs have; how
    many cards are not flashmark's."""
    db = col.db
    matched = others = 0
    for guid, count in db.all("SELECT n.guid, count() FROM cards c JOIN notes n "
                              "ON c.nid = n.id GROUP BY n.id"):
        if not str(guid).startswith("fm-"):
            others += int(count)
        elif known(str(guid)):
            matched += int(count)
    cards: dict[int, AnkiCard] = {}
    for cid, guid, ord_, queue, sort_field in db.all(
            "SELECT c.id, n.guid, c.ord, c.queue, n.sfld FROM cards c "
            "JOIN notes n ON c.nid = n.id "
            "WHERE c.queue < 0 OR c.id IN (SELECT cid FROM revlog) ORDER BY c.id"):
        if str(guid).startswith("fm-"):
            cards[int(cid)] = AnkiCard(str(guid), int(ord_), int(cid), str(sort_field)[:60],
                                       int(queue))
    for rid, cid, ease, ivl, taken, kind in db.all(
            "SELECT id, cid, ease, ivl, time, type FROM revlog ORDER BY id"):
        card = cards.get(int(cid))
        if card is not None:
            card.revlog.append(RevlogRow(int(rid), int(ease), int(ivl), int(taken), int(kind)))
    return list(cards.values()), matched, others


def _state_of(col: Any, card: AnkiCard) -> AnkiCardState:
    c = col.get_card(card.cid)
    memory = c.memory_state
    last = c.last_review_time
    if last:
        last_review: dt.datetime | None = dt.datetime.fromtimestamp(int(last), dt.UTC)
    else:
        rated = [r for r in card.revlog if r.ease]
        last_review = rated[-1].moment if rated else None
    return AnkiCardState(
        type=int(c.type), queue=int(c.queue), due=int(c.due), odue=int(c.odue),
        odid=int(c.odid), ivl=int(c.ivl), factor=int(c.factor), reps=int(c.reps),
        lapses=int(c.lapses), left=int(c.left),
        stability=float(memory.stability) if memory is not None else None,
        difficulty=float(memory.difficulty) if memory is not None else None,
        last_review=last_review)


@contextlib.contextmanager
def _anki_source(source: Path) -> Iterator[Any]:
    require_anki("import-anki")
    from flashmark.export.package import temp_prefix

    if not source.exists():
        raise AnkiSourceError(f"{source}: no such file")
    if source.is_dir():
        raise AnkiSourceError(f"{source} is a folder",
                              hint="give its collection.anki2, a .colpkg or an .apkg")
    work = tempfile.mkdtemp(prefix=temp_prefix("anki-import"))
    try:
        col = _open_source(source, work)
        try:
            yield col
        finally:
            col.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- the vault side -------------------------------------------------------------------------


@dataclass(slots=True)
class _Match:
    anki: AnkiCard
    rel: str
    key: str


@dataclass(slots=True)
class _Plan:
    """One vault card to bring up to date."""

    match: _Match
    card_id: str
    line: int
    before: str | None
    new_rows: list[RevlogRow]
    entry: Sm2Entry | FsrsEntry | None  # to write; None: the note keeps its entry
    outcome: CardOutcome


def _questions(data: bytes, rel: str, settings: Settings
               ) -> dict[str, tuple[Question, list[str]]]:
    """The note's questions by key (the id of the first card), with their card ids."""
    note = parse_note(decode_note(rel, data).text, settings.parser, all_notes=True)
    out: dict[str, tuple[Question, list[str]]] = {}
    for q in note.questions:
        ids = card_ids(q, rel)
        if ids:
            out.setdefault(ids[0], (q, list(ids)))
    return out


def _vault_times(events: list[Event]) -> tuple[dict[str, dt.datetime], set[int]]:
    """The latest review the log knows of each card (flashmark's or imported), and the
    revlog ids already imported."""
    latest: dict[str, dt.datetime] = {}
    imported: set[int] = set()
    for e in in_effect(events):
        if isinstance(e, Review | AnkiReview):
            moment = e.moment
            if e.id not in latest or moment > latest[e.id]:
                latest[e.id] = moment
            if isinstance(e, AnkiReview):
                imported.add(e.revlog)
    return latest, imported


def _note_review(entry_text: str | None, logged: dt.datetime | None) -> dt.datetime | None:
    """When the card was last reviewed as far as the vault knows."""
    times = [logged] if logged is not None else []
    entry = srcodec.parse_entry(entry_text) if entry_text is not None else None
    if isinstance(entry, FsrsEntry) and entry.last_review is not None:
        times.append(entry.last_review)
    elif isinstance(entry, Sm2Entry) and not entry.is_new and not times:
        # No better record: an SM-2 entry was written on the day its interval began.
        start = entry.due - dt.timedelta(days=min(entry.interval, 36500))
        times.append(dt.datetime.combine(start, dt.time()).astimezone())
    return max(times) if times else None


def _suspension(events: list[Event]) -> tuple[set[str], set[tuple[str, str | None]]]:
    suspended: set[str] = set()
    buried: set[tuple[str, str | None]] = set()
    for e in in_effect(events):
        if isinstance(e, Suspend):
            suspended.add(e.id)
        elif isinstance(e, Unsuspend):
            suspended.discard(e.id)
        elif isinstance(e, Bury):
            buried.add((e.id, e.until))
    return suspended, buried


def import_anki(root: Path, settings: Settings, source: Path, now: dt.datetime,
                *, dry_run: bool = False) -> ImportSummary:
    """Import the reviews of ``source`` into the vault at ``root``."""
    manifest_path = root / STATE_DIR / MANIFEST_FILE
    if not manifest_path.exists():
        raise FlashmarkError(f"{root}: this vault has no export manifest ({STATE_DIR}/"
                             f"{MANIFEST_FILE}); nothing in Anki can be matched to it",
                             hint="import-anki brings back reviews of cards exported with "
                                  "`flashmark export` from this vault")
    manifest = load_manifest(manifest_path, root.name)
    by_guid: dict[str, tuple[str, str]] = {}
    for rel, entries in manifest.notes.items():
        for e in entries:
            by_guid[e.guid] = (rel, e.key)
            by_guid[f"{e.guid}-{e.key}"] = (rel, e.key)  # the exporter's collision form
    summary = ImportSummary(source, dry_run)
    with _anki_source(source) as col:
        cards, summary.matched, summary.not_flashmark = _read_cards(
            col, by_guid.__contains__)
        days = anki_days(col)
        stamp = int(col.db.scalar("SELECT mod FROM col") or 0)
        matches: dict[str, list[_Match]] = defaultdict(list)
        for card in cards:
            hit = by_guid.get(card.guid)
            if hit is None:
                if card.reviews:
                    summary.unmatched.append(Unmatched(
                        card.guid, card.ord, card.front, card.reviews,
                        "its note is not in this vault's export manifest", False))
                continue
            if card.revlog or card.queue < 0:
                card.state = _state_of(col, card)
                matches[hit[0]].append(_Match(card, hit[0], hit[1]))
    # End of the day the collection was last changed: how long an Anki bury lasts.
    changed = dt.datetime.fromtimestamp(stamp / 1000).astimezone() if stamp else now
    bury_until = dt.datetime.combine(changed.date() + dt.timedelta(days=1), dt.time()
                                     ).astimezone()
    log = ReviewLog(root)
    lock = contextlib.nullcontext() if dry_run else vault_lock(root)
    with lock:
        if not dry_run:
            reconcile(root, settings, log, now)
        events = log.events()
        latest, imported = _vault_times(events)
        suspended, buried = _suspension(events)
        for rel in sorted(matches):
            _import_note(root, settings, rel, matches[rel], days, latest, imported,
                         suspended, buried, bury_until, now, log, summary)
    return summary


def _import_note(root: Path, settings: Settings, rel: str, matches: list[_Match],
                 days: AnkiDays, latest: dict[str, dt.datetime], imported: set[int],
                 suspended: set[str], buried: set[tuple[str, str | None]],
                 bury_until: dt.datetime, now: dt.datetime, log: ReviewLog,
                 summary: ImportSummary) -> None:
    path = str(root / rel)
    try:
        data = read_bytes(path, rel)
    except FlashmarkError:
        for m in matches:
            summary.unmatched.append(Unmatched(m.anki.guid, m.anki.ord, m.anki.front,
                                               m.anki.reviews, f"{rel} no longer exists", True))
        return
    plans: list[_Plan] = []
    extra: list[Event] = []  # suspensions and buries
    time_text = srcodec.iso_ms(now)
    questions = _questions(data, rel, settings)
    for m in matches:
        found = questions.get(m.key)
        if found is None or m.anki.ord >= len(found[1]):
            summary.unmatched.append(Unmatched(
                m.anki.guid, m.anki.ord, m.anki.front, m.anki.reviews,
                f"not in {rel} any more (edited or deleted since the export?)", True))
            continue
        question, ids = found
        sibling = m.anki.ord
        card_id = ids[sibling]
        texts = question.sr.entry_texts if question.sr is not None else []
        before = texts[sibling] if sibling < len(texts) else None
        state = m.anki.state
        assert state is not None
        if state.suspended and card_id not in suspended:
            extra.append(Suspend(time=time_text, id=card_id, path=rel))
        until = srcodec.iso_ms(bury_until)
        if state.buried and bury_until > now and (card_id, until) not in buried:
            extra.append(Bury(time=time_text, id=card_id, path=rel, until=until))
        # Reviews only: Anki's manual changes (set due date, forget) are no reviews; the
        # state written with the next review includes them.
        new_rows = [r for r in m.anki.revlog if r.ease in (1, 2, 3, 4) and r.id not in imported]
        line = question.span.line + 1
        if not new_rows:
            continue
        anki_time = new_rows[-1].moment
        vault_time = _note_review(before, latest.get(card_id))
        conflict = None
        if vault_time is not None and vault_time > new_rows[0].moment:
            conflict = "vault-later" if vault_time >= anki_time else "anki-later"
        entry = None
        if conflict != "vault-later":
            entry = entry_from_anki(state, days, settings.scheduling)
            if before is not None and isinstance(srcodec.parse_entry(before), RawEntry):
                entry = None  # never overwrite an entry we cannot read (check reports it)
        after = entry.text if entry is not None and entry.text != before else None
        outcome = CardOutcome(
            card_id, rel, line, sibling,
            "updated" if after is not None else
            "kept" if conflict == "vault-later" else "unchanged",
            len(new_rows), before, after, conflict, srcodec.iso_ms(anki_time),
            srcodec.iso_ms(vault_time) if vault_time is not None else None)
        plans.append(_Plan(m, card_id, line, before, new_rows,
                           entry if after is not None else None, outcome))
    if summary.dry_run:
        summary.cards.extend(p.outcome for p in plans)
        summary.reviews_imported += sum(p.outcome.reviews for p in plans)
        summary.suspended += sum(isinstance(e, Suspend) for e in extra)
        summary.buried += sum(isinstance(e, Bury) for e in extra)
        return
    writes = [p for p in plans if p.entry is not None]
    if writes:
        try:
            _write_entries(root, settings, rel, path, data, questions, writes)
        except (ConflictError, NoteWriteError) as exc:
            summary.failed.append(exc.message)
            plans = [p for p in plans if p.entry is None]  # their reviews wait for next time
    # The log after the note: a crash in between leaves the reviews to import again,
    # and writing the same entry again changes nothing.
    lines: list[Event] = []
    for p in plans:
        lines.extend(AnkiReview(
            time=srcodec.iso_ms(r.moment), id=p.card_id, path=rel,
            sibling=p.outcome.sibling, rating=RATINGS[r.ease - 1], revlog=r.id,
            duration_ms=r.time_ms, interval=r.ivl,
            anki_type=_REVLOG_TYPES.get(r.type, str(r.type))) for r in p.new_rows)
        if p.entry is not None:
            lines.append(External(time=time_text, id=p.card_id, path=rel,
                                  sibling=p.outcome.sibling, before=p.before,
                                  after=p.entry.text))
        summary.reviews_imported += len(p.new_rows)
        summary.cards.append(p.outcome)
    lines.extend(extra)
    summary.suspended += sum(isinstance(e, Suspend) for e in extra)
    summary.buried += sum(isinstance(e, Bury) for e in extra)
    log.append_all(lines)


def _write_entries(root: Path, settings: Settings, rel: str, path: str, data: bytes,
                   parsed: dict[str, tuple[Question, list[str]]], writes: list[_Plan]
                   ) -> None:
    """Write the planned entries into the note, through `apply_edits`. Entries of one
    question whose comment must be added or extended go in rounds (one such edit per
    question per round: two insertions at one place would collide)."""
    same_line = settings.parser.comment_on_same_line

    def edits_for(current: bytes, batch: list[_Plan],
                  questions: dict[str, tuple[Question, list[str]]] | None = None
                  ) -> list[Edit] | None:
        if questions is None:
            questions = _questions(current, rel, settings)
        out = []
        for p in batch:
            found = questions.get(p.match.key)
            if found is None:
                return None
            assert p.entry is not None
            # Only over the entry the decision was made on (or ours, from an earlier
            # round or run; or the placeholder an earlier round gave a sibling without
            # an entry), never over a review another program wrote meanwhile.
            texts = found[0].sr.entry_texts if found[0].sr is not None else []
            now = texts[p.outcome.sibling] if p.outcome.sibling < len(texts) else None
            if now not in (p.before, p.entry.text) and not (
                    p.before is None and now == PLACEHOLDER_TEXT):
                return None
            out.append(sr_edit(current, found[0], p.outcome.sibling, p.entry.text,
                               same_line=same_line))
        return out

    pending = list(writes)
    questions: dict[str, tuple[Question, list[str]]] | None = parsed  # of ``data``
    while pending:
        edits = edits_for(data, pending, questions)
        if edits is None:
            raise ConflictError(f"{rel}: a card is gone from the note, or another program "
                                "reviewed it meanwhile: its Anki reviews wait for the next "
                                "import")
        batch: list[_Plan] = []
        chosen: list[Edit] = []
        grown: set[str] = set()
        later: list[_Plan] = []
        for p, edit in zip(pending, edits, strict=True):
            if not edit.old:  # an insertion: one per question per round
                if p.match.key in grown:
                    later.append(p)
                    continue
                grown.add(p.match.key)
            batch.append(p)
            chosen.append(edit)

        def relocate(current: bytes, batch: list[_Plan] = batch) -> list[Edit] | None:
            return edits_for(current, batch)

        applied = apply_edits(path, rel, chosen, relocate, basis=data, root=root,
                              in_place=settings.write_in_place)
        data = applied.after
        pending = later
        questions = None

"""The export's assembly: rendered notes become package rows as they arrive: GUIDs
(through the manifest, :func:`flashmark.export.manifest.assign_guids`), Anki decks and
tags, the Source and Link fields, and the schedules ``--with-scheduling`` sets."""

from __future__ import annotations

import html

from flashmark.decks import normalize_deck_pattern
from flashmark.export._options import ExportOptions, ExportSummary, Skipped
from flashmark.export._workers import NoteOut, QuestionOut
from flashmark.export.guids import deck_id
from flashmark.export.manifest import Entry, Manifest, assign_guids
from flashmark.export.package import NoteRow, PackageWriter
from flashmark.export.render import obsidian_url
from flashmark.export.scheduling import CardState

__all__ = ["Assembler", "anki_deck_name"]


def anki_deck_name(deck: str | None, options: ExportOptions, vault_name: str) -> str:
    """The Anki deck of a card whose tag-path deck is ``deck``: ``/`` becomes ``::``,
    ``--strip-prefix`` removes the first matching prefix, ``--deck-depth`` cuts,
    ``--parent-deck`` goes in front; no deck left: the parent deck or the vault's name."""
    parts = [x.strip() for x in (deck or "").split("/") if x.strip()]
    folded = [x.casefold() for x in parts]
    for prefix in options.strip_prefixes:  # read like a deck pattern: `::`, `#`, any case
        p = normalize_deck_pattern(prefix).split("/")
        if folded[:len(p)] == p:
            parts = parts[len(p):]
            break
    if options.deck_depth > 0:
        parts = parts[:options.deck_depth]
    parent = [x.strip() for x in (options.parent_deck or "").split("::") if x.strip()]
    parts = parent + parts
    return "::".join(parts) if parts else vault_name


def _anki_tag(tag: str) -> str:
    return "::".join(x for x in tag.split("/") if x)


class Assembler:
    """Turns rendered notes into package rows as they arrive, handing them to the
    package writer 2,000 at a time."""

    def __init__(self, manifest: Manifest, options: ExportOptions, vault_name: str,
                 summary: ExportSummary, writer: PackageWriter) -> None:
        self.manifest = manifest
        self.options = options
        self.vault = vault_name
        self.summary = summary
        self.writer = writer
        self.decks: dict[str, int] = {}
        self.deck_names: dict[str | None, str] = {}
        self.media: set[str] = set()
        self.states: list[CardState] = []
        self.seen_guids: set[str] = set()
        self.rows: list[NoteRow] = []
        self.position = 0  # of the next note's new cards

    def add(self, note: NoteOut) -> None:
        guids, edited = self._guids(note)
        if not any(q.selected for q in note.questions):
            return
        summary = self.summary
        summary.edited += edited
        summary.media_problems.extend(note.problems)
        self.media.update(note.media)
        base_tags = [_anki_tag(t) for t in note.tags]
        source_link = html.escape(obsidian_url(self.vault, note.rel))
        for q, guid in zip(note.questions, guids, strict=True):
            if not q.selected:
                continue
            summary.selected_questions += 1
            summary.selected_cards += q.cards
            for n, reason, detail in q.skipped:
                summary.skipped.append(Skipped(note.rel, q.line, n, reason, detail))
            if q.ords:
                self._add_row(note, q, guid, base_tags, source_link)
        if len(self.rows) >= 2000:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.add(self.rows)
            self.rows = []

    def _guids(self, note: NoteOut) -> tuple[list[str], int]:
        """Each question's GUID (and how many were matched as edits); the manifest
        now describes the note as it is (selected or not)."""
        manifest = self.manifest
        guids, edited = assign_guids(manifest.notes.get(note.rel, []),
                                     [q.new for q in note.questions], manifest.namespace)
        manifest.notes[note.rel] = [Entry(*q.new, g)
                                    for q, g in zip(note.questions, guids, strict=True)]
        return guids, edited

    def _add_row(self, note: NoteOut, q: QuestionOut, guid: str, base_tags: list[str],
                 source_link: str) -> None:
        """The question's Anki note (and its cards' schedules)."""
        if guid in self.seen_guids:  # two notes' keys collided (48-bit ids): keep apart
            guid = guid + "-" + q.new.key
        self.seen_guids.add(guid)
        tags = base_tags
        if q.deck is not None and q.deck not in note.tags:
            tags = [*base_tags, _anki_tag(q.deck)]
        source = html.escape(f"{note.rel}:{q.line}", quote=False)
        self.rows.append(NoteRow(guid, q.new.model, self._deck_id(q.deck),
                                 (*q.fields, source, source_link), tags, q.ords,
                                 self.position))
        self.position += 1
        if self.options.with_scheduling:
            for o in q.ords:
                entry = q.entries[o] if o < len(q.entries) else None
                if entry is not None:
                    self.states.append(CardState(guid, o, entry))

    def _deck_id(self, deck: str | None) -> int:
        name = self.deck_names.get(deck)
        if name is None:
            name = self.deck_names[deck] = anki_deck_name(deck, self.options, self.vault)
        did = self.decks.get(name)
        if did is None:
            did = self.decks[name] = deck_id(name)
        return did

"""What an export is asked to do (`ExportOptions`) and what it reports (`ExportSummary`,
`Skipped`); shared by the export's steps (`flashmark.export.exporter` re-exports them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flashmark.model import Diagnostic

__all__ = ["REASON_EMPTY_BACK", "REASON_EMPTY_FRONT", "REASON_GAP", "REASON_HIDDEN",
           "ExportOptions", "ExportSummary", "Progress", "Skipped"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ExportOptions:
    output: Path
    decks: tuple[str, ...] = ()  # deck patterns (tag paths; glob or prefix)
    tags: tuple[str, ...] = ()  # only notes carrying one of these tags (or a sub-tag)
    strip_prefixes: tuple[str, ...] = ()  # tag-path prefixes removed from deck names
    parent_deck: str | None = None  # put every deck under this one
    deck_depth: int = 0  # keep only this many deck levels (0: all)
    with_scheduling: bool = False
    use_cache: bool = True
    all_notes: bool = False
    jobs: int | None = None
    vault_name: str | None = None  # for obsidian:// links; default: the folder's name


@dataclass(frozen=True, slots=True)
class Skipped:
    rel: str
    line: int  # 1-based
    cards: int  # flashmark cards not exported
    reason: str  # one of the REASON_* texts
    detail: str = ""


REASON_GAP = "cloze number without a deletion"
REASON_HIDDEN = "deletion inside a comment"
REASON_EMPTY_FRONT = "empty front"
REASON_EMPTY_BACK = "empty back (the reversed card would ask nothing)"


@dataclass(slots=True)
class ExportSummary:
    output: Path
    notes: int = 0  # Anki notes written
    cards: int = 0  # Anki cards written
    decks: int = 0
    media: int = 0
    selected_questions: int = 0  # flashmark questions selected
    selected_cards: int = 0  # flashmark cards selected (= cards + skipped cards)
    edited: int = 0  # questions matched to their previous Anki note after an edit
    scheduled: int = 0  # cards that carry a schedule (--with-scheduling)
    skipped: list[Skipped] = field(default_factory=list)
    media_problems: list[str] = field(default_factory=list)
    file_problems: list[Diagnostic] = field(default_factory=list)
    manifest: Path | None = None
    manifest_problem: str | None = None
    seconds: float = 0.0

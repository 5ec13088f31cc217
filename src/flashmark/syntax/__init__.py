"""Pure parsing: note text in, questions with exact source spans out. No IO here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from flashmark.config import ParserSettings
from flashmark.model import Diagnostic, ParsedNote, Question, QuestionType, RawEntry
from flashmark.syntax import srcodec
from flashmark.syntax.blocks import lines_outside_fences
from flashmark.syntax.cloze import compile_cloze
from flashmark.syntax.conflicts import conflict_problems
from flashmark.syntax.frontmatter import frontmatter_end, frontmatter_tags
from flashmark.syntax.inline import inline_tags
from flashmark.syntax.lines import LineTable
from flashmark.syntax.scanner import lint_lines, scan

__all__ = ["body_tags", "lines_outside_fences", "note_deck", "parse_note"]


def _matches(tag: str, flashcard_tags: tuple[str, ...]) -> bool:
    return any(tag == ft or tag.startswith(ft + "/") for ft in flashcard_tags)


def note_deck(tags: list[str], flashcard_tags: tuple[str, ...]) -> str | None:
    for tag in tags:
        if _matches(tag, flashcard_tags):
            return tag
    return None


def body_tags(lines: Iterable[str]) -> list[str]:
    """Inline tags outside fenced code, in order."""
    return [tag for line in lines_outside_fences(lines) if "#" in line
            for tag in inline_tags(line)]


def _body_tags(table: LineTable, start: int) -> list[str]:
    return body_tags(table.lines[start:])


def parse_note(text: str, settings: ParserSettings, *, all_notes: bool = False,
               lint: bool = False) -> ParsedNote:
    """Parse one note.

    ``text`` is the whole decoded file (a leading BOM may stay: offsets then count it as
    the 3 bytes it is in the file). A note is a flashcard note when it carries one of
    ``settings.flashcard_tags`` (or a sub-tag) in its frontmatter or inline, or when no
    flashcard tag is configured; others yield no questions unless ``all_notes``.
    ``lint`` adds the slower checks `flashmark check` reports (unbalanced markers, ...).
    """
    flashcard_tags = settings.flashcard_tags
    # Fast reject: a note whose text names no flashcard tag cannot be a flashcard note.
    if flashcard_tags and not all_notes and not any(t in text for t in flashcard_tags):
        return ParsedNote(False, None, (), ())
    table = LineTable(text)
    fm_end = frontmatter_end(table.lines)
    tags = frontmatter_tags(table.lines, fm_end) if fm_end > 0 else []
    deck = note_deck(tags, flashcard_tags)
    start = fm_end + 1
    if deck is None and flashcard_tags and any(t in text for t in flashcard_tags):
        body = _body_tags(table, start)
        tags.extend(body)
        deck = note_deck(body, flashcard_tags)
    is_flashcard = deck is not None or not flashcard_tags
    if not is_flashcard and not all_notes:
        return ParsedNote(False, None, tuple(tags), ())
    if not _may_have_cards(text, settings):
        return ParsedNote(is_flashcard, deck, tuple(tags), ())
    questions, problems = scan(table, start, settings, deck)
    questions = _number_duplicates(questions)
    problems.extend(_sr_problems(questions, lint))
    if lint:
        problems.extend(lint_lines(table, start, settings))
        problems.extend(_duplicate_problems(questions))
        if "<<<<<<<" in text:
            problems.extend(conflict_problems(table.lines))
    problems.sort(key=lambda p: p.line or 0)  # the parser's problems all have a line
    return ParsedNote(is_flashcard, deck, tuple(tags), tuple(questions), tuple(problems))


def _may_have_cards(text: str, settings: ParserSettings) -> bool:
    seps = (settings.single_line_separator, settings.single_line_reversed_separator,
            settings.multiline_separator, settings.multiline_reversed_separator)
    if any(s and s in text for s in seps):
        return True
    return any(o in text for o in compile_cloze(settings.cloze_patterns).openers)


def _number_duplicates(questions: list[Question]) -> list[Question]:
    """Give each question its ordinal among earlier questions with the same identity
    text (so that card ids are unique within a note)."""
    seen: dict[tuple[QuestionType, str], int] = {}
    out = []
    for q in questions:
        key = (q.type, q.identity)
        n = seen.get(key, 0)
        seen[key] = n + 1
        out.append(q if n == 0 else replace(q, ordinal=n))
    return out


def _duplicate_problems(questions: list[Question]) -> list[Diagnostic]:
    first_line: dict[tuple[QuestionType, str], int] = {}
    out = []
    for q in questions:
        key = (q.type, q.identity)
        if q.ordinal == 0:
            first_line[key] = q.span.line
        else:
            out.append(Diagnostic("", q.span.line, "warning", "duplicate-card",
                               f"same text as the card on line {first_line[key] + 1}: the two are"
                               " told apart only by their order in the note"))
    return out


def _sr_problems(questions: list[Question], lint: bool) -> list[Diagnostic]:
    problems = []
    for q in questions:
        if q.sr is None:
            continue
        n_entries = q.sr.entry_count
        n_cards = q.card_count
        if n_entries != n_cards:
            what = "deletions" if q.type is QuestionType.CLOZE else "cards"
            problems.append(Diagnostic(
                "", q.sr.span.line, "error", "sr-count-mismatch",
                f"SR comment has {n_entries} entr{'y' if n_entries == 1 else 'ies'} but the "
                f"{q.type.value} question has {n_cards} {what}: "
                + ("the extra entries are kept but belong to no card"
                   if n_entries > n_cards else
                   "the cards without an entry are treated as new")))
        if lint and not srcodec.body_is_valid(q.sr.body):
            for e in srcodec.parse_body(q.sr.body)[0]:
                if isinstance(e, RawEntry):
                    problems.append(Diagnostic(
                        "", q.sr.span.line, "error", "sr-malformed",
                        f"unreadable SR entry '!{e.text}': {e.reason} (kept as is)"))
    return problems

"""Schedules follow their cards: put a section's old SR comments back on the new cards.

The helpers write the new section without any SR comment. Both the old section and the
new text are cut into *units*, the things pytextgen hangs one comment on: a list item
(``- A→::@::←B``, ``1. …``) or, outside lists, a block of lines between blank lines
(a quoted cloze paragraph, a table). A unit's **card text** is its text without SR
comments, without the list marker (numbering changes when items move) and without
trailing spaces.

Matching, in this order:

1. **Same card text.** Each old comment goes, verbatim (legacy and FSRS entries, in
   their order), to the new unit with the same text. For linked sequences the text is
   the pair (``A→::@::←B``), so both sides must be unchanged. Among several units with
   the same text, the k-th old one goes to the k-th new one (position is used only to
   order identical cards).
2. **Same cloze answer** (a cloze block that changed, e.g. a table with a new row): an
   old comment's entries belong to its deletions in order; a new cloze block takes the
   entries of the old block it shares most answers with, deletion by deletion; a new
   deletion without one gets the placeholder ``!2000-01-01,1,250`` (never reviewed).
3. Everything else is an **orphan**: reported, and kept by the caller (the review log,
   or ``--keep-orphans``). Nothing is dropped silently.

A new comment goes where pytextgen puts it: the helpers leave a *slot* after each card
(``compat/read.py``); a comment replaces it, and unused slots vanish with the spaces
before them, exactly as pytextgen writes a card with and without a comment.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import dataclass

from flashmark.model import PLACEHOLDER_TEXT

SR_COMMENT = re.compile(r" ?(<!--SR:(.*?)-->)")
LIST_ITEM = re.compile(r"(?:[-*+]|\d+[.)])[ \t]")


@dataclass(slots=True)
class Unit:
    start: int  # character offsets in the section text
    end: int  # end of the unit's last line (where a comment goes)
    key: str  # the card text
    comments: list[str]  # "<!--SR:...-->" as written
    line: int  # 0-based line in the section text


@dataclass(frozen=True, slots=True)
class Orphan:
    card: str  # the card text the schedule belonged to
    comment: str  # "<!--SR:...-->" with the entries that found no card
    line: int  # 0-based line in the old section text


@dataclass(frozen=True, slots=True)
class Reattached:
    text: str  # the new section text with the comments in place
    orphans: tuple[Orphan, ...]
    moved: int  # comments placed by text (step 1)
    rebuilt: int  # comments rebuilt from cloze answers (step 2)


def units(text: str) -> list[Unit]:
    out: list[Unit] = []
    lines = text.split("\n")
    offsets = [0]
    for line in lines[:-1]:
        offsets.append(offsets[-1] + len(line) + 1)
    k = 0
    n = len(lines)
    while k < n:
        if not lines[k].strip():
            k += 1
            continue
        end = k
        while end < n and lines[end].strip():
            end += 1
        # lines k .. end-1 form a block
        if LIST_ITEM.match(lines[k]):
            starts = [i for i in range(k, end) if LIST_ITEM.match(lines[i])]
        else:
            starts = [k]
        for a, b in zip(starts, [*starts[1:], end], strict=True):
            out.append(_unit(text, offsets[a], offsets[b - 1] + len(lines[b - 1]), a))
        k = end
    return out


def _unit(text: str, start: int, end: int, line: int) -> Unit:
    raw = text[start:end]
    comments = [m[1] for m in SR_COMMENT.finditer(raw)]
    bare = SR_COMMENT.sub("", raw) if comments else raw
    m = LIST_ITEM.match(bare)
    if m:
        bare = bare[m.end():]
    key = "\n".join(part.rstrip() for part in bare.split("\n")).rstrip()
    return Unit(start, end, key, comments, line)


def card_text(unit_text: str) -> str:
    """The card text of one unit's text (for tests and messages)."""
    return _unit(unit_text, 0, len(unit_text), 0).key


def _cloze_answers(key: str, token: tuple[str, str]) -> list[str]:
    left, right = map(re.escape, token)
    return [m[1] for m in re.finditer(f"{left}((?:(?!{right}).)+){right}", key)]


def _entries(comment: str) -> list[str]:
    body = comment[len("<!--SR:"):-len("-->")]
    if not body.startswith("!"):
        return [body] if body else []
    return body[1:].split("!")


def _comment(entries: list[str]) -> str:
    return "<!--SR:" + "".join("!" + e for e in entries) + "-->"


SLOT = "\0"  # compat.util.SLOT: where the helpers put a card's comment


def strip_slots(text: str) -> tuple[str, dict[int, str]]:
    """The text without slots, as pytextgen writes cards that have no comment (each line
    that held a slot right-stripped), and, by line, the line with its last slot kept."""
    if SLOT not in text:
        return text, {}
    lines = text.split("\n")
    slotted: dict[int, str] = {}
    for k, line in enumerate(lines):
        if SLOT in line:
            cut = line.rfind(SLOT)
            slotted[k] = line[:cut].replace(SLOT, "") + line[cut:]
            lines[k] = line.replace(SLOT, "").rstrip()
    return "\n".join(lines), slotted


def reattach(new_text: str, old_text: str,
             token: tuple[str, str] = ("{@{", "}@}")) -> Reattached:
    """Put the SR comments of ``old_text`` (a section's old body) on the cards of
    ``new_text`` (the freshly generated body, with a slot after each card)."""
    bare, slotted = strip_slots(new_text)
    old_units = [u for u in units(old_text) if u.comments]
    if not old_units:
        return Reattached(bare, (), 0, 0)
    new_units = units(bare)
    assigned: dict[int, str] = {}  # new unit index -> comment text to insert
    free = [i for i, u in enumerate(new_units) if not u.comments]
    by_key: dict[str, deque[int]] = {}
    for i in free:
        by_key.setdefault(new_units[i].key, deque()).append(i)
    left_over: list[Unit] = []
    moved = 0
    for u in old_units:
        queue = by_key.get(u.key)
        if queue:
            assigned[queue.popleft()] = " ".join(u.comments)
            moved += 1
        else:
            left_over.append(u)
    orphans: list[Orphan] = []
    rebuilt = 0
    if left_over:
        still_free = [i for i in free if i not in assigned]
        rebuilt, orphans = _by_cloze(left_over, new_units, still_free, assigned, token)
    if not assigned:
        return Reattached(bare, tuple(orphans), moved, rebuilt)
    lines = bare.split("\n")
    for i, comment in assigned.items():
        last = new_units[i].line + bare.count("\n", new_units[i].start, new_units[i].end)
        if last in slotted:  # exactly where pytextgen writes it (spaces before it kept)
            lines[last] = slotted[last].replace(SLOT, comment)
        else:
            lines[last] += " " + comment
    return Reattached("\n".join(lines), tuple(orphans), moved, rebuilt)


def _by_cloze(old: list[Unit], new: list[Unit], free: list[int], assigned: dict[int, str],
              token: tuple[str, str]) -> tuple[int, list[Orphan]]:
    orphans: list[Orphan] = []
    # (old unit, its first comment's entries, the answers the entries belong to)
    olds: list[tuple[Unit, list[str], list[str]]] = []
    for u in old:
        answers = _cloze_answers(u.key, token)
        for extra in u.comments[1:]:
            orphans.append(Orphan(u.key, extra, u.line))
        entries = _entries(u.comments[0])
        if not answers or not entries:
            orphans.append(Orphan(u.key, u.comments[0], u.line))
            continue
        olds.append((u, entries, answers))
    news = [(i, _cloze_answers(new[i].key, token)) for i in free]
    news = [(i, a) for i, a in news if a]
    pairs: list[tuple[int, int, int]] = []  # (-shared answers, old index, new index)
    for oi, (_, entries, answers) in enumerate(olds):
        have = Counter(answers[:len(entries)])
        for ni, (_, new_answers) in enumerate(news):
            shared = sum((have & Counter(new_answers)).values())
            if shared:
                pairs.append((-shared, oi, ni))
    pairs.sort()
    used_old: set[int] = set()
    used_new: set[int] = set()
    rebuilt = 0
    for _, oi, ni in pairs:
        if oi in used_old or ni in used_new:
            continue
        used_old.add(oi)
        used_new.add(ni)
        unit, entries, answers = olds[oi]
        pool: dict[str, deque[int]] = {}
        for k, a in enumerate(answers[:len(entries)]):
            pool.setdefault(a, deque()).append(k)
        new_entries: list[str] = []
        taken: set[int] = set()
        for a in news[ni][1]:
            q = pool.get(a)
            if q:
                k = q.popleft()
                taken.add(k)
                new_entries.append(entries[k])
            else:
                new_entries.append(PLACEHOLDER_TEXT)
        assigned[news[ni][0]] = _comment(new_entries)
        rebuilt += 1
        lost = [e for k, e in enumerate(entries) if k not in taken]
        if lost:
            orphans.append(Orphan(unit.key, _comment(lost), unit.line))
    for oi, (unit, _, _) in enumerate(olds):
        if oi not in used_old:
            orphans.append(Orphan(unit.key, unit.comments[0], unit.line))
    return rebuilt, orphans

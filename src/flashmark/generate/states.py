"""Schedules follow their cards: put a section's old SR comments back on the new cards.

The helpers write the new section without any SR comment. Both the old section and the
new text are cut into *units*, the things pytextgen hangs one comment on: a list item
(``- A→::@::←B``, ``1. …``) or, outside lists, a block of lines between blank lines
(a quoted cloze paragraph, a table). A unit's **card text** is its text without SR
comments, without the list marker (numbering changes when items move) and without
trailing spaces.

Matching, in stages (``generate.rematch`` in flashmark.yaml says where to stop:
``exact``, ``normalized`` or ``similar``, the default). Each old comment goes to at most
one new card, always within its own section; each stage only sees what earlier stages
left:

1. **Exact** (``exact``): the same card text. Each old comment goes, verbatim (legacy
   and FSRS entries, in their order), to the new unit with the same text. For linked
   sequences the text is the pair (``A→::@::←B``), so both sides must be unchanged.
   Among several units with the same text, the k-th old one goes to the k-th new one
   (position is used only to order identical cards).
2. **Normalized** (``normalized``): the same text once `normalized`: runs of spaces
   and table rules collapsed, HTML entities decoded, every link to a note written one
   way (``[x](<a b.md>)``, ``[x](a%20b.md)`` and ``[[a b|x]]`` are one link; the
   target's case does not count). k-th to k-th again.
3. **Same cloze answer** (a cloze block that changed, e.g. a table with a new row): an
   old comment's entries belong to its deletions in order; a new cloze block takes the
   entries of the old block it shares most answers with, deletion by deletion; a new
   deletion without one gets the placeholder ``!2000-01-01,1,250`` (never reviewed).
4. **Similar** (``similar``): `similarity` at least `SIMILAR_THRESHOLD`: the sides
   of the card (the parts between ``:@:``/``::@::``/``?@?`` separators) keeps most of
   its words. Best pairs first; ties go to the pair with more sides exactly equal (a
   linked-sequence pair whose unchanged neighbour agrees) and then to the nearer one
   by position. The threshold was measured on the real vault (docs/generate.md).
5. Everything else is an **orphan**: reported, and kept by the caller (the review log,
   or ``--keep-orphans``). Nothing is dropped silently.

Every placed comment is reported as a `Move` (its stage, the old and new card text and
lines), so ``generate --diff`` can say what moved how and the engine can log the card
ids that changed (``renamed`` events of the review log).

A new comment goes where pytextgen puts it: the helpers leave a *slot* after each card
(``compat/read.py``); a comment replaces it, and unused slots vanish with the spaces
before them, exactly as pytextgen writes a card with and without a comment.
"""

from __future__ import annotations

import difflib
import html
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from flashmark.model import PLACEHOLDER_TEXT

Stage = Literal["exact", "normalized", "cloze", "similar"]
REMATCH_STAGES = ("exact", "normalized", "similar")  # what generate.rematch may say
# The least `similarity` at which a changed card keeps its schedule. Measured on the real
# vault with scripts/measure_rematch.py (docs/generate.md): 87% of simulated small edits
# (a word replaced or deleted, two words appended, a typo) score 0.6 or more, while the
# nearest other card of the same section (what an over-eager match could take when a
# card vanishes) does in 1.4% of cases (2.9% at 0.5, 0.3% at 0.67 where only 80% of the
# edits are kept). A wrong schedule is silent; an orphan is reported and kept.
SIMILAR_THRESHOLD = 0.6

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
class Move:
    """One old comment placed on a new card, and by which stage."""

    stage: Stage
    old_card: str
    new_card: str
    old_line: int  # 0-based line of the old unit's last line (where its comment was)
    new_line: int  # 0-based line of the new unit's last line (where the comment goes)
    comment: str  # what was written there


@dataclass(frozen=True, slots=True)
class Reattached:
    text: str  # the new section text with the comments in place
    orphans: tuple[Orphan, ...]
    moved: int  # comments placed by exact text (stage 1)
    rebuilt: int  # comments rebuilt from cloze answers (stage 3)
    moves: tuple[Move, ...] = ()  # every comment placed, in the order of the new units

    def count(self, stage: Stage) -> int:
        return sum(1 for m in self.moves if m.stage == stage)


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


# --- normalisation and similarity ----------------------------------------------------

# [text](target) with a target in <...> or with balanced parentheses (coke%20(fuel).md)
_MD_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(\s*(<[^<>\n]*>|(?:[^()\s]|\([^()\s]*\))*)"
                      r'(?:\s+"[^"\n]*")?\s*\)')
_WIKILINK = re.compile(r"(!?)\[\[([^\]|\n]*)(?:\|([^\]\n]*))?\]\]")
_TABLE_RULE = re.compile(r"^[>\s]*\|?(?:\s*:?-+:?\s*\|)+\s*:?-*:?\s*$")
_SIDES = re.compile(r"::@::|:@:|\?\?@\?\?|\?@\?")
# a word, or one CJK character (a Chinese sentence is not one word)
_TOKEN = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\u3040-\u30ff]|[^\W_]+")


def _link_target(target: str) -> str:
    target = unquote(target.strip().removeprefix("<").removesuffix(">")).strip()
    page, hash_, fragment = target.partition("#")
    if page.lower().endswith(".md"):
        page = page[:-3]
    return (page + hash_ + fragment).casefold()


def normalized(card: str) -> str:
    """A card text as stage 2 compares it: HTML entities decoded; every link to a note
    as ``[text](target)`` with the target decoded, without ``<...>`` and ``.md``, case
    folded (a wikilink ``[[a b|x]]`` is ``[x](a b)``); runs of spaces one space, each
    line stripped; a table rule's dashes ``---``."""
    text = html.unescape(card)
    text = _WIKILINK.sub(lambda m: f"{m[1]}[{m[3] if m[3] is not None else m[2]}]"
                                   f"({_link_target(m[2])})", text)
    text = _MD_LINK.sub(lambda m: f"{m[1]}[{m[2]}]({_link_target(m[3])})", text)
    lines = []
    for line in text.split("\n"):
        line = " ".join(line.split())
        if _TABLE_RULE.match(line):
            line = re.sub(r"-+", "---", line)
        lines.append(line)
    return "\n".join(lines).strip()


def _tokens(side: str) -> list[str]:
    words = _TOKEN.findall(side.casefold())
    # a side of symbols only (`<=`, `→`) is compared by its characters
    return words or [c for c in side if not c.isspace()]


def _sides(norm: str) -> list[list[str]]:
    return [_tokens(side) for side in _SIDES.split(norm)]


def similarity(old: str, new: str, floor: float = SIMILAR_THRESHOLD) -> float:
    """How much of two card texts is the same, 0..1: the texts are `normalized`, cut into
    sides at the two-sided separators (``:@:``, ``::@::``, ``?@?``, ``??@??``: a linked
    pair's two items, a map's key and value) and each side into words (CJK: characters;
    a side without words: its characters). A card of one side scores the `difflib` ratio
    of the word sequences. A card of several sides must keep one side exactly (the
    unchanged neighbour of a linked pair, the question of an edited answer) and scores
    the lowest ratio of the others: a pair whose every side changed, or whose answer was
    replaced, scores 0 however long the rest. A different number of sides scores 0.
    Scores below ``floor`` may be given as 0 (they are not computed in full)."""
    return _side_similarity(_sides(normalized(old)), _sides(normalized(new)), floor)[0]


def _side_similarity(a: list[list[str]], b: list[list[str]],
                     floor: float = SIMILAR_THRESHOLD,
                     counts: tuple[list[Counter[str]], list[Counter[str]]] | None = None
                     ) -> tuple[float, int]:
    """(the score of `similarity`, how many sides are equal); a score that cannot reach
    ``floor`` is 0. ``counts``: the sides' word counts, when the caller keeps them."""
    if len(a) != len(b):
        return 0.0, 0
    changed = [k for k in range(len(a)) if a[k] != b[k]]
    equal = len(a) - len(changed)
    if len(a) > 1 and not equal:
        return 0.0, 0
    low = 1.0
    for k in changed:
        x, y = a[k], b[k]
        if not x or not y:
            return 0.0, 0
        # the words both sides have bound the ratio: most pairs stop here, cheaply
        if counts is not None:
            ca, cb = counts[0][k], counts[1][k]
        else:
            ca, cb = Counter(x), Counter(y)
        if 2 * sum((ca & cb).values()) / (len(x) + len(y)) < floor:
            return 0.0, 0
        low = min(low, difflib.SequenceMatcher(None, x, y, autojunk=False).ratio())
        if low < floor:
            return 0.0, 0
    return low, equal


# --- placing the comments ---------------------------------------------------------------

def _last_line(text: str, unit: Unit) -> int:
    return unit.line + text.count("\n", unit.start, unit.end)


def reattach(new_text: str, old_text: str, token: tuple[str, str] = ("{@{", "}@}"),
             rematch: str = "similar") -> Reattached:
    """Put the SR comments of ``old_text`` (a section's old body) on the cards of
    ``new_text`` (the freshly generated body, with a slot after each card), by the
    stages up to ``rematch`` (``exact``, ``normalized`` or ``similar``)."""
    if rematch not in REMATCH_STAGES:
        raise ValueError(f"rematch must be one of {', '.join(REMATCH_STAGES)}")
    bare, slotted = strip_slots(new_text)
    old_units = [u for u in units(old_text) if u.comments]
    if not old_units:
        return Reattached(bare, (), 0, 0)
    new_units = units(bare)
    assigned: dict[int, str] = {}  # new unit index -> comment text to insert
    moves: dict[int, Move] = {}
    free = [i for i, u in enumerate(new_units) if not u.comments]

    def place(stage: Stage, old: Unit, i: int, comment: str) -> None:
        assigned[i] = comment
        moves[i] = Move(stage, old.key, new_units[i].key, _last_line(old_text, old),
                        _last_line(bare, new_units[i]), comment)

    def by_key(stage: Stage, left: list[Unit], key: Callable[[str], str]) -> list[Unit]:
        queues: dict[str, deque[int]] = {}
        for i in free:
            if i not in assigned:
                queues.setdefault(key(new_units[i].key), deque()).append(i)
        rest: list[Unit] = []
        for u in left:
            queue = queues.get(key(u.key))
            if queue:
                place(stage, u, queue.popleft(), " ".join(u.comments))
            else:
                rest.append(u)
        return rest

    left = by_key("exact", old_units, lambda k: k)
    if left and rematch != "exact":
        left = by_key("normalized", left, normalized)
    orphans: list[Orphan] = []
    if left:
        answer = normalized if rematch != "exact" else (lambda a: a)
        left, orphans = _by_cloze(left, new_units, [i for i in free if i not in assigned],
                                  token, answer, lambda o, i, c: place("cloze", o, i, c))
    if left and rematch == "similar":
        left = _by_similarity(left, old_units, new_units,
                              [i for i in free if i not in assigned], token, orphans,
                              lambda o, i, c: place("similar", o, i, c))
    orphans.extend(Orphan(u.key, c, u.line) for u in left for c in u.comments)
    orphans.sort(key=lambda o: o.line)
    ordered = tuple(moves[i] for i in sorted(moves))
    counts = Counter(m.stage for m in ordered)
    if not assigned:
        return Reattached(bare, tuple(orphans), 0, 0, ordered)
    lines = bare.split("\n")
    for i, comment in assigned.items():
        last = _last_line(bare, new_units[i])
        if last in slotted:  # exactly where pytextgen writes it (spaces before it kept)
            lines[last] = slotted[last].replace(SLOT, comment)
        else:
            lines[last] += " " + comment
    return Reattached("\n".join(lines), tuple(orphans), counts["exact"], counts["cloze"],
                      ordered)


Place = Callable[[Unit, int, str], None]


def _rebuild(entries: list[str], answers: list[str], new_answers: list[str],
             answer: Callable[[str], str]) -> tuple[list[str], list[str]]:
    """(the entries for the new deletions, the old entries no deletion took): deletion by
    deletion, by equal answers; a new deletion without one gets the placeholder."""
    pool: dict[str, deque[int]] = {}
    for k, a in enumerate(answers[:len(entries)]):
        pool.setdefault(answer(a), deque()).append(k)
    new_entries: list[str] = []
    taken: set[int] = set()
    for a in new_answers:
        q = pool.get(answer(a))
        if q:
            k = q.popleft()
            taken.add(k)
            new_entries.append(entries[k])
        else:
            new_entries.append(PLACEHOLDER_TEXT)
    return new_entries, [e for k, e in enumerate(entries) if k not in taken]


def _by_cloze(old: list[Unit], new: list[Unit], free: list[int], token: tuple[str, str],
              answer: Callable[[str], str], place: Place) -> tuple[list[Unit], list[Orphan]]:
    """Stage 3; returns the old units left for the next stage and the orphans made."""
    orphans: list[Orphan] = []
    # (old unit, its first comment's entries, the answers the entries belong to)
    olds: list[tuple[Unit, list[str], list[str]]] = []
    rest: list[Unit] = []
    for u in old:
        answers = _cloze_answers(u.key, token)
        entries = _entries(u.comments[0])
        if not answers or not entries:
            rest.append(u)
            continue
        olds.append((u, entries, answers))
    news = [(i, _cloze_answers(new[i].key, token)) for i in free]
    news = [(i, a) for i, a in news if a]
    pairs: list[tuple[int, int, int]] = []  # (-shared answers, old index, new index)
    for oi, (_, entries, answers) in enumerate(olds):
        have = Counter(answer(a) for a in answers[:len(entries)])
        for ni, (_, new_answers) in enumerate(news):
            shared = sum((have & Counter(answer(a) for a in new_answers)).values())
            if shared:
                pairs.append((-shared, oi, ni))
    pairs.sort()
    used_old: set[int] = set()
    used_new: set[int] = set()
    for _, oi, ni in pairs:
        if oi in used_old or ni in used_new:
            continue
        used_old.add(oi)
        used_new.add(ni)
        unit, entries, answers = olds[oi]
        new_entries, lost = _rebuild(entries, answers, news[ni][1], answer)
        place(unit, news[ni][0], _comment(new_entries))
        if lost:
            orphans.append(Orphan(unit.key, _comment(lost), unit.line))
        orphans.extend(Orphan(unit.key, extra, unit.line) for extra in unit.comments[1:])
    rest.extend(olds[oi][0] for oi in range(len(olds)) if oi not in used_old)
    rest.sort(key=lambda u: u.line)
    return rest, orphans


def _by_similarity(left: list[Unit], old_units: list[Unit], new: list[Unit], free: list[int],
                   token: tuple[str, str], orphans: list[Orphan], place: Place) -> list[Unit]:
    """Stage 4: the most similar pairs first (see `similarity`); returns the old units
    that found no card."""
    old_pos = {id(u): k / max(1, len(old_units) - 1) for k, u in enumerate(old_units)}
    new_sides = {i: _sides(normalized(new[i].key)) for i in free}
    new_counts = {i: [Counter(side) for side in sides] for i, sides in new_sides.items()}
    # cards of one side (paragraphs, tables) share no exact side to narrow the search:
    # an index of their words finds the new ones that share enough words to qualify
    # (cards of several sides must keep one side exactly: an index of sides finds them)
    index: dict[str, list[tuple[int, int]]] = {}
    by_side: dict[tuple[int, tuple[str, ...]], list[int]] = {}
    for i in free:
        if len(new_sides[i]) == 1:
            for word, n in new_counts[i][0].items():
                index.setdefault(word, []).append((i, n))
        else:
            for k, side in enumerate(new_sides[i]):
                by_side.setdefault((k, tuple(side)), []).append(i)
    candidates: list[tuple[float, int, float, int, int]] = []
    for oi, u in enumerate(left):
        sides = _sides(normalized(u.key))
        counts = [Counter(side) for side in sides]
        targets: Iterable[int] = {i for k, side in enumerate(sides)
                                   for i in by_side.get((k, tuple(side)), ())}
        if len(sides) == 1:
            shared: Counter[int] = Counter()
            for word, n in counts[0].items():
                for i, m in index.get(word, ()):
                    shared[i] += min(n, m)
            size = len(sides[0])
            targets = [i for i, both in shared.items()
                       if 2 * both / (size + len(new_sides[i][0])) >= SIMILAR_THRESHOLD]
        for i in targets:
            score, equal = _side_similarity(sides, new_sides[i], SIMILAR_THRESHOLD,
                                            (counts, new_counts[i]))
            if score >= SIMILAR_THRESHOLD:
                distance = abs(old_pos[id(u)] - i / max(1, len(new) - 1))
                candidates.append((-score, -equal, distance, oi, i))
    candidates.sort()
    used_old: set[int] = set()
    used_new: set[int] = set()
    for _, _, _, oi, i in candidates:
        if oi in used_old or i in used_new:
            continue
        used_old.add(oi)
        used_new.add(i)
        u = left[oi]
        comment = " ".join(u.comments)
        answers = _cloze_answers(u.key, token)
        entries = _entries(u.comments[0])
        new_answers = _cloze_answers(new[i].key, token)
        if answers and entries and len(new_answers) != len(entries):
            # a cloze block with deletions added or removed: entries follow their answers
            rebuilt, lost = _rebuild(entries, answers, new_answers, normalized)
            comment = _comment(rebuilt)
            if lost:
                orphans.append(Orphan(u.key, _comment(lost), u.line))
            orphans.extend(Orphan(u.key, extra, u.line) for extra in u.comments[1:])
        place(u, i, comment)
    return [u for oi, u in enumerate(left) if oi not in used_old]

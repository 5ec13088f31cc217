"""The search language: Anki's search syntax, the part that fits cards in notes.

``parse(query)`` turns a query into a tree (`Node`); `SearchError` (exit 2) says what
is wrong and at which column. ``matcher(tree, ...)`` turns a tree into a predicate over
`CardRow` (what `vault.cardtable` keeps per card). Pure: no file is read here.

Syntax (README, "Finding and fixing cards"):

- terms separated by spaces must all match (``and`` may be written, any case);
  ``or`` between terms matches either; ``-term`` negates; ``( ... )`` groups;
- ``"two words"`` is one term; inside quotes and out, ``\\"``, ``\\\\``, ``\\*``,
  ``\\_``, ``\\:`` and ``\\(`` stand for the character itself;
- free text matches the card's front or back, case-insensitively, anywhere in it;
  ``*`` matches any run of characters and ``_`` one character (as in Anki);
- ``deck:PATTERN`` (the one deck matcher, `flashmark.decks`: sub-decks included,
  ``*`` and ``?`` wildcards), ``tag:PATTERN`` (same rules over the note's tags),
  ``path:GLOB`` (the note's vault-relative path: ``*`` and ``?``; without a wildcard
  the note itself, ``.md`` optional, or a folder), ``type:cloze|one_sided|reversible|
  multiline|multiline_reversible``, ``id:PREFIX``;
- ``is:new|learn|review|due|suspended|buried|leech``, ``flag:0..7``;
- ``prop:ivl>=N``, ``prop:due<=N`` (days from today; negative: overdue),
  ``prop:lapses>N``, ``prop:reps=N``, ``prop:s>N`` (stability, days), ``prop:d>N``
  (difficulty 1-10), ``prop:r<N`` (retrievability now, 0-1); operators
  ``= != < <= > >=``; a card without the property (a new card) does not match;
- ``rated:N`` rated in the last N days (1 = today), ``rated:N:1..4`` with that
  answer; ``introduced:N`` first rated in the last N days.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from flashmark.config import Settings
from flashmark.decks import DeckPattern
from flashmark.errors import UsageError
from flashmark.model import STATE_LEARNING, STATE_NEW, STATE_REVIEW, QuestionType
from flashmark.review.today import SiblingGroups, hidden_siblings
from flashmark.stats import DueCutoff
from flashmark.vault.cardtable import CardRow
from flashmark.vault.codec import NEW, UNREADABLE

__all__ = ["CardRow", "LogFacts", "Node", "SearchError", "card_states", "log_facts",
           "matcher", "parse"]


class SearchError(UsageError):
    """A query that cannot be read (exit 2), with the column where it goes wrong."""

    def __init__(self, query: str, column: int, reason: str) -> None:
        super().__init__(f"search {query!r}, column {column + 1}: {reason}",
                         hint="README, 'Finding and fixing cards', lists the syntax")
        self.query = query
        self.column = column
        self.reason = reason


# --- the tree --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """``op``: and, or, not (``children``) or a term: text, deck, tag, path, type, id,
    is, flag, prop, rated, introduced (``value``; prop: ``name``, ``cmp``, ``number``;
    rated: ``number`` days and ``ease`` 0 for any)."""

    op: str
    children: tuple[Node, ...] = ()
    value: str = ""
    name: str = ""
    cmp: str = ""
    number: float = 0.0
    ease: int = 0

    def __str__(self) -> str:
        """A canonical form (what the golden tests compare)."""
        if self.op == "and" and not self.children:
            return "(all)"
        if self.op in ("and", "or"):
            return f"({self.op} " + " ".join(str(c) for c in self.children) + ")"
        if self.op == "not":
            return f"(not {self.children[0]})"
        if self.op == "prop":
            return f"(prop {self.name}{self.cmp}{_num(self.number)})"
        if self.op == "rated":
            return f"(rated {_num(self.number)}" + (f":{self.ease})" if self.ease else ")")
        if self.op == "introduced":
            return f"(introduced {_num(self.number)})"
        if self.op == "flag":
            return f"(flag {_num(self.number)})"
        return f"({self.op} {self.value!r})"

    def uses_text(self) -> bool:
        """Does matching need the cards' front and back?"""
        return self.op == "text" or any(c.uses_text() for c in self.children)

    def uses(self, op: str, name: str = "") -> bool:
        return ((self.op == op and (not name or self.name == name or self.value == name))
                or any(c.uses(op, name) for c in self.children))


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else repr(x)


# The words of Anki's is: and prop: searches (their own vocabularies, named once here).
IS_NEW, IS_LEARN, IS_REVIEW, IS_DUE = "new", "learn", "review", "due"
IS_SUSPENDED, IS_BURIED, IS_LEECH = "suspended", "buried", "leech"
IS_STATES = (IS_NEW, IS_LEARN, IS_REVIEW, IS_DUE, IS_SUSPENDED, IS_BURIED, IS_LEECH)
PROP_IVL, PROP_DUE, PROP_LAPSES, PROP_REPS = "ivl", "due", "lapses", "reps"
PROP_S, PROP_D, PROP_R = "s", "d", "r"  # FSRS stability, difficulty, retrievability
PROPS = (PROP_IVL, PROP_DUE, PROP_LAPSES, PROP_REPS, PROP_S, PROP_D, PROP_R)
TYPES = tuple(t.value for t in QuestionType)
FIELDS = ("deck", "tag", "path", "type", "id", "is", "flag", "prop", "rated", "introduced")
_CMP = re.compile(r"(<=|>=|!=|=|<|>)")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?$")


class _Token(NamedTuple):
    kind: str  # "(", ")", "word"
    text: str  # the word with escapes resolved (and a quoted part unquoted)
    raw: str  # as written: decides whether ":" and wildcards were escaped
    pos: int
    negated: bool
    quoted: bool = False  # held a quote: never the keyword and/or


def _tokens(query: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
            continue
        start = i
        negated = False
        if c == "-" and i + 1 < n and not query[i + 1].isspace():
            negated = True
            i += 1
            c = query[i]
        if c in "()":
            if negated and c == ")":
                raise SearchError(query, start, "'-' before ')'")
            if negated:
                out.append(_Token("-", "-", "-", start, False))
            out.append(_Token(c, c, c, i, False))
            i += 1
            continue
        text: list[str] = []
        raw: list[str] = []
        quoted = had_quote = False
        while i < n and not (query[i].isspace() and not quoted) and not (
                query[i] in "()" and not quoted):
            ch = query[i]
            if ch == "\\":
                if i + 1 >= n:
                    raise SearchError(query, i, "'\\' at the end of the query")
                text.append(query[i + 1])
                raw.append(query[i:i + 2])
                i += 2
                continue
            if ch == '"':
                quoted = not quoted
                had_quote = True
                i += 1
                continue
            text.append(ch)
            raw.append(ch)
            i += 1
        if quoted:
            raise SearchError(query, start, 'a quote (") is not closed')
        out.append(_Token("word", "".join(text), "".join(raw), start, negated, had_quote))
    return out


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = _tokens(query)
        self.k = 0

    def fail(self, pos: int, reason: str) -> SearchError:
        return SearchError(self.query, pos, reason)

    def peek(self) -> _Token | None:
        return self.tokens[self.k] if self.k < len(self.tokens) else None

    def is_keyword(self, tok: _Token | None, word: str) -> bool:
        return (tok is not None and tok.kind == "word" and not tok.negated
                and not tok.quoted and tok.raw.casefold() == word)

    def parse(self) -> Node:
        if not self.tokens:
            return Node("and")  # the empty query: every card
        node = self.or_expr()
        tok = self.peek()
        if tok is not None:
            raise self.fail(tok.pos, "')' without '('")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.is_keyword(self.peek(), "or"):
            tok = self.tokens[self.k]
            self.k += 1
            if self.peek() is None or self.peek().kind == ")":  # type: ignore[union-attr]
                raise self.fail(tok.pos, "'or' needs a term after it")
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Node("or", tuple(parts))

    def and_expr(self) -> Node:
        parts: list[Node] = []
        while True:
            tok = self.peek()
            if tok is None or tok.kind == ")" or self.is_keyword(tok, "or"):
                break
            if self.is_keyword(tok, "and"):
                self.k += 1
                nxt = self.peek()
                if not parts or nxt is None or nxt.kind == ")" or self.is_keyword(nxt, "or"):
                    raise self.fail(tok.pos, "'and' needs a term on each side")
                continue
            parts.append(self.unary())
        if not parts:
            tok = self.peek()
            pos = tok.pos if tok is not None else len(self.query)
            raise self.fail(pos, "a term is missing here")
        return parts[0] if len(parts) == 1 else Node("and", tuple(parts))

    def unary(self) -> Node:
        tok = self.tokens[self.k]
        self.k += 1
        if tok.kind == "-":
            return Node("not", (self.unary(),))
        if tok.kind == "(":
            inner = self.or_expr()
            close = self.peek()
            if close is None or close.kind != ")":
                raise self.fail(tok.pos, "'(' is not closed")
            self.k += 1
            return inner
        node = self.term(tok)
        return Node("not", (node,)) if tok.negated else node

    def term(self, tok: _Token) -> Node:
        colon = _unescaped_colon(tok.raw)
        if colon < 0:
            if not tok.text:
                raise self.fail(tok.pos, "an empty term")
            return Node("text", value=tok.raw)
        name = tok.raw[:colon].casefold()
        raw_value = tok.raw[colon + 1:]
        value = _unescape(raw_value)
        pos = tok.pos + (1 if tok.negated else 0) + colon + 1
        if name not in FIELDS:
            raise self.fail(tok.pos, f"unknown search field {name!r} (known: "
                            f"{', '.join(FIELDS)}; write {name}\\: to search the text)")
        if not value:
            raise self.fail(pos, f"'{name}:' needs a value")
        return self.field_term(name, value, pos)

    def field_term(self, name: str, value: str, pos: int) -> Node:
        low = value.casefold()
        if name in ("deck", "tag", "path", "id"):
            return Node(name, value=value)
        if name == "type":
            if low not in TYPES:
                raise self.fail(pos, f"type {value!r} is not one of {', '.join(TYPES)}")
            return Node("type", value=low)
        if name == "is":
            if low not in IS_STATES:
                raise self.fail(pos, f"is:{value} is not one of "
                                f"{', '.join('is:' + s for s in IS_STATES)}")
            return Node("is", value=low)
        if name == "flag":
            if not value.isdigit() or int(value) > 7:
                raise self.fail(pos, "flag: takes 0 (no flag) to 7")
            return Node("flag", number=int(value))
        if name == "prop":
            m = _CMP.search(value)
            if m is None:
                raise self.fail(pos, "prop: needs a comparison, e.g. prop:ivl>=10")
            prop = value[:m.start()].casefold()
            if prop not in PROPS:
                raise self.fail(pos, f"prop:{prop} is not one of {', '.join(PROPS)}")
            number = value[m.end():]
            if not _NUMBER.match(number):
                raise self.fail(pos + m.end(), f"{number!r} is not a number")
            return Node("prop", name=prop, cmp=m.group(1), number=float(number))
        # rated, introduced
        days_text, _, ease_text = value.partition(":")
        if not days_text.isdigit() or not 1 <= int(days_text) <= 36500:
            raise self.fail(pos, f"{name}: takes a number of days (1 = today)")
        if name == "introduced":
            if ease_text:
                raise self.fail(pos, "introduced: takes only a number of days")
            return Node("introduced", number=int(days_text))
        if ease_text and (ease_text not in ("1", "2", "3", "4")):
            raise self.fail(pos + len(days_text) + 1,
                            "the answer is 1 (again), 2 (hard), 3 (good) or 4 (easy)")
        return Node("rated", number=int(days_text), ease=int(ease_text or 0))


def _unescaped_colon(raw: str) -> int:
    i = 0
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] == ":":
            return i
        i += 1
    return -1


def _unescape(raw: str) -> str:
    return re.sub(r"\\(.)", r"\1", raw)


def _unescaped_pattern(raw: str) -> str:
    """Free text as a regex: ``*`` and ``_`` wildcards unless escaped."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\\" and i + 1 < len(raw):
            out.append(re.escape(raw[i + 1]))
            i += 2
            continue
        out.append(".*?" if c == "*" else "." if c == "_" else re.escape(c))
        i += 1
    return "".join(out)


def _has_wildcard(raw: str) -> bool:
    i = 0
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] in "*_":
            return True
        i += 1
    return False


def text_finder(raw: str) -> Callable[[str], bool]:
    """A free-text term (as written, escapes and all) as a test on lower-cased text: a
    substring test when it has no wildcard (far quicker than a case-insensitive regex
    over a vault's worth of text), else a regex. (`str.lower`, not `casefold`: it is
    several times quicker on the vault's text, and differs only for a few letters
    such as ß.)"""
    folded = raw.lower()
    if not _has_wildcard(folded):
        literal = _unescape(folded)
        return lambda text: literal in text
    rx = re.compile(_unescaped_pattern(folded), re.DOTALL)
    return lambda text: rx.search(text) is not None


def parse(query: str) -> Node:
    """The tree of ``query``; `SearchError` when it cannot be read."""
    return _Parser(query).parse()


# --- what is matched -------------------------------------------------------------------


# --- a card's state today: review/today.py's definition, over the card table's rows ----

@dataclass(slots=True)
class LogFacts:
    """What the review log says about cards, for searching (ids after renames)."""

    cutoff: DueCutoff
    suspended: set[str] = field(default_factory=set)
    buried: set[str] = field(default_factory=set)
    flags: dict[str, int] = field(default_factory=dict)
    rated: dict[str, list[tuple[dt.date, int]]] = field(default_factory=dict)  # day, ease
    introduced: dict[str, dt.date] = field(default_factory=dict)
    again_in_review: Counter[str] = field(default_factory=Counter)  # lapses seen in the log
    leeches: set[str] = field(default_factory=set)  # a `leech` event in effect (review.leech)
    # new or due cards whose question had another card reviewed today (review.today's
    # hidden siblings): buried until tomorrow when review.bury_siblings is on
    siblings: set[str] = field(default_factory=set)


_EASES = {"again": 1, "hard": 2, "good": 3, "easy": 4}


def log_facts(events: Iterable[object], cutoff: DueCutoff, *,
              siblings: SiblingGroups | None = None) -> LogFacts:
    """Fold the log (`vault.reviewlog` events, oldest first) for searching: the same
    `review.queue.log_state` that `review.today.cards_today` classifies cards with.
    ``siblings`` reads a note's sibling groups (`review.today.note_sibling_groups`; give
    it only with ``review.bury_siblings`` on)."""
    from flashmark.review.queue import log_state
    from flashmark.vault import reviewlog as rl

    evs = [e for e in events if isinstance(e, rl.Event)]
    state = log_state(evs, cutoff)
    facts = LogFacts(cutoff, set(state.suspended), set(state.buried),
                     leeches=set(state.leeches))
    if siblings is not None and state.reviewed_today:
        notes = {e.path for e in rl.follow_renames(evs)
                 if isinstance(e, rl.Review) and e.id in state.reviewed_today}
        reviewed = set(state.reviewed_today)
        for rel in sorted(notes):
            facts.siblings |= hidden_siblings(siblings(rel), reviewed)
    for e in rl.in_effect(rl.follow_renames(evs)):
        if isinstance(e, rl.Review | rl.AnkiReview):
            day = cutoff.day_of_time(e.time)
            facts.rated.setdefault(e.id, []).append((day, _EASES[e.rating]))
            if isinstance(e, rl.AnkiReview):
                was_new, in_review = e.anki_type == "learn", e.anki_type == "review"
            elif e.before is None:
                was_new, in_review = True, False
            else:
                key, schedule = _key_state(e.before)
                was_new, in_review = key == NEW, schedule == STATE_REVIEW
            if was_new and e.id not in facts.introduced:
                facts.introduced[e.id] = day
            if in_review and e.rating == "again":
                facts.again_in_review[e.id] += 1
        elif isinstance(e, rl.Flag):
            flag = e.flag
            if flag:
                facts.flags[e.id] = flag
            else:
                facts.flags.pop(e.id, None)
    return facts


def vault_siblings(root: Path, settings: Settings, *, all_notes: bool = False
                   ) -> SiblingGroups | None:
    """The ``siblings`` argument of `log_facts` for the vault at ``root``: its notes'
    sibling groups with ``review.bury_siblings`` on, else None."""
    from flashmark.review.today import note_sibling_groups

    if not settings.review.bury_siblings:
        return None
    return note_sibling_groups(root, settings, all_notes=all_notes)


def _key_state(entry_text: str) -> tuple[str, str]:
    from flashmark.vault.codec import key_and_state

    return key_and_state(entry_text)


def has_state(row: CardRow, word: str, facts: LogFacts) -> bool:
    """Does ``is:word`` hold for ``row`` today? (`state_test`'s answer for one card.)"""
    return state_test(word, facts)(row)


def state_test(word: str, facts: LogFacts) -> Callable[[CardRow], bool]:
    """The test of ``is:word`` today, by the rules of `review.today.cards_today`: a
    suspended or buried card (a hidden sibling included) is not due; unreadable entries
    are in no state; a leech is a card with a `leech` event in effect. Each test reads
    the row's facts tuple (`vault.cardtable`) directly: a search runs it on every card
    of the vault, and the properties of `CardRow` cost a call each."""
    # positions in the facts tuple: id 0, key 7, state 8
    if word == IS_NEW:
        return lambda r: r.facts[7] == NEW
    if word == IS_LEARN:
        def learn(r: CardRow) -> bool:
            f = r.facts
            return f[8] == STATE_LEARNING and f[7] not in (NEW, UNREADABLE)
        return learn
    if word == IS_REVIEW:
        def review(r: CardRow) -> bool:
            f = r.facts
            return f[8] == STATE_REVIEW and f[7] not in (NEW, UNREADABLE)
        return review
    if word == IS_SUSPENDED:
        suspended = facts.suspended
        return lambda r: r.facts[0] in suspended
    if word == IS_BURIED:
        buried = facts.buried
        return lambda r: r.facts[0] in buried or _hidden_sibling(r, facts)
    if word == IS_DUE:
        return _due_test(facts)
    if word == IS_LEECH:
        leeches = facts.leeches
        return lambda r: r.facts[0] in leeches
    raise ValueError(f"unknown card state {word!r}")


def _due_test(facts: LogFacts) -> Callable[[CardRow], bool]:
    hidden = facts.suspended | facts.buried
    siblings = facts.siblings
    end_of_day = facts.cutoff.instant
    today = facts.cutoff.today_text

    def due(r: CardRow) -> bool:  # (DueCutoff.is_due inlined)
        f = r.facts
        key = f[7]
        if key in (NEW, UNREADABLE) or f[0] in hidden:
            return False
        if f[8] == STATE_LEARNING:
            return bool(key < end_of_day)
        return (key <= today if len(key) == 10 else key < end_of_day) and f[0] not in siblings

    return due


def card_states(row: CardRow, facts: LogFacts) -> set[str]:
    """Every ``is:`` word that holds for ``row`` today."""
    return {word for word in IS_STATES if has_state(row, word, facts)}


def _hidden_sibling(row: CardRow, facts: LogFacts) -> bool:
    """A new or due card hidden as a sibling of today's review (learning cards keep
    their steps), unless suspended, as `review.today` classifies it."""
    if row.id not in facts.siblings or row.id in facts.suspended or row.key == UNREADABLE:
        return False
    if row.key == NEW:
        return True
    return row.state != STATE_LEARNING and facts.cutoff.is_due(row.key)


def lapses_of(row: CardRow, facts: LogFacts) -> int:
    """The entry's lapses (FSRS), else the lapses the log saw."""
    return row.lapses if row.lapses is not None else facts.again_in_review.get(row.id, 0)


Memory = Callable[[CardRow], tuple[float, float] | None]  # (S, D) of a card
Recall = Callable[[CardRow], float | None]  # retrievability now


def _comparison(cmp: str, b: float) -> Callable[[float], bool]:
    """``_compare(cmp, a, b)`` as a test of ``a`` (a search asks it of every card)."""
    if cmp == "<":
        return lambda a: a < b
    if cmp == "<=":
        return lambda a: a <= b
    if cmp == ">":
        return lambda a: a > b
    if cmp == ">=":
        return lambda a: a >= b
    return lambda a: _compare(cmp, a, b)


def _compare(cmp: str, a: float, b: float) -> bool:
    if cmp == "=":
        return math.isclose(a, b, abs_tol=1e-9)
    if cmp == "!=":
        return not math.isclose(a, b, abs_tol=1e-9)
    if cmp == "<":
        return a < b
    if cmp == "<=":
        return a <= b
    if cmp == ">":
        return a > b
    return a >= b


def _glob(pattern: str) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "[^/]" if c == "?" else re.escape(c)
                   for c in pattern.casefold())
    return re.compile(body, re.DOTALL)


def _path_matcher(value: str) -> Callable[[str], bool]:
    pattern = value.strip().strip("/").casefold()
    if any(c in pattern for c in "*?"):
        rx = _glob(pattern)
        return lambda p: rx.fullmatch(p.casefold()) is not None
    return lambda p: (p.casefold() in (pattern, pattern + ".md")
                      or p.casefold().startswith(pattern + "/"))


def _due_days(row: CardRow, cutoff: DueCutoff) -> int | None:
    day = cutoff.day_of(row.key)
    return None if day is None else (day - cutoff.today).days


def matcher(tree: Node, facts: LogFacts, *, memory: Memory, recall: Recall
            ) -> Callable[[CardRow], bool]:
    """The predicate of ``tree``. ``memory`` and ``recall`` give a card's FSRS state
    (they need the scheduler's settings, which this module does not know)."""
    cutoff = facts.cutoff

    def build(node: Node) -> Callable[[CardRow], bool]:
        op = node.op
        if op in ("and", "or"):
            parts = [build(c) for c in node.children]
            if not parts:  # the empty query: every card
                return lambda r: op == "and"
            return functools.reduce(_both if op == "and" else _either, parts)
        if op == "not":
            inner = build(node.children[0])
            return lambda r: not inner(r)
        if op == "text":
            found = text_finder(node.value)
            return lambda r: found(r.front.lower()) or found(r.back.lower())
        if op == "deck":  # answers kept per deck (a vault has a few hundred)
            selects = DeckPattern(node.value).selects
            decks: dict[str | None, bool] = {}

            def deck(r: CardRow) -> bool:
                d = r.facts[5]
                hit = decks.get(d)
                if hit is None:
                    hit = decks[d] = selects(d)
                return hit
            return deck
        if op == "tag":  # answers kept per note (its cards share its tags)
            tag = DeckPattern(node.value).selects
            notes: dict[str, bool] = {}

            def tagged(r: CardRow) -> bool:
                hit = notes.get(r.path)
                if hit is None:
                    hit = notes[r.path] = any(tag(t) for t in r.tags)
                return hit
            return tagged
        if op == "path":
            path = _path_matcher(node.value)
            return lambda r: path(r.path)
        if op == "type":
            return lambda r: r.type == node.value
        if op == "id":
            prefix = node.value.casefold()
            return lambda r: r.id.startswith(prefix)
        if op == "is":
            return state_test(node.value, facts)
        if op == "flag":
            flag = int(node.number)
            return lambda r: facts.flags.get(r.id, 0) == flag
        if op == "prop":
            return _prop(node, facts, memory, recall)
        if op == "rated":
            first = cutoff.today - dt.timedelta(days=int(node.number) - 1)
            ease = node.ease
            return lambda r: any(day >= first and (not ease or e == ease)
                                 for day, e in facts.rated.get(r.id, ()))
        if op == "introduced":
            first = cutoff.today - dt.timedelta(days=int(node.number) - 1)
            return lambda r: (day := facts.introduced.get(r.id)) is not None and day >= first
        raise AssertionError(op)  # pragma: no cover

    return build(tree)


# (pairs of closures, not all()/any() over a generator: a search asks every card)
def _both(a: Callable[[CardRow], bool], b: Callable[[CardRow], bool]
          ) -> Callable[[CardRow], bool]:
    return lambda r: a(r) and b(r)


def _either(a: Callable[[CardRow], bool], b: Callable[[CardRow], bool]
            ) -> Callable[[CardRow], bool]:
    return lambda r: a(r) or b(r)


def _prop(node: Node, facts: LogFacts, memory: Memory, recall: Recall
          ) -> Callable[[CardRow], bool]:
    name = node.name
    cutoff = facts.cutoff
    holds = _comparison(node.cmp, node.number)
    if name == PROP_IVL:  # the facts tuple read directly: key 7, interval 9
        def interval(row: CardRow) -> bool:
            f = row.facts
            return f[9] is not None and f[7] not in (NEW, UNREADABLE) and holds(f[9])
        return interval
    if name == PROP_R:  # (recall is None for a new or unreadable card)
        def retrievability(row: CardRow) -> bool:
            r = recall(row)
            return r is not None and holds(r)
        return retrievability
    if name in (PROP_S, PROP_D):
        k = 0 if name == PROP_S else 1

        def memory_state(row: CardRow) -> bool:
            sd = memory(row)
            return sd is not None and holds(sd[k])
        return memory_state

    def value(row: CardRow) -> float | None:
        if row.key in (NEW, UNREADABLE):
            return None
        if name == PROP_DUE:
            return _due_days(row, cutoff)
        if name == PROP_LAPSES:
            return lapses_of(row, facts)
        return row.reps if row.reps is not None else len(facts.rated.get(row.id, ()))

    def test(row: CardRow) -> bool:
        v = value(row)
        return v is not None and holds(v)

    return test


STATE_NAMES = {STATE_NEW: "new", STATE_LEARNING: "learning", STATE_REVIEW: "review",
               UNREADABLE: "unreadable"}


# --- running a search over a vault -----------------------------------------------------

SORT_KEYS = ("vault", *PROPS, "deck", "path")


@dataclass(slots=True)
class SearchResult:
    rows: list[CardRow]  # the matching cards, in the order asked for
    facts: LogFacts
    total: int  # cards searched
    memory: Memory
    recall: Recall


if TYPE_CHECKING:
    from flashmark.scheduling import FsrsScheduler, SchedulerConfig

    # the scheduler, its config, weights, decay, factor, stability_for_interval,
    # memory_state_from_sm2
    _Views = tuple[FsrsScheduler, SchedulerConfig, tuple[float, ...], float, float,
                   Callable[[float, float, tuple[float, ...]], float],
                   Callable[[float, float, float, tuple[float, ...]], tuple[float, float]]]


def scheduler_views(settings: Settings, now: dt.datetime) -> tuple[Memory, Recall]:
    """A card's (S, D) and its retrievability at ``now``, as the FSRS adapter sees its
    entry (legacy entries: the memory state the adapter derives from interval and ease).

    Retrievability is computed here with FSRS-6's forgetting curve, ``(1 + F * t / S) **
    -w20``, over the adapter's elapsed days: what `FsrsScheduler.retrievability` returns
    (py-fsrs's `get_card_retrievability`), at a hundredth of its cost, which a search of
    every card needs; tests/review/test_search.py checks both agree."""
    from flashmark.days import elapsed_days

    # The scheduler (and the fsrs package) is loaded on the first card asked about: most
    # searches never ask.
    made: list[_Views] = []

    def views() -> _Views:
        if not made:
            from flashmark.scheduling import (
                FsrsScheduler,
                SchedulerConfig,
                memory_state_from_sm2,
                stability_for_interval,
            )

            scheduler = FsrsScheduler(SchedulerConfig.from_settings(settings.scheduling))
            weights = tuple(scheduler.config.parameters)
            decay = -float(weights[20])
            made.append((scheduler, scheduler.config, weights, decay,
                         float(0.9 ** (1.0 / decay)) - 1.0, stability_for_interval,
                         memory_state_from_sm2))
        return made[0]

    # Answers kept for this search (its ``now`` and settings), by what they depend on:
    # the real vault's 142,000 cards have 35,000 distinct legacy (interval, ease) pairs,
    # 2,000 intervals, 3,000 due days and 6,000 FSRS last reviews. Each key is read from
    # the row every time, so a card whose entry changed gets its new entry's answer.
    sm2_memory: dict[tuple[int, int], tuple[float, float]] = {}  # (IVL, EASE) -> (S, D)
    sm2_stability: dict[int, float] = {}  # interval -> S (stability_for_interval)
    due_ordinals: dict[str, int] = {}  # a legacy due day (the row's key) -> its ordinal
    days_since_day: dict[int, int] = {}  # a legacy last review (ordinal) -> elapsed days
    days_since: dict[str, int] = {}  # an FSRS entry's last review -> elapsed days

    def memory(row: CardRow) -> tuple[float, float] | None:
        f = row.facts  # (key 7, interval 9, stability 10, difficulty 11, ease 15,
        #                 FSRS state 16: see vault.cardtable)
        if f[10] is not None and f[11] is not None:
            if not f[10] > 0 or f[16] == 0:
                return None  # the plugin's Reset: a new card to the scheduler
            return f[10], min(max(f[11], 1.0), 10.0)
        ease, interval = f[15], f[9]
        if ease is None or interval is None or f[7] in (NEW, UNREADABLE):
            return None  # not a legacy review entry
        # A legacy entry's memory state depends on its interval and ease only: what the
        # adapter's `memory_state` computes for it (`FsrsScheduler.to_fsrs_card`), without
        # the entry parsed and a py-fsrs card made each time.
        key = (interval, ease)
        got = sm2_memory.get(key)
        if got is None:
            _, config, weights, _, _, _, memory_state_from_sm2 = views()
            got = sm2_memory[key] = memory_state_from_sm2(
                ease / 100.0, max(1, interval), config.desired_retention, weights)
        return got

    def recall(row: CardRow) -> float | None:
        f = row.facts  # (entry 6, key 7, interval 9, stability 10, last review 14)
        _, config, weights, decay, factor, stability_for_interval, _ = (
            made[0] if made else views())
        if f[10] is not None:
            stability, last_review = f[10], f[14]
            if not stability > 0 or last_review is None or f[16] == 0:
                return None
            days = days_since.get(last_review)
            if days is None:
                days = days_since[last_review] = elapsed_days(
                    dt.datetime.fromisoformat(last_review), now,
                    day_boundary=config.day_boundary, rule=config.elapsed_days)
        else:
            if f[6] is None or f[7] in (NEW, UNREADABLE) or f[9] is None:
                return None  # (no interval: not a legacy entry, see cardtable)
            # The entry parsed as legacy (it has an interval) and is not new: its due
            # day is the row's key (`vault.codec.key_and_state` keeps the date's text
            # when it is ISO, else writes the parsed date), its interval the row's.
            key = f[7]
            due = due_ordinals.get(key)
            if due is None:
                due = due_ordinals[key] = dt.date.fromisoformat(key).toordinal()
            interval = max(1, f[9])
            last = due - min(interval, due - 1)  # (never before 0001-01-01)
            days = days_since_day.get(last)
            if days is None:
                days = days_since_day[last] = elapsed_days(
                    dt.date.fromordinal(last), now, day_boundary=config.day_boundary,
                    rule=config.elapsed_days)
            known = sm2_stability.get(interval)
            if known is None:
                known = sm2_stability[interval] = stability_for_interval(
                    interval, config.desired_retention, weights)
            stability = known
        return float((1 + factor * days / stability) ** decay)

    return memory, recall


def _cheap_first(node: Node) -> Node:
    """The same tree with each ``and``'s terms reordered so that the costly ones (free
    text, FSRS memory) are tried only on cards the cheap ones let through."""
    if not node.children:
        return node
    children = tuple(_cheap_first(c) for c in node.children)
    if node.op == "and":
        children = tuple(sorted(children, key=_cost))
    return Node(node.op, children, node.value, node.name, node.cmp, node.number, node.ease)


def _cost(node: Node) -> int:
    if any(node.uses("prop", p) for p in (PROP_R, PROP_S, PROP_D)):
        return 2
    return 1 if node.uses_text() else 0


NotePredicate = Callable[[str, list[str | None]], bool]  # (note, its decks) -> may match


def note_prefilter(tree: Node) -> NotePredicate | None:
    """A test on a whole note (its path and the decks of its cards, which the index
    knows) that is false only when no card of the note can match; None when the query
    says nothing at that level. Skips the cards of every other deck without decoding."""
    op = tree.op
    if op == "deck":
        selects = DeckPattern(tree.value).selects
        return lambda rel, decks: any(selects(d) for d in decks)
    if op == "path":
        path = _path_matcher(tree.value)
        return lambda rel, decks: path(rel)
    if op in ("and", "or"):
        parts = [note_prefilter(c) for c in tree.children]
        if op == "and":
            known = [p for p in parts if p is not None]
            if not known:
                return None
            return lambda rel, decks: all(p(rel, decks) for p in known)
        if not parts or any(p is None for p in parts):
            return None
        some = [p for p in parts if p is not None]
        return lambda rel, decks: any(p(rel, decks) for p in some)
    return None


TextPredicate = Callable[[str], bool]  # a note's cards' texts, joined -> may match


def text_prefilter(tree: Node) -> TextPredicate | None:
    """Like `note_prefilter`, over all the texts of a note's cards at once, lower-cased
    (`vault.cardtable` keeps them so): one search per term and note instead of two per
    card, and most notes hold no match."""
    return _folded_prefilter(tree)


def _folded_prefilter(tree: Node) -> TextPredicate | None:
    if tree.op == "text":
        return text_finder(tree.value)
    if tree.op in ("and", "or"):
        parts = [_folded_prefilter(c) for c in tree.children]
        if tree.op == "and":
            known = [p for p in parts if p is not None]
            if not known:
                return None
            return lambda text: all(p(text) for p in known)
        if not parts or any(p is None for p in parts):
            return None
        some = [p for p in parts if p is not None]
        return lambda text: any(p(text) for p in some)
    return None


def sort_rows(rows: list[CardRow], by: str, facts: LogFacts, memory: Memory,
              recall: Recall) -> list[CardRow]:
    """``rows`` sorted by ``by`` (SORT_KEYS); cards without the value go last, ties
    in vault order."""
    if by == "vault":
        return rows
    cutoff = facts.cutoff

    def value(row: CardRow) -> float | str | None:
        if by == "deck":
            return row.deck or ""
        if by == "path":
            return row.path
        if row.key in (NEW, UNREADABLE):
            return None
        if by == PROP_DUE:
            return _due_days(row, cutoff)
        if by == PROP_IVL:
            return row.interval
        if by == PROP_LAPSES:
            return lapses_of(row, facts)
        if by == PROP_REPS:
            return row.reps if row.reps is not None else len(facts.rated.get(row.id, ()))
        if by == PROP_R:
            return recall(row)
        sd = memory(row)
        return None if sd is None else sd[0] if by == PROP_S else sd[1]

    keyed = [(value(r), r.ordinal, r) for r in rows]
    present = sorted(((v, o, r) for v, o, r in keyed if v is not None),
                     key=lambda t: (t[0], t[1]))
    return [r for _, _, r in present] + [r for v, _, r in keyed if v is None]


class CardTexts:
    """The front and back of cards a search found without their texts (`search_vault`
    without ``texts``), read a note at a time when first asked for: the browser draws a
    few dozen of its 10,000 rows, and decoding every text costs more than the search."""

    def __init__(self, root: Path, settings: Settings, *, all_notes: bool = False) -> None:
        self.root = root
        self.settings = settings
        self.all_notes = all_notes
        self._notes: dict[str, dict[str, tuple[str, str]]] = {}

    def of(self, row: CardRow) -> tuple[str, str]:
        """The row's (front, back): its own when the search kept them."""
        if row.front or row.back:
            return row.front, row.back
        texts = self._notes.get(row.path)
        if texts is None:
            texts = self._notes[row.path] = self._read(row.path)
        return texts.get(row.id, ("", ""))

    def _read(self, rel: str) -> dict[str, tuple[str, str]]:
        from flashmark.errors import NoteReadError
        from flashmark.syntax import parse_note
        from flashmark.vault.cardtable import CardTable, rows_of
        from flashmark.vault.notefile import read_note
        from flashmark.vault.scan import _fingerprint

        table = CardTable(self.root, _fingerprint(self.settings, self.all_notes))
        try:
            stored = table.note_texts(rel)
        finally:
            table.close()
        if stored is not None:
            return stored
        try:  # no current row in the card table: the note itself
            note_text = read_note(rel, str(self.root / rel))
        except NoteReadError:
            return {}
        note = parse_note(note_text.text, self.settings.parser, all_notes=self.all_notes)
        return {r.id: (r.front, r.back) for r in rows_of(note, rel)}


def search_vault(root: Path, settings: Settings, query: str | Node, now: dt.datetime, *,
                 sort: str = "vault", use_cache: bool = True, all_notes: bool = False,
                 texts: bool = False) -> SearchResult:
    """The cards of the vault at ``root`` that ``query`` matches. A warm index reads no
    note; the cards' texts are decoded only when the query has free text or ``texts``
    asks for them (then only the matches' are kept)."""
    from flashmark.parallel import gc_paused

    tree = parse(query) if isinstance(query, str) else query
    # A row object per card of the vault, no reference cycle: the cyclic collector would
    # walk them again and again for nothing (a third of a warm search's time).
    with gc_paused():
        return _search(root, settings, tree, now, sort=sort, use_cache=use_cache,
                       all_notes=all_notes, texts=texts)


def _search(root: Path, settings: Settings, tree: Node, now: dt.datetime, *, sort: str,
            use_cache: bool, all_notes: bool, texts: bool) -> SearchResult:
    from flashmark.vault.cardtable import CardTable, rows_of
    from flashmark.vault.reviewlog import ReviewLog
    from flashmark.vault.scan import _fingerprint, scan_vault

    cutoff = DueCutoff(now, settings.scheduling.day_boundary)
    facts = log_facts(ReviewLog(root).events(), cutoff,
                      siblings=vault_siblings(root, settings, all_notes=all_notes))
    memory, recall = scheduler_views(settings, now)
    test = matcher(_cheap_first(tree), facts, memory=memory, recall=recall)
    result = scan_vault(root, settings, use_cache=use_cache, all_notes=all_notes)
    try:
        records = result.flashcard_notes()
        may_match = note_prefilter(tree)
        if may_match is not None:
            records = [r for r in records if may_match(r.rel, [t[0] for t in r.tally])]
        if use_cache:
            # only the matches become rows: memory in proportion to them
            table = CardTable(root, _fingerprint(settings, all_notes))
            try:
                hits, total = table.rows([(r.rel, r.path) for r in records],
                                         settings.parser, all_notes, texts=texts,
                                         text_test=text_prefilter(tree), keep=test,
                                         texts_to_keep=tree.uses_text())
            finally:
                table.close()
        else:
            rows = []
            for rel, note in result.parsed(records).items():
                rows.extend(rows_of(note, rel))
            for k, row in enumerate(rows):
                row.ordinal = k + 1
            hits, total = [r for r in rows if test(r)], len(rows)
    finally:
        result.close()
    return SearchResult(sort_rows(hits, sort, facts, memory, recall), facts, total,
                        memory, recall)

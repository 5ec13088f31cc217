"""`pytextgen.compat.gen`: the helpers data blocks call to write sections.

Every helper returns the text of a section: ``"\\n\\n" + body + "\\n\\n"`` with each
line stripped. Output formats (as pytextgen 9.0.1 writes them):

* ``quote_text`` / ``cloze_text``: ``> `` quoted lines; ``cloze_text`` cuts the code at
  ``cloze sep`` tags into cloze groups separated by a blank line.
* ``memorize_linked_seq``: ``- A→::@::←B`` for each neighbouring pair (``→N``/``N←``
  hints count the punctuation-separated parts when hinted).
* ``memorize_two_sided``: ``- left::@::right`` (``:@:`` when not reversible, ``?@?`` /
  ``??@??`` when a side has a newline).
* ``memorize_indexed_seq``: ``- 1::@::item`` …; ``semantics_seq_map``: ``- text:@:sem``.
* ``rows_to_table``: a padded Markdown table.
"""

from __future__ import annotations

import contextlib
import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, cycle, repeat
from typing import Any

from flashmark.generate.compat.config import CONFIG
from flashmark.generate.compat.textcode import (
    Tag,
    TextCode,
    affix_code,
    code_to_str,
    code_to_strs,
    separate_code_by_tag,
)
from flashmark.generate.compat.util import (
    ClozeFlashcardGroup,
    FlashcardGroup,
    FlashcardStateGroup,
    IteratorSequence,
    StatefulFlashcardGroup,
    TwoSidedFlashcard,
    affix_lines,
    constant,
    identity,
    ignore_args,
    split_by_punctuations,
    strip_lines,
)

Hinter = Callable[[int, str], tuple[str, str]]

_NO_HINT: Hinter = constant(("", ""))
_ARROWS: Hinter = constant(("→", "←"))
_STEP_ONE: Callable[[int], int | None] = constant(1)
_ALWAYS: Callable[[int], bool] = constant(True)


# --- section text ------------------------------------------------------------------------


def text(text: str) -> str:
    return "\n\n" + strip_lines(text) + "\n\n"


TEXT = text


def quote(text: str, prefix: str = "> ") -> str:
    return affix_lines(text, prefix=prefix)


def quotette(text: str, prefix: str = "> ") -> str:
    return TEXT(quote(text, prefix=prefix))


def quote_text(code: TextCode, /, *, tag: str = Tag.TEXT, line_prefix: str = "> ") -> str:
    return quotette(code_to_str(code, tag=tag), prefix=line_prefix)


def cloze_texts(texts: Iterable[str], /, *,
                token: tuple[str, str] = CONFIG.cloze_token) -> Iterator[FlashcardGroup]:
    for t in texts:
        yield ClozeFlashcardGroup(t, token=token)


def attach_flashcard_states(flashcards: Iterable[FlashcardGroup], /, *,
                            states: Iterable[FlashcardStateGroup],
                            ) -> Iterator[StatefulFlashcardGroup]:
    padded = chain(states, repeat(FlashcardStateGroup()))
    for card, state in zip(flashcards, padded, strict=False):
        yield StatefulFlashcardGroup(flashcard=card, state=state)


def listify_flashcards(flashcards: Iterable[StatefulFlashcardGroup], /, *,
                       ordered: bool = False) -> str:
    if ordered:
        return "\n".join(f"{k}. {card}" for k, card in enumerate(flashcards, 1))
    return "\n".join(f"- {card}" for card in flashcards)


def cloze_text(code: TextCode, /, *, tag: str = Tag.TEXT, sep_tag: str = Tag.CLOZE_SEPARATOR,
               token: tuple[str, str] = CONFIG.cloze_token, line_prefix: str = "> ",
               separator: str = "\n\n", states: Iterable[FlashcardStateGroup]) -> str:
    parts = (code_to_str(c, tag=tag) for c in separate_code_by_tag(code, tag=sep_tag))
    groups = attach_flashcard_states(cloze_texts(parts, token=token), states=states)
    return text(separator.join(quote(str(g), prefix=line_prefix) for g in groups))


def tagged_filter_sep(code: TextCode, /, *, tag: str, sep_tag: str | None = None,
                      empty: bool = False) -> Iterable[str]:
    strs: Iterable[str]
    if sep_tag is None:
        strs = code_to_strs(code, tag=tag)
    else:
        strs = (code_to_str(c, tag=tag) for c in separate_code_by_tag(code, tag=sep_tag))
    return strs if empty else (s for s in strs if s)


# --- cards ------------------------------------------------------------------------------


def memorize_two_sided0(strs: Iterable[str], /, *,
                        offsets: Callable[[int], int | None] = _STEP_ONE,
                        reversible: bool = True,
                        hinter: Hinter = _NO_HINT) -> Iterator[FlashcardGroup]:
    """Walk the strings by ``offsets`` and pair what is visited: (1st, 2nd), (3rd, 4th)..."""
    seq = IteratorSequence(iter(strs))

    def visited() -> Iterator[tuple[str, str, str]]:
        index = -1
        while True:
            step = offsets(index)
            if step is None:
                return
            index += step
            try:
                item = seq[index]
            except IndexError:
                return
            yield (item, *hinter(index, item))

    it = visited()
    for (left, _, left_hint_r), (right, right_hint_l, _) in zip(it, it, strict=False):
        yield TwoSidedFlashcard(left + right_hint_l, left_hint_r + right, reversible=reversible)


def memorize_linked_seq0(strs: Iterable[str], /, hinter: Hinter = _ARROWS,
                         **kwargs: Any) -> Iterator[FlashcardGroup]:
    steps = chain((1,), cycle((1, 0)))  # 0, 1, 1, 2, 2, 3, ...: neighbouring pairs
    return memorize_two_sided0(strs, offsets=ignore_args(steps.__next__), hinter=hinter,
                               **kwargs)


def memorize_indexed_seq0(strs: Iterable[str], /, *,
                          indices: Callable[[int], int | None] = (1).__add__,
                          reversible: bool = True) -> Iterator[FlashcardGroup]:
    for idx, s in enumerate(strs):
        index = indices(idx)
        if index is not None:
            yield TwoSidedFlashcard(str(index), s, reversible=reversible)


def semantics_seq_map0(pairs: Iterable[tuple[str, str]], /, *,
                       reversible: bool = False) -> Iterator[FlashcardGroup]:
    for t, sem in pairs:
        yield TwoSidedFlashcard(t, sem, reversible=reversible)


def punctuation_hinter(hinted: Callable[[int], bool] = _ALWAYS, *,
                       sanitizer: Callable[[str], str] = identity) -> Hinter:
    def hint(index: int, s: str) -> tuple[str, str]:
        if hinted(index):
            count = sum(1 for _ in split_by_punctuations(sanitizer(s)))
            return f"→{count}", f"{count}←"
        return "→", "←"
    return hint


def memorize(code: TextCode, /, *, func: Callable[[Iterable[str]], Iterable[FlashcardGroup]],
             states: Iterable[FlashcardStateGroup], tag: str = Tag.MEMORIZE,
             sep_tag: str | None = None, empty: bool = False, ordered: bool = False) -> str:
    strs = tagged_filter_sep(code, tag=tag, sep_tag=sep_tag, empty=empty)
    cards = attach_flashcard_states(func(strs), states=states)
    return text(listify_flashcards(cards, ordered=ordered))


def _by_index(value: Any) -> Callable[[int], Any]:
    if isinstance(value, Sequence):
        return value.__getitem__
    return value  # type: ignore[no-any-return]


def memorize_two_sided(code: TextCode, /, *,
                       offsets: Callable[[int], int | None] | Sequence[int] | int = 1,
                       hinter: Hinter = _NO_HINT, reversible: bool = True,
                       **kwargs: Any) -> str:
    step = constant(offsets) if isinstance(offsets, int) else _by_index(offsets)

    def func(strs: Iterable[str]) -> Iterator[FlashcardGroup]:
        return memorize_two_sided0(strs, offsets=step, reversible=reversible, hinter=hinter)
    return memorize(code, func=func, **kwargs)


def memorize_linked_seq(code: TextCode, /, *,
                        hinted: Callable[[int], bool] | Sequence[bool] | bool = True,
                        sanitizer: Callable[[str], str] = identity, reversible: bool = True,
                        **kwargs: Any) -> str:
    which = constant(hinted) if isinstance(hinted, bool) else _by_index(hinted)
    hinter = punctuation_hinter(which, sanitizer=sanitizer)

    def func(strs: Iterable[str]) -> Iterator[FlashcardGroup]:
        return memorize_linked_seq0(strs, reversible=reversible, hinter=hinter)
    return memorize(code, func=func, **kwargs)


def memorize_indexed_seq(code: TextCode, /, *,
                         indices: Callable[[int], int | None] | Sequence[int | None] | int = 1,
                         reversible: bool = True, **kwargs: Any) -> str:
    index = indices.__add__ if isinstance(indices, int) else _by_index(indices)

    def func(strs: Iterable[str]) -> Iterator[FlashcardGroup]:
        return memorize_indexed_seq0(strs, indices=index, reversible=reversible)
    return memorize(code, func=func, **kwargs)


def semantics_seq_map(code: TextCode, sem: TextCode, *, states: Iterable[FlashcardStateGroup],
                      tags: str | tuple[str, str] = Tag.SEMANTICS,
                      sep_tags: tuple[str | None, str | None] | str | None = None,
                      empty: tuple[bool, bool] | bool = False, reversible: bool = False,
                      ordered: bool = False) -> str:
    t = tags if isinstance(tags, tuple) else (tags, tags)
    s = sep_tags if isinstance(sep_tags, tuple) else (sep_tags, sep_tags)
    e = empty if isinstance(empty, tuple) else (empty, empty)
    left = tagged_filter_sep(code, tag=t[0], sep_tag=s[0], empty=e[0])
    right = tagged_filter_sep(sem, tag=t[1], sep_tag=s[1], empty=e[1])
    cards = semantics_seq_map0(zip(left, right, strict=True), reversible=reversible)
    return text(listify_flashcards(attach_flashcard_states(cards, states=states),
                                   ordered=ordered))


# --- markdown_sanitizer -------------------------------------------------------------------

_TAG = re.compile(r"<([^>]+)>")
# (pattern, replacement with tag names): Markdown emphasis and links become HTML-like
# tags, which are then removed together with the note's own paired tags.
_DESUGAR = (
    (re.compile(r"(?:\b|^)__(?=\S)"), "<b u>"),
    (re.compile(r"(?<=\S)__(?:\b|$)"), "</b u>"),
    (re.compile(r"\*\*(?=\S)"), "<b s>"),
    (re.compile(r"(?<=\S)\*\*"), "</b s>"),
    (re.compile(r"(?:\b|^)_(?=\S)"), "<i u>"),
    (re.compile(r"(?<=\S)_(?:\b|$)"), "</i u>"),
    (re.compile(r"\*(?=\S)"), "<i s>"),
    (re.compile(r"(?<=\S)\*"), "</i s>"),
    (re.compile(r"\[(.*?(?<!\\))\]\(.*?(?<!\\)\)", re.DOTALL), r"<a>\1</a>"),
)


def _drop_paired_tags(s: str) -> tuple[str, frozenset[str]]:
    """Remove self-closing tags and opening/closing pairs (a closing tag pairs with the
    innermost open tag only when the names agree); unpaired opening tags stay."""
    names: set[str] = set()
    cut: list[tuple[int, int]] = []
    open_tags: list[re.Match[str]] = []
    for m in _TAG.finditer(s):
        name = m[1]
        if name.startswith("/"):
            names.add(name[1:])
            if open_tags and open_tags[-1][1] == name[1:]:
                opener = open_tags.pop()
                cut.append((opener.start(), opener.end()))
                cut.append((m.start(), m.end()))
        elif name.endswith("/"):
            names.add(name[:-1])
            cut.append((m.start(), m.end()))
        else:
            names.add(name)
            open_tags.append(m)
    cut.sort()
    out: list[str] = []
    pos = 0
    for a, b in cut:
        out.append(s[pos:a])
        pos = b
    out.append(s[pos:])
    return "".join(out), frozenset(names)


def markdown_sanitizer(text: str) -> str:
    """Plain text of a Markdown fragment: emphasis, links and paired HTML tags removed,
    entities decoded (used to count a hint's parts)."""
    text, names = _drop_paired_tags(text)
    # the desugared tags get a suffix no tag of the text has, so they pair only together
    mark = "\0" * (max((len(n) for n in names), default=0) + 1)

    def rename(m: re.Match[str]) -> str:
        name = m[1]
        return f"<{name[:-1]}{mark}/>" if name.endswith("/") else f"<{name}{mark}>"

    for pattern, replacement in _DESUGAR:
        text = pattern.sub(_TAG.sub(rename, replacement), text)
    text, _ = _drop_paired_tags(text)
    return html.unescape(text)


# --- building codes -----------------------------------------------------------------------


def seq_to_code(seq: Iterable[str], /, *, index: int = 1, prefix: str = "", suffix: str = "",
                escape: bool = False) -> TextCode:
    parts = [prefix]
    for k, s in enumerate(seq):
        parts.append(f"{{{Tag.TEXT}:{chr(10) if k else ''}{index + k}. }}")
        parts.append(TextCode.escape(s, block=True) if escape else s)
    parts.append(suffix)
    return TextCode.compile("".join(parts))


def map_to_code(map: Mapping[str, str], /, *, name: str = "",
                token: tuple[str, str] = CONFIG.cloze_token, name_cloze: bool = False,
                key_cloze: bool = False, value_cloze: bool = True) -> TextCode:
    tok = (TextCode.escape(token[0]), TextCode.escape(token[1]))
    none = ("", "")
    name_tok, key_tok, value_tok = (tok if name_cloze else none, tok if key_cloze else none,
                                    tok if value_cloze else none)
    parts: list[str] = []
    newline = ""
    if name:  # the name, then a blank line before the items
        parts.append(name_tok[0] + name + name_tok[1] + "\n")
        newline = "\n"
    for key, value in map.items():
        parts.append(f"{newline}- {key_tok[0]}{key}{key_tok[1]}: "
                     f"{value_tok[0]}{value}{value_tok[1]}")
        newline = "\n"
    return TextCode.compile("".join(parts))


def maps_to_code(maps: Mapping[str, Mapping[str, str]], /, *,
                 sep_tag: str = Tag.CLOZE_SEPARATOR, **kwargs: Any) -> TextCode:
    sep = "{" + TextCode.escape(sep_tag) + ":}"
    return TextCode.compile(sep.join(str(map_to_code(v, name=k, **kwargs))
                                     for k, v in maps.items()))


def two_columns_to_code(rows: Iterable[Any], /, *, left: Callable[[Any], str],
                        right: Callable[[Any], str]) -> TextCode:
    items = chain.from_iterable((left(row), right(row)) for row in rows)
    return TextCode.compile("{}".join(item if item else "{:}" for item in items))


def _wcswidth(s: str) -> int:
    """Terminal columns of ``s`` (-1 when it has a control character), like wcwidth's
    ``wcswidth``: East Asian wide and full-width characters take 2, combining marks and
    format characters 0."""
    width = 0
    for c in s:
        o = ord(c)
        if o < 32 or 0x7F <= o < 0xA0:
            return -1
        if o == 0 or unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
            continue
        if 0x1160 <= o <= 0x11FF or o == 0x200B:  # Hangul medial vowels, zero width space
            continue
        width += 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
    return width


def _display_len(s: str, use_compiled: bool, use_visible: bool) -> int:
    if use_compiled:
        with contextlib.suppress(ValueError):
            s = code_to_str(TextCode.compile(s))
    if not use_visible:
        return len(s)
    s = unicodedata.normalize("NFC", s)
    try:
        from wcwidth import wcswidth  # type: ignore[import-not-found,unused-ignore,import-untyped]
    except ImportError:
        wcswidth = _wcswidth
    width = wcswidth(s)
    return int(width) if width >= 0 else len(s)


def rows_to_table(rows: Iterable[Any], /, *, names: Iterable[str | tuple[str, str]],
                  values: Callable[[Any], Iterable[Any]], escape: bool = True,
                  use_compiled_len: bool = False, use_visible_len: bool = False) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|") if escape else s

    def measure(s: str) -> int:
        return _display_len(s, use_compiled_len, use_visible_len)

    headers: list[tuple[str, str, int]] = []
    for name in names:
        title, align = (str(name), "default") if isinstance(name, str) else (str(name[0]),
                                                                               name[1])
        title = esc(title)
        headers.append((title, align, measure(title)))
    table: list[list[tuple[str, int]]] = []
    for row in rows:
        cells = [esc(str(c)) for c in values(row)]
        table.append([(c, measure(c)) for c in cells])
    widths = [max(3, hw, *(r[i][1] if i < len(r) else 0 for r in table))
              for i, (_, _, hw) in enumerate(headers)]

    def pad(s: str, width: int, target: int) -> str:
        return s if width >= target else s + " " * (target - width)

    def rule(align: str, w: int) -> str:
        if align == "left":
            return ":" + "-" * (w - 1)
        if align == "right":
            return "-" * (w - 1) + ":"
        if align == "center":
            return ":" + "-" * (w - 2) + ":"
        return "-" * w

    lines = ["| " + " | ".join(pad(t, hw, w) for (t, _, hw), w in zip(headers, widths,
                                                                    strict=False)) + " |",
             "| " + " | ".join(rule(a, w) for (_, a, _), w in zip(headers, widths,
                                                                 strict=False)) + " |"]
    for r in table:
        lines.append("| " + " | ".join(pad(*(r[i] if i < len(r) else ("", 0)), w)
                                       for i, w in enumerate(widths)) + " |")
    return "\n".join(lines)


__all__ = [
    "Tag", "TextCode", "affix_code", "attach_flashcard_states", "cloze_text", "cloze_texts",
    "code_to_str", "code_to_strs", "listify_flashcards", "map_to_code", "maps_to_code",
    "markdown_sanitizer", "memorize", "memorize_indexed_seq", "memorize_indexed_seq0",
    "memorize_linked_seq", "memorize_linked_seq0", "memorize_two_sided",
    "memorize_two_sided0", "punctuation_hinter", "quote", "quote_text", "quotette",
    "rows_to_table", "semantics_seq_map", "semantics_seq_map0", "separate_code_by_tag",
    "seq_to_code", "tagged_filter_sep", "text", "two_columns_to_code",
]

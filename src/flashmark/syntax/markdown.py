"""The Markdown front end the reviewer and the exporter share.

* :func:`markdown_parser`: one markdown-it configuration for both (CommonMark, raw HTML
  allowed, a single newline is a line break as in Obsidian, tables, strikethrough,
  footnotes); the reviewer adds ``$``/``$$`` math and cloze marks (the exporter puts math
  and clozes aside before markdown-it, for speed).
* Cloze marks: the text of a deletion is put between :data:`CLOZE_OPEN` and
  :data:`CLOZE_CLOSE` and a core rule turns them into ``cloze_open``/``cloze_close``
  tokens. Emphasis markers inserted into the source instead (``**[...]**s``) are not
  emphasis when a letter follows them. A mark is a private-use character between two
  punctuation characters (``⸨``, ``⸩``): next to a mark ``__bold__`` opens and closes
  as it does next to the braces of ``{@{…}@}``.
* :func:`strip_line_markers`: a single-line card's side without the bullet, quote marker
  or heading marks its line starts with (they place the card in the note).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

__all__ = ["CLOZE_CLOSE", "CLOZE_OPEN", "MARK_CHARS", "WIKI_EMBED", "markdown_parser",
           "split_cloze_marks", "strip_line_markers"]

CLOZE_OPEN = "\u2e28\ue020\u2e29"
CLOZE_CLOSE = "\u2e28\ue021\u2e29"
MARK_CHARS = re.compile("[\ue020\ue021\ue022]")  # removed from card text before marking
# The title of the Markdown image an `![[x.png|200]]` embed becomes for the reviewer:
# this mark, then the width asked for (pixels, maybe empty).
WIKI_EMBED = "\ue022embed:"
_MARK = re.compile(f"({CLOZE_OPEN}|{CLOZE_CLOSE})")

_LEAD = re.compile(r"^(?:[ \t]*(?:>[ \t]?|[-*+][ \t]+(?:\[.\][ \t]+)?|\d{1,9}[.)][ \t]+"
                   r"|#{1,6}[ \t]+))+")


def strip_line_markers(side: str) -> str:
    """A single-line card's side without the list bullet, quote marker, heading marks or
    task box its line starts with: they place the card in the note, they are not its
    text."""
    m = _LEAD.match(side)
    return side[m.end():] if m else side


def markdown_parser(*, full: bool = True, math: bool = False, clozes: bool = False) -> MarkdownIt:
    """The shared markdown-it configuration. ``full``: strikethrough and footnotes;
    ``math``: ``$…$`` (not ``$5 and $10``) and ``$$…$$`` tokens; ``clozes``: cloze
    marks as tokens."""
    md = MarkdownIt("commonmark", {"html": True, "breaks": True})
    md.enable("table")
    if full:
        md.enable("strikethrough")
        md.use(footnote_plugin)
    if math:
        md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False,
               double_inline=True)
        rule = _rule(md, "math_inline")
        md.inline.ruler.at("math_inline", _digit_before_start_fixed(rule))
    if clozes:
        md.core.ruler.push("flashmark_cloze", _cloze_rule)
    return md


InlineRule = Callable[[StateInline, bool], bool]


def _rule(md: MarkdownIt, name: str) -> InlineRule:
    for rule in md.inline.ruler.__rules__:
        if rule.name == name:
            return rule.fn
    raise LookupError(name)


def _digit_before_start_fixed(rule: InlineRule) -> InlineRule:
    """dollarmath's "no digit before the opening `$`" reads ``src[pos - 1]``, which at
    position 0 is the *last* character: `$\\gamma$ and … ^ref-note-2` was no math. The
    rule sees a text with a space after it there (a space adds no `$`)."""
    def rule_at_start(state: StateInline, silent: bool) -> bool:
        src = state.src
        if state.pos != 0 or not src[-1:].isdigit():
            return rule(state, silent)
        state.src = src + " "
        try:
            return rule(state, silent)
        finally:
            state.src = src
    return rule_at_start


def split_cloze_marks(text: str) -> list[str]:
    """``text`` split at cloze marks, each mark a piece of its own."""
    return [p for p in _MARK.split(text) if p]


def _cloze_rule(state: StateCore) -> None:
    """Text tokens holding cloze marks -> text, ``cloze_open``, ``cloze_close`` tokens.
    Marks inside code spans and math stay in their token (its renderer shows them)."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        if not any(t.type == "text" and "\u2e28" in t.content for t in block.children):
            continue
        block.children = list(_split_children(block.children))


def _split_children(children: Sequence[Token]) -> list[Token]:
    out: list[Token] = []
    for token in children:
        if token.type != "text" or (CLOZE_OPEN not in token.content
                                     and CLOZE_CLOSE not in token.content):
            out.append(token)
            continue
        for piece in split_cloze_marks(token.content):
            if piece == CLOZE_OPEN:
                out.append(Token("cloze_open", "mark", 1))
            elif piece == CLOZE_CLOSE:
                out.append(Token("cloze_close", "mark", -1))
            else:
                text = Token("text", "", 0)
                text.content = piece
                out.append(text)
    return out

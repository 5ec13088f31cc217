"""Card text -> the Markdown the reviewer draws (UI-free: plain strings in and out).

* SR comments, other HTML comments (pytextgen's section markers and headers), and block
  ids (`^id` at a line end) are removed; a tag at the very start of the card is dropped;
  a single-line card's side loses the bullet or quote marker its line starts with.
* Obsidian syntax: `[[note|alias]]` shows its alias (or the note name); an image embed
  `![[x.png|200]]` becomes a Markdown image (the width in its title, for card_view),
  another embed `[embed: note]`; a callout head `> [!note] Title` becomes a bold
  `> **Note:** Title` paragraph of its own.
* Cloze cards: the asked deletions as `[...]`/`[hint]` on the front and the answers on
  the back, between the cloze marks of `flashmark.syntax.markdown` (tokens once
  parsed); the other deletions shown as they are.

Math, HTML tags and the rest are left to the token renderer (`review.card_view`).
"""

from __future__ import annotations

import posixpath
import re
import textwrap

from flashmark.cards import Card
from flashmark.model import Question, QuestionType
from flashmark.syntax.blocks import (
    FenceTracker,
    frontmatter_end,
    lines_outside_fences,
    split_lines,
)
from flashmark.syntax.markdown import (
    CLOZE_CLOSE,
    CLOZE_OPEN,
    MARK_CHARS,
    WIKI_EMBED,
    strip_line_markers,
)
from flashmark.vault.media import is_image_name

_COMMENT = re.compile(r"<!--.*?-->", re.S)
# `text ^id` or `<a id="^id"></a>^id` at a line end (as the exporter drops them)
_BLOCK_ID = re.compile(r"(?:[ \t]+|(?<=>))\^[A-Za-z0-9-]+[ \t]*$", re.M)
_LEADING_TAGS = re.compile(r"^(\s*(?:[-*+]\s+)?)(?:#[^\s#]+\s+)+")
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
_EMBED = re.compile(r"!\[\[([^\]|#]+)(?:#[^\]|]*)?(?:\|([^\]]*))?\]\]")
_EMBED_SIZE = re.compile(r"(\d+)(?:x\d+)?")  # `![[x.png|200]]`, `![[x.png|200x100]]`
_ALT_UNSAFE = re.compile(r"[\[\]\\`*_]")
_WIKILINK = re.compile(r"\[\[([^\]|]+)(?:\|([^\]]+))?\]\]")
_CALLOUT = re.compile(r"^(\s*(?:>\s*)+)\[!([A-Za-z-]+)\][+-]?[ \t]*(.*)$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_PRIVATE = MARK_CHARS
_SINGLE_LINE = (QuestionType.ONE_SIDED, QuestionType.REVERSIBLE)


def heading_trail(text: str, line: int) -> list[str]:
    """The headings above 0-based ``line`` (outermost first), ignoring frontmatter and
    fenced code: the card's place in its note."""
    lines = split_lines(text.removeprefix("\ufeff"))
    start = frontmatter_end(lines) + 1
    trail: list[tuple[int, str]] = []
    for raw in lines_outside_fences(lines[start:min(line, len(lines))]):
        m = _HEADING.match(raw)
        if m:
            level = len(m[1])
            while trail and trail[-1][0] >= level:
                trail.pop()
            title = _plain_inline(m[2])
            if title:
                trail.append((level, title))
    return [t for _, t in trail]


def _plain_inline(text: str) -> str:
    text = _WIKILINK.sub(lambda m: m[2] or m[1], text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return text.replace("`", "").strip()


def cloze_markdown(question: Question, sibling: int, *, revealed: bool) -> str:
    """A cloze card's text: the asked deletions blanked (front) or given (back), between
    cloze marks; every other deletion shown as its answer."""
    asked = set(question.groups[sibling])
    text = _PRIVATE.sub("", question.text)
    out: list[str] = []
    pos = 0
    for k, d in enumerate(question.deletions):
        out.append(text[pos:d.start])
        if k in asked:
            shown = d.answer if revealed else (f"[{d.hint}]" if d.hint else "[...]")
            out.append(f"{CLOZE_OPEN}{_PRIVATE.sub('', shown)}{CLOZE_CLOSE}")
        else:
            out.append(d.answer)
        pos = d.end
    out.append(text[pos:])
    return prepare("".join(out))


def card_sides(card: Card) -> tuple[str, str]:
    """(front, back) Markdown of a card. For a cloze the back is the whole text with the
    answers; for the others it is the answer side alone (shown below the front)."""
    q = card.question
    if q.type is QuestionType.CLOZE:
        return (cloze_markdown(q, card.sibling, revealed=False),
                cloze_markdown(q, card.sibling, revealed=True))
    if q.type in _SINGLE_LINE:
        return (prepare(strip_line_markers(_PRIVATE.sub("", card.front.strip()))),
                prepare(strip_line_markers(_PRIVATE.sub("", card.back.strip()))))
    return prepare(_PRIVATE.sub("", card.front)), prepare(_PRIVATE.sub("", card.back))


def prepare(text: str) -> str:
    """The reviewer's Markdown of a card side (see the module docstring)."""
    text = _COMMENT.sub("", text)
    text = _BLOCK_ID.sub("", text)
    text = _LEADING_TAGS.sub(r"\1", text, count=1)
    text = textwrap.dedent("\n".join(line.rstrip() for line in split_lines(text)))
    lines = split_lines(text)
    out: list[str] = []
    in_code = FenceTracker().feed
    for k, line in enumerate(lines):
        if in_code(line):
            out.append(line)
            continue
        m = _CALLOUT.match(line)
        if m:
            title = m[3].strip()
            label = m[2].capitalize()
            out.append(f"{m[1]}**{label}:** {_inline(title)}" if title else f"{m[1]}**{label}**")
            nxt = lines[k + 1] if k + 1 < len(lines) else ""
            if nxt.lstrip().startswith(">") and nxt.strip(" >\t"):
                out.append(m[1].rstrip())  # the title is a paragraph of its own
            continue
        out.append(_inline(line))
    return "\n".join(out).strip("\n")


def _inline(line: str) -> str:
    """Wikilinks and embeds of one line, code spans left alone."""
    if "[[" not in line:
        return line
    parts: list[str] = []
    pos = 0
    for span in _CODE_SPAN.finditer(line):
        parts.append(_links(line[pos:span.start()]))
        parts.append(span[0])
        pos = span.end()
    parts.append(_links(line[pos:]))
    return "".join(parts)


def _embed(m: re.Match[str]) -> str:
    """An image embed `![[x.png|200]]` as a Markdown image whose title carries the width
    (card_view draws it); an embedded note as `[embed: note]`."""
    target = m[1].strip()
    if not is_image_name(target) or any(c in target for c in "<>\n"):
        return f"[embed: {target}]"
    option = (m[2] or "").strip()
    size = _EMBED_SIZE.fullmatch(option)
    alt = "" if size else option
    alt = _ALT_UNSAFE.sub(lambda c: "\\" + c[0], alt or posixpath.basename(target))
    return f'![{alt}](<{target}> "{WIKI_EMBED}{size[1] if size else ""}")'


def _links(text: str) -> str:
    text = _EMBED.sub(_embed, text)
    return _WIKILINK.sub(lambda m: (m[2] or m[1].replace("#", " › ")).strip(), text)

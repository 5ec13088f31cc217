"""Card text → Markdown a terminal can show well (UI-free: plain strings in and out).

* SR comments, other HTML comments (pytextgen's section markers and headers), and block
  ids (`^id` at a line end) are removed; a tag at the very start of the card is dropped.
* Math stays LaTeX source, shown as code: `$x^2$` and `$$…$$` within a line become
  inline code; a `$$` block on lines of its own becomes a quoted paragraph of code
  spans, one per line (it wraps, where a code fence would need sideways scrolling).
* Obsidian syntax: `[[note|alias]]` shows its alias (or the note name), `![[file]]`
  becomes `[embed: file]`, a callout head `> [!note] Title` becomes `> **Note:** Title`.
* HTML the terminal cannot show: `<sub>1</sub>` / `<sup>2</sup>` become `₁` / `²` (when
  Unicode has the characters), `<br>` a space.
* Cloze cards: the asked deletions as `[...]`/`[hint]` on the front and the answers on
  the back, both in bold (plain inside code and math), the other deletions shown.
"""

from __future__ import annotations

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

# Private-use characters mark emphasis until code spans are known (see _finish).
_EM_OPEN = "\ue000"
_EM_CLOSE = "\ue001"

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BLOCK_ID = re.compile(r"[ \t]+\^[A-Za-z0-9-]+[ \t]*$", re.M)
_LEADING_TAGS = re.compile(r"^(\s*(?:[-*+]\s+)?)(?:#[^\s#]+\s+)+")
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
_DISPLAY_INLINE = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$")
# Pandoc/Obsidian rule: no space after the opening $, none before the closing $, and
# the closing $ not followed by a digit ("$5 and $10" is not math).
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?=[^\s$])(.+?)(?<=[^\s\\$])\$(?![\d$])")
_MATH_BLOCK_LINE = re.compile(r"^(\s*(?:>\s*)*)\$\$(.*)$")
_EMBED = re.compile(r"!\[\[([^\]|#]+)(?:#[^\]|]*)?(?:\|[^\]]*)?\]\]")
_WIKILINK = re.compile(r"\[\[([^\]|]+)(?:\|([^\]]+))?\]\]")
_CALLOUT = re.compile(r"^(\s*(?:>\s*)+)\[!([A-Za-z-]+)\][+-]?[ \t]*(.*)$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_SUB_SUP = re.compile(r"<(sub|sup)>([^<>]*)</\1>", re.I)
_BR = re.compile(r"<br\s*/?>", re.I)
_SUB = str.maketrans("0123456789+-=()aeoxhklmnpst", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜ")
_SUP = str.maketrans("0123456789+-=()in", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿ")


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
    """A cloze card's text: the asked deletions blanked (front) or given (back), in
    bold; every other deletion shown as its answer."""
    asked = set(question.groups[sibling])
    text = question.text
    out: list[str] = []
    pos = 0
    for k, d in enumerate(question.deletions):
        out.append(text[pos:d.start])
        if k in asked:
            shown = d.answer if revealed else (f"[{d.hint}]" if d.hint else "[...]")
            out.append(f"{_EM_OPEN}{shown}{_EM_CLOSE}")
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
    return prepare(card.front), prepare(card.back)


def prepare(text: str) -> str:
    """Markdown for the terminal from a card side (see the module docstring)."""
    text = _COMMENT.sub("", text)
    text = _BLOCK_ID.sub("", text)
    text = _LEADING_TAGS.sub(r"\1", text, count=1)
    text = textwrap.dedent("\n".join(line.rstrip() for line in split_lines(text)))
    lines = split_lines(text)
    out: list[str] = []
    in_code = FenceTracker().feed
    k = 0
    while k < len(lines):
        line = lines[k]
        if in_code(line):
            out.append(line)
            k += 1
            continue
        mb = _MATH_BLOCK_LINE.match(line)
        if mb and ("$$" not in mb[2] or _closes_alone(mb[2])):
            k = _math_block(lines, k, mb[1], out)
            continue
        out.append(_inline(line))
        k += 1
    return _finish("\n".join(out).strip("\n"))


def _closes_alone(rest: str) -> bool:
    """`$$ x $$` on a line of its own (after any quote prefix)."""
    rest = rest.rstrip()
    return rest.endswith("$$") and "$$" not in rest[:-2]


def _math_block(lines: list[str], k: int, prefix: str, out: list[str]) -> int:
    """Turn a `$$` block starting at line k into a latex fence; return the next line."""
    first = lines[k][len(prefix) + 2:] if lines[k].startswith(prefix) else ""
    body: list[str] = []
    if first.rstrip().endswith("$$") and first.strip() != "":
        body.append(first.rstrip()[:-2].strip())
        end = k + 1
    else:
        if first.strip():
            body.append(first.strip())
        end = k + 1
        closed = False
        while end < len(lines):
            line = lines[end]
            inner = line[len(prefix):] if line.startswith(prefix) else line.lstrip("> ")
            end += 1
            stripped = inner.rstrip()
            if stripped.endswith("$$"):
                if stripped[:-2].strip():
                    body.append(stripped[:-2].strip())
                closed = True
                break
            body.append(inner)
        if not closed:  # an unclosed $$: leave the text as it is
            out.extend(_inline(line) for line in lines[k:end])
            return end
    # A quoted paragraph of code spans, one per line: set apart, and it wraps (a fence
    # would need scrolling sideways).
    lines_out = [_code(b) for b in body if b.strip()]
    if out and out[-1].strip(" >"):
        out.append(prefix.rstrip())
    for n, code in enumerate(lines_out):
        out.append(f"{prefix}> {code}" + ("  " if n < len(lines_out) - 1 else ""))
    if end < len(lines):
        out.append(prefix.rstrip())  # a line after it must not continue the quote
    return end


def _code(source: str) -> str:
    source = source.strip().replace(_EM_OPEN, "").replace(_EM_CLOSE, "")
    ticks = "``" if "`" in source else "`"
    pad = " " if source.startswith("`") or source.endswith("`") else ""
    return f"{ticks}{pad}{source}{pad}{ticks}"


def _inline(line: str) -> str:
    """Math, links and callouts of one line, code spans left alone."""
    m = _CALLOUT.match(line)
    if m:
        title = m[3].strip()
        label = m[2].capitalize()
        line = f"{m[1]}**{label}:** {title}" if title else f"{m[1]}**{label}**"
    parts: list[str] = []
    pos = 0
    for span in _CODE_SPAN.finditer(line):
        parts.append(_inline_text(line[pos:span.start()]))
        parts.append(span[0])
        pos = span.end()
    parts.append(_inline_text(line[pos:]))
    return "".join(parts)


def _sub_sup(m: re.Match[str]) -> str:
    """`<sub>2</sub>` → `₂`, `<sup>n</sup>` → `ⁿ` when Unicode has every character (else
    left as it is: the tags are not shown, the text is). Empty HTML comments around the
    result keep `_N_₁` emphasis working, as the tags did (they count as punctuation)."""
    table = _SUB if m[1].lower() == "sub" else _SUP
    shown = m[2].translate(table)
    if not m[2] or any(c == o and not c.isspace() for c, o in zip(shown, m[2], strict=True)):
        return m[0]
    return f"<!---->{shown}<!---->"


def _inline_text(text: str) -> str:
    text = _SUB_SUP.sub(_sub_sup, text)
    text = _BR.sub(" ", text)
    text = _DISPLAY_INLINE.sub(lambda m: _code(m[1]), text)
    text = _INLINE_MATH.sub(lambda m: _code(m[1]), text)
    text = _EMBED.sub(lambda m: f"[embed: {m[1].strip()}]", text)
    return _WIKILINK.sub(lambda m: (m[2] or m[1].replace("#", " › ")).strip(), text)


def _finish(text: str) -> str:
    """Cloze emphasis marks become `**` outside code, nothing inside it."""
    if _EM_OPEN not in text:
        return text
    lines = text.split("\n")
    in_code = FenceTracker().feed
    for k, line in enumerate(lines):
        if in_code(line):
            lines[k] = line.replace(_EM_OPEN, "").replace(_EM_CLOSE, "")
            continue
        parts: list[str] = []
        pos = 0
        for span in _CODE_SPAN.finditer(line):
            parts.append(line[pos:span.start()].replace(_EM_OPEN, "**").replace(_EM_CLOSE, "**"))
            parts.append(span[0].replace(_EM_OPEN, "").replace(_EM_CLOSE, ""))
            pos = span.end()
        parts.append(line[pos:].replace(_EM_OPEN, "**").replace(_EM_CLOSE, "**"))
        lines[k] = "".join(parts)
    return "\n".join(lines)

"""Markdown as Obsidian writes it -> HTML that Anki shows.

One :class:`Renderer` (one ``MarkdownIt`` instance: CommonMark + tables, strikethrough,
footnotes; raw HTML allowed; a single newline is a line break, as in Obsidian) renders
every card. Before markdown-it sees a text, one left-to-right pass replaces what
markdown-it must not touch, does not know, or is slow at by a placeholder, and keeps
the HTML it stands for:

- fenced code -> ``<pre><code>``, inline code -> ``<code>`` (their text is only escaped);
- ``$$...$$`` -> ``\\[...\\]`` and ``$...$`` -> ``\\(...\\)``, Anki's MathJax delimiters (to
  markdown-it ``\\(`` is an escaped parenthesis and ``_`` is emphasis);
- links ``[text](url)`` -> ``<a>`` (links to notes open them in Obsidian), images
  ``![alt](x.png)`` and raw ``<img src>`` -> a packaged image, or its name as text when
  it cannot be found;
- wikilinks ``[[note#head|alias]]`` -> a link to the note in Obsidian; embeds
  ``![[img.png|300]]`` -> ``<img>`` (embedded notes -> a link);
- highlights ``==x==`` -> ``<mark>``; callout headers ``> [!tip] Title`` -> a bold title
  in the quote;
- backslash escapes and raw inline HTML tags -> themselves (as markdown-it renders them);
- HTML comments (SR comments, pytextgen section markers), ``%%comments%%`` and block ids
  ``^id`` -> nothing.

A placeholder is ``⸨`` + private-use characters + ``⸩``: punctuation on the outside, so
``_emphasis_`` next to one behaves as it does next to the construct it replaced.
What is left for markdown-it is blocks, emphasis, tables and footnotes; that halves the
time it takes on the real vault.

Clozes: :meth:`Renderer.cloze` marks each deletion with placeholders before the pass, so
a deletion keeps its Markdown, math and code; after rendering the marks become
``{{cN::answer::hint}}``, made safe for Anki's cloze parser (no ``}}``, no ``::``, no
trailing ``}`` inside a deletion).
"""

from __future__ import annotations

import functools
import html
import posixpath
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from markdown_it import MarkdownIt

from flashmark.model import Question
from flashmark.syntax.blocks import CLOSING, FENCE_RUN, LEFT, fence_opening
from flashmark.syntax.markdown import markdown_parser, strip_line_markers
from flashmark.vault.media import IMAGE_EXTS

__all__ = ["ImageResolver", "NoteContext", "Renderer", "footnote_definitions", "obsidian_url",
           "strip_line_markers"]

# --- placeholders -----------------------------------------------------------------------

_L, _R = "\u2e28", "\u2e29"  # ⸨ ⸩: Unicode punctuation, not Markdown syntax
_ITEM, _CZ_OPEN, _CZ_HINT, _CZ_CLOSE = "\ue000", "\ue002", "\ue004", "\ue005"
_DIGITS = "".join(chr(0xE010 + k) for k in range(16))  # private-use hex digits
_TO_DIGITS = str.maketrans("0123456789abcdef", _DIGITS)
_FROM_DIGITS = str.maketrans(_DIGITS, "0123456789abcdef")
_PRIVATE = re.compile("[\ue000-\ue01f]")  # removed from input: no text can fake a mark
CZ_HINT = f"{_L}{_CZ_HINT}{_R}"
CZ_CLOSE = f"{_L}{_CZ_CLOSE}{_R}"


def _number(n: int) -> str:
    return format(n, "x").translate(_TO_DIGITS)


# Placeholders for the first items of a text, made once: a text rarely has more.
_PRESET = 4096
_PH_TEXT = [f"{_L}{_ITEM}{_number(n)}{_R}" for n in range(_PRESET)]
_PH_INDEX = {_number(n): n for n in range(_PRESET)}


def _index(digits: str) -> int:
    n = _PH_INDEX.get(digits)
    return int(digits.translate(_FROM_DIGITS), 16) if n is None else n


def _cz_open(n: int) -> str:
    return _CZ_OPEN_TEXT[n] if n < len(_CZ_OPEN_TEXT) else f"{_L}{_CZ_OPEN}{_number(n)}{_R}"


_CZ_OPEN_TEXT = [f"{_L}{_CZ_OPEN}{_number(n)}{_R}" for n in range(256)]


_PH = re.compile(f"{_L}{_ITEM}([{_DIGITS}]+){_R}")
_PH_BLOCK = re.compile(f"<p>{_L}{_ITEM}([{_DIGITS}]+){_R}</p>")
_CLOZE = re.compile(f"{_L}{_CZ_OPEN}([{_DIGITS}]+){_R}(.*?)"
                    f"(?:{_L}{_CZ_HINT}{_R}(.*?))?{_L}{_CZ_CLOSE}{_R}", re.S)


# (packaged name, None), or (None, a problem to report) when the image cannot be used.
ImageResolver = Callable[[str, "NoteContext"], tuple[str | None, str | None]]


@functools.lru_cache(maxsize=8192)
def obsidian_url(vault: str, file: str) -> str:
    """``obsidian://open?vault=...&file=...`` (not HTML-escaped)."""
    return f"obsidian://open?vault={quote(vault, safe='')}&file={quote(file, safe='')}"


@dataclass(slots=True)
class NoteContext:
    """What rendering one note's cards needs to know about the note, and what it found."""

    rel: str  # vault-relative path of the note
    vault: str  # the vault's name (for obsidian:// links)
    footnotes: dict[str, str] = field(default_factory=dict)  # id -> definition source
    media: set[str] = field(default_factory=set)  # vault paths of packaged images
    problems: list[str] = field(default_factory=list)  # e.g. images not found
    # every image reference looked up, and the vault path it resolved to (or None)
    lookups: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def folder(self) -> str:
        return posixpath.dirname(self.rel)


# --- the pre-pass -----------------------------------------------------------------------

# Every alternative starts with one literal character: the regex engine then jumps to the
# next candidate in C (alternatives starting with `^` or a class are a dozen times
# slower). The pass runs over "\n" + text, so `\n` marks line starts.
_SCAN = re.compile(
    r"\\(?P<esc>[!-/:-@\[-`{-~])"
    r"|\n(?P<fence>(?P<fprefix>[ \t>]*)(?P<fmark>" + FENCE_RUN + "))"
    r"|\n(?P<callout>(?P<cprefix>[ \t]*(?:>[ \t]?)+)\[!(?P<ctype>[^\]\n]+)\][+-]?[ \t]*)"
    r"|`(?P<code>`*)"
    r"|\$(?P<dmath>\$)"
    r"|\$(?P<imath>(?=[^\s$]))"
    r"|<(?P<comment>!--)"
    r"|<(?P<tag>/?[A-Za-z][A-Za-z0-9-]*"
    r"""(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?)*\s*/?>)"""
    r"|%(?P<ocomment>%)"
    r"|!(?P<embed>\[\[?)"
    r"|\[(?P<link>\[?)"
    r"|=(?P<mark>=(?=[^\s=]))"
    r"|\^(?P<blockid>[A-Za-z0-9-]+[ \t]*(?=\n|$))")
# After "[": link text (one level of nested brackets), "](", destination, optional title.
_LINK_TAIL = re.compile(
    r"(?P<text>(?:\\.|[^\[\]\\\n]|\[(?:\\.|[^\[\]\\\n])*\])*)\]"
    r"\((?P<url><[^<>\n]*>|(?:\\.|[^\s()\\]|\((?:\\.|[^\s()\\])*\))*)"
    r"""(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*\)""")
_IMATH_END = re.compile(r"(?<![\s\\])\$(?!\d)")
_BLANK_LINE = re.compile(r"\n[ \t>]*\n")
_MARK_END = re.compile(r"(?<=[^\s=])==")
_LINE_PREFIX = re.compile(r"[ \t]*(?:>[ \t]?)*")
_WIKI_SIZE = re.compile(r"(\d+)(?:x(\d+))?")
_BACKSLASH_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_SRC = re.compile(r"""\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_HREF_ATTR = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")

# Escaped characters that mean nothing to Markdown anywhere once links are taken out:
# written as the character itself (markdown-it would print the same).
_INERT = frozenset("()'\",;/?@%{}$:")


# Escaping with str.replace: str.translate with a table of strings costs ten times as
# much (a dictionary lookup per character), and it runs on most texts of an export.
def _escape(text: str, quote: bool = True) -> str:
    """``&``, ``<``, ``>`` (and ``"`` with ``quote``) as entities, like markdown-it's
    escapeHtml."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if quote and '"' in text:
        text = text.replace('"', "&quot;")
    return text


def _tex(content: str) -> str:
    """Math for MathJax inside HTML: ``&``, ``<`` and ``>`` as entities."""
    return _escape(content, quote=False)


def _destination(url: str) -> str:
    if url.startswith("<"):
        return url[1:-1]
    return _BACKSLASH_ESCAPE.sub(r"\1", url) if "\\" in url else url


def _prefix_len(line: str) -> int:
    m = _LINE_PREFIX.match(line)
    return m.end() if m else 0


def _strip_continuations(content: str) -> str:
    """Multi-line math or code inside a quote or list: drop the quote markers and
    indentation that Markdown puts in front of every continuation line."""
    if "\n" not in content:
        return content
    first, *rest = content.split("\n")
    return "\n".join([first, *(line[_prefix_len(line):] for line in rest)])


class _Pass:
    """One pre-pass over a text: the output pieces and the placeholder items."""

    __slots__ = ("blocks", "ctx", "items", "out", "renderer", "text")

    def __init__(self, text: str, ctx: NoteContext, renderer: Renderer) -> None:
        self.text = "\n" + text
        self.ctx = ctx
        self.renderer = renderer
        self.out: list[str] = []
        self.items: list[str] = []
        self.blocks: set[int] = set()

    def source(self) -> str:
        """The text for markdown-it (without the leading newline the pass added)."""
        self.run(0, len(self.text))
        return "".join(self.out)[1:]

    def put(self, item: str, block: bool = False) -> None:
        n = len(self.items)
        self.items.append(item)
        if block:
            self.blocks.add(n)
        self.out.append(_PH_TEXT[n] if n < _PRESET else f"{_L}{_ITEM}{_number(n)}{_R}")

    def run(self, start: int, end: int) -> None:
        text = self.text
        out = self.out
        pos = start
        search = _SCAN.search
        while pos < end:
            m = search(text, pos, end)
            if m is None:
                break
            out.append(text[pos:m.start()])
            pos = getattr(self, "_" + (m.lastgroup or "esc"))(m, end)
        out.append(text[pos:end])

    def _line_start(self, pos: int) -> bool:
        """Only indentation and quote markers stand between ``pos`` and its line start."""
        nl = self.text.rfind("\n", 0, pos)
        return _prefix_len(self.text[nl + 1:pos]) == pos - nl - 1

    # Each handler writes what the match becomes and returns where scanning goes on.

    def _esc(self, m: re.Match[str], end: int) -> int:
        char = m["esc"]
        if char in _INERT:
            self.out.append(_escape(char))
        else:
            self.put(_escape(char))
        return m.end()

    def _fence(self, m: re.Match[str], end: int) -> int:
        text = self.text
        prefix = m["fprefix"]
        line_end = text.find("\n", m.end(), end)
        if line_end < 0:
            line_end = end
        fence = fence_opening(text[m.start() + 1:line_end])
        if fence is None:  # a backtick run with a backtick after it: inline code
            self.out.append("\n" + prefix)
            return self._code_run(m.start("fmark"), m.end("fmark"), end)
        info = text[m.end():line_end].strip()
        body: list[str] = []
        pos = line_end + 1
        close_end = end
        fence_end = fence.end
        while pos < end:
            nl = text.find("\n", pos, end)
            line = text[pos:nl if nl >= 0 else end]
            state = fence_end(line)
            if state == CLOSING:
                close_end = nl if nl >= 0 else end
                break
            if state == LEFT:  # the fence's quote ended: this line is not code
                close_end = pos - 1
                break
            body.append(line[len(prefix):] if line.startswith(prefix) else line.lstrip(" \t"))
            pos = (nl + 1) if nl >= 0 else end
        lang = info.split(None, 1)[0] if info else ""
        cls = f' class="language-{html.escape(lang)}"' if lang else ""
        code = html.escape("\n".join(body) + ("\n" if body else ""), quote=False)
        head = prefix.rstrip()
        if m.start() > 0 and not "".join(self.out[-2:]).endswith(("\n\n", "\n>")):
            self.out.append("\n" + head)  # a fence interrupts a paragraph: end it
        self.out.append("\n" + prefix)
        self.put(f"<pre><code{cls}>{code}</code></pre>", block=True)
        if close_end < end:
            self.out.append("\n" + head)
        return close_end

    def _callout(self, m: re.Match[str], end: int) -> int:
        kind = m["ctype"].strip()
        line_end = self.text.find("\n", m.end(), end)
        if line_end < 0:
            line_end = end
        self.out.append("\n" + m["cprefix"])
        css = re.sub(r"[^a-z0-9-]", "", kind.lower())
        self.put(f'<b class="fm-callout fm-callout-{css}">')
        if self.text[m.end():line_end].strip():
            self.run(m.end(), line_end)
        else:
            self.out.append(html.escape(kind[:1].upper() + kind[1:], quote=False))
        self.put("</b>")
        return line_end

    def _code(self, m: re.Match[str], end: int) -> int:
        return self._code_run(m.start(), m.end(), end)

    def _code_run(self, start: int, stop: int, end: int) -> int:
        text = self.text
        size = stop - start
        pos = stop
        while True:
            close = text.find("`" * size, pos, end)
            if close < 0:
                self.out.append(text[start:stop])
                return stop
            run_end = close + size
            while run_end < end and text[run_end] == "`":
                run_end += 1
            if run_end - close == size:
                break
            pos = run_end
        content = text[stop:close].replace("\n", " ")
        if len(content) > 2 and content[0] == " " and content[-1] == " " and content.strip():
            content = content[1:-1]
        self.put(f"<code>{_escape(content)}</code>")
        return run_end

    def _dmath(self, m: re.Match[str], end: int) -> int:
        close = self.text.find("$$", m.end(), end)
        if close < 0:
            self.out.append("$$")
            return m.end()
        content = _strip_continuations(self.text[m.end():close]).strip()
        self.put(f"\\[{_tex(content)}\\]")
        return close + 2

    def _imath(self, m: re.Match[str], end: int) -> int:
        text = self.text
        close = _IMATH_END.search(text, m.end(), end)
        if close is None or _BLANK_LINE.search(text, m.end(), close.start()):
            self.out.append("$")
            return m.end()
        self.put(f"\\({_tex(_strip_continuations(text[m.end():close.start()]))}\\)")
        return close.end()

    def _comment(self, m: re.Match[str], end: int) -> int:
        close = self.text.find("-->", m.end(), end)
        return end if close < 0 else close + 3

    def _tag(self, m: re.Match[str], end: int) -> int:
        tag = m[0]
        lower = tag[:4].lower()
        if lower == "<img":
            self.put(self.renderer.raw_image(tag, self.ctx))
        elif self._line_start(m.start()):
            # At a line start a tag may open an HTML block: markdown-it decides.
            self.out.append(self.renderer.raw_link(tag, self.ctx) if lower[:3] == "<a "
                            else tag)
        elif lower[:3] == "<a " or lower == "<a\t" or lower == "<a\n":
            self.put(self.renderer.raw_link(tag, self.ctx))
        else:
            self.put(tag)
        return m.end()

    def _ocomment(self, m: re.Match[str], end: int) -> int:
        close = self.text.find("%%", m.end(), end)
        return end if close < 0 else close + 2

    def _blockid(self, m: re.Match[str], end: int) -> int:
        if m.start() > 0 and self.text[m.start() - 1] in " \t":
            return m.end()
        self.out.append("^")
        return m.start() + 1

    def _mark(self, m: re.Match[str], end: int) -> int:
        line_end = self.text.find("\n", m.end(), end)
        close = _MARK_END.search(self.text, m.end(), end if line_end < 0 else line_end)
        if close is None:
            self.out.append("==")
            return m.end()
        self.put("<mark>")
        self.run(m.end(), close.start())
        self.put("</mark>")
        return close.end()

    def _embed(self, m: re.Match[str], end: int) -> int:
        if m["embed"] == "[[":
            return self._wiki(m, end, embed=True)
        tail = _LINK_TAIL.match(self.text, m.end(), end)
        if tail is None:
            self.out.append("!")
            return m.start() + 1
        src = _destination(tail["url"])
        alt = tail["text"]
        if "\\" in alt:
            alt = _BACKSLASH_ESCAPE.sub(r"\1", alt)
        self.put(self.renderer.image(src, alt, self.ctx, encoded=True))
        return tail.end()

    def _link(self, m: re.Match[str], end: int) -> int:
        if m["link"] == "[":
            return self._wiki(m, end, embed=False)
        tail = _LINK_TAIL.match(self.text, m.end(), end)
        if tail is None:
            self.out.append("[")
            return m.end()
        href = _destination(tail["url"])
        self.put(f'<a href="{html.escape(self.renderer.href(href, self.ctx))}">')
        self.run(tail.start("text"), tail.end("text"))
        self.put("</a>")
        return tail.end()

    def _wiki(self, m: re.Match[str], end: int, *, embed: bool) -> int:
        text = self.text
        line_end = text.find("\n", m.end(), end)
        close = text.find("]]", m.end(), end if line_end < 0 else line_end)
        if close < 0:
            self.out.append(m[0])
            return m.end()
        inner = text[m.end():close]
        target, _, alias = inner.partition("|")
        path, _, sub = target.partition("#")
        path = path.strip()
        ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
        if embed and ext in IMAGE_EXTS:
            size = _WIKI_SIZE.fullmatch(alias.strip())
            width = height = None
            if size is not None:
                width, height = size[1], size[2]
                alias = ""
            self.put(self.renderer.image(path, alias.strip() or posixpath.basename(path),
                                         self.ctx, encoded=False, width=width,
                                         height=height))
            return close + 2
        shown = alias.strip()
        if not shown:
            name = path[:-3] if path.lower().endswith(".md") else path
            heads = [h for h in sub.split("#") if h]
            shown = " > ".join([posixpath.basename(name)] * bool(name) + heads) or inner
        url = obsidian_url(self.ctx.vault, path or self.ctx.rel)
        self.put(f'<a class="fm-link" href="{html.escape(url)}">'
                 f'{html.escape(shown, quote=False)}</a>')
        return close + 2


# --- after rendering --------------------------------------------------------------------

# Inline Markdown that markdown-it must see; a single-line side without any of these
# renders to its own text, HTML-escaped (the same output, checked on the real vault).
_INLINE_SYNTAX = re.compile(r"[*_\[\]!<>&\\`~\r\0^]")
# markdown-it stops its text rule at these characters only (the default set also holds
# `-:+=#%@{}$`, reserved for plugins we do not use): the same HTML, a third faster.
_TERMINATORS = re.compile(r"[\n!&*<\[\\\]^_`~]")
# Block Markdown: a text with none of this and no inline syntax is only paragraphs.
_BLOCK_SYNTAX = re.compile(r"^ {0,3}(?:[-+*>#|=<\[`~]|\d{1,9}[.)])|^[ \t]{4}|^\t|\|", re.M)
_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")
_FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]+)\]")
_FOOTNOTE_DEF = re.compile(r"^\[\^([^\]\s]+)\]:[ \t]?(.*)$")
# `{{c1::` written in the note itself would start an Anki cloze: break the braces.
_ANKI_CLOZE_LIKE = re.compile(r"\{\{(c\d+::)")
_MATH_SPAN = re.compile(r"(\\\(.*?\\\)|\\\[.*?\\\])", re.S)


def _separate_braces(tex: str) -> str:
    """TeX inside a deletion: ``}}`` -> ``} }`` and ``::`` -> ``: :`` (TeX ignores the
    spaces), so Anki's cloze parser does not end the deletion or its answer early."""
    while "}}" in tex:
        tex = tex.replace("}}", "} }")
    while "::" in tex:
        tex = tex.replace("::", ": :")
    return tex


def _paragraphs(src: str) -> str:
    """What markdown-it renders for plain paragraphs (a newline is a line break)."""
    return "\n".join(
        "<p>" + "<br />\n".join(_escape(line.strip(" \t"))
                                  for line in para.split("\n")) + "</p>"
        for para in _BLANK_LINES.split(src.strip()) if para.strip())


def _safe_cloze_part(part: str) -> str:
    """Anki ends a deletion at its first ``}}`` and its answer at its first ``::``: in
    math separate the braces; elsewhere write one of the characters as an entity (the
    browser shows the same text)."""
    if "}" not in part and ":" not in part:
        return part
    pieces = _MATH_SPAN.split(part)
    for k, piece in enumerate(pieces):
        if k % 2:
            pieces[k] = _separate_braces(piece)
        else:
            while "}}" in piece:  # "}}}" leaves a pair after one pass
                piece = piece.replace("}}", "}&#125;")
            pieces[k] = piece.replace("::", ":&#58;")
    part = "".join(pieces)
    if part.endswith("}"):
        part = part[:-1] + "&#125;"
    return part


def _anki_clozes(out: str) -> str:
    """Deletion marks -> ``{{cN::answer::hint}}``: what ``_CLOZE.sub`` would do, with
    ``str.find`` (the lazy regex steps through the whole HTML one character at a time).
    The marks are ours and well formed: open, number, answer, optional hint, close."""
    open_mark = _L + _CZ_OPEN
    start = out.find(open_mark)
    if start < 0:
        return out
    pieces: list[str] = []
    done = 0
    while start >= 0:
        number_end = out.find(_R, start + 2)
        close = out.find(CZ_CLOSE, number_end + 1) if number_end >= 0 else -1
        digits = out[start + 2:number_end]
        if close < 0 or not digits or digits.strip(_DIGITS):
            break  # not a mark after all (cannot happen with our own marks)
        hint_at = out.find(CZ_HINT, number_end + 1, close)
        if hint_at < 0:
            answer, tail = out[number_end + 1:close], ""
        else:
            answer = out[number_end + 1:hint_at]
            tail = "::" + _safe_cloze_part(out[hint_at + len(CZ_HINT):close])
        pieces.append(out[done:start])
        pieces.append(f"{{{{c{_index(digits)}::{_safe_cloze_part(answer)}{tail}}}}}")
        done = close + len(CZ_CLOSE)
        start = out.find(open_mark, done)
    pieces.append(out[done:])
    return "".join(pieces)


def _tex_cloze_safe(item: str) -> str:
    """Math holding a deletion (``$x = {@{y}@}$``): make the deletion's TeX safe."""
    def fix(m: re.Match[str]) -> str:
        answer = _separate_braces(m[2])
        if answer.endswith("}"):
            answer += " "
        hint = ""
        if m[3] is not None:
            hint = CZ_HINT + _separate_braces(m[3])
            if hint.endswith("}"):
                hint += " "
        return f"{_L}{_CZ_OPEN}{m[1]}{_R}{answer}{hint}{CZ_CLOSE}"
    return _CLOZE.sub(fix, item)


def footnote_definitions(text: str) -> dict[str, str]:
    """``[^id]: text`` definitions of a note (with their indented continuation lines)."""
    if "[^" not in text:
        return {}
    defs: dict[str, str] = {}
    lines = text.splitlines()
    for k, line in enumerate(lines):
        m = _FOOTNOTE_DEF.match(line)
        if m is None:
            continue
        body = [line]
        for nxt in lines[k + 1:]:
            if nxt.startswith(("    ", "\t")) and nxt.strip():
                body.append(nxt)
            else:
                break
        defs.setdefault(m[1], "\n".join(body))
    return defs


@functools.lru_cache(maxsize=16384)
def _relative_href(vault: str, folder: str, href: str) -> str:
    if _SCHEME.match(href) or href.startswith("//"):
        return href
    path = unquote(href.split("#", 1)[0].split("?", 1)[0])
    target = posixpath.normpath(posixpath.join(folder, path)).lstrip("/")
    if target == ".." or target.startswith("../"):
        return href
    return obsidian_url(vault, target)


def _note_href(vault: str, rel: str, href: str) -> str:
    if href.startswith("#"):
        if href.startswith(("#fn", "#fnref")):
            return href  # the footnote plugin's own anchors inside the card
        return obsidian_url(vault, rel)
    return _relative_href(vault, posixpath.dirname(rel), href)


def _markdown_it(*, full: bool) -> MarkdownIt:
    md = markdown_parser(full=full)  # the reviewer's configuration too
    if hasattr(md.inline, "terminator_re"):  # markdown-it-py >= 4.1
        md.inline.terminator_re = _TERMINATORS
    return md


class Renderer:
    """Renders cards' Markdown to HTML; one instance for a whole export."""

    def __init__(self, resolve_image: ImageResolver | None = None) -> None:
        self.md = _markdown_it(full=True)
        # Without strikethrough and footnotes: their rules cost time on every text, and
        # most texts have neither ``~~`` nor ``[^``/``^[`` (the same HTML otherwise).
        self.md_plain = _markdown_it(full=False)
        self.resolve_image = resolve_image

    # -- public API

    def side(self, text: str, ctx: NoteContext, *, single_line: bool) -> str:
        """One side of a basic or reversible card."""
        if single_line:
            text = strip_line_markers(text)
        if _PRIVATE.search(text):
            text = _PRIVATE.sub("", text)
        return self._render(text, ctx, inline=single_line)

    def cloze(self, question: Question, ctx: NoteContext) -> tuple[str, list[int]]:
        """A cloze block as one Anki cloze field, and the cloze numbers (1-based) in it.

        Sibling k of the flashmark question asks the deletions of ``question.groups[k]``;
        in Anki they are all ``c{k+1}``. A deletion that no sibling asks (numbered 0) is
        shown as plain text; a number without deletion (a gap) makes no Anki card.
        """
        number_of: dict[int, int] = {}
        for sibling, group in enumerate(question.groups):
            for index in group:
                number_of.setdefault(index, sibling + 1)
        text = question.text
        dirty = _PRIVATE.search(text) is not None
        parts: list[str] = []
        pos = 0
        used: set[int] = set()
        for k, d in enumerate(question.deletions):
            parts.append(text[pos:d.start])
            n = number_of.get(k)
            if n is None:
                parts.append(d.answer)
            else:
                used.add(n)
                answer, hint = d.answer, d.hint
                if dirty:
                    answer = _PRIVATE.sub("", answer)
                    hint = None if hint is None else _PRIVATE.sub("", hint)
                parts.append(f"{_cz_open(n)}{answer}"
                             f"{'' if hint is None else CZ_HINT + hint}{CZ_CLOSE}")
            pos = d.end
        parts.append(text[pos:])
        if dirty:
            parts = [p if p.startswith(_L + _CZ_OPEN) else _PRIVATE.sub("", p) for p in parts]
        out = self._render("".join(parts), ctx, inline=False)
        if "{{c" in out:
            out = _ANKI_CLOZE_LIKE.sub(r"{&#123;\1", out)
        return _anki_clozes(out), sorted(used)

    def image(self, src: str, alt: str, ctx: NoteContext, *, encoded: bool,
              width: str | None = None, height: str | None = None) -> str:
        """``<img>`` for a reference to an image: packaged, remote, or (when it cannot be
        used) its name as text. ``encoded``: ``src`` is a URL (``%20``), not a path."""
        size = (f' width="{width}"' if width else "") + (f' height="{height}"' if height else "")
        if _SCHEME.match(src) and not src.lower().startswith("file:"):
            return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}"{size}>'
        path = unquote(src) if encoded else src
        new: str | None
        problem: str | None
        if self.resolve_image is None:
            new, problem = None, f"{ctx.rel}: image {path!r} (images are not packaged)"
        else:
            new, problem = self.resolve_image(path, ctx)
        if new is not None:
            return f'<img src="{html.escape(new)}" alt="{html.escape(alt)}"{size}>'
        if problem:
            ctx.problems.append(problem)
        name = posixpath.basename(path.split("#", 1)[0].split("?", 1)[0]) or path
        shown = f"{alt} ({name})" if alt and alt != name else name
        return f'<span class="fm-missing-media">[{html.escape(shown, quote=False)}]</span>'

    def raw_image(self, tag: str, ctx: NoteContext) -> str:
        """A raw ``<img ...>`` tag of the note, with its ``src`` resolved."""
        m = _SRC.search(tag)
        if m is None:
            return tag
        src = html.unescape(m[1] if m[1] is not None else m[2] if m[2] is not None else m[3])
        if _SCHEME.match(src) and not src.lower().startswith("file:"):
            return tag
        alt = _ALT.search(tag)
        label = html.unescape(alt[1] if alt and alt[1] is not None else alt[2] if alt else "")
        new = self.image(src, label, ctx, encoded=True)
        if not new.startswith("<img"):
            return new
        new_src = _SRC.search(new)
        return tag if new_src is None else f"{tag[:m.start()]}{new_src[0]}{tag[m.end():]}"

    def raw_link(self, tag: str, ctx: NoteContext) -> str:
        """A raw ``<a href=...>`` tag of the note, pointing to Obsidian when it links to a
        note."""
        m = _HREF_ATTR.search(tag)
        if m is None:
            return tag
        href = html.unescape(m[1] if m[1] is not None else m[2] if m[2] is not None else m[3])
        new = self.href(href, ctx)
        return tag if new == href else f'{tag[:m.start()]}href="{html.escape(new)}"{tag[m.end():]}'

    def href(self, href: str, ctx: NoteContext) -> str:
        """Where a link of the note points to in Anki: web links as they are, links to
        notes (relative paths, ``#heading``) as ``obsidian://`` links."""
        return _note_href(ctx.vault, ctx.rel, href)

    def markdown(self, src: str, *, inline: bool) -> str:
        """markdown-it's HTML for ``src``; plain text and plain paragraphs (a third of
        the real vault's texts) are written directly, the same as markdown-it writes
        them (tests/export compare the two on every text of the real vault)."""
        if _INLINE_SYNTAX.search(src) is None:
            if inline:
                if "\n" not in src:
                    return _escape(src)
            elif _BLOCK_SYNTAX.search(src) is None:
                return _paragraphs(src)
        md = self.md if ("~~" in src or "^" in src) else self.md_plain
        if inline:
            return str(md.renderInline(src))
        return str(md.render(src)).rstrip("\n")

    # -- the pipeline

    def _render(self, text: str, ctx: NoteContext, *, inline: bool) -> str:
        if "\n" in text:
            text = textwrap.dedent(text).strip("\n")
        if ctx.footnotes and "[^" in text:
            used = [ctx.footnotes[i] for i in dict.fromkeys(_FOOTNOTE_REF.findall(text))
                    if i in ctx.footnotes and f"[^{i}]:" not in text]
            if used:
                text = text + "\n\n" + "\n".join(used)
                inline = False
        p = _Pass(text, ctx, self)
        src = p.source()
        out = self.markdown(src, inline=inline)
        if not p.items:
            return out
        items = p.items
        if _CZ_OPEN in text:
            items = [_tex_cloze_safe(it) if it[:1] == "\\" and _CZ_OPEN in it else it
                     for it in items]
        if p.blocks:
            blocks = p.blocks
            out = _PH_BLOCK.sub(lambda m: self._item(items, m, blocks), out)
        pieces = _PH.split(out)  # text, digits, text, ...: no callback per placeholder
        for k in range(1, len(pieces), 2):
            pieces[k] = items[_index(pieces[k])]
        return "".join(pieces)

    @staticmethod
    def _item(items: list[str], m: re.Match[str], blocks: set[int]) -> str:
        n = _index(m[1])
        return items[n] if n in blocks else m[0]

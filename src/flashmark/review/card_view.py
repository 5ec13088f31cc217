"""The reviewer's Markdown (see review.render) -> Rich renderables: what the TUI shows in
the card and what `flashmark show` prints.

Parsed once by the shared markdown-it configuration (flashmark.syntax.markdown, with
math and cloze tokens) and drawn from the tokens: paragraphs (a newline is a line
break), headings, quotes and callouts with a bar, lists, tables, code, rules; `<br>`,
`<p>` as line breaks, `<sup>`/`<sub>` as Unicode super/subscripts where they exist;
math as Unicode text (review.math), display math on centred lines of its own, and math
that cannot be converted as its LaTeX source in the code style, whole.

Every span of code or LaTeX source carries ``Style(meta={"flashmark": ...})``
(:data:`CODE_META`), so a check of the output can tell source shown on purpose from
leaked markup.
"""

from __future__ import annotations

import functools
import html
import io
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.rule import Rule
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from flashmark.review.math import to_unicode
from flashmark.syntax.markdown import (
    CLOZE_CLOSE,
    CLOZE_OPEN,
    WIKI_EMBED,
    markdown_parser,
    split_cloze_marks,
)
from flashmark.vault.media import MediaIndex

MathMode = Literal["unicode", "source"]
# (the image file, the width asked for in pixels or None) -> its picture
ImageDrawer = Callable[[Path, int | None], RenderableType]
MATH_MODES: tuple[MathMode, ...] = ("unicode", "source")

CODE_META = "flashmark"
# The asked deletion: a background colour of its own, readable on dark and light themes,
# that bold, code and table styles do not hide.
CLOZE_STYLE = Style(bold=True, color="#000000", bgcolor="#ffd75f")
CODE_STYLE = Style(color="#e4e4e4", bgcolor="#303030", meta={CODE_META: "code"})
TEX_STYLE = Style(color="#e4e4e4", bgcolor="#303030", meta={CODE_META: "tex"})
MATH_STYLE = Style(meta={CODE_META: "math"})  # converted math: looks like the text
QUOTE_BAR = Style(color="#808080")
LINK_STYLE = Style(underline=True)

_SUP = str.maketrans("0123456789+-=()inaeoxhjklmprstuvwbdgABDEGHIJKLMNOPRTUVW",
                     "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿᵃᵉᵒˣʰʲᵏˡᵐᵖʳˢᵗᵘᵛʷᵇᵈᵍᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ")
_SUB = str.maketrans("0123456789+-=()aeoxhklmnpstijruv",
                     "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ")
_FOOTNOTE_MARK = re.compile(r"\[(\d+)\]")
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)[^>]*?(/?)\s*>")
_BLOCK_BREAK = re.compile(r"<\s*(?:br|p|/p|div|/div|hr)\b[^>]*>", re.I)
_ANY_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_ATTR = re.compile(r"""([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""")


_IMG_TAG = re.compile(r"<img\b[^>]*>", re.I)
_MD_ALT_UNSAFE = re.compile(r"[\[\]\\`*_<>]")


def _img_markdown(m: re.Match[str]) -> str:
    """An `<img>` tag as the Markdown image it stands for (its alt text and file)."""
    attrs = _img_attrs(m[0])
    src = attrs.get("src", "")
    if not src or any(c in src for c in "<>\n"):
        return ""
    alt = _MD_ALT_UNSAFE.sub(lambda c: "\\" + c[0], attrs.get("alt", ""))
    # a URL already (`%20`): only what would end a Markdown destination is escaped
    src = src.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"![{alt}]({src})"


def _img_attrs(tag: str) -> dict[str, str]:
    """The attributes of an `<img …>` tag, entities decoded."""
    return {m[1].lower(): html.unescape(next(v for v in m.groups()[1:] if v is not None))
            for m in _ATTR.finditer(tag)}


@functools.cache
def _parser() -> MarkdownIt:
    return markdown_parser(full=True, math=True, clozes=True)


@dataclass(frozen=True, slots=True)
class CardImages:
    """Where a card's images are found and how they are drawn: ``index`` resolves a
    reference of the note ``note_rel`` (the exporter's resolver: never a file outside
    the vault); ``draw`` makes the picture of a found file at most ``width_px`` pixels
    wide (None: the image's own width), and raises ``OSError``/``ValueError`` when the
    file is not an image it can read. Without ``draw`` (``flashmark show``, a terminal
    that draws no pictures) an image is its alt text and its file name."""

    index: MediaIndex
    note_rel: str
    draw: ImageDrawer | None = None


def card_renderable(markdown: str, *, math: MathMode = "unicode",
                    images: CardImages | None = None) -> RenderableType:
    """The Rich renderable of a card side. ``images``: how its images are found and
    drawn (without it, an image is its alt text and the name it references)."""
    tokens = _parser().parse(markdown)
    blocks, _ = _Blocks(math, images).run(tokens, 0, None)
    return Group(*blocks)


def render_text(renderable: RenderableType, *, width: int, color: bool) -> str:
    """``renderable`` drawn at ``width`` columns, with ANSI styles or as plain text."""
    console = Console(width=width, color_system="truecolor" if color else None,
                      force_terminal=color, no_color=not color, highlight=False,
                      legacy_windows=False, file=io.StringIO())
    with console.capture() as capture:
        console.print(renderable)
    return "\n".join(line.rstrip() for line in capture.get().split("\n"))


def first_cloze_line(renderable: RenderableType, width: int) -> int | None:
    """The 0-based line, drawn at ``width`` columns, of the first asked deletion (the
    reviewer scrolls it into view), or None when there is none."""
    console = Console(width=width, color_system="truecolor", force_terminal=True,
                      file=io.StringIO(), legacy_windows=False)
    lines = console.render_lines(renderable, console.options.update(width=width), pad=False)
    for number, line in enumerate(lines):
        if any(seg.style is not None and seg.style.bgcolor == CLOZE_STYLE.bgcolor
               for seg in line):
            return number
    return None


class _Quote:
    """Children behind a bar, like Obsidian's quotes and callouts."""

    def __init__(self, children: Sequence[RenderableType]) -> None:
        self.children = Group(*children)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        inner = options.update(width=max(1, options.max_width - 2))
        bar = Segment("▌ ", QUOTE_BAR)
        for line in console.render_lines(self.children, inner, pad=False):
            yield bar
            yield from line
            yield Segment.line()


class _Item:
    """A list item: its marker, then its blocks indented under it."""

    def __init__(self, marker: str, children: Sequence[RenderableType]) -> None:
        self.marker = marker
        self.children = Group(*children)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        indent = len(self.marker)
        inner = options.update(width=max(1, options.max_width - indent))
        for k, line in enumerate(console.render_lines(self.children, inner, pad=False)):
            yield Segment(self.marker if k == 0 else " " * indent)
            yield from line
            yield Segment.line()


def _math_text(source: str, mode: MathMode) -> str | None:
    if mode == "source":
        return None
    return to_unicode(source)


class _Blocks:
    """Block tokens -> renderables (a recursive walk over the flat token list)."""

    def __init__(self, math: MathMode, images: CardImages | None) -> None:
        self.math = math
        self.images = images
        # table cells and HTML blocks are lines of text: their images as alt text
        self.text_images = (None if images is None
                            else CardImages(images.index, images.note_rel, None))

    def run(self, tokens: list[Token], k: int, close: str | None
            ) -> tuple[list[RenderableType], int]:
        out: list[RenderableType] = []
        tight = False

        def add(*items: RenderableType, spaced: bool = True) -> None:
            if out and spaced and not tight:
                out.append(Text())
            out.extend(items)

        while k < len(tokens):
            t = tokens[k]
            kind = t.type
            if close is not None and kind == close:
                return out, k + 1
            if kind == "paragraph_open":
                tight = t.hidden
                add(*_Inline(self.math, self.images).run(tokens[k + 1].children or []))
                k += 3
                continue
            if kind == "heading_open":
                parts = _Inline(self.math, self.images).run(tokens[k + 1].children or [])
                for p in parts:
                    if isinstance(p, Text):
                        p.stylize(Style(bold=True, underline=t.tag in ("h1", "h2")))
                add(*parts)
                k += 3
                continue
            if kind == "blockquote_open":
                inner, k = self.run(tokens, k + 1, "blockquote_close")
                add(_Quote(inner))
                continue
            if kind in ("bullet_list_open", "ordered_list_open"):
                items, k = self._list(tokens, k)
                add(*items)
                continue
            if kind in ("fence", "code_block"):
                add(_code_text(t.content.rstrip("\n")))
            elif kind == "math_block" and "$$" in t.content:
                # `$$a$$ <br/> $$b$$` on one line: dollarmath takes it for one block
                children = _parser().parseInline("$$" + t.content.strip() + "$$")[0].children
                add(*_Inline(self.math, self.images).run(children or []))
            elif kind == "math_block":
                add(*_display(t.content, self.math))
            elif kind == "table_open":
                table, k = self._table(tokens, k)
                add(table)
                continue
            elif kind == "hr":
                add(Rule(style=QUOTE_BAR))
            elif kind == "html_block":
                shown = self._html_block(t.content)
                if shown.plain.strip():
                    add(shown)
            elif kind == "footnote_block_open":
                notes, k = self._footnotes(tokens, k + 1)
                add(Rule(style=QUOTE_BAR), *notes)
                continue
            k += 1
        return out, k

    def _html_block(self, source: str) -> Text:
        """An HTML block (`<pre>…<br/>…</pre>` in a card): its lines, each line's
        Markdown drawn (as the author meant it), its indentation kept."""
        source = _IMG_TAG.sub(_img_markdown, source)  # an image tag alone on its line
        shown = _ANY_TAG.sub("", _BLOCK_BREAK.sub("\n", source)).strip("\n")
        lines: list[Text] = []
        for line in shown.split("\n"):
            body = line.lstrip(" ")
            children = _parser().parseInline(body)[0].children or [] if body else []
            parts = _Inline(self.math, self.text_images).run(children)
            text = Text(line[:len(line) - len(body)])
            for part in parts:
                if isinstance(part, Text):
                    text.append_text(part)
            lines.append(text)
        return Text("\n", overflow="fold").join(lines)

    def _list(self, tokens: list[Token], k: int) -> tuple[list[RenderableType], int]:
        opening = tokens[k]
        ordered = opening.type == "ordered_list_open"
        close = "ordered_list_close" if ordered else "bullet_list_close"
        number = int(opening.attrGet("start") or 1) if ordered else 0
        items: list[RenderableType] = []
        k += 1
        while k < len(tokens) and tokens[k].type != close:
            if tokens[k].type == "list_item_open":
                marker = f"{number}. " if ordered else "• "
                number += 1
                inner, k = self.run(tokens, k + 1, "list_item_close")
                items.append(_Item(marker, inner))
            else:
                k += 1
        return items, k + 1

    def _footnotes(self, tokens: list[Token], k: int) -> tuple[list[RenderableType], int]:
        notes: list[RenderableType] = []
        while k < len(tokens) and tokens[k].type != "footnote_block_close":
            t = tokens[k]
            if t.type == "footnote_open":
                label = (t.meta or {}).get("label") or str((t.meta or {}).get("id", 0) + 1)
                inner, k = self.run(tokens, k + 1, "footnote_close")
                notes.append(_Item(f"[{label}] ", inner))
            else:
                k += 1
        return notes, k + 1

    def _table(self, tokens: list[Token], k: int) -> tuple[Table, int]:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                      collapse_padding=True)
        header: list[Text] = []
        rows: list[list[Text]] = []
        row: list[Text] = []
        in_head = False
        k += 1
        while k < len(tokens) and tokens[k].type != "table_close":
            t = tokens[k]
            if t.type == "thead_open":
                in_head = True
            elif t.type == "thead_close":
                in_head = False
            elif t.type == "tr_open":
                row = []
            elif t.type == "tr_close":
                if in_head:
                    header = row
                else:
                    rows.append(row)
            elif t.type == "inline":
                parts = _Inline(self.math, self.text_images).run(t.children or [])
                cell = Text("\n").join(p if isinstance(p, Text) else Text(str(p)) for p in parts)
                row.append(cell)
            k += 1
        width = max([len(header), *(len(r) for r in rows)])
        for n in range(width):
            head = header[n] if n < len(header) else Text()
            head.stylize(Style(bold=True))
            table.add_column(head, overflow="fold")
        for r in rows:
            table.add_row(*(r + [Text()] * (width - len(r))))
        return table, k + 1


def _marked_text(source: str, style: Style) -> Text:
    """Text in one style, with the deletions marked in it in the cloze style."""
    text = Text(overflow="fold")
    cloze = 0
    for piece in split_cloze_marks(source):
        if piece == CLOZE_OPEN:
            cloze += 1
        elif piece == CLOZE_CLOSE:
            cloze = max(0, cloze - 1)
        else:
            text.append(piece, style + CLOZE_STYLE if cloze else style)
    return text


def _code_text(code: str) -> Text:
    """Code (a span or a block): in the code style, deletions marked inside it."""
    return _marked_text(code, CODE_STYLE)


def _math_pieces(source: str, mode: MathMode) -> list[tuple[str, Style]] | None:
    """Math converted piece by piece (a deletion inside it is a piece), or None when a
    piece cannot be converted: then the whole is shown as source."""
    pieces: list[tuple[str, Style]] = []
    cloze = 0
    for piece in split_cloze_marks(source):
        if piece == CLOZE_OPEN:
            cloze += 1
            continue
        if piece == CLOZE_CLOSE:
            cloze = max(0, cloze - 1)
            continue
        if cloze and piece.startswith("[") and piece.endswith("]"):
            shown: str | None = piece  # the blank of an asked deletion
        else:
            shown = _math_text(piece, mode)
            if shown is not None:  # the spaces around a deletion inside math stay
                shown = (" " if piece[:1].isspace() else "") + shown + (
                    " " if piece[-1:].isspace() else "")
        if shown is None:
            return None
        pieces.append((shown, MATH_STYLE + CLOZE_STYLE if cloze else MATH_STYLE))
    return pieces


def _tex_source(source: str) -> Text:
    return _marked_text(source.strip(), TEX_STYLE)


def _display(source: str, mode: MathMode) -> list[Text]:
    """Display math: centred lines of their own."""
    pieces = _math_pieces(source, mode)
    if pieces is None:
        shown = _tex_source(source)
        shown.justify = "center"
        return [shown]
    text = Text(justify="center", overflow="fold")
    for n, (piece, style) in enumerate(pieces):
        if n == 0:
            piece = piece.lstrip()
        if n == len(pieces) - 1:
            piece = piece.rstrip()
        text.append(piece, style)
    return [text]


class _Inline:
    """Inline tokens -> Text runs; display math breaks the run into centred lines."""

    def __init__(self, math: MathMode, images: CardImages | None) -> None:
        self.math = math
        self.images = images
        self.parts: list[RenderableType] = []
        self.text = Text(overflow="fold")
        self.flags: dict[str, int] = {}
        self.script: str | None = None  # "sup" / "sub" inside those tags
        self.script_at = 0  # where the text inside them starts
        self.after_break = False  # a `<br>`, `<p>` or display math: drop leading spaces

    def style(self) -> Style:
        f = self.flags
        style = Style(bold=bool(f.get("b")), italic=bool(f.get("i")),
                      strike=bool(f.get("s")), underline=bool(f.get("u") or f.get("a")))
        if f.get("code"):
            style += CODE_STYLE
        if f.get("cloze"):
            style += CLOZE_STYLE
        return style

    def flag(self, name: str, delta: int) -> None:
        self.flags[name] = max(0, self.flags.get(name, 0) + delta)

    def put(self, text: str, style: Style | None = None) -> None:
        base = self.style()
        self.text.append(text, base + style if style is not None else base)

    def flush(self) -> None:
        if self.text.plain.strip("\n"):
            self.text.rstrip()
            self.parts.append(self.text)
        self.text = Text(overflow="fold")

    def run(self, tokens: Sequence[Token]) -> list[RenderableType]:
        self.tokens(tokens)
        self.flush()
        return self.parts

    def tokens(self, tokens: Sequence[Token]) -> None:
        for t in tokens:
            kind = t.type
            if kind == "text":
                self.put(t.content.lstrip(" ") if self.after_break else t.content)
                self.after_break = False
            elif kind in ("softbreak", "hardbreak"):
                self.put("\n")
            elif kind in ("strong_open", "strong_close"):
                self.flag("b", t.nesting)
            elif kind in ("em_open", "em_close"):
                self.flag("i", t.nesting)
            elif kind in ("s_open", "s_close"):
                self.flag("s", t.nesting)
            elif kind in ("link_open", "link_close"):
                self.flag("a", t.nesting)
            elif kind in ("cloze_open", "cloze_close"):
                self.flag("cloze", t.nesting)
            elif kind == "code_inline":
                code = _code_text(t.content)
                if self.flags.get("cloze"):
                    code.stylize(CLOZE_STYLE)
                self.text.append_text(code)
            elif kind == "math_inline":
                self._math(t.content)
            elif kind in ("math_inline_double", "math_block"):
                self.flush()
                lines = _display(t.content, self.math)
                if self.flags.get("cloze"):
                    for line in lines:
                        line.stylize(CLOZE_STYLE)
                self.parts.extend(lines)
                self.after_break = True
            elif kind == "html_inline":
                self._html(t.content)
            elif kind == "image":
                self._image(t)
            elif kind == "footnote_ref":
                meta = t.meta or {}
                label = str(meta.get("label") or meta.get("id", 0) + 1)
                self.put(f"[{label}]", Style(dim=True))

    def _image(self, t: Token) -> None:
        """A picture on lines of its own when the file is found and can be drawn, else
        ``[image: alt (file)]``: the alt text (its Markdown and math drawn) and the file's
        vault path when it resolved, else the name it references."""
        src = str(t.attrGet("src") or "")
        title = str(t.attrGet("title") or "")
        width_px: int | None = None
        if title.startswith(WIKI_EMBED):  # `![[x.png|200]]` (review.render)
            size = title[len(WIKI_EMBED):]
            width_px = int(size) if size.isdigit() and int(size) > 0 else None
        remote = _SCHEME.match(src) is not None and not src.lower().startswith("file:")
        ref = src if remote else unquote(src)
        name = posixpath.basename(ref.split("#", 1)[0].split("?", 1)[0]) or ref
        images = self.images
        if images is not None and not remote:
            found, _ = images.index.find(ref, images.note_rel)
            if found is not None:
                name = found  # where it resolved, from the vault root
                if images.draw is not None:
                    try:
                        picture = images.draw(images.index.root / found, width_px)
                    except (OSError, ValueError):
                        picture = None  # unreadable, or not an image: the alt text
                    if picture is not None:
                        self.flush()
                        self.parts.append(picture)
                        self.after_break = True
                        return
        start = len(self.text)
        self.put("[image: ")
        if t.children is None and t.content:  # `<img alt=…>`: plain text
            self.put(t.content)
        self.tokens(t.children or [])
        alt = self.text.plain[start + len("[image: "):].strip()
        if not alt:
            self.text.right_crop(len(self.text) - start)
            self.put(f"[image: {name}]")
        else:
            self.put(f" ({name})]" if name and name != alt else "]")

    def _raw_image(self, tag: str) -> None:
        """`<img src="…" alt="…" width="200">` drawn like `![alt](src)`."""
        attrs = _img_attrs(tag)
        token = Token("image", "img", 0)
        token.attrs = {"src": attrs.get("src", "")}
        width = attrs.get("width", "")
        if width.isdigit():
            token.attrs["title"] = WIKI_EMBED + width
        token.content = attrs.get("alt", "")
        token.children = None
        self._image(token)

    def _math(self, source: str) -> None:
        pieces = _math_pieces(source, self.math)
        if pieces is None:
            source_text = _tex_source(source)
            if self.flags.get("cloze"):
                source_text.stylize(CLOZE_STYLE)
            self.text.append_text(source_text)
            return
        for piece, style in pieces:
            self.put(piece.replace("\n", " "), style)

    def _shift(self, script: str) -> None:
        """The text since `<sup>`/`<sub>` as Unicode super/subscript characters when
        each has one (a footnote marker `[15]` as ¹⁵), else marked `^(…)`/`_(…)`;
        deletion styles inside it are kept."""
        head, tail = self.text[:self.script_at], self.text[self.script_at:]
        plain = tail.plain
        m = _FOOTNOTE_MARK.fullmatch(plain)
        if m and script == "sup":
            plain, tail = m[1], tail[m.start(1):m.end(1)]
        table = _SUP if script == "sup" else _SUB
        shifted = plain.translate(table)
        if plain and all(a != b or a.isspace() for a, b in zip(plain, shifted, strict=True)):
            moved = Text(shifted, style=tail.style)
            for span in tail.spans:
                moved.stylize(span.style, span.start, span.end)
            tail = moved
        elif plain:
            mark = "^" if script == "sup" else "_"
            tail = Text.assemble(mark if len(plain) == 1 else f"{mark}(", tail,
                                 "" if len(plain) == 1 else ")")
        head.append_text(tail)
        self.text = head

    def _html(self, tag: str) -> None:
        m = _TAG.fullmatch(tag.strip())
        if m is None:
            return  # a comment or a declaration: nothing to show
        closing, name = bool(m[1]), m[2].lower()
        delta = -1 if closing else 1
        if name == "img" and not closing:
            self._raw_image(tag)
            return
        if name == "br" or (name == "p" and not closing) or name == "hr":
            self.text.rstrip()
            self.put("\n")
            self.after_break = True
        elif name in ("sup", "sub"):
            if not closing:
                self.script, self.script_at = name, len(self.text)
            elif self.script is not None:
                self._shift(self.script)
                self.script = None
        elif name in ("b", "strong"):
            self.flag("b", delta)
        elif name in ("i", "em"):
            self.flag("i", delta)
        elif name in ("u", "ins", "mark"):
            self.flag("u", delta)
        elif name in ("s", "del", "strike"):
            self.flag("s", delta)
        elif name in ("code", "kbd"):
            self.flag("code", delta)

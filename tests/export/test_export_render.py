"""Markdown -> Anki HTML (flashmark.export.render), without Anki."""

from __future__ import annotations

import re

import pytest

from flashmark.config import ParserSettings
from flashmark.export import render as rnd
from flashmark.export.render import NoteContext, Renderer, footnote_definitions
from flashmark.model import Question
from flashmark.syntax import parse_note


def renderer(found: dict[str, str] | None = None) -> Renderer:
    def resolve(ref: str, ctx: NoteContext) -> tuple[str | None, str | None]:
        if found and ref in found:
            ctx.media.add(ref)
            return found[ref], None
        return None, f"{ctx.rel}: image {ref!r} not found"
    return Renderer(resolve)


CTX = NoteContext("general/eng/note.md", "My Vault")


def block(text: str, r: Renderer | None = None, ctx: NoteContext | None = None) -> str:
    return (r or renderer()).side(text, ctx or NoteContext(CTX.rel, CTX.vault),
                                  single_line=False)


def inline(text: str) -> str:
    return renderer().side(text, NoteContext(CTX.rel, CTX.vault), single_line=True)


def cloze_of(text: str) -> tuple[str, list[int]]:
    note = parse_note(text, ParserSettings())
    q: Question = note.questions[0]
    return renderer().cloze(q, NoteContext(CTX.rel, CTX.vault))


@pytest.mark.parametrize(("src", "html"), [
    (r"$e^{i\pi} + 1 = 0$", r"<p>\(e^{i\pi} + 1 = 0\)</p>"),
    (r"$$\int_0^1 x\,dx$$", r"<p>\[\int_0^1 x\,dx\]</p>"),
    ("$$\na < b\n$$", r"<p>\[a &lt; b\]</p>"),
    ("costs $5 and $10", "<p>costs $5 and $10</p>"),  # not math (Obsidian's rule)
    (r"a \$5 fee", "<p>a $5 fee</p>"),
    (r"$a_1$ and _b_", r"<p>\(a_1\) and <em>b</em></p>"),
    ("`$x$` code", "<p><code>$x$</code> code</p>"),
    ("```js\nif (a < b) {}\n```", '<pre><code class="language-js">if (a &lt; b) {}\n</code></pre>'),
    ("==marked== text", "<p><mark>marked</mark> text</p>"),
    ("~~gone~~", "<p><s>gone</s></p>"),
    ("| a | b |\n|---|---|\n| 1 | 2 |", "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n"
     "</tr>\n</thead>\n<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>"),
    ("line one\nline two", "<p>line one<br />\nline two</p>"),
    ("a <!--SR:!2026-01-01,3,250--> b", "<p>a  b</p>"),
    ("a %%private%% b", "<p>a  b</p>"),
    ("end of line ^abc-123", "<p>end of line</p>"),
    ("x^2 stays", "<p>x^2 stays</p>"),
    ('<!--pytextgen generate section="28ba"--><!-- The following content is generated at '
     "2024-03-22T20:40:48+08:00. Any edits will be overridden! -->item<!--/pytextgen-->",
     "<p>item</p>"),
    ("> [!tip] Title\n> body", '<blockquote>\n<p><b class="fm-callout fm-callout-tip">Title</b>'
     "<br />\nbody</p>\n</blockquote>"),
    ("> [!example]-\n> body", '<blockquote>\n<p><b class="fm-callout fm-callout-example">'
     "Example</b><br />\nbody</p>\n</blockquote>"),
    ("a\\_b \\* c \\(d\\)", "<p>a_b * c (d)</p>"),
    ("H<sub>2</sub>O and x<sup>2</sup>", "<p>H<sub>2</sub>O and x<sup>2</sup></p>"),
])
def test_block_constructs(src: str, html: str) -> None:
    assert block(src) == html


def test_links() -> None:
    assert block("[[Bayes theorem#Statement|Bayes]]") == (
        '<p><a class="fm-link" href="obsidian://open?vault=My%20Vault&amp;file=Bayes%20theorem">'
        "Bayes</a></p>")
    assert block("[[folder/note#A#B]]") == (
        '<p><a class="fm-link" href="obsidian://open?vault=My%20Vault&amp;file=folder%2Fnote">'
        "note &gt; A &gt; B</a></p>")
    assert block("[metric tensor](metric%20tensor.md)") == (
        '<p><a href="obsidian://open?vault=My%20Vault&amp;file=general%2Feng%2F'
        'metric%20tensor.md">metric tensor</a></p>')
    assert block("[up](../top.md#x)") == (
        '<p><a href="obsidian://open?vault=My%20Vault&amp;file=general%2Ftop.md">up</a></p>')
    assert block("[web](https://example.org/a_(b)) <https://x.org>") == (
        '<p><a href="https://example.org/a_(b)">web</a> '
        '<a href="https://x.org">https://x.org</a></p>')
    # a citation link inside the note opens the note
    assert block(r"<sup>[\[1\]](#^ref-1)</sup>") == (
        '<p><sup><a href="obsidian://open?vault=My%20Vault&amp;file=general%2Feng%2Fnote.md">'
        "[1]</a></sup></p>")
    assert block("[*emph* link](x.md)") == (
        '<p><a href="obsidian://open?vault=My%20Vault&amp;file=general%2Feng%2Fx.md">'
        "<em>emph</em> link</a></p>")


def test_images() -> None:
    r = renderer({"img/a b.png": "a_b-1234.png", "pic.png": "pic-0000.png"})
    ctx = NoteContext(CTX.rel, CTX.vault)
    assert block("![alt](img/a%20b.png)", r, ctx) == (
        '<p><img src="a_b-1234.png" alt="alt"></p>')
    assert block("![[pic.png|200]]", r, ctx) == (
        '<p><img src="pic-0000.png" alt="pic.png" width="200"></p>')
    assert block('x <img src="pic.png" class="c">', r, ctx) == (
        '<p>x <img src="pic-0000.png" class="c"></p>')
    assert block("![remote](https://x.org/i.png)", r, ctx) == (
        '<p><img src="https://x.org/i.png" alt="remote"></p>')
    assert block("![[missing.png]] ![m](gone.svg)", r, ctx) == (
        '<p><span class="fm-missing-media">[missing.png]</span> '
        '<span class="fm-missing-media">[m (gone.svg)]</span></p>')
    assert ctx.problems == ["general/eng/note.md: image 'missing.png' not found",
                            "general/eng/note.md: image 'gone.svg' not found"]
    assert ctx.media == {"img/a b.png", "pic.png"}
    # a note embed cannot be shown: a link to it
    assert block("![[other note]]") == (
        '<p><a class="fm-link" href="obsidian://open?vault=My%20Vault&amp;file=other%20note">'
        "other note</a></p>")


def test_single_line_sides() -> None:
    assert inline("- _(begin)_→") == "<em>(begin)</em>→"
    assert inline("> 1. **a** b") == "<strong>a</strong> b"
    assert inline("- [ ] task") == "task"
    assert inline('plain & "quoted" a < b') == "plain &amp; &quot;quoted&quot; a &lt; b"
    assert inline("## heading text") == "heading text"


def test_footnotes_of_the_note_come_along() -> None:
    note = "A fact[^1] here.\n\n[^1]: The source,\n    on two lines.\n[^2]: unused"
    ctx = NoteContext(CTX.rel, CTX.vault, footnote_definitions(note))
    html = renderer().side("A fact[^1] here.", ctx, single_line=True)
    assert 'id="fnref1"' in html and "The source" in html and "unused" not in html


def test_cloze_numbering_hints_and_safety() -> None:
    text, used = cloze_of("A {@{x}@} b {@{y;;hint}@} c")
    assert text == "<p>A {{c1::x}} b {{c2::y::hint}} c</p>" and used == [1, 2]
    text, used = cloze_of("{@{2;;two}@} {@{1;;one}@} {@{2;;again}@} {@{free}@}")
    assert text == "<p>{{c2::two}} {{c1::one}} {{c2::again}} {{c3::free}}</p>"
    assert used == [1, 2, 3]
    # }} in TeX is split, :: in text is an entity, a trailing } is an entity
    text, _ = cloze_of(r"Math {@{$\frac{a}{b^{2}}$}@} and {@{std::vector}@} and {@{{x}}@}")
    assert r"{{c1::\(\frac{a}{b^{2} }\)}}" in text
    assert "{{c2::std:&#58;vector}}" in text
    assert "{{c3::{x&#125;}}" in text  # the answer is "{x}"
    # a deletion inside math
    text, _ = cloze_of(r"$x = {@{y^{2}}@}$")
    assert text == r"<p>\(x = {{c1::y^{2} }}\)</p>"
    # markdown inside a deletion
    text, _ = cloze_of("{@{**bold** and `code`}@} {@{_it_}@}")
    assert text == "<p>{{c1::<strong>bold</strong> and <code>code</code>}} {{c2::<em>it</em>}}</p>"
    # an Anki cloze written in the note is not one
    text, _ = cloze_of("{{c1::not mine}} and {@{mine}@}")
    assert text == "<p>{&#123;c1::not mine}} and {{c1::mine}}</p>"


def test_cloze_in_a_list_and_a_table() -> None:
    text, _ = cloze_of("- first {@{a}@}\n    - nested {@{b}@}")
    assert text == ("<ul>\n<li>first {{c1::a}}\n<ul>\n<li>nested {{c2::b}}</li>\n</ul>\n"
                    "</li>\n</ul>")
    text, _ = cloze_of("| k | v |\n|---|---|\n| x | {@{1}@} |")
    assert "<td>{{c1::1}}</td>" in text


def test_private_use_characters_in_notes_are_harmless() -> None:
    assert block("a \ue000\ue010\u2e29 b ⸨x⸩") == "<p>a \u2e29 b ⸨x⸩</p>"


def test_fast_paths_match_markdown_it() -> None:
    r = renderer()
    samples = ["plain words", "two\nlines", "para one\n\npara two  \nnext", "a & b < c",
               "1. list", "# head", "    code", "x | y", "quote > not", "under\n===",
               "tab\tinside", "trailing  ", ""]
    for src in samples:
        for inl in (True, False):
            expected = (str(r.md.renderInline(src)) if inl
                        else str(r.md.render(src)).rstrip("\n"))
            assert r.markdown(src, inline=inl) == expected, (src, inl)


@pytest.mark.parametrize("html_text", [
    "plain, no deletion",
    f"<p>{rnd._cz_open(1)}cat{rnd.CZ_CLOSE} and {rnd._cz_open(2)}dog{rnd.CZ_HINT}an animal}}"
    f"{rnd.CZ_CLOSE}</p>",
    f"{rnd._cz_open(3)}\\(x^{{2}}\\){rnd.CZ_CLOSE}::{rnd._cz_open(300)}a::b}}}}{rnd.CZ_CLOSE} end",
    f"{rnd._cz_open(1)}multi\nline{rnd.CZ_HINT}h\nint{rnd.CZ_CLOSE}{rnd._cz_open(1)}",
])
def test_anki_clozes_match_the_mark_regex(html_text: str) -> None:
    """The str.find version of the deletion-mark rewrite does what the regex does."""
    def by_regex(m: re.Match[str]) -> str:
        tail = "" if m[3] is None else "::" + rnd._safe_cloze_part(m[3])
        return f"{{{{c{rnd._index(m[1])}::{rnd._safe_cloze_part(m[2])}{tail}}}}}"

    assert rnd._anki_clozes(html_text) == rnd._CLOZE.sub(by_regex, html_text)
    assert ("{{c" in rnd._anki_clozes(html_text)) == (rnd.CZ_CLOSE in html_text)

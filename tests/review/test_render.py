"""Card text -> what the reviewer and `flashmark show` draw: math, comments, block ids,
Obsidian syntax, HTML breaks, clozes (golden texts, many of them cut from the real
vault, see tests/review/fixtures/render_cards.md)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rich.console import Console
from rich.segment import Segment

from flashmark.cards import Card, cards_of
from flashmark.config import ParserSettings
from flashmark.review.card_view import CLOZE_STYLE, card_renderable, render_text
from flashmark.review.render import card_sides, heading_trail, prepare
from flashmark.syntax import parse_note
from flashmark.syntax.markdown import CLOZE_CLOSE, CLOZE_OPEN


def shown(source: str, width: int = 60) -> str:
    return render_text(card_renderable(prepare(source)), width=width, color=False).rstrip("\n")


def segments(markdown: str, width: int = 60) -> list[Segment]:
    console = Console(width=width, color_system="truecolor", force_terminal=True)
    return list(console.render(card_renderable(markdown)))


def cloze_text(markdown: str) -> str:
    """The characters drawn in the cloze style."""
    return "".join(s.text for s in segments(markdown)
                   if s.style is not None and s.style.bgcolor == CLOZE_STYLE.bgcolor)


@pytest.mark.parametrize(("source", "expected"), [
    ("Energy $E = mc^2$ costs $5 and $10", "Energy E = mc² costs $5 and $10"),
    ("escaped \\$x$ stays", "escaped $x$ stays"),
    ("code `$x$` stays", "code $x$ stays"),
    ("text\n$$\nx^2\n$$\nmore", "text\n" + "x²".center(60).rstrip() + "\n\nmore"),
    ("- item ^abc-123 <!--SR:!2026-01-01,3,250-->", "• item"),
    ('<!--pytextgen generate section="28ba"--><!-- The following content is generated at '
     "2024-03-22T20:40:48+08:00. Any edits will be overridden! -->\n\n> 1. first\n\n"
     "<!--/pytextgen-->", "▌ 1. first"),
    ("see [[customer jobs|jobs]], [[note#part]] and ![[pic.png|200]]",
     "see jobs, note › part and [image: pic.png]"),
    ("> [!example]- The milkshake\n> body", "▌ Example: The milkshake\n▌\n▌ body"),
    ("> [!tip]\n> body", "▌ Tip\n▌\n▌ body"),
    ("#flashcard/active/x #other what?", "what?"),
    ("    indented\n    text", "indented\ntext"),
    ("```python\nx = '$a$'\n```", "x = '$a$'"),
    ("_N_<sub>1</sub> x<sup>2</sup> e<sup>iπ</sup>", "N₁ x² e^(iπ)"),
    # <br>, <br/> and <p> are line breaks (Fourier transform.md:223 ran two formulas together)
    ("a<br>b<br/>c <p> d", "a\nb\nc\nd"),
    # `> ---` inside a quote stays a rule inside it, between the quote's paragraphs
    ("> __example__\n>\n> ---\n>\n> 1. Charlie",
     "▌ example\n▌\n▌ " + "─" * 58 + "\n▌\n▌ 1. Charlie"),
    # footnote markers are superscripts, not digits glued to the word
    ("四年<sup>[1](#^note-6908421a)</sup>春", "四年¹春"),
    ("| a | b |\n|---|---|\n| 宽字 | x |", "a     b\n───────\n宽字  x"),
])
def test_shown(source: str, expected: str) -> None:
    assert shown(source) == expected


def _cards(text: str) -> list[Card]:
    note = parse_note(text, ParserSettings())
    return [c for q in note.questions for c in cards_of(q, "n.md")]


def _sides(card: Card) -> tuple[str, str]:
    front, back = card_sides(card)
    return (render_text(card_renderable(front), width=60, color=False).rstrip("\n"),
            render_text(card_renderable(back), width=60, color=False).rstrip("\n"))


def test_cloze_followed_by_a_letter_leaks_no_markup() -> None:
    [card] = _cards("plural {@{cat}@}s\n")
    assert _sides(card) == ("plural [...]s", "plural cats")
    front, back = card_sides(card)
    assert cloze_text(front) == "[...]" and cloze_text(back) == "cat"


def test_cloze_around_bold_keeps_it_bold() -> None:
    # general/eng/Cepheid variable.md:12: `{@{A __Cepheid variable__}@} (`
    [card, _] = _cards("{@{A __Cepheid variable__}@} ({@{[/ˈsɛfi.ɪd/]}@}) is a star\n")
    assert _sides(card)[1] == "A Cepheid variable ([/ˈsɛfi.ɪd/]) is a star"
    bold = [s.text for s in segments(card_sides(card)[1]) if s.style and s.style.bold
            and s.style.bgcolor == CLOZE_STYLE.bgcolor]
    assert "".join(bold) == "A Cepheid variable"


def test_cloze_in_chinese_text() -> None:
    text = ("> <u>慶曆</u>四年<sup>[1](#^note-6908421a)</sup>春，{@{<u>滕子京</u><sup>[2]"
            "(#^note-39b01dcc)</sup>}@}{@{謫<sup>[3](#^note-56c21595)</sup>}@}守\n")
    first, second = _cards(text)
    assert _sides(first) == ("▌ 慶曆四年¹春，[...]謫³守", "▌ 慶曆四年¹春，滕子京²謫³守")
    assert cloze_text(card_sides(first)[1]) == "滕子京²"
    assert _sides(second)[0] == "▌ 慶曆四年¹春，滕子京²[...]守"


def test_display_math_cloze_followed_by_text() -> None:
    [card] = _cards("Then {@{$$x=1.$$}@}The integral\n")
    front, back = _sides(card)
    assert front == "Then [...]The integral"
    assert back.split("\n") == ["Then", "x = 1.".center(60).rstrip(), "The integral"]
    assert cloze_text(card_sides(card)[1]).strip() == "x = 1."


def test_revealed_answer_stays_distinct_inside_bold_code_and_tables() -> None:
    [card] = _cards("__there is {@{a bold}@}__ and `x`\n")
    assert _sides(card)[1] == "there is a bold and x"
    back = card_sides(card)[1]
    assert cloze_text(back) == "a bold"
    bold_plain = [s for s in segments(back) if s.text == "there is "]
    assert bold_plain and bold_plain[0].style is not None and bold_plain[0].style.bold
    assert cloze_text(f"a {CLOZE_OPEN}`code`{CLOZE_CLOSE} b") == "code"
    assert cloze_text(f"| a |\n|---|\n| {CLOZE_OPEN}x{CLOZE_CLOSE} |") == "x"


def test_cloze_sides() -> None:
    text = "The {@{answer;;hint}@} and {@{$x^2$}@} and {@{other}@}\n"
    cards = _cards(text)
    assert _sides(cards[0]) == ("The [hint] and x² and other", "The answer and x² and other")
    assert _sides(cards[1]) == ("The answer and [...] and other",
                                "The answer and x² and other")
    assert cloze_text(card_sides(cards[1])[1]) == "x²"


def test_cloze_in_display_math_block() -> None:
    [card] = _cards("Power:\n$$\nP = {@{W / t}@}\n$$\n")
    front, back = _sides(card)
    assert front.split("\n") == ["Power:", "P = [...]".center(60).rstrip()]
    assert back.split("\n") == ["Power:", "P = W / t".center(60).rstrip()]


def test_reversible_sides_lose_their_line_markers() -> None:
    forward, backward = _cards("- term::@::its meaning\n")
    assert _sides(forward) == ("term", "its meaning")
    assert _sides(backward) == ("its meaning", "term")


def test_nested_list_card_in_a_callout_is_not_code() -> None:
    # general/eng/Carmichael function.md:87 (cut short)
    text = ("> [!theorem] Carmichael\n>\n> - statement\n>     - proof / setup ::@:: Let "
            "$n = p_1 \\cdots p_k$ and $r \\ge r_{\\mathrm{max} }$. <p> Write $a^r$.\n")
    forward = _cards(text)[0]
    assert _sides(forward) == ("proof / setup",
                               "Let n = p₁ ⋯ pₖ and r ≥ rₘₐₓ.\nWrite aʳ.")


def test_unconvertible_math_is_source_in_code_style() -> None:
    segs = segments(prepare("see $\\unknownmacro{x} + \\alpha$ here"))
    text = "".join(s.text for s in segs)
    assert "\\unknownmacro{x} + \\alpha" in text  # whole, not half converted
    tex = [s for s in segs if s.style is not None and s.style.meta.get("flashmark") == "tex"]
    assert "".join(s.text for s in tex) == "\\unknownmacro{x} + \\alpha"


def test_math_source_setting() -> None:
    out = render_text(card_renderable(prepare("a $\\alpha$"), math="source"), width=40,
                      color=False)
    assert out.strip() == "a \\alpha"


def test_heading_trail() -> None:
    text = ("---\ntitle: x\n# not a heading\n---\n# top\n\n## a\n\n```\n# in code\n```\n"
            "### a1\n\n## b [[link|shown]] `code`\n\ncard line\n")
    lines = text.split("\n")
    card = lines.index("card line")
    assert heading_trail(text, card) == ["top", "b shown code"]
    assert heading_trail(text, lines.index("### a1") + 1) == ["top", "a", "a1"]
    assert heading_trail(text, 0) == []
    assert heading_trail("\r\n".join(lines), card) == ["top", "b shown code"]


def test_review_math_setting_is_validated() -> None:
    from flashmark.errors import ConfigError
    from flashmark.review.settings import review_settings_from

    assert review_settings_from({"math": "source"}).math == "source"
    assert review_settings_from(None).math == "unicode"
    with pytest.raises(ConfigError, match=r"review\.math must be one of unicode, source"):
        review_settings_from({"math": "latex"})


FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden" / "render_cards.txt"


def test_real_cards_golden() -> None:
    """Every card of tests/review/fixtures/render_cards.md (real notes' text), front and
    back at 80 columns, as `flashmark show` prints them when piped. Regenerate with
    FLASHMARK_REGEN_GOLDEN=1 and read the diff before committing."""
    text = (FIXTURES / "render_cards.md").read_text(encoding="utf-8")
    out: list[str] = []
    for card in _cards(text):
        front, back = card_sides(card)
        for name, side in (("front", front), ("back", back)):
            out.append(f"=== line {card.question.span.line + 1}, card {card.sibling + 1}, "
                       f"{name} ===")
            out.append(render_text(card_renderable(side), width=80, color=False).rstrip("\n"))
    shown = "\n".join(out) + "\n"
    if os.environ.get("FLASHMARK_REGEN_GOLDEN") == "1":
        GOLDEN.write_text(shown, encoding="utf-8")
    assert shown == GOLDEN.read_text(encoding="utf-8")
    for leak in ("{@{", "}@}", "::@::", "**", "<br", "<p>", "\\frac", "\\mathbf"):
        assert leak not in shown, leak

"""Card text to terminal Markdown: math, comments, block ids, Obsidian syntax, clozes."""

from __future__ import annotations

import pytest

from flashmark.cards import cards_of
from flashmark.config import ParserSettings
from flashmark.review.render import card_sides, heading_trail, prepare
from flashmark.syntax import parse_note


@pytest.mark.parametrize(("source", "shown"), [
    ("Energy $E = mc^2$ costs $5 and $10", "Energy `E = mc^2` costs $5 and $10"),
    ("escaped \\$x$ stays", "escaped \\$x$ stays"),
    ("inline display $$\\sum_i x_i$$ here", "inline display `\\sum_i x_i` here"),
    ("code `$x$` stays", "code `$x$` stays"),
    ("a `` ` `` tick and $a`b$", "a `` ` `` tick and ``a`b``"),
    ("text\n$$\nx^2\n$$\nmore", "text\n\n> `x^2`\n\nmore"),
    ("$$ \\int_0^1 f $$", "> `\\int_0^1 f`"),
    ("$$\na \\\\\nb\n$$", "> `a \\\\`  \n> `b`"),
    ("> $$\n> x\n> $$", "> > `x`"),
    ("$$\nnever closed", "$$\nnever closed"),
    ("- item ^abc-123 <!--SR:!2026-01-01,3,250-->", "- item"),
    ('<!--pytextgen generate section="28ba"--><!-- The following content is generated at '
     "2024-03-22T20:40:48+08:00. Any edits will be overridden! -->\n\n> 1. first\n\n"
     "<!--/pytextgen-->", "> 1. first"),
    ("see [[customer jobs|jobs]], [[note#part]] and ![[pic.png|200]]",
     "see jobs, note › part and [embed: pic.png]"),
    ("> [!example]- The milkshake\n> body", "> **Example:** The milkshake\n> body"),
    ("> [!tip]\n> body", "> **Tip**\n> body"),
    ("#flashcard/active/x #other what?", "what?"),
    ("    indented\n    text", "indented\ntext"),
    ("```python\nx = '$a$'\n```", "```python\nx = '$a$'\n```"),
    ("_N_<sub>1</sub> x<sup>2</sup> e<sup>iπ</sup>",
     "_N_<!---->₁<!----> x<!---->²<!----> e<sup>iπ</sup>"),
    ("a<br>b<br/>c", "a b c"),
])
def test_prepare(source: str, shown: str) -> None:
    assert prepare(source) == shown


def _cards(text: str) -> list:  # type: ignore[type-arg]
    note = parse_note(text, ParserSettings())
    return [c for q in note.questions for c in cards_of(q, "n.md")]


def test_cloze_sides_in_bold() -> None:
    text = "The {@{answer;;hint}@} and {@{$x^2$}@} and {@{other}@}\n"
    cards = _cards(text)
    front, back = card_sides(cards[0])
    assert front == "The **[hint]** and `x^2` and other"
    assert back == "The **answer** and `x^2` and other"
    front, back = card_sides(cards[1])
    assert front == "The answer and **[...]** and other"
    assert back == "The answer and **`x^2`** and other"  # the math itself is bold code


def test_cloze_in_display_math_block() -> None:
    text = "Power:\n$$\nP = {@{W / t}@}\n$$\n"
    [card] = _cards(text)
    front, back = card_sides(card)
    assert front == "Power:\n\n> `P = [...]`"
    assert back == "Power:\n\n> `P = W / t`"


def test_reversible_sides() -> None:
    forward, backward = _cards("- term::@::its meaning\n")
    assert card_sides(forward) == ("- term", "its meaning")
    assert card_sides(backward) == ("its meaning", "- term")


def test_heading_trail() -> None:
    text = ("---\ntitle: x\n# not a heading\n---\n# top\n\n## a\n\n```\n# in code\n```\n"
            "### a1\n\n## b [[link|shown]] `code`\n\ncard line\n")
    lines = text.split("\n")
    card = lines.index("card line")
    assert heading_trail(text, card) == ["top", "b shown code"]
    assert heading_trail(text, lines.index("### a1") + 1) == ["top", "a", "a1"]
    assert heading_trail(text, 0) == []
    assert heading_trail("\r\n".join(lines), card) == ["top", "b shown code"]

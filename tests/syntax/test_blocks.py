"""The one block reader (flashmark.syntax.blocks): lines, frontmatter, fenced code.

The fence tracker is checked against markdown-it-py, a CommonMark implementation, on
generated notes made of fence-like lines (in and out of quotes), and every reader that
uses it (tags, scanner, breadcrumbs, review and export rendering) is checked on the note
that used to fool one of them: a four-backtick fence holding a three-backtick line.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from flashmark.config import ParserSettings
from flashmark.export.render import NoteContext, Renderer
from flashmark.review.card_view import card_renderable, render_text
from flashmark.review.render import heading_trail, prepare
from flashmark.syntax import body_tags, parse_note
from flashmark.syntax.blocks import (
    CLOSING,
    INSIDE,
    OPENING,
    OUTSIDE,
    FenceTracker,
    body_offset,
    frontmatter_end,
    lines_outside_fences,
    split_lines,
    split_lines_with_starts,
)

SETTINGS = ParserSettings(flashcard_tags=("flashcard/active",))

# A note whose three-backtick line does not close the four-backtick fence.
FENCE_IN_FENCE = [
    "# Fences",
    "",
    "````markdown",
    "```",
    "#flashcard/active/code",
    "# not a heading",
    "inside:@:code",
    "```",
    "````",
    "",
    "## after",
    "outside:@:text",
]


def states(lines: list[str]) -> list[int]:
    feed = FenceTracker().feed
    return [feed(line) for line in lines]


@pytest.mark.parametrize(("lines", "expected"), [
    # a three-backtick line inside a four-backtick fence is code
    (["````", "```", "x", "```", "````", "y"],
     [OPENING, INSIDE, INSIDE, INSIDE, CLOSING, OUTSIDE]),
    # a longer closing fence closes; trailing spaces and tabs are allowed after it
    (["~~~", "x", "~~~~~ \t", "y"], [OPENING, INSIDE, CLOSING, OUTSIDE]),
    # the other character does not close; a closing fence has no info string
    (["```", "~~~", "```python", "```"], [OPENING, INSIDE, INSIDE, CLOSING]),
    # a backtick fence's info string may not hold a backtick; a tilde fence's may
    (["```a``` b", "~~~ `x`", "~~~"], [OUTSIDE, OPENING, CLOSING]),
    # two characters are not a fence
    (["``", "x"], [OUTSIDE, OUTSIDE]),
    # indented fences (list items): any indentation, closing too
    (["- item", "    ```", "    x", "      ```", "y"],
     [OUTSIDE, OPENING, INSIDE, CLOSING, OUTSIDE]),
    # a fence right after a list marker
    (["- ```js", "  x", "  ```"], [OPENING, INSIDE, CLOSING]),
    # quoted fence: the quote markers are stripped first
    (["> ```", "> x", ">", "> ```", "> y"], [OPENING, INSIDE, INSIDE, CLOSING, OUTSIDE]),
    # an unclosed quoted fence ends with its quote; the next line may open a fence
    (["> ```", "> x", "```", "y", "```"], [OPENING, INSIDE, OPENING, INSIDE, CLOSING]),
    # nested quotes: fewer markers end the fence, more are code
    ([">> ```", "> > > x", "> x", "y"], [OPENING, INSIDE, OUTSIDE, OUTSIDE]),
    # a top-level fence holds quote lines as code
    (["```", "> ```", "```"], [OPENING, INSIDE, CLOSING]),
    # unclosed: runs to the end
    (["```", "", "x"], [OPENING, INSIDE, INSIDE]),
])
def test_fence_rules(lines: list[str], expected: list[int]) -> None:
    assert states(lines) == expected


# --- agreement with CommonMark ------------------------------------------------------

_QUOTES = ["", "> ", ">", "> > ", ">> "]
_INDENTS = ["", " ", "   "]  # at most 3: a 4-space indent is indented code (list items aside)
_CONTENTS = ["```", "````", "~~~", "~~~~", "```py", "``` x `y`", "~~~ `ok`", "````` \t",
             "```  ", "text", "", "`` x", "# head"]
fence_lines = st.lists(st.tuples(st.sampled_from(_QUOTES), st.sampled_from(_INDENTS),
                                 st.sampled_from(_CONTENTS)).map("".join), max_size=14)
_COMMONMARK = MarkdownIt("commonmark")


def commonmark_code_lines(lines: list[str]) -> set[int]:
    code: set[int] = set()
    for token in _COMMONMARK.parse("\n".join(lines)):
        if token.type == "fence" and token.map is not None:
            code.update(range(*token.map))
    return code


@settings(max_examples=400, deadline=None)
@given(fence_lines)
@example(["> ```", "```", "x"])
@example(["````", "```", "#flashcard/active/code", "````"])
def test_fences_agree_with_commonmark(lines: list[str]) -> None:
    lines = [*lines, "end"]  # markdown-it does not count a trailing empty line
    ours = {k for k, state in enumerate(states(lines)) if state}
    assert ours == commonmark_code_lines(lines)


# --- lines and frontmatter ------------------------------------------------------------

def test_split_lines() -> None:
    assert split_lines("a\r\nb\rc\nd\x0ce\u2028f") == ["a", "b", "c", "d\x0ce\u2028f"]
    assert split_lines_with_starts("a\r\nbc\rd") == (["a", "bc", "d"], [0, 3, 6])
    assert split_lines_with_starts("ab\n\nc\n") == (["ab", "", "c", ""], [0, 3, 4, 6])


@pytest.mark.parametrize(("text", "end"), [
    ("---\ntags: [a]\n---\nbody", 2),
    ("\ufeff---  \r\ntags: [a]\r\n--- \r\nbody", 2),
    ("---\ntags: [a]\n---", 2),
    ("\n---\ntags: [a]\n---\nbody", -1),  # not on the first line
    ("---\ntags: [a]\n...\nbody", -1),  # "..." does not close it
    ("---\ntags: [a]\nbody", -1),  # never closed
    (" ---\ntags: [a]\n---\n", -1),
    ("----\n---\n", -1),
])
def test_frontmatter(text: str, end: int) -> None:
    lines, starts = split_lines_with_starts(text)
    assert frontmatter_end(lines) == end
    assert body_offset(text) == (0 if end < 0 else
                                 starts[end + 1] if end + 1 < len(lines) else len(text))


@given(st.lists(st.sampled_from(["---", "--- ", "...", "tags: [a]", "", "\ufeff---", "x"]),
                max_size=6),
       st.sampled_from(["\n", "\r\n", "\r"]))
def test_body_offset_is_where_frontmatter_end_says(parts: list[str], eol: str) -> None:
    text = eol.join(parts)
    lines, starts = split_lines_with_starts(text)
    end = frontmatter_end(lines)
    expected = 0 if end < 0 else starts[end + 1] if end + 1 < len(lines) else len(text)
    assert body_offset(text) == expected


# --- every reader agrees on the four-backtick note -------------------------------------

def test_tags_inside_a_four_backtick_fence_are_code() -> None:
    assert body_tags(FENCE_IN_FENCE) == []
    assert lines_outside_fences(FENCE_IN_FENCE) == [
        "# Fences", "", "", "## after", "outside:@:text"]
    note = parse_note("\n".join(FENCE_IN_FENCE), SETTINGS)
    assert not note.is_flashcard_note
    assert note.tags == ()
    tagged = parse_note("---\ntags: [flashcard/active/t]\n---\n" + "\n".join(FENCE_IN_FENCE),
                        SETTINGS)
    assert [(q.front, q.back) for q in tagged.questions] == [("outside", "text")]


def test_breadcrumbs_skip_a_four_backtick_fence() -> None:
    text = "\n".join(FENCE_IN_FENCE)
    assert heading_trail(text, len(FENCE_IN_FENCE) - 1) == ["Fences", "after"]
    assert heading_trail(text, 7) == ["Fences"]  # inside the fence


def test_review_rendering_keeps_fenced_lines() -> None:
    # Inside the fence, `$x$` is code, not math.
    shown = render_text(card_renderable(prepare("````\n```\n$x$\n````\n$y$")), width=40,
                        color=False)
    assert shown.split("\n") == ["```", "$x$", "", "y", ""]


def test_export_renders_the_whole_fence_as_code() -> None:
    html = Renderer().side("````\n```\n#flashcard/active/code\n```\n````\nafter",
                             NoteContext(rel="n.md", vault="v"), single_line=False)
    assert html.count("<pre>") == 1
    assert "<pre><code>```\n#flashcard/active/code\n```\n</code></pre>" in html
    assert html.rstrip().endswith("<p>after</p>")


def test_export_ends_a_quoted_fence_with_its_quote() -> None:
    html = Renderer().side("> ```\n> x\nafter", NoteContext(rel="n.md", vault="v"),
                           single_line=False)
    assert "<pre><code>x\n</code></pre>" in html
    assert "<p>after</p>" in html

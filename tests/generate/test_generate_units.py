"""Unit tests: the finder, the wire format, the schedule matcher and the compat layer."""

from __future__ import annotations

import datetime as dt

import pytest

from flashmark.generate import states
from flashmark.generate.compat import installed
from flashmark.generate.compat import textcode as tc
from flashmark.generate.finder import LfText, find_blocks, find_sections
from flashmark.generate.sections import HEADER, header, split_header, update

WEST = dt.timezone(dt.timedelta(hours=-5))
EAST = dt.timezone(dt.timedelta(hours=8))


def test_lftext_maps_back_to_crlf_bytes() -> None:
    original = "é\r\nab\r\ncd\rx"
    lf = LfText(original)
    assert lf.text == "é\nab\ncd\nx"
    start = lf.text.index("cd")
    # "é" is 2 bytes, each "\r\n" 2 bytes
    assert lf.byte_offsets([start]) == [len("é\r\nab\r\n".encode())]
    assert lf.original_offset(lf.text.index("ab")) == original.index("ab")


def test_blocks_imports_and_lines() -> None:
    text = ("intro\n```Python\n# pytextgen generate module\n# import ../a.md\nx = 1\n```\n"
            "```Python\n# pytextgen generate data\nreturn 1\n```\n"
            "```python\n# pytextgen generate data\n```\n")  # lower-case python: not a block
    blocks, problems = find_blocks(text)
    assert [(b.kind, b.line, b.code_line) for b in blocks] == [("module", 1, 2), ("data", 6, 7)]
    assert blocks[0].imports == (("../a.md", 3),)
    assert not problems


def test_unclosed_block_is_reported() -> None:
    blocks, problems = find_blocks("```Python\n# pytextgen generate data\nreturn 1\n")
    assert not blocks and problems[0].line == 0 and "never closed" in problems[0].message


@pytest.mark.parametrize(("text", "ids", "lines"), [
    ('<!--pytextgen generate section="a"-->x<!--/pytextgen-->', ["a"], []),
    ("<!--pytextgen generate section='a'-->x<!--/pytextgen-->", ["a"], []),
    ('<!--pytextgen generate section="a"-->\nx\n', [], [1]),  # unclosed
    ('<!--pytextgen generate section="a"-->1<!--/pytextgen-->\n'
     '<!--pytextgen generate section="a"-->2<!--/pytextgen-->', [], [2]),  # twice
    ('<!--pytextgen generate section="a"-->\n<!--pytextgen generate section="b"-->\n'
     "<!--/pytextgen-->\n<!--/pytextgen-->", ["b"], [1, 4]),  # nested: a skipped
])
def test_sections(text: str, ids: list[str], lines: list[int]) -> None:
    found, problems, _ = find_sections(text)
    assert sorted(found) == ids
    assert [_one_based(p.line) for p in problems] == lines


def test_header_round_trip_in_any_timezone() -> None:
    for tz in (WEST, EAST, dt.UTC):
        h = header(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=tz))
        assert HEADER.fullmatch(h)
        assert split_header(h + "\n\nbody\n\n") == (h, "\n\nbody\n\n")
    assert "-05:00" in header(dt.datetime(2026, 1, 2, tzinfo=WEST))
    assert ".000000-05:00" in header(dt.datetime(2026, 1, 2, tzinfo=WEST))  # always µs


def test_update_rules() -> None:
    now = dt.datetime(2026, 1, 2, tzinfo=WEST)
    old_h = header(dt.datetime(2024, 1, 1, tzinfo=EAST))
    old = old_h + "\n\n- a::@::b <!--SR:!2026-01-01,1,250-->\n\n"
    assert update("s", 0, old, "\n\n- a::@::b \0\n\n", now) is None  # same text: untouched
    assert update("s", 0, old, "", now) is None  # empty output never clears
    up = update("s", 0, old, "\n\n- a::@::c \0\n\n", now, timestamp=False)
    assert up is not None and up.new.startswith(old_h)  # --no-timestamp keeps the header
    assert up.orphans[0].card == "a::@::b"
    up = update("s", 0, "\n\nold\n\n", "\n\nnew\n\n", now, timestamp=False)
    assert up is not None and up.new == "\n\nnew\n\n"  # no header before: none written


def test_units_and_card_text() -> None:
    body = ("\n\n- A→::@::←B <!--SR:!2026-01-01,1,250-->\n- B→::@::←C\n\n"
            "> quote {@{x}@}\n> more <!--SR:!2026-01-01,2,250-->\n\n1. one:@:two\n")
    us = states.units(body)
    assert [u.key for u in us] == ["A→::@::←B", "B→::@::←C", "> quote {@{x}@}\n> more",
                                   "one:@:two"]
    assert [len(u.comments) for u in us] == [1, 0, 1, 0]


def test_comments_follow_text_not_position() -> None:
    old = ("\n\n- _(begin)_→::@::←a <!--SR:!2026-01-01,1,250-->\n"
           "- a→::@::←b <!--SR:!fsrs,2030-03-17T00:00:00.000Z,1345,1345.1,4.0,2,10,0,0,"
           "2026-07-11T00:00:00.000Z!2026-01-02,2,250-->\n- b→::@::←_(end)_\n\n")
    new = "\n\n- _(begin)_→::@::←x \0\n- x→::@::←a \0\n- a→::@::←b \0\n- b→::@::←_(end)_ \0\n\n"
    got = states.reattach(new, old)
    assert got.text == ("\n\n- _(begin)_→::@::←x\n- x→::@::←a\n- a→::@::←b <!--SR:!fsrs,"
                        "2030-03-17T00:00:00.000Z,1345,1345.1,4.0,2,10,0,0,2026-07-11T00:00"
                        ":00.000Z!2026-01-02,2,250-->\n- b→::@::←_(end)_\n\n")
    assert [o.card for o in got.orphans] == ["_(begin)_→::@::←a"]


def test_identical_cards_keep_their_order() -> None:
    old = "\n\n- a::@::b <!--SR:!2026-01-01,1,250-->\n- a::@::b <!--SR:!2026-01-01,2,250-->\n\n"
    new = "\n\n- a::@::b \0\n- z::@::z \0\n- a::@::b \0\n\n"
    got = states.reattach(new, old).text
    assert got.index("1,250") < got.index("z::@::z") < got.index("2,250")


def test_changed_cloze_block_keeps_entries_by_answer() -> None:
    old = ("\n\n> | {@{a}@} | {@{b}@} |\n> | {@{c}@} | x | <!--SR:!2026-01-01,1,250"
           "!2026-01-01,2,250!2026-01-01,3,250-->\n\n")
    new = "\n\n> | {@{a}@} | {@{new}@} |\n> | {@{c}@} | {@{b}@} | \0\n\n"
    got = states.reattach(new, old)
    assert got.text.endswith("<!--SR:!2026-01-01,1,250!2000-01-01,1,250!2026-01-01,3,250"
                             "!2026-01-01,2,250-->\n\n")
    assert not got.orphans and got.rebuilt == 1


def test_slot_keeps_pytextgens_spacing() -> None:
    old = "\n\n- x →::@::←y  <!--SR:!2026-01-01,1,250-->\n\n"  # pytextgen kept 2 spaces
    new = "\n\n- x →::@::←y  \0\n- q::@::r \0\n\n"
    assert states.reattach(new, old).text == ("\n\n- x →::@::←y  <!--SR:!2026-01-01,1,250-->\n"
                                              "- q::@::r\n\n")


def test_textcode_quirks() -> None:
    code = tc.TextCode.compile("a\\:b{text:c}{:d}{:}e")
    assert [(b.text, b.tag) for b in code.blocks] == [("a:b", ""), ("c", "text"), ("d", ""),
                                                      ("", ""), ("e", "")]
    assert str(code) == "a\\:b{text:c}d{:}e"
    with pytest.raises(ValueError):
        tc.TextCode.compile("a}")
    parts = list(tc.separate_code_by_tag(tc.TextCode.compile("x{sep:}y{sep:}z"), tag="sep"))
    assert [tc.code_to_str(p) for p in parts] == ["x", "y", "z"]


def test_compat_is_installed_only_while_running() -> None:
    import sys

    from flashmark.generate.compat import gen as ours

    before = sys.modules.get("pytextgen")
    with installed():
        from pytextgen.compat import gen  # type: ignore[import-not-found]
        from pytextgen.compat.util import split_by_punctuations  # type: ignore[import-not-found]

        assert list(split_by_punctuations("a, b. c")) == ["a,", " b.", " c"]
        assert list(split_by_punctuations("「a」b")) == ["「a」", "b"]
        assert gen.memorize_indexed_seq(gen.TextCode.compile("{mem:x}{mem:y}"), states=[]) == \
            "\n\n- 1::@::x\n- 2::@::y\n\n"
        assert gen is ours
    assert sys.modules.get("pytextgen") is before


def _one_based(line: int | None) -> int:
    assert line is not None  # these problems are all on a line
    return line + 1

"""Text codes: strings with tagged blocks, the little language pytextgen's helpers share.

A text code is plain text interleaved with blocks written ``{tag:text}``. A backslash
escapes the next character; ``{:text}`` is an untagged (common) block, ``{:}`` an empty
one and ``{}`` only separates. Helpers pick the blocks they want by tag: the quote list
shows common and ``text`` blocks, the card list common and ``mem`` blocks, and so on.

Behaviour reproduced from pytextgen 9.0.1 (observed, not copied), quirks included,
because generated sections must come out byte for byte the same:

* the code gets ``{}`` appended unless it ends with ``}`` (an escaped ``\\}`` or a
  ``{}`` still gets it), which flushes trailing plain text into a block;
* each block remembers a ``char`` offset computed from the *unescaped* lengths, and
  `separate_code_by_tag` cuts the *re-serialized* code at those offsets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum, unique
from typing import ClassVar


@unique
class Tag(StrEnum):
    CLOZE_SEPARATOR = "cloze sep"
    COMMENT = "cmt"
    COMMON = ""
    MEMORIZE = "mem"
    SEMANTICS = "sem"
    SEPARATOR = "sep"
    TEXT = "text"


_SPECIAL = re.compile(r"[\\{}:]")


def _escape(text: str) -> str:
    return _SPECIAL.sub(lambda m: "\\" + m[0], text)


@dataclass(frozen=True, slots=True)
class Block:
    text: str
    char: int = field(kw_only=True)
    tag: str = field(default="", kw_only=True)

    @property
    def special(self) -> bool:
        return bool(self.tag)

    @property
    def common(self) -> bool:
        return not self.tag

    def __str__(self) -> str:
        if self.tag:
            return "{" + self.tag + ":" + _escape(self.text) + "}"
        return _escape(self.text) if self.text else "{:}"


@dataclass(frozen=True, slots=True)
class ByTagValue:
    idx: int
    block: Block


class TextCode:
    """A parsed text code: a tuple of blocks."""

    __slots__ = ("_blocks", "_by_tag")
    ESCAPES: ClassVar[frozenset[str]] = frozenset({"\\", "{", "}", ":"})
    ESCAPE_REGEX: ClassVar[re.Pattern[str]] = _SPECIAL

    def __init__(self, blocks: Iterable[Block]) -> None:
        self._blocks = tuple(blocks)
        by_tag: dict[str, list[ByTagValue]] = {}
        for idx, block in enumerate(self._blocks):
            by_tag.setdefault(block.tag, []).append(ByTagValue(idx, block))
        self._by_tag = {k: tuple(v) for k, v in by_tag.items()}

    @property
    def blocks(self) -> tuple[Block, ...]:
        return self._blocks

    @property
    def by_tag(self) -> _ByTag:
        return _ByTag(self._by_tag)

    def __repr__(self) -> str:
        return f"TextCode(blocks={self._blocks!r})"

    def __str__(self) -> str:
        return "".join(str(b) for b in self._blocks)

    @classmethod
    def escape(cls, text: str, /, *, block: bool = False) -> str:
        escaped = _escape(text)
        return "{:" + escaped + "}" if block else escaped

    @classmethod
    def compiler(cls, code: str) -> Iterator[Block]:
        return _parse(code)

    @classmethod
    def compile(cls, text: str) -> TextCode:
        return cls(_parse(text))


TextCode.Block = Block  # type: ignore[attr-defined]
TextCode.ByTagValue = ByTagValue  # type: ignore[attr-defined]


class _ByTag(dict[str, tuple[ByTagValue, ...]]):
    """``code.by_tag[tag]``: the blocks with that tag, () for none."""

    def __missing__(self, key: str) -> tuple[ByTagValue, ...]:
        return ()


def _parse(code: str) -> Iterator[Block]:
    if not code.endswith("}") or code.endswith("\\}") or code.endswith("{}"):
        code += "{}"
    mode = "plain"  # plain text, a tag name after "{", or a block's text after ":"
    escaped = False
    buf: list[str] = []  # plain text or the block's text
    tag: list[str] = []
    for index, char in enumerate(code):
        if escaped:
            escaped = False
            (tag if mode == "tag" else buf).append(char)
            continue
        if char == "\\":
            escaped = True
        elif mode == "plain":
            if char == "{":
                if buf:
                    text = "".join(buf)
                    yield Block(text, char=index - len(text))
                    buf = []
                mode = "tag"
                tag = []
            elif char == "}":
                raise ValueError(f"Unexpected char at {index}: {code}")
            else:
                buf.append(char)
        elif mode == "tag":
            if char == "{":
                raise ValueError(f"Unexpected char at {index}: {code}")
            if char == ":":
                mode = "block"
                buf = []
            elif char == "}":
                if tag:
                    raise ValueError(f"Unexpected char at {index}: {code}")
                mode = "plain"
            else:
                tag.append(char)
        else:  # block
            if char in "{:":
                raise ValueError(f"Unexpected char at {index}: {code}")
            if char == "}":
                name, text = "".join(tag), "".join(buf)
                yield Block(text, char=index - 2 - len(name) - len(text), tag=name)
                buf = []
                mode = "plain"
            else:
                buf.append(char)


def code_to_strs(code: TextCode, /, *, tag: str = Tag.COMMON) -> Iterator[str]:
    return (b.text for b in code.blocks if not b.tag or b.tag == tag)


def code_to_str(code: TextCode, /, *, tag: str = Tag.COMMON) -> str:
    return "".join(code_to_strs(code, tag=tag))


def affix_code(code: TextCode, /, *, prefix: str = "", suffix: str = "") -> TextCode:
    return TextCode.compile(prefix + str(code) + suffix)


def separate_code_by_tag(code: TextCode, /, *, tag: str) -> Iterator[TextCode]:
    source = str(code)
    cuts = [v.block.char for v in code.by_tag[tag]]
    prev: int | None = None
    for cut in cuts:
        yield TextCode.compile(source[prev:cut])
        prev = cut
    yield TextCode.compile(source[prev:])


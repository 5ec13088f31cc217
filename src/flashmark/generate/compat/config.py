"""`pytextgen.compat.config`: the cloze token and the card separators helpers write.

The defaults are pytextgen's (and the vault's): `{@{`…`}@}`, `:@:`, `::@::`, `?@?`,
`??@??`. Note code may change ``CONFIG``; flashmark puts the defaults back after every
data block (pytextgen gives the next block a fresh copy when the config was changed).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class FlashcardSeparatorType:
    reversible: bool
    multiline: bool

    @classmethod
    def parse(cls, options: str | FlashcardSeparatorType) -> FlashcardSeparatorType:
        """``""``, ``"r"``, ``"m"``, ``"rm"``; ``-`` negates the next option."""
        if not isinstance(options, str):
            return options
        values = {"r": False, "m": False}
        value = True
        for char in options:
            if char == "-":
                if not value:
                    raise ValueError(f"Invalid options: {options}")
                value = False
                continue
            if char not in values:
                raise ValueError(f"Invalid option '{char}': {options}")
            values[char] = value
            value = True
        if not value:
            raise ValueError(f"Incomplete options: {options}")
        return cls(reversible=values["r"], multiline=values["m"])


def _default_separators() -> dict[FlashcardSeparatorType, str]:
    return {
        FlashcardSeparatorType(reversible=False, multiline=False): ":@:",
        FlashcardSeparatorType(reversible=True, multiline=False): "::@::",
        FlashcardSeparatorType(reversible=False, multiline=True): "?@?",
        FlashcardSeparatorType(reversible=True, multiline=True): "??@??",
    }


DEFAULT_CLOZE_TOKEN = ("{@{", "}@}")


@dataclass(slots=True, kw_only=True)
class Configuration:
    cloze_token: tuple[str, str] = DEFAULT_CLOZE_TOKEN
    flashcard_separators: MutableMapping[FlashcardSeparatorType, str] = field(
        default_factory=_default_separators)


CONFIG = Configuration()


def reset() -> None:
    """Put the defaults back (after a data block that changed them)."""
    CONFIG.cloze_token = DEFAULT_CLOZE_TOKEN
    CONFIG.flashcard_separators = _default_separators()


def dirty() -> bool:
    return Configuration() != CONFIG


__all__ = ["CONFIG", "Configuration", "FlashcardSeparatorType"]


def __getattr__(name: str) -> Any:  # pragma: no cover - a clear message for a typo
    raise AttributeError(f"pytextgen.compat.config (flashmark) has no attribute {name!r}")

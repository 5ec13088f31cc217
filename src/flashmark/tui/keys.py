"""A screen's keys as its BINDINGS say them (the one list of them): the key bar at the
bottom of a screen (the bindings with ``show``) and the rows of the help screen (all of
them, each action once with every key bound to it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding, BindingType

# Key names as a person reads them; any other key is shown as Textual names it.
KEY_NAMES = {
    "space": "space", "enter": "enter", "escape": "esc", "exclamation_mark": "!",
    "question_mark": "?", "minus": "-", "slash": "/", "right": "→", "left": "←",
    "up": "↑", "down": "↓", "pageup": "PgUp", "pagedown": "PgDn", "home": "Home",
    "end": "End",
}


def key_name(key: str) -> str:
    return KEY_NAMES.get(key, key)


def _bindings(bindings: Iterable[BindingType]) -> list[Binding]:
    return [b if isinstance(b, Binding) else Binding(*b) for b in bindings]


def bar_keys(*binding_lists: Iterable[BindingType]) -> list[tuple[str, str]]:
    """The key bar's entries, (key, label), in the order of the bindings: each binding
    shown (``show``) with its ``key_display`` (or its first key's name) and description.
    Bindings of one ``group`` in a row make one entry under the group's description:
    two keys side by side (``→←``), more as a range (``0-7``)."""
    entries: list[tuple[list[str], str, Binding.Group | None]] = []
    for binding in _bindings(b for bindings in binding_lists for b in bindings):
        if not (binding.show and binding.description):
            continue
        shown = binding.key_display or key_name(binding.key.split(",")[0].strip())
        group = binding.group
        if group is not None and entries and entries[-1][2] == group:
            entries[-1][0].append(shown)
        else:
            entries.append(([shown], group.description if group else binding.description,
                             group))
    return [("".join(keys) if len(keys) < 3 else f"{keys[0]}-{keys[-1]}", label)
            for keys, label, _ in entries]


@dataclass(frozen=True, slots=True)
class HelpRow:
    """One thing a screen does: every key bound to it, what it is, and more words on it
    (the binding's ``tooltip``) when it has them."""

    keys: tuple[str, ...]
    description: str
    more: str

    @property
    def key_text(self) -> str:
        return ", ".join(self.keys)


def help_rows(*binding_lists: Iterable[BindingType]) -> list[HelpRow]:
    """The help's rows for the bindings, in their order: one per description (the
    keys of one action, or of the bindings a screen and its table share), with every
    key bound to it."""
    rows: dict[str, HelpRow] = {}
    for binding in _bindings(b for bindings in binding_lists for b in bindings):
        keys = tuple(key_name(k.strip()) for k in binding.key.split(","))
        what = binding.description or binding.action
        row = rows.get(what)
        if row is None:
            rows[what] = HelpRow(keys, binding.description, binding.tooltip)
        else:
            rows[what] = HelpRow(row.keys + tuple(k for k in keys if k not in row.keys),
                                 row.description, row.more or binding.tooltip)
    return list(rows.values())

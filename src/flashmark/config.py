"""Settings: one typed schema for the defaults, the plugin's ``data.json`` and ``flashmark.yaml``.

Precedence (lowest first): the ``pytextgen`` preset (flashmark's default), then the
vault's ``.obsidian/plugins/obsidian-spaced-repetition/data.json`` when present, then
``flashmark.yaml`` at the vault root (``preset:`` there starts the parser over from that
preset). Each layer only sets the keys it names. ``load_settings`` reads them once per
process and vault: it keeps the result while none of the files changed.

The schema is the dataclasses below. Each setting is one field declared with
``setting(default, check)``; its key in ``flashmark.yaml`` is ``<section>.<field name>``
(``parser.``, ``scheduling.``, ``review.``) or the ``key=`` given for a field of
``Settings`` itself (``write.in_place`` is ``Settings.write_in_place``). The loader walks
the file against the tree these fields describe: an unknown key is an error naming the
closest known key, and a value its check refuses is one ``ConfigError`` naming the file,
the key path and what is expected (exit 3, whichever command reads the settings).

Adding a key is one line in its section's dataclass, for example::

    day_boundary: str = setting("04:00", clock_time)          # scheduling.day_boundary
    rematch: bool = setting(False, boolean, key="generate.rematch")   # in Settings

(``clock_time`` standing for a check like those below: a function from the raw value to
the typed one that raises ``Invalid``). Add it to the README's example configuration
too. A plugin key read from ``data.json`` is one line in ``_OSR_KEYS``.

Why plain code and not a validation library such as msgspec (which installs fine): the
settings are about thirty keys read once per process, so speed is not at stake, while
what matters here is the wording: every message names the file, the key path and what is
expected in the project's own terms ("a whole number >= 0", "a duration like 10m"), names
the closest key for a typo, and keeps the messages the tests pin. msgspec reports
``Expected `float`, got `str` - at `$.scheduling.desired_retention``` and its
unknown-field error has no suggestion, so its errors would need rewriting, and durations,
deck names with ``#`` and the plugin's camelCase keys need our own conversion after it
anyway. Plain checks keep one place for both and add no dependency.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from flashmark.decks import DeckPattern
from flashmark.errors import ConfigError

OSR_DATA_JSON = Path(".obsidian/plugins/obsidian-spaced-repetition/data.json")
CONFIG_FILE = "flashmark.yaml"
DEFAULT_GENERATE_TIMEOUT = 60.0  # seconds one note's code may run in `flashmark generate`
STATE_DIR = ".flashmark"
WEIGHTS_FILE = "weights.json"  # written by `flashmark optimize --save`
FSRS6_WEIGHT_COUNT = 21
FSRS5_WEIGHT_COUNT = 19

T = TypeVar("T")


# --- checks: a raw value in, the typed value out, or Invalid ------------------------------


class Invalid(Exception):  # noqa: N818 (a check's verdict, turned into a ConfigError)
    """A value a check refuses. ``predicate`` completes "<file>: <key> ...", e.g.
    "must be true or false, got 'yes'"; ``standalone`` texts follow "<file>: <key>: ".
    The message is one line: the expected form goes into it, not into a hint."""

    def __init__(self, predicate: str, *, standalone: bool = False,
                 subkey: str | None = None) -> None:
        super().__init__(predicate)
        self.predicate = predicate
        self.standalone = standalone
        self.subkey = subkey  # the entry of a mapping-valued key that is wrong


Check = Callable[[object], Any]


def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, got {value!r}")
    return value


def text(value: object) -> str:
    """A non-empty string (a separator, a glob, a name)."""
    if not isinstance(value, str) or not value:
        raise Invalid(f"must be a non-empty string, got {value!r}")
    return value


def number(*, gt: float | None = None, lt: float | None = None,
           ge: float | None = None) -> Callable[[object], float]:
    """A finite int or float (not a bool) within the given bounds."""
    bounds = [f"> {gt:g}" if gt is not None else "", f">= {ge:g}" if ge is not None else "",
              f"< {lt:g}" if lt is not None else ""]
    expected = " and ".join(b for b in bounds if b)
    wanted = f"a number {expected}".strip()

    def check(value: object) -> float:
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value) or (gt is not None and not value > gt)
                or (ge is not None and not value >= ge) or (lt is not None and not value < lt)):
            raise Invalid(f"must be {wanted}, got {value!r}")
        return float(value)
    return check


def whole(*, ge: int, le: int | None = None) -> Callable[[object], int]:
    def check(value: object) -> int:
        if (isinstance(value, bool) or not isinstance(value, int) or value < ge
                or (le is not None and value > le)):
            bounds = f">= {ge}" if le is None else f"from {ge} to {le}"
            raise Invalid(f"must be a whole number {bounds}, got {value!r}")
        return value
    return check


def one_of(*choices: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if value not in choices:
            raise Invalid(f"must be one of {', '.join(choices)}, got {value!r}")
        assert isinstance(value, str)
        return value
    return check


def strings(value: object) -> tuple[str, ...]:
    """A list of non-empty strings (globs, cloze patterns)."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise Invalid(f"must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def tags(value: object) -> tuple[str, ...]:
    """Flashcard tags, ``#`` optional: stored without it."""
    if not isinstance(value, list):
        raise Invalid(f"must be a list of tags like [\"#flashcard/active\"], got {value!r}")
    for tag in value:
        if not isinstance(tag, str) or not tag.strip().lstrip("#").strip():
            raise Invalid(f"must hold non-empty tags, got {tag!r}")
    return tuple(tag.strip().lstrip("#") for tag in value)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_DURATION_HINT = "write durations like 30s, 10m, 1h or 1d"  # one line with the error


def _duration(value: object) -> dt.timedelta:
    m = _DURATION.match(str(value)) if isinstance(value, str | int | float) else None
    if m is None or isinstance(value, bool) or float(m[1]) <= 0:
        raise Invalid(f"{value!r} is not a duration ({_DURATION_HINT})", standalone=True)
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "": "minutes"}[m[2]]
    return dt.timedelta(**{unit: float(m[1])})


def parse_duration(value: object, source: str) -> dt.timedelta:
    """`30s`, `10m`, `1.5h`, `1d`, or a bare number of minutes."""
    try:
        return _duration(value)
    except Invalid as exc:
        raise ConfigError(f"{source}: {exc.predicate}") from None


def duration_texts(value: object) -> tuple[str, ...]:
    """Learning steps: a list of durations, kept as written (parsed by the scheduler)."""
    if not isinstance(value, list):
        raise Invalid(f"must be a list like [1m, 10m], got {value!r}")
    for v in value:
        _duration(v)
    return tuple(str(v) for v in value)


def duration_or_zero(value: object) -> dt.timedelta:
    return dt.timedelta(0) if value in (0, "0") else _duration(value)


def seconds(value: object) -> float:
    """A positive number of seconds or a duration like ``2m``."""
    if isinstance(value, str):
        return _duration(value).total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise Invalid(f"must be a positive number of seconds or a duration like 2m, "
                      f"got {value!r}")
    return float(value)


def weights(value: object) -> tuple[float, ...] | None:
    """FSRS weights: 21 (FSRS-6) or 19 (FSRS-5) finite numbers."""
    if (not isinstance(value, list) or not all(
            isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
            for x in value)):
        raise Invalid(f"must be a list of numbers, got {value!r}")
    if len(value) not in (FSRS6_WEIGHT_COUNT, FSRS5_WEIGHT_COUNT):
        raise Invalid(f"must hold {FSRS6_WEIGHT_COUNT} numbers (FSRS-6) or "
                      f"{FSRS5_WEIGHT_COUNT} (FSRS-5), got {len(value)}")
    return tuple(float(x) for x in value)


def _deck_name(value: object) -> str:
    name = value.strip().lstrip("#").strip("/") if isinstance(value, str) else ""
    if not name:
        raise Invalid(f"{value!r} is not a deck name", standalone=True)
    return name


def setting(default: T, check: Callable[[object], T], *, key: str | None = None) -> T:
    """One key of the schema: its default, its check, and (for a field of ``Settings``
    itself) its dotted key in ``flashmark.yaml``."""
    made: T = field(default=default, metadata={"check": check, "key": key})
    return made


# The metadata of a nested section (``parser:``, ``scheduling:``, ``review:``): its key is
# the field's name, its keys are the fields of the field's dataclass.
SECTION = {"section": True}


# --- the schema ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParserSettings:
    """What the parser needs to cut a note into questions."""

    single_line_separator: str = setting(":@:", text)
    single_line_reversed_separator: str = setting("::@::", text)
    multiline_separator: str = setting("?@?", text)
    multiline_reversed_separator: str = setting("??@??", text)
    cloze_patterns: tuple[str, ...] = setting(
        ("{@{[123;;]answer[;;hint]}@}", "<@<[123;;]answer[;;hint]>@>"), strings)
    # Tags (without "#") that make a note a flashcard note; empty: every note is.
    flashcard_tags: tuple[str, ...] = setting((), tags)
    comment_on_same_line: bool = setting(True, boolean)

    def fingerprint(self) -> str:
        """A short hash: cached parse results are only valid for the same settings."""
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.blake2b(blob, digest_size=8).hexdigest()


PRESETS: dict[str, ParserSettings] = {
    "pytextgen": ParserSettings(),
    "osr": ParserSettings(
        single_line_separator="::",
        single_line_reversed_separator=":::",
        multiline_separator="?",
        multiline_reversed_separator="??",
        cloze_patterns=("==[123;;]answer[;;hint]==",),
        flashcard_tags=("flashcards",),
        comment_on_same_line=False,
    ),
}


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def easy_days(value: object) -> tuple[float, ...]:
    """``scheduling.easy_days``: weekday name -> a number from 0 to 1 (unnamed days: 1);
    stored as seven numbers, Monday first."""
    if not isinstance(value, dict):
        raise Invalid(f"must map weekdays to a share of a normal day's load, like "
                      f"{{saturday: 0.5, sunday: 0}}, got {value!r}")
    shares = [1.0] * 7
    for day, share in value.items():
        name = str(day).strip().lower()
        if name not in WEEKDAYS:
            raise Invalid(f"{day!r} is not a weekday (monday .. sunday)", standalone=True)
        try:
            shares[WEEKDAYS.index(name)] = number(ge=0)(share)
        except Invalid as exc:
            exc.subkey = name
            raise
        if shares[WEEKDAYS.index(name)] > 1:
            bad = Invalid(f"must be a number from 0 to 1, got {share!r}")
            bad.subkey = name
            raise bad
    return tuple(shares)


@dataclass(frozen=True, slots=True)
class SchedulingSettings:
    # what the vault's plugin is set to
    algorithm: str = setting("fsrs", one_of("fsrs", "sm2"))
    desired_retention: float = setting(0.9, number(gt=0, lt=1))
    maximum_interval: int = setting(36500, whole(ge=1))  # days
    # how new entries are written: "fsrs" or "sm2" (the plugin's legacy triple)
    state_format: str = setting("fsrs", one_of("fsrs", "sm2"))
    learning_steps: tuple[str, ...] = setting(("1m", "10m"), duration_texts)
    relearning_steps: tuple[str, ...] = setting(("10m",), duration_texts)
    # Spread intervals a little, like Anki and the plugin; seeded by card and time, so
    # a rating is still reproducible.
    fuzz: bool = setting(True, boolean)
    weights: tuple[float, ...] | None = setting(None, weights)  # None: FSRS-6 defaults
    weights_source: str = ""  # where the weights came from, for messages (not a key)
    # --- day counting (flashmark.days) ---
    # the hour (0..23, local time) the learner's day starts at, Anki's "next day starts
    # at": used for elapsed days, same-day reviews, "due today"
    day_boundary: int = setting(4, whole(ge=0, le=23))
    # "learner" (days as above) or "utc" (the plugin's rule: UTC calendar days), for the
    # scheduler's elapsed days
    elapsed_days: str = setting("learner", one_of("learner", "utc"))
    # Load balancing (scheduling.load_balance): among the days fuzz allows, prefer those
    # with fewer reviews due (the plugin's `loadBalance`); easy_days: weekday -> share of
    # a normal day's reviews (1 normal, 0 as few as possible, between: reduced).
    load_balance: bool = setting(False, boolean)
    easy_days: tuple[float, ...] = setting((1.0,) * 7, easy_days)


ORDERS = ("due", "random", "deck", "overdue")
LEECH_ACTIONS = ("tag", "suspend")  # model.LeechAction
MATH_MODES = ("unicode", "source")  # review.card_view.MathMode
SHARED = ""  # the limit group of cards in no configured deck (see review.settings)


@dataclass(frozen=True, slots=True)
class DeckLimit:
    """One deck's own daily limits under ``review.decks`` (the mapping form); None: the
    global value (``review.new_per_day`` / ``review.max_reviews_per_day``) applies."""

    new_per_day: int | None = None
    max_reviews_per_day: int | None = None


_DECK_LIMIT_KEYS = ("new_per_day", "max_reviews_per_day")


def _deck_limit(value: object) -> int | DeckLimit:
    """A whole number (the deck's new-card limit: the first form, kept) or a mapping of
    ``new_per_day`` and/or ``max_reviews_per_day``."""
    if isinstance(value, dict):
        unknown = sorted(str(k) for k in value if k not in _DECK_LIMIT_KEYS)
        if unknown:
            raise Invalid(f"unknown limit(s) {', '.join(unknown)}: known: "
                          f"{', '.join(_DECK_LIMIT_KEYS)}", standalone=True)
        limits: dict[str, int | None] = {}
        for key in _DECK_LIMIT_KEYS:
            if key in value:
                try:
                    limits[key] = whole(ge=0)(value[key])
                except Invalid as exc:
                    raise Invalid(f"{key} {exc.predicate}", standalone=True) from None
        return DeckLimit(**limits)
    return whole(ge=0)(value)


def deck_limits(value: object) -> tuple[tuple[str, int | DeckLimit], ...]:
    """``review.decks``: deck (a tag path, ``#`` and slashes around it optional) -> its
    daily new-card limit, or a mapping of its limits
    (``{new_per_day: 5, max_reviews_per_day: 100}``)."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise Invalid(f"must map deck names to limits ({{flashcard/active/general: 10}}), "
                      f"got {value!r}")
    limits: list[tuple[str, int | DeckLimit]] = []
    for deck, limit in value.items():
        name = _deck_name(deck)
        try:
            limits.append((name, _deck_limit(limit)))
        except Invalid as exc:
            exc.subkey = name
            raise
    return tuple(limits)


def optional_whole(value: object) -> int | None:
    """A whole number >= 0, or null (no limit)."""
    return None if value is None else whole(ge=0)(value)


@functools.lru_cache(maxsize=8)
def _deck_patterns(keys: tuple[str, ...]) -> tuple[DeckPattern, ...]:
    # Compiled once per configuration; each pattern remembers the decks it has seen.
    return tuple(DeckPattern(k) for k in keys)


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    """The ``review:`` section; what the limits mean is in ``flashmark.review.settings``."""

    new_per_day: int = setting(20, whole(ge=0))
    # Anki's "maximum reviews/day" for every deck without a limit of its own; None (the
    # default): no limit
    max_reviews_per_day: int | None = setting(None, optional_whole)
    deck_limits: tuple[tuple[str, int | DeckLimit], ...] = setting((), deck_limits, key="decks")
    # Anki's "new cards ignore review limit": by default a day's new cards are also
    # bounded by what the review limit leaves
    new_ignores_review_limit: bool = setting(False, boolean)
    bury_siblings: bool = setting(True, boolean)
    order: str = setting("due", one_of(*ORDERS))
    # (setting() returns a dataclasses.field, which ruff cannot see for this type)
    learn_ahead: dt.timedelta = setting(dt.timedelta(minutes=20), duration_or_zero)  # noqa: RUF009
    # how LaTeX is shown: as Unicode text, or as its source
    math: str = setting("unicode", one_of(*MATH_MODES))
    # lapses that make a card a leech (0: never), and what then happens to it
    leech_threshold: int = setting(8, whole(ge=0))
    leech_action: str = setting("tag", one_of(*LEECH_ACTIONS))
    # the longest time one answer counts for in the log and the day's study time (Anki's
    # "maximum answer seconds")
    max_answer_seconds: int = setting(60, whole(ge=1, le=3600))

    def group_of(self, deck: str | None) -> str:
        """The limit group of a card's deck: of the configured deck patterns that select it
        (`flashmark.decks`: a deck selects its sub-decks, globs allowed), the one matching
        the deck itself or its nearest parent, then the one with the most literal
        characters; SHARED when none selects it."""
        best = SHARED
        if deck is None or not self.deck_limits:
            return best
        narrowest = (0, 0)
        for pattern in _deck_patterns(tuple(p for p, _ in self.deck_limits)):
            depth = pattern.depth(deck)
            if depth and (depth, pattern.literal_length()) > narrowest:
                best, narrowest = pattern.text, (depth, pattern.literal_length())
        return best

    def pools_of(self, deck: str | None) -> tuple[str, ...]:
        """Every limit group bounding a card of ``deck``: each configured deck pattern
        that selects it (a parent deck's limits bound its sub-decks, as in Anki), or
        SHARED when none does."""
        if deck is None or not self.deck_limits:
            return (SHARED,)
        found = tuple(pattern.text for pattern in _deck_patterns(
            tuple(p for p, _ in self.deck_limits)) if pattern.selects(deck))
        return found or (SHARED,)

    def limit_of(self, group: str) -> int:
        """The group's daily new-card limit."""
        if group == SHARED:
            return self.new_per_day
        own = dict(self.deck_limits)[group]
        if isinstance(own, DeckLimit):
            return self.new_per_day if own.new_per_day is None else own.new_per_day
        return own

    def review_limit_of(self, group: str) -> int | None:
        """The group's maximum reviews a day (None: no limit)."""
        if group != SHARED:
            own = dict(self.deck_limits)[group]
            if isinstance(own, DeckLimit) and own.max_reviews_per_day is not None:
                return own.max_reviews_per_day
        return self.max_reviews_per_day

    @property
    def groups(self) -> list[str]:
        return [SHARED, *(p for p, _ in self.deck_limits)]


@dataclass(frozen=True, slots=True)
class Settings:
    parser: ParserSettings = field(default_factory=ParserSettings, metadata=SECTION)
    scheduling: SchedulingSettings = field(default_factory=SchedulingSettings, metadata=SECTION)
    # globs of vault-relative paths that are not notes
    ignore: tuple[str, ...] = setting((), strings, key="ignore")
    # overwrite read-only or hard-linked notes in place (not atomic) instead of refusing
    write_in_place: bool = setting(False, boolean, key="write.in_place")
    # seconds one note's code may run in `flashmark generate`
    generate_timeout: float = setting(DEFAULT_GENERATE_TIMEOUT, seconds, key="generate.timeout")
    sources: tuple[str, ...] = ()  # which files contributed, for messages (not a key)
    review: ReviewSettings = field(default_factory=ReviewSettings, metadata=SECTION)
    # how far `flashmark generate` goes to give an old schedule to an edited card
    generate_rematch: str = setting("similar", one_of("exact", "normalized", "similar"),
                                    key="generate.rematch")


# Plugin key in data.json -> (our setting as "section.field", or None: checked only, check).
# Keys not listed are the plugin's own business and are not read.
_OSR_KEYS: dict[str, tuple[str | None, Check]] = {
    "singleLineCardSeparator": ("parser.single_line_separator", text),
    "singleLineReversedCardSeparator": ("parser.single_line_reversed_separator", text),
    "multilineCardSeparator": ("parser.multiline_separator", text),
    "multilineReversedCardSeparator": ("parser.multiline_reversed_separator", text),
    "cardCommentOnSameLine": ("parser.comment_on_same_line", boolean),
    "clozePatterns": ("parser.cloze_patterns", strings),
    "flashcardTags": ("parser.flashcard_tags", tags),
    "algorithm": ("scheduling.algorithm", text),  # "FSRS" or "SM-2-OSR"; mapped below
    "fsrsDesiredRetention": ("scheduling.desired_retention", number(gt=0, lt=1)),
    "maximumInterval": ("scheduling.maximum_interval", whole(ge=1)),
    "noteFoldersToIgnore": ("ignore", strings),
    "burySiblingCards": ("review.bury_siblings", boolean),
    # The plugin's card and deck order, read together into review.order (below).
    "flashcardCardOrder": (None, text),
    "flashcardDeckOrder": (None, text),
    "loadBalance": ("scheduling.load_balance", boolean),
    # Not used by flashmark, but it writes the SM-2 entries the plugin schedules with
    # them (state_format: sm2): a broken value is reported, not passed on.
    "baseEase": (None, number(gt=0)),
    "easyBonus": (None, number(ge=1)),
    "lapsesIntervalChange": (None, number(ge=0)),
}


# --- the loader ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Leaf:
    path: tuple[str, ...]  # field names from Settings down, e.g. ("scheduling", "fuzz")
    check: Check


_Tree = dict[str, "_Leaf | _Tree"]


def _tree_of(cls: type[Any], prefix: tuple[str, ...] = ()) -> _Tree:
    """The keys of ``flashmark.yaml`` for a settings dataclass, from its fields."""
    tree: _Tree = {}
    for f in fields(cls):
        if f.metadata.get("section"):
            factory = f.default_factory
            assert factory is not dataclasses.MISSING
            tree[f.name] = _tree_of(type(factory()), (*prefix, f.name))
        elif "check" in f.metadata:
            key = f.metadata["key"] or f.name
            *parents, last = key.split(".")
            node = tree
            for part in parents:
                child = node.setdefault(part, {})
                assert isinstance(child, dict)
                node = child
            node[last] = _Leaf((*prefix, f.name), f.metadata["check"])
    return tree


_SCHEMA = _tree_of(Settings)
_TOP_ONLY = {"preset"}  # top-level keys read by the loader itself


def _fail(source: str, key: str, exc: Invalid) -> ConfigError:
    if exc.subkey is not None:
        key = f"{key}.{exc.subkey}"
    sep = ": " if exc.standalone else " "
    return ConfigError(f"{source}: {key}{sep}{exc.predicate}")


def _unknown(source: str, where: str, unknown: list[str], known: list[str]) -> ConfigError:
    names = ", ".join(unknown)
    what = f"unknown key(s) {names}" if not where else f"unknown {where} setting(s) {names}"
    close = difflib.get_close_matches(unknown[0], known, n=1)
    return ConfigError(f"{source}: {what}: " + (f"did you mean {close[0]}?" if close
                                               else f"known: {', '.join(known)}"))


def _walk(data: Mapping[Any, Any], tree: _Tree, source: str, where: str,
          out: dict[tuple[str, ...], Any], extra: frozenset[str] = frozenset()) -> None:
    """Check ``data`` (the mapping at key path ``where``) against ``tree``; collect the
    typed values by field path in ``out``."""
    known = sorted({*tree, *extra})
    unknown = sorted(str(k) for k in data if k not in tree and k not in extra)
    if unknown:
        raise _unknown(source, where, unknown, known)
    for key, node in tree.items():
        if key not in data:
            continue
        value = data[key]
        path = f"{where}.{key}" if where else key
        if isinstance(node, dict):
            if value is None:
                continue  # `review:` with nothing under it: the defaults
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: '{path}' must be a mapping (of "
                                  f"{', '.join(sorted(node))}), got {value!r}")
            _walk(value, node, source, path, out)
            continue
        try:
            out[node.path] = node.check(value)
        except Invalid as exc:
            raise _fail(source, path, exc) from None


def _apply(base: T, changes: Mapping[tuple[str, ...], Any]) -> T:
    """``base`` with the values at the given field paths replaced."""
    own = {p[0]: v for p, v in changes.items() if len(p) == 1}
    nested: dict[str, dict[tuple[str, ...], Any]] = {}
    for p, v in changes.items():
        if len(p) > 1:
            nested.setdefault(p[0], {})[p[1:]] = v
    for name, sub in nested.items():
        own[name] = _apply(getattr(base, name), sub)
    return replace(base, **own) if own else base  # type: ignore[type-var]


def _osr_changes(data: object, osr: Path) -> dict[tuple[str, ...], Any]:
    if not isinstance(data, dict):
        raise ConfigError(f"{osr}: expected a JSON object")
    nested = "settings" in data
    plugin = data.get("settings", data)
    if not isinstance(plugin, dict):
        raise ConfigError(f"{osr}: expected an object with a 'settings' object")
    out: dict[tuple[str, ...], Any] = {}
    for key, (target, check) in _OSR_KEYS.items():
        if key not in plugin:
            continue
        try:
            value = check(plugin[key])
        except Invalid as exc:
            raise _fail(str(osr), f"settings.{key}" if nested else key, exc) from None
        if target is None:
            continue
        if key == "algorithm":
            value = "fsrs" if value.upper() == "FSRS" else "sm2"
        elif key == "clozePatterns":
            # flashmark also reads `<@<...>@>` clozes next to the vault's own patterns.
            value = (*value, *(p for p in ParserSettings().cloze_patterns[1:]
                               if p not in value))
        out[tuple(target.split("."))] = value
    order = plugin_order(plugin.get("flashcardCardOrder"), plugin.get("flashcardDeckOrder"))
    if order is not None:
        out["review", "order"] = order
    return out


def plugin_order(card_order: object, deck_order: object) -> str | None:
    """``review.order`` for the plugin's ``flashcardCardOrder`` / ``flashcardDeckOrder``
    (None: neither is set). Random cards (``...Random``, ``EveryCardRandomDeckAndCard``)
    are ``random``; sequential cards deck after deck (``PrevDeckComplete_...``) are
    ``deck``; else ``due``. The plugin's new-first orders are not followed: flashmark
    shows reviews before new cards, as Anki does (docs/compatibility.md)."""
    if not isinstance(card_order, str) and not isinstance(deck_order, str):
        return None
    cards = card_order if isinstance(card_order, str) else ""
    decks = deck_order if isinstance(deck_order, str) else ""
    if cards.endswith("Random") or "EveryCardRandom" in cards + decks:
        return "random"
    if decks.startswith("PrevDeckComplete"):
        return "deck"
    return "due"


def read_config_yaml(vault: Path) -> dict[str, Any] | None:
    """The vault's `flashmark.yaml` as a mapping, or None when there is none."""
    own = vault / CONFIG_FILE
    if not own.is_file():
        return None
    import yaml  # only vaults with a flashmark.yaml pay for importing PyYAML

    try:
        data = yaml.safe_load(own.read_bytes()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{own}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{own}: expected a mapping at the top level")
    return data


def settings_from_yaml(data: Mapping[Any, Any], base: Settings | None = None,
                       source: str = CONFIG_FILE) -> Settings:
    """``base`` (default: the defaults) with a parsed ``flashmark.yaml`` applied."""
    settings = base or Settings()
    changes: dict[tuple[str, ...], Any] = {}
    _walk(data, _SCHEMA, source, "", changes, extra=frozenset(_TOP_ONLY))
    if "preset" in data:
        name = data["preset"]
        if not isinstance(name, str) or name not in PRESETS:
            raise ConfigError(f"{source}: preset must be one of {', '.join(PRESETS)}, "
                              f"got {name!r}")
        settings = replace(settings, parser=PRESETS[name])
    if ("scheduling", "weights") in changes:
        changes["scheduling", "weights_source"] = source
    return _apply(settings, changes)


def review_section(data: object, source: str = CONFIG_FILE) -> ReviewSettings:
    """The value of the ``review:`` key alone, checked (None: all defaults)."""
    return settings_from_yaml({"review": data}, source=source).review


def _read_settings(vault: Path) -> Settings:
    settings = Settings()
    sources: list[str] = []
    osr = vault / OSR_DATA_JSON
    if osr.is_file():
        try:
            data = json.loads(osr.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{osr}: cannot read the plugin settings: {exc}") from exc
        settings = _apply(settings, _osr_changes(data, osr))
        sources.append(str(OSR_DATA_JSON))
    ydata = read_config_yaml(vault)
    if ydata is not None:
        settings = settings_from_yaml(ydata, settings, CONFIG_FILE)
        sources.append(CONFIG_FILE)
    fitted = vault / STATE_DIR / WEIGHTS_FILE
    if settings.scheduling.weights is None and fitted.is_file():
        try:
            wdata = json.loads(fitted.read_bytes())
            fitted_weights = tuple(float(x) for x in wdata["weights"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{fitted}: cannot read the fitted weights: {exc}",
                              hint="delete the file or run `flashmark optimize --save` again"
                              ) from exc
        settings = replace(settings, scheduling=replace(
            settings.scheduling, weights=fitted_weights,
            weights_source=f"{STATE_DIR}/{WEIGHTS_FILE}"))
        sources.append(f"{STATE_DIR}/{WEIGHTS_FILE}")
    return replace(settings, sources=tuple(sources))


_Stamp = tuple[tuple[int, int, int, int] | None, ...]
_CACHE: dict[Path, tuple[_Stamp, Settings]] = {}


def _stamp(vault: Path) -> _Stamp:
    """What identifies the settings files' current contents (None: absent)."""
    out: list[tuple[int, int, int, int] | None] = []
    for rel in (OSR_DATA_JSON, Path(CONFIG_FILE), Path(STATE_DIR, WEIGHTS_FILE)):
        try:
            st = os.stat(vault / rel)
        except OSError:
            out.append(None)
        else:
            out.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(out)


def load_settings(vault: Path) -> Settings:
    """The vault's settings; a broken file is a ConfigError, never a traceback. Parsed
    once per process and vault: later calls reuse the result while the files' size,
    times and inode are unchanged (a changed file is read again)."""
    key = vault.absolute()
    stamp = _stamp(key)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    settings = _read_settings(key)
    _CACHE[key] = (stamp, settings)
    return settings

"""Settings: presets, the OSR plugin's ``data.json`` and our own ``flashmark.yaml``.

Precedence (lowest first): the ``pytextgen`` preset (flashmark's default), then the
vault's ``.obsidian/plugins/obsidian-spaced-repetition/data.json`` when present, then
``flashmark.yaml`` at the vault root. Each layer only sets the keys it names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from flashmark.errors import ConfigError

OSR_DATA_JSON = Path(".obsidian/plugins/obsidian-spaced-repetition/data.json")
CONFIG_FILE = "flashmark.yaml"
DEFAULT_GENERATE_TIMEOUT = 60.0  # seconds one note's code may run in `flashmark generate`
STATE_DIR = ".flashmark"
WEIGHTS_FILE = "weights.json"  # written by `flashmark optimize --save`


@dataclass(frozen=True, slots=True)
class ParserSettings:
    """What the parser needs to cut a note into questions."""

    single_line_separator: str = ":@:"
    single_line_reversed_separator: str = "::@::"
    multiline_separator: str = "?@?"
    multiline_reversed_separator: str = "??@??"
    cloze_patterns: tuple[str, ...] = ("{@{[123;;]answer[;;hint]}@}", "<@<[123;;]answer[;;hint]>@>")
    # Tags (without "#") that make a note a flashcard note; empty: every note is.
    flashcard_tags: tuple[str, ...] = ()
    comment_on_same_line: bool = True

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


@dataclass(frozen=True, slots=True)
class SchedulingSettings:
    algorithm: str = "fsrs"  # "fsrs" or "sm2" (what the vault's plugin is set to)
    desired_retention: float = 0.9
    maximum_interval: int = 36500
    state_format: str = "fsrs"  # how new entries are written: "fsrs" or "sm2"
    learning_steps: tuple[str, ...] = ("1m", "10m")  # durations: 30s, 10m, 1h, 1d
    relearning_steps: tuple[str, ...] = ("10m",)
    # Spread intervals a little, like Anki and the plugin; seeded by card and time, so
    # a rating is still reproducible.
    fuzz: bool = True
    weights: tuple[float, ...] | None = None  # FSRS weights; None: FSRS-6 defaults
    weights_source: str = ""  # where the weights came from, for messages


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def parse_duration(value: object, source: str) -> dt.timedelta:
    """`30s`, `10m`, `1.5h`, `1d`, or a bare number of minutes."""
    m = _DURATION.match(str(value)) if isinstance(value, str | int | float) else None
    if m is None or isinstance(value, bool) or float(m[1]) <= 0:
        raise ConfigError(f"{source}: {value!r} is not a duration",
                          hint="write durations like 30s, 10m, 1h or 1d")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "": "minutes"}[m[2]]
    return dt.timedelta(**{unit: float(m[1])})


@dataclass(frozen=True, slots=True)
class Settings:
    parser: ParserSettings = field(default_factory=ParserSettings)
    scheduling: SchedulingSettings = field(default_factory=SchedulingSettings)
    ignore: tuple[str, ...] = ()  # globs of vault-relative paths that are not notes
    # `write.in_place`: overwrite read-only or hard-linked notes in place (not atomic)
    # instead of refusing to write them.
    write_in_place: bool = False
    generate_timeout: float = DEFAULT_GENERATE_TIMEOUT  # seconds per note in `generate`
    # `generate.rematch`: the last stage that may move a schedule to a changed card
    generate_rematch: str = "similar"  # exact | normalized | similar
    sources: tuple[str, ...] = ()  # which files contributed, for `flashmark config`-like output


# OSR data.json key -> ParserSettings field
_OSR_PARSER_KEYS = {
    "singleLineCardSeparator": "single_line_separator",
    "singleLineReversedCardSeparator": "single_line_reversed_separator",
    "multilineCardSeparator": "multiline_separator",
    "multilineReversedCardSeparator": "multiline_reversed_separator",
    "cardCommentOnSameLine": "comment_on_same_line",
}


def _strip_hash(tags: list[Any], source: str) -> tuple[str, ...]:
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip("#").strip():
            raise ConfigError(f"{source}: flashcard tags must be non-empty strings, got {tag!r}")
        out.append(tag.strip().lstrip("#"))
    return tuple(out)


def _globs(value: Any, source: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: '{key}' must be a list of glob strings")
    return tuple(value)


def _from_osr(data: dict[str, Any], parser: ParserSettings, sched: SchedulingSettings,
              source: str) -> tuple[ParserSettings, SchedulingSettings]:
    settings = data.get("settings", data)
    if not isinstance(settings, dict):
        raise ConfigError(f"{source}: expected an object with a 'settings' object")
    changes: dict[str, Any] = {}
    for key, attr in _OSR_PARSER_KEYS.items():
        if key in settings:
            changes[attr] = settings[key]
    if "clozePatterns" in settings:
        pats = settings["clozePatterns"]
        if not isinstance(pats, list) or not all(isinstance(p, str) for p in pats):
            raise ConfigError(f"{source}: 'clozePatterns' must be a list of strings")
        # flashmark also reads `<@<...>@>` clozes next to the vault's own patterns.
        extra = tuple(p for p in ParserSettings().cloze_patterns[1:] if p not in pats)
        changes["cloze_patterns"] = (*pats, *extra)
    if "flashcardTags" in settings:
        changes["flashcard_tags"] = _strip_hash(settings["flashcardTags"], source)
    sched_changes: dict[str, Any] = {}
    if "algorithm" in settings and isinstance(settings["algorithm"], str):
        sched_changes["algorithm"] = "fsrs" if settings["algorithm"].upper() == "FSRS" else "sm2"
    if isinstance(settings.get("fsrsDesiredRetention"), int | float):
        sched_changes["desired_retention"] = float(settings["fsrsDesiredRetention"])
    if isinstance(settings.get("maximumInterval"), int):
        sched_changes["maximum_interval"] = settings["maximumInterval"]
    return _replace_checked(parser, changes, source), replace(sched, **sched_changes)


def _replace_checked(obj: Any, changes: dict[str, Any], source: str) -> Any:
    types = {f.name: f.type for f in fields(obj)}
    for name, value in changes.items():
        expected = types[name]
        if expected in ("str",) and (not isinstance(value, str) or not value):
            raise ConfigError(f"{source}: '{name}' must be a non-empty string, got {value!r}")
        if expected == "bool" and not isinstance(value, bool):
            raise ConfigError(f"{source}: '{name}' must be true or false, got {value!r}")
    return replace(obj, **changes)


def _from_yaml(data: dict[str, Any], parser: ParserSettings, sched: SchedulingSettings,
               source: str) -> tuple[ParserSettings, SchedulingSettings]:
    known_top = {"preset", "parser", "scheduling", "ignore", "review", "write", "generate"}
    unknown = set(data) - known_top
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}",
                          hint=f"known keys: {', '.join(sorted(known_top))}")
    if "preset" in data:
        name = data["preset"]
        if name not in PRESETS:
            raise ConfigError(f"{source}: unknown preset {name!r}",
                              hint=f"use one of: {', '.join(PRESETS)}")
        parser = PRESETS[name]
    p = data.get("parser") or {}
    if not isinstance(p, dict):
        raise ConfigError(f"{source}: 'parser' must be a mapping")
    parser_names = {f.name for f in fields(ParserSettings)}
    bad = set(p) - parser_names
    if bad:
        raise ConfigError(f"{source}: unknown parser setting(s) {', '.join(sorted(bad))}",
                          hint=f"known: {', '.join(sorted(parser_names))}")
    changes = dict(p)
    for key in ("cloze_patterns", "flashcard_tags"):
        if key in changes:
            value = changes[key]
            if not isinstance(value, list):
                raise ConfigError(f"{source}: parser.{key} must be a list")
            changes[key] = (_strip_hash(value, source) if key == "flashcard_tags"
                            else tuple(str(v) for v in value))
    parser = _replace_checked(parser, changes, source)
    s = data.get("scheduling") or {}
    if not isinstance(s, dict):
        raise ConfigError(f"{source}: 'scheduling' must be a mapping")
    sched_names = {f.name for f in fields(SchedulingSettings)} - {"weights_source"}
    bad = set(s) - sched_names
    if bad:
        raise ConfigError(f"{source}: unknown scheduling setting(s) {', '.join(sorted(bad))}",
                          hint=f"known: {', '.join(sorted(sched_names))}")
    s = dict(s)
    for key in ("learning_steps", "relearning_steps"):
        if key in s:
            if not isinstance(s[key], list):
                raise ConfigError(f"{source}: scheduling.{key} must be a list like [1m, 10m]")
            for v in s[key]:
                parse_duration(v, f"{source}: scheduling.{key}")
            s[key] = tuple(str(v) for v in s[key])
    if "weights" in s:
        w = s["weights"]
        if not isinstance(w, list) or not all(isinstance(x, int | float) for x in w):
            raise ConfigError(f"{source}: scheduling.weights must be a list of numbers")
        s["weights"] = tuple(float(x) for x in w)
        s["weights_source"] = source
    for key, kind in (("fuzz", bool), ("state_format", str), ("algorithm", str)):
        if key in s and not isinstance(s[key], kind):
            raise ConfigError(f"{source}: scheduling.{key} has the wrong type: {s[key]!r}")
    if s.get("state_format", "fsrs") not in ("fsrs", "sm2"):
        raise ConfigError(f"{source}: scheduling.state_format must be fsrs or sm2")
    return parser, replace(sched, **s)


def _write_in_place(data: dict[str, Any], source: str) -> bool:
    w = data.get("write") or {}
    if not isinstance(w, dict) or set(w) - {"in_place"}:
        raise ConfigError(f"{source}: 'write' must be a mapping with the key in_place")
    value = w.get("in_place", False)
    if not isinstance(value, bool):
        raise ConfigError(f"{source}: write.in_place must be true or false, not {value!r}")
    return value


def _generate_timeout(section: Any, source: str) -> float:
    """``generate: {timeout: 60}``: seconds (a number) or a duration like ``2m``."""
    if section is None:
        return DEFAULT_GENERATE_TIMEOUT
    if not isinstance(section, dict) or set(section) - {"timeout", "rematch"}:
        raise ConfigError(f"{source}: 'generate' must be a mapping with the keys timeout "
                          "and rematch",
                          hint="for example: generate: {timeout: 60}")
    value = section.get("timeout", DEFAULT_GENERATE_TIMEOUT)
    if isinstance(value, str):
        return parse_duration(value, f"{source}: generate.timeout").total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"{source}: generate.timeout must be a positive number of seconds, "
                          f"got {value!r}", hint="for example: generate: {timeout: 60}")
    return float(value)


def _generate_rematch(section: Any, source: str) -> str:
    """``generate: {rematch: similar}``: the last stage that may move a schedule."""
    value = section.get("rematch", "similar") if isinstance(section, dict) else "similar"
    if value not in ("exact", "normalized", "similar"):
        raise ConfigError(f"{source}: generate.rematch must be exact, normalized or similar, "
                          f"got {value!r}", hint="for example: generate: {rematch: similar}")
    return str(value)


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


def load_settings(vault: Path) -> Settings:
    """Read the vault's settings; a broken file is a ConfigError, never a traceback."""
    parser = ParserSettings()
    sched = SchedulingSettings()
    ignore: tuple[str, ...] = ()
    write_in_place = False
    generate_timeout = DEFAULT_GENERATE_TIMEOUT
    generate_rematch = "similar"
    sources: list[str] = []
    osr = vault / OSR_DATA_JSON
    if osr.is_file():
        try:
            data = json.loads(osr.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{osr}: cannot read the plugin settings: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{osr}: expected a JSON object")
        parser, sched = _from_osr(data, parser, sched, str(osr))
        osr_settings = data.get("settings", data)
        if "noteFoldersToIgnore" in osr_settings:
            ignore = _globs(osr_settings["noteFoldersToIgnore"], str(osr), "noteFoldersToIgnore")
        sources.append(str(OSR_DATA_JSON))
    ydata = read_config_yaml(vault)
    if ydata is not None:
        parser, sched = _from_yaml(ydata, parser, sched, CONFIG_FILE)
        if "ignore" in ydata:
            ignore = _globs(ydata["ignore"], CONFIG_FILE, "ignore")
        write_in_place = _write_in_place(ydata, CONFIG_FILE)
        generate_timeout = _generate_timeout(ydata.get("generate"), CONFIG_FILE)
        generate_rematch = _generate_rematch(ydata.get("generate"), CONFIG_FILE)
        sources.append(CONFIG_FILE)
    fitted = vault / STATE_DIR / WEIGHTS_FILE
    if sched.weights is None and fitted.is_file():
        try:
            wdata = json.loads(fitted.read_bytes())
            weights = tuple(float(x) for x in wdata["weights"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{fitted}: cannot read the fitted weights: {exc}",
                              hint="delete the file or run `flashmark optimize --save` again"
                              ) from exc
        sched = replace(sched, weights=weights, weights_source=f"{STATE_DIR}/{WEIGHTS_FILE}")
        sources.append(f"{STATE_DIR}/{WEIGHTS_FILE}")
    return Settings(parser=parser, scheduling=sched, ignore=ignore,
                    write_in_place=write_in_place, generate_timeout=generate_timeout,
                    generate_rematch=generate_rematch,
                    sources=tuple(sources))

"""The settings schema: every key of flashmark.yaml and the plugin keys of data.json are
type- and range-checked by every command (exit 3, one line naming the file and the key),
real settings load as before, and ``--now`` reads dates with python-dateutil."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flashmark.cli.common import parse_now
from flashmark.cli.main import main
from flashmark.config import (
    OSR_DATA_JSON,
    ParserSettings,
    ReviewSettings,
    SchedulingSettings,
    Settings,
    load_settings,
)
from flashmark.errors import ConfigError, UsageError
from flashmark.review.settings import load_review_settings

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "information"
NOTE = "---\ntags: [flashcard/active/geo]\n---\nCapital of Japan:@:Tokyo\n"

# Every command that reads the settings, with the arguments it needs besides VAULT.
COMMANDS: dict[str, list[str]] = {
    "scan": ["scan"], "due": ["due"], "stats": ["stats"], "check": ["check"],
    "rate": ["rate", "0123456789ab", "good"], "undo": ["undo"], "review": ["review"],
    "export": ["export"], "generate": ["generate"], "optimize": ["optimize"],
}

# (yaml text, the key path the message must name, a word of what is expected)
WRONG_TYPE = [
    ("parser:\n  single_line_separator: 5\n", "parser.single_line_separator", "string"),
    ("parser:\n  flashcard_tags: flashcard\n", "parser.flashcard_tags", "list"),
    ("parser:\n  cloze_patterns: [1, 2]\n", "parser.cloze_patterns", "strings"),
    ("parser:\n  comment_on_same_line: yes please\n", "parser.comment_on_same_line",
     "true or false"),
    ("parser: 3\n", "'parser' must be a mapping", "single_line_separator"),
    ("scheduling:\n  desired_retention: high\n", "scheduling.desired_retention", "number"),
    ("scheduling:\n  maximum_interval: 1.5\n", "scheduling.maximum_interval", "whole number"),
    ("scheduling:\n  learning_steps: 1m\n", "scheduling.learning_steps", "list"),
    ("scheduling:\n  fuzz: sometimes\n", "scheduling.fuzz", "true or false"),
    ("scheduling:\n  weights: fast\n", "scheduling.weights", "list of numbers"),
    ("scheduling:\n  algorithm: 3\n", "scheduling.algorithm", "fsrs, sm2"),
    ("ignore: templates\n", "ignore", "list"),
    ("write:\n  in_place: yes please\n", "write.in_place", "true or false"),
    ("write: true\n", "'write' must be a mapping", "in_place"),
    ("generate:\n  timeout: [1]\n", "generate.timeout", "seconds"),
    ("review:\n  new_per_day: many\n", "review.new_per_day", "whole number"),
    ("review:\n  decks: [a]\n", "review.decks", "deck names to limits"),
    ("review:\n  decks:\n    flashcard/active/geo: lots\n", "review.decks.flashcard/active/geo",
     "whole number"),
    ("review:\n  bury_siblings: 1\n", "review.bury_siblings", "true or false"),
    ("review:\n  learn_ahead: [5m]\n", "review.learn_ahead", "duration"),
    ("review: [1]\n", "'review' must be a mapping", "new_per_day"),
    ("preset: 3\n", "preset", "pytextgen, osr"),
]
OUT_OF_RANGE = [
    ("parser:\n  single_line_separator: ''\n", "parser.single_line_separator", "non-empty"),
    ("parser:\n  flashcard_tags: ['#']\n", "parser.flashcard_tags", "non-empty"),
    ("scheduling:\n  desired_retention: 1.5\n", "scheduling.desired_retention", "< 1"),
    ("scheduling:\n  desired_retention: 0\n", "scheduling.desired_retention", "> 0"),
    ("scheduling:\n  maximum_interval: 0\n", "scheduling.maximum_interval", ">= 1"),
    ("scheduling:\n  learning_steps: [1m, -10m]\n", "scheduling.learning_steps", "duration"),
    ("scheduling:\n  relearning_steps: [0s]\n", "scheduling.relearning_steps", "duration"),
    ("scheduling:\n  state_format: anki\n", "scheduling.state_format", "fsrs, sm2"),
    ("scheduling:\n  weights: [1, 2, 3]\n", "scheduling.weights", "21 numbers"),
    ("scheduling:\n  weights: [.nan" + ", 1" * 20 + "]\n", "scheduling.weights", "numbers"),
    ("generate:\n  timeout: -1\n", "generate.timeout", "positive"),
    ("generate:\n  timeout: soon\n", "generate.timeout", "duration"),
    ("review:\n  new_per_day: -1\n", "review.new_per_day", ">= 0"),
    ("review:\n  decks:\n    '#/': 3\n", "review.decks", "deck name"),
    ("review:\n  decks:\n    flashcard/active/geo: -2\n", "review.decks.flashcard/active/geo",
     ">= 0"),
    ("review:\n  order: oldest\n", "review.order", "due, random, deck"),
    ("review:\n  learn_ahead: -5m\n", "review.learn_ahead", "duration"),
    ("preset: anki\n", "preset", "pytextgen, osr"),
]
UNKNOWN_KEY = [
    ("sheduling:\n  fuzz: true\n", "unknown key(s) sheduling", "did you mean scheduling?"),
    ("scheduling:\n  desired_retension: 0.9\n", "unknown scheduling setting(s) desired_retension",
     "did you mean desired_retention?"),
    ("review:\n  new_per_dya: 3\n", "unknown review setting(s) new_per_dya",
     "did you mean new_per_day?"),
    ("write:\n  inplace: true\n", "unknown write setting(s) inplace", "did you mean in_place?"),
    ("generate:\n  zzz: 1\n", "unknown generate setting(s) zzz", "known: rematch, timeout"),
]
# (data.json "settings" entries, the key the message must name, a word of what is expected)
DATA_JSON = [
    ({"baseEase": "x"}, "settings.baseEase", "number"),
    ({"fsrsDesiredRetention": "high"}, "settings.fsrsDesiredRetention", "number"),
    ({"fsrsDesiredRetention": 2}, "settings.fsrsDesiredRetention", "< 1"),
    ({"maximumInterval": "long"}, "settings.maximumInterval", "whole number"),
    ({"flashcardTags": "#flashcards"}, "settings.flashcardTags", "list"),
    ({"clozePatterns": [3]}, "settings.clozePatterns", "strings"),
    ({"singleLineCardSeparator": ""}, "settings.singleLineCardSeparator", "non-empty"),
    ({"cardCommentOnSameLine": "no"}, "settings.cardCommentOnSameLine", "true or false"),
    ({"noteFoldersToIgnore": "x"}, "settings.noteFoldersToIgnore", "list"),
    ({"algorithm": 6}, "settings.algorithm", "string"),
]


def make_vault(root: Path, yaml_text: str | None = None,
               plugin: dict[str, object] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "geo.md").write_text(NOTE)
    if yaml_text is not None:
        (root / "flashmark.yaml").write_text(yaml_text)
    if plugin is not None:
        (root / OSR_DATA_JSON).parent.mkdir(parents=True)
        (root / OSR_DATA_JSON).write_text(json.dumps({"settings": plugin}))
    return root


def run_cli(capsys: pytest.CaptureFixture[str], command: str, vault: Path) -> tuple[int, str]:
    code = main([*COMMANDS[command], str(vault)])
    out, err = capsys.readouterr()
    assert out == ""
    return code, err


def assert_one_config_line(code: int, err: str, file: str, key: str, expected: str) -> None:
    assert code == 3, err
    assert err.count("\n") == 1, err  # one line
    assert err.startswith("flashmark: ") and file in err and key in err, err
    assert expected in err, err
    assert "Traceback" not in err and "internal error" not in err


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", [WRONG_TYPE[5], OUT_OF_RANGE[4], WRONG_TYPE[0],
                                  WRONG_TYPE[12], OUT_OF_RANGE[10], WRONG_TYPE[11],
                                  OUT_OF_RANGE[15], UNKNOWN_KEY[2]],
                         ids=lambda case: case[1])
def test_every_command_reports_a_bad_setting(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path, command: str,
                                             case: tuple[str, str, str]) -> None:
    text, key, expected = case
    vault = make_vault(tmp_path / "vault", text)
    before = (vault / "geo.md").read_bytes()
    code, err = run_cli(capsys, command, vault)
    assert_one_config_line(code, err, "flashmark.yaml", key, expected)
    assert (vault / "geo.md").read_bytes() == before
    assert not (vault / "decks").exists()  # export stopped before writing anything


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_reports_a_bad_plugin_setting(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path, command: str) -> None:
    vault = make_vault(tmp_path / "vault", plugin={"baseEase": "x"})
    code, err = run_cli(capsys, command, vault)
    assert_one_config_line(code, err, str(OSR_DATA_JSON), "settings.baseEase", "number")


@pytest.mark.parametrize("case", WRONG_TYPE + OUT_OF_RANGE + UNKNOWN_KEY,
                         ids=lambda case: case[0].replace("\n", " "))
def test_each_key_is_checked(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                             case: tuple[str, str, str]) -> None:
    text, key, expected = case
    code, err = run_cli(capsys, "stats", make_vault(tmp_path / "vault", text))
    assert_one_config_line(code, err, "flashmark.yaml", key, expected)


@pytest.mark.parametrize("case", DATA_JSON, ids=lambda case: case[1])
def test_each_plugin_key_is_checked(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                    case: tuple[dict[str, object], str, str]) -> None:
    plugin, key, expected = case
    code, err = run_cli(capsys, "scan", make_vault(tmp_path / "vault", plugin=plugin))
    assert_one_config_line(code, err, str(OSR_DATA_JSON), key, expected)


def test_a_real_process_exits_3_not_70(tmp_path: Path) -> None:
    """The reported bug: `stats` with desired_retention "high" was an internal error."""
    vault = make_vault(tmp_path / "vault", "scheduling:\n  desired_retention: high\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for command in ("stats", "scan", "rate"):
        done = subprocess.run([sys.executable, "-m", "flashmark", *COMMANDS[command],
                               str(vault)], capture_output=True, text=True, env=env,
                              check=False)
        assert done.returncode == 3, done.stderr
        assert done.stderr == ("flashmark: flashmark.yaml: scheduling.desired_retention must "
                               "be a number > 0 and < 1, got 'high'\n")


# --- valid settings load as before -------------------------------------------------------

CORPUS_SETTINGS = Settings(
    parser=ParserSettings(flashcard_tags=("flashcard/active",)),
    # load_balance: the plugin's `loadBalance: true` (read since issue 12)
    scheduling=SchedulingSettings(maximum_interval=36524, load_balance=True),
    ignore=("**/*.excalidraw.md",),
    sources=(str(OSR_DATA_JSON),),
    # burySiblingCards: false; flashcardCardOrder: NewFirstRandom (config.plugin_order)
    review=ReviewSettings(bury_siblings=False, order="random"),
)


@pytest.mark.corpus
def test_the_real_vault_loads_as_before(tmp_path: Path) -> None:
    if not CORPUS.is_dir():
        pytest.skip("the real vault is not here")
    copy = tmp_path / "information"
    shutil.copytree(CORPUS / ".obsidian", copy / ".obsidian")
    # The values the loader before the schema gave for the real vault (printed from it).
    assert load_settings(copy) == CORPUS_SETTINGS
    assert load_review_settings(copy) == CORPUS_SETTINGS.review


def test_the_sample_vault_loads_as_before(tmp_path: Path) -> None:
    copy = tmp_path / "notes"
    shutil.copytree(REPO / "notes", copy)
    assert load_settings(copy) == Settings(
        parser=ParserSettings(flashcard_tags=("flashcard/active",)),
        sources=("flashmark.yaml",))


FULL_YAML = """\
preset: osr
parser:
  flashcard_tags: ["#flashcard/active", "cards"]
  single_line_separator: ":@:"
  multiline_separator: "?@?"
  cloze_patterns: ["{@{[123;;]answer[;;hint]}@}"]
  comment_on_same_line: true
scheduling:
  desired_retention: 0.85
  maximum_interval: 3650
  learning_steps: [30s, 10m, 1h]
  relearning_steps: [10m, 1d]
  fuzz: false
  state_format: sm2
  algorithm: sm2
  weights: [%s]
ignore: ["**/*.excalidraw.md", "templates/*"]
write:
  in_place: true
generate:
  timeout: 2m
review:
  new_per_day: 7
  decks:
    '#flashcard/active/general/eng/': 5
    flashcard/active/special: 0
  bury_siblings: false
  order: random
  learn_ahead: 0
"""
WEIGHTS = (0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666,
           0.796, 1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658,
           0.1542)
PLUGIN = {"flashcardTags": ["#flashcards"], "clozePatterns": ["==[123;;]answer[;;hint]=="],
          "singleLineCardSeparator": "::", "cardCommentOnSameLine": False,
          "algorithm": "SM-2-OSR", "fsrsDesiredRetention": 0.8, "maximumInterval": 1000,
          "noteFoldersToIgnore": ["x/*"], "baseEase": 250}


def test_every_key_set_loads_as_before(tmp_path: Path) -> None:
    """All keys of both files at once; the expected values are what the loader before the
    schema returned for these files."""
    vault = make_vault(tmp_path / "vault", FULL_YAML % ", ".join(map(str, WEIGHTS)), PLUGIN)
    settings = load_settings(vault)
    assert dataclasses.replace(settings, review=ReviewSettings()) == Settings(
        parser=ParserSettings(
            single_line_separator=":@:", single_line_reversed_separator=":::",
            multiline_separator="?@?", multiline_reversed_separator="??",
            cloze_patterns=("{@{[123;;]answer[;;hint]}@}",),
            flashcard_tags=("flashcard/active", "cards"), comment_on_same_line=True),
        scheduling=SchedulingSettings(
            algorithm="sm2", desired_retention=0.85, maximum_interval=3650,
            state_format="sm2", learning_steps=("30s", "10m", "1h"),
            relearning_steps=("10m", "1d"), fuzz=False, weights=WEIGHTS,
            weights_source="flashmark.yaml"),
        ignore=("**/*.excalidraw.md", "templates/*"), write_in_place=True,
        generate_timeout=120.0, sources=(str(OSR_DATA_JSON), "flashmark.yaml"))
    assert settings.review == ReviewSettings(
        new_per_day=7, deck_limits=(("flashcard/active/general/eng", 5),
                                    ("flashcard/active/special", 0)),
        bury_siblings=False, order="random", learn_ahead=dt.timedelta(0))
    (vault / "flashmark.yaml").unlink()
    assert load_settings(vault) == Settings(
        parser=ParserSettings(
            single_line_separator="::", cloze_patterns=("==[123;;]answer[;;hint]==",
                                                        "<@<[123;;]answer[;;hint]>@>"),
            flashcard_tags=("flashcards",), comment_on_same_line=False),
        scheduling=SchedulingSettings(algorithm="sm2", desired_retention=0.8,
                                      maximum_interval=1000),
        ignore=("x/*",), sources=(str(OSR_DATA_JSON),))


def test_settings_are_read_once_until_a_file_changes(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault", "review:\n  new_per_day: 3\n")
    first = load_settings(vault)
    assert load_settings(vault) is first  # parsed once
    (vault / "flashmark.yaml").write_text("review:\n  new_per_day: 4\n")
    assert load_settings(vault).review.new_per_day == 4
    (vault / "flashmark.yaml").write_text("review:\n  new_per_day: x\n")
    with pytest.raises(ConfigError, match=r"review\.new_per_day"):
        load_settings(vault)
    (vault / "flashmark.yaml").unlink()
    assert load_settings(vault) == Settings()


# --- --now through python-dateutil -------------------------------------------------------

UTC = dt.UTC


@pytest.mark.parametrize(("text", "moment"), [
    ("2026-11-23T09:00+01:00", dt.datetime(2026, 11, 23, 8, tzinfo=UTC)),
    ("2026-11-23T09:00Z", dt.datetime(2026, 11, 23, 9, tzinfo=UTC)),
    ("2026-W48-1T09:00Z", dt.datetime(2026, 11, 23, 9, tzinfo=UTC)),  # ISO week date
    ("23 Nov 2026 9:00 UTC", dt.datetime(2026, 11, 23, 9, tzinfo=UTC)),
    ("Nov 23 2026 9am +01:00", dt.datetime(2026, 11, 23, 8, tzinfo=UTC)),
    ("13/02/2026 00:00 UTC", dt.datetime(2026, 2, 13, tzinfo=UTC)),  # only one reading
    (" 1970-01-01T00:00Z ", dt.datetime(1970, 1, 1, tzinfo=UTC)),
    ("9000-12-31T23:59Z", dt.datetime(9000, 12, 31, 23, 59, tzinfo=UTC)),
])
def test_now_accepts(text: str, moment: dt.datetime) -> None:
    assert parse_now(text) == moment


def test_now_without_offset_is_local_time() -> None:
    moment = parse_now("23 Nov 2026 09:00")
    assert moment.tzinfo is not None
    assert moment.replace(tzinfo=None) == dt.datetime(2026, 11, 23, 9)


@pytest.mark.parametrize(("text", "why"), [
    ("garbage", "is not a date or time: for example 2026-11-23"),
    ("", "is not a date or time"),
    ("tomorrow", "is not a date or time"),
    ("2026-11-23 garbage", "is not a date or time"),
    ("2026-13-01", "is not a date or time (month must be in 1..12)"),
    ("2026-02-30", "is not a date or time (day is out of range for month)"),
    ("2026-11-23T25:00", "is not a date or time (hour must be in 0..23)"),
    ("2026", "is not a full date"),
    ("2026-11", "is not a full date"),
    ("Nov 2026", "is not a full date"),
    ("23 Nov", "is not a full date"),
    ("9:00", "is not a full date"),
    ("01/02/2026", "reads as two different days: write it as YYYY-MM-DD"),
    ("2026-11-23 09:00 CET", "names a time zone flashmark does not know"),
    ("2026-11-23T09:00+25:00", "has an offset outside"),
    ("99999-01-01", "is not a date or time"),
    ("1969-12-31T23:59Z", "is out of range: give a time between the years 1970 and 9000"),
    ("9999-12-31", "is out of range"),
])
def test_now_refuses(text: str, why: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_now(text)
    assert str(info.value) == str(info.value).splitlines()[0]  # one line, no hint
    assert str(info.value).startswith(f"--now {text!r} {why}")


@pytest.mark.parametrize("command", ["scan", "due", "stats", "rate", "generate"])
def test_garbage_now_is_a_usage_error_on_the_command_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str) -> None:
    vault = make_vault(tmp_path / "vault")
    code = main([*COMMANDS[command], str(vault), "--now", "01/02/2026"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == ("flashmark: --now '01/02/2026' reads as two different days: "
                   "write it as YYYY-MM-DD\n")


def test_flashmark_yaml_overrides_each_reviewing_key_of_data_json(tmp_path: Path) -> None:
    """docs/compatibility.md's table: each plugin key that bears on reviewing has a
    flashmark.yaml key, and the yaml wins over data.json."""
    plugin = {"burySiblingCards": False, "loadBalance": True,
              "flashcardCardOrder": "NewFirstRandom",
              "flashcardDeckOrder": "PrevDeckComplete_Random", "fsrsDesiredRetention": 0.8,
              "maximumInterval": 1000, "algorithm": "SM-2-OSR"}
    vault = make_vault(tmp_path / "plugin", None, plugin)
    read = load_settings(vault)
    assert (read.review.bury_siblings, read.review.order) == (False, "random")
    assert (read.scheduling.load_balance, read.scheduling.desired_retention,
            read.scheduling.maximum_interval, read.scheduling.algorithm) == (
        True, 0.8, 1000, "sm2")
    assert read.scheduling.state_format == "fsrs"  # algorithm does not choose the form
    yaml = ("review: {bury_siblings: true, order: overdue}\n"
            "scheduling: {load_balance: false, desired_retention: 0.9, "
            "maximum_interval: 365, algorithm: fsrs}\n")
    both = load_settings(make_vault(tmp_path / "both", yaml, plugin))
    assert (both.review.bury_siblings, both.review.order) == (True, "overdue")
    assert (both.scheduling.load_balance, both.scheduling.desired_retention,
            both.scheduling.maximum_interval, both.scheduling.algorithm) == (
        False, 0.9, 365, "fsrs")

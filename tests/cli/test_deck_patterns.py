"""Every command that takes `--deck` selects the same cards for the same pattern (one
matcher, `flashmark.decks`); a pattern that selects no deck is exit 3 with the closest
decks, and a vault without cards says what flashmark looked for. On the sample vault
and on a copy of the real vault (marked `corpus`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import select
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flashmark.config import load_settings
from flashmark.errors import EXIT_INPUT, EXIT_OK
from flashmark.export.exporter import ExportOptions, export_vault
from flashmark.review.overview import build_queues
from flashmark.review.settings import load_review_settings

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("FLASHMARK_CORPUS") or REPO / ".." / "shared" / "corpus" /
              "information")
NOW = "2026-12-05T09:00:00+00:00"
Runner = Callable[..., tuple[int, str, str]]


def selected_by_each_command(cli: Runner, vault: Path, pattern: str,
                             tmp_path: Path) -> dict[str, int]:
    """How many cards `pattern` selects, as each command counts them (the card ids of
    `scan --json` must also hold every card the reviewer queues)."""
    counts: dict[str, int] = {}
    code, out, err = cli("scan", str(vault), "--json", "--deck", pattern)
    assert code == EXIT_OK, err
    cards = [json.loads(line) for line in out.splitlines()]
    ids = {c["id"] for c in cards}
    counts["scan --json"] = len(cards)
    assert all(c["deck"] is not None for c in cards)
    code, out, err = cli("scan", str(vault), "--now", NOW, "--deck", pattern)
    assert code == EXIT_OK, err
    counts["scan"] = int(out.strip().splitlines()[-1].split()[-1])
    code, out, err = cli("due", str(vault), "--now", NOW, "--json", "--days", "0",
                         "--deck", pattern)
    assert code == EXIT_OK, err
    counts["due --json"] = json.loads(out.splitlines()[-1])["total"]
    code, out, err = cli("stats", str(vault), "--now", NOW, "--json", "--deck", pattern)
    assert code == EXIT_OK, err
    counts["stats --json"] = json.loads(out)["states"]["total"]
    settings = load_settings(vault)
    summary = export_vault(vault, settings, ExportOptions(tmp_path / "deck.apkg",
                                                          decks=(pattern,)))
    counts["export --deck"] = summary.selected_cards
    overview, queue = build_queues(vault, settings, load_review_settings(vault),
                                   dt.datetime.fromisoformat(NOW), deck=pattern)
    counts["review --deck"] = queue.total
    queued = {c.id for c in [*queue.learning, *queue.reviews, *queue.new]}
    assert queued and queued <= ids
    assert queue.total <= overview.total
    return counts


def refusals(cli: Runner, vault: Path, pattern: str, tmp_path: Path) -> dict[str, str]:
    """stderr of each command given a pattern that selects no deck (each must exit 3)."""
    runs = {
        "scan": ("scan", str(vault), "--deck", pattern),
        "scan --json": ("scan", str(vault), "--json", "--deck", pattern),
        "due": ("due", str(vault), "--deck", pattern),
        "stats": ("stats", str(vault), "--deck", pattern),
        "export": ("export", str(vault), "-o", str(tmp_path / "x.apkg"), "--deck", pattern),
    }
    errors = {}
    for name, argv in runs.items():
        code, out, err = cli(*argv)
        assert (code, out) == (EXIT_INPUT, ""), (name, code, out, err)
        errors[name] = err
    assert not (tmp_path / "x.apkg").exists()
    errors["review"] = review_in_a_terminal(vault, "--deck", pattern)
    return errors


def review_in_a_terminal(vault: Path, *extra: str) -> str:
    """Run `flashmark review` as a process on a pseudo-terminal; it must leave with exit 3
    before the app takes the screen. Returns what it printed."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color"}
    proc = subprocess.Popen([sys.executable, "-m", "flashmark", "review", str(vault),
                             "--now", NOW, *extra],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    output = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 120)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if b"\x1b[?1049h" in output:  # the app switched to the alternate screen
                break
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        code = proc.wait()
    text = output.decode("utf-8", "replace").replace("\r\n", "\n")
    assert b"\x1b[?1049h" not in output, "the app opened instead of refusing"
    assert code == EXIT_INPUT, text
    return text


# --- the sample vault (notes/) --------------------------------------------------------

CUSTOMERS = "flashcard/active/business/customers"


@pytest.mark.parametrize("pattern", [
    "flashcard/active/business/cust*",  # the example: `due` used to show nothing
    "#Flashcard::Active::Business::Customers",
    "*/customer_?obs",
    "flashcard/active/business",
])
def test_every_command_selects_the_same_cards(cli: Runner, vault: Path, tmp_path: Path,
                                              pattern: str) -> None:
    counts = selected_by_each_command(cli, vault, pattern, tmp_path)
    assert len(set(counts.values())) == 1, counts
    assert 0 < counts["scan"] <= 224


def test_a_glob_selects_what_the_prefix_does(cli: Runner, vault: Path,
                                             tmp_path: Path) -> None:
    code, prefix, _ = cli("due", str(vault), "--now", NOW, "--deck", CUSTOMERS)
    code2, glob, _ = cli("due", str(vault), "--now", NOW, "--deck",
                         "flashcard/active/business/cust*")
    assert code == code2 == EXIT_OK and prefix == glob
    assert "customer_jobs" in glob and "value_proposition" not in glob


def test_unknown_deck_is_refused_by_every_command(cli: Runner, vault: Path,
                                                  tmp_path: Path) -> None:
    errors = refusals(cli, vault, "flashcard/active/busines/customer", tmp_path)
    for name, err in errors.items():
        lines = err.strip().splitlines()
        assert lines[0] == ("flashmark: no deck matches 'flashcard/active/busines/customer' "
                            "(8 decks hold cards)"), (name, err)
        assert lines[1].startswith(f"  hint: closest: {CUSTOMERS}, "), (name, err)
        assert "Congratulations" not in err and "Traceback" not in err


def test_nothing_like_the_deck(cli: Runner, vault: Path) -> None:
    code, out, err = cli("due", str(vault), "--deck", "nosuchdeck")
    assert (code, out) == (EXIT_INPUT, "")
    assert err == ("flashmark: no deck matches 'nosuchdeck' (8 decks hold cards)\n"
                   "  hint: `flashmark due` lists the decks\n")


@pytest.fixture
def untagged(tmp_path: Path) -> Path:
    """A vault whose flashcard tag (from the plugin's data.json) no note carries, and one
    note that carries it but holds no card."""
    root = tmp_path / "untagged"
    osr = root / ".obsidian" / "plugins" / "obsidian-spaced-repetition"
    osr.mkdir(parents=True)
    (osr / "data.json").write_text('{"settings": {"flashcardTags": ["flashcard/active"]}}')
    (root / "a.md").write_text("# a\nquestion:@:answer\n")
    return root


def test_empty_vault_says_what_was_looked_for(cli: Runner, untagged: Path,
                                              tmp_path: Path) -> None:
    looked = ("#flashcard/active, from .obsidian/plugins/obsidian-spaced-repetition/"
              "data.json")
    expected = (f"flashmark: no cards in {untagged}: none of its 1 note carries a "
                f"flashcard tag ({looked})\n  hint: `--all` reads cards in every note; the "
                "flashcard tags are the plugin's flashcardTags or parser.flashcard_tags in "
                "flashmark.yaml\n")
    # Listing commands: exit 0, the message on stderr, no empty table.
    for argv in (("scan",), ("due",), ("scan", "--json")):
        code, out, err = cli(*argv, str(untagged))
        assert (code, out, err) == (EXIT_OK, "", expected), argv
    code, out, err = cli("due", "--json", str(untagged), "--now", NOW, "--days", "0")
    assert code == EXIT_OK and err == expected
    assert json.loads(out)["total"] == 0  # scripts still get the total line
    code, out, err = cli("stats", str(untagged), "--now", NOW)
    assert code == EXIT_OK and err == expected and "0 in all" in out
    # Commands that need cards: exit 3.
    code, out, err = cli("export", str(untagged), "-o", str(tmp_path / "x.apkg"))
    assert (code, out, err) == (EXIT_INPUT, "", expected)
    assert review_in_a_terminal(untagged) == expected
    # A note that carries the tag but holds no card is counted; --all finds the card.
    (untagged / "b.md").write_text("---\ntags: [flashcard/active/x]\n---\nno card\n")
    code, _, err = cli("due", str(untagged))
    assert code == EXIT_OK and (f"of its 2 notes, 1 carries a flashcard tag ({looked}) and "
                                "none of them holds a card") in err
    code, out, err = cli("scan", "--all", str(untagged))
    assert code == EXIT_OK and err == "" and "total (1 decks)" in out


def test_no_note_at_all(cli: Runner, tmp_path: Path) -> None:
    code, out, err = cli("due", str(tmp_path))
    assert (code, out) == (EXIT_OK, "")
    assert err.startswith(f"flashmark: no cards in {tmp_path}: it holds no Markdown note")


# --- the real vault (a copy) ------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory,
           writable_copy: Callable[[Path, Path], Path]) -> Iterator[Path]:
    if not CORPUS.is_dir():
        pytest.skip(f"the real vault is not at {CORPUS}")
    root = writable_copy(CORPUS, tmp_path_factory.mktemp("decks") / "information")
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.corpus
@pytest.mark.parametrize(("pattern", "cards"), [
    ("flashcard/active/general/eng/cust*", 30),
    ("*/customer_development", 30),
    ("FLASHCARD::ACTIVE::SPECIAL::C", None),  # C and C/numerics, not Cpp
])
def test_real_vault_every_command_selects_the_same_cards(
        cli: Runner, corpus: Path, tmp_path: Path, pattern: str, cards: int | None) -> None:
    counts = selected_by_each_command(cli, corpus, pattern, tmp_path)
    assert len(set(counts.values())) == 1, counts
    if cards is not None:
        assert counts["scan"] == cards
    code, out, _ = cli("scan", str(corpus), "--now", NOW, "--deck", pattern, "--depth", "9")
    decks = [line.split()[0] for line in out.strip().splitlines()[1:-1]]
    assert code == EXIT_OK and decks
    if cards is None:
        assert all(d == "flashcard/active/special/C" or
                   d.startswith("flashcard/active/special/C/") for d in decks), decks


@pytest.mark.corpus
def test_real_vault_unknown_deck(cli: Runner, corpus: Path, tmp_path: Path) -> None:
    # The real vault has no business deck: every command refuses the pattern
    # the same way, and points to the deck the user most likely meant.
    errors = refusals(cli, corpus, "flashcard/active/business/cust*", tmp_path)
    first = next(iter(errors.values()))
    assert all(err == first for err in errors.values()), errors
    lines = first.strip().splitlines()
    assert lines[0].startswith("flashmark: no deck matches 'flashcard/active/business/cust*' (")
    assert lines[1].startswith(
        "  hint: closest: flashcard/active/general/eng/customer_development")

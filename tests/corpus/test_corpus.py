"""The real vault (../shared/corpus/information, copied to a temporary folder once per
session): pinned card counts and the findings of `flashmark check`.

Our numbers differ from OSR 1.15.4's `parse()` (41,643 questions / 142,127 cards) by the
documented bug fixes (docs/compatibility.md): 4 more questions and 6 more cards, all in
the three notes checked in ``test_notes_where_osr_differs``.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flashmark.cards import cards_of
from flashmark.cli.main import main
from flashmark.config import Settings, load_settings
from flashmark.model import ParsedNote, QuestionType
from flashmark.vault.scan import ScanResult, scan_vault

CORPUS = Path(os.environ.get("FLASHMARK_CORPUS") or
              Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "information")

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the real vault is not at {CORPUS}")]

NOTES_WITH_QUESTIONS = 1491
QUESTIONS = 41647
CARDS = 142133


@pytest.fixture(scope="session")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "information"
    shutil.copytree(CORPUS, root, ignore=shutil.ignore_patterns(".flashmark"))
    return root


@pytest.fixture(scope="session")
def settings(vault: Path) -> Settings:
    return load_settings(vault)


@pytest.fixture(scope="session")
def scanned(vault: Path, settings: Settings) -> Iterator[tuple[ScanResult, dict[str, ParsedNote]]]:
    result = scan_vault(vault, settings)
    try:
        yield result, result.parsed()
    finally:
        result.close()


def test_vault_settings(settings: Settings) -> None:
    assert settings.parser.flashcard_tags == ("flashcard/active",)
    assert settings.parser.single_line_separator == ":@:"
    assert settings.parser.single_line_reversed_separator == "::@::"
    assert settings.parser.cloze_patterns[0] == "{@{[123;;]answer[;;hint]}@}"
    assert settings.scheduling.algorithm == "fsrs"


def test_pinned_totals(scanned: tuple[ScanResult, dict[str, ParsedNote]]) -> None:
    result, parsed = scanned
    assert len(result.notes) == 7972  # 7,974 .md files less the ignored *.excalidraw.md
    with_questions = [n for n in parsed.values() if n.questions]
    assert len(with_questions) == NOTES_WITH_QUESTIONS
    assert sum(len(n.questions) for n in parsed.values()) == QUESTIONS
    assert sum(q.card_count for n in parsed.values() for q in n.questions) == CARDS
    # the index summaries (what `scan` counts) agree with the full parse
    assert sum(len(r.summary) for r in result.flashcard_notes()) == CARDS
    assert result.problems == []


def test_card_ids_are_unique(scanned: tuple[ScanResult, dict[str, ParsedNote]]) -> None:
    result, _ = scanned
    ids = [cid for r in result.flashcard_notes() for _, _, cid, _ in r.summary]
    assert len(ids) == CARDS
    assert len(set(ids)) == CARDS


def test_warm_scan_reads_nothing(vault: Path, settings: Settings,
                                 scanned: tuple[ScanResult, dict[str, ParsedNote]]) -> None:
    cold, _ = scanned
    warm = scan_vault(vault, settings)
    warm.close()
    assert warm.parsed_now == 0
    assert [(r.rel, r.summary) for r in warm.notes] == [(r.rel, r.summary) for r in cold.notes]


def _adjacent(parsed: ParsedNote) -> list[tuple[int, int]]:
    """(first line, card count) of each question that directly follows a cloze block."""
    qs = parsed.questions
    return [(b.span.line + 1, b.card_count) for a, b in itertools.pairwise(qs)
            if a.type is QuestionType.CLOZE and b.span.line == a.span.end_line + 1]


def test_notes_where_osr_differs(vault: Path,
                                 scanned: tuple[ScanResult, dict[str, ParsedNote]]) -> None:
    _, parsed = scanned
    # A cloze block directly followed by a one-line card: OSR drops the cloze block.
    io = parsed["special/C/file input_output.md"]
    assert (len(io.questions), sum(q.card_count for q in io.questions)) == (5, 6)
    assert _adjacent(io) == [(35, 2)]
    heap = parsed["special/academia/HKUST/COMP 3633/heap vulnerability.md"]
    assert (len(heap.questions), sum(q.card_count for q in heap.questions)) == (26, 59)
    assert (68, 2) in _adjacent(heap)
    # A one-line HTML comment directly above a card: OSR skips the card.
    rel = "special/academia/HKUST/MATH 2431/conditional expectation.md"
    lines = (vault / rel).read_text(encoding="utf-8").splitlines()
    after_comment = [q.span.line + 1 for q in parsed[rel].questions
                     if lines[q.span.line - 1].startswith("<!-- check: ignore-next-line")]
    assert after_comment == [175, 351]
    assert all(q.type is QuestionType.REVERSIBLE for q in parsed[rel].questions
               if q.span.line + 1 in after_comment)


def test_every_card_has_sides(scanned: tuple[ScanResult, dict[str, ParsedNote]]) -> None:
    _, parsed = scanned
    count = 0
    for rel, note in parsed.items():
        for q in note.questions:
            for card in cards_of(q, rel):
                count += 1
                if q.type is QuestionType.CLOZE and q.groups[card.sibling]:
                    assert card.front != card.back, (rel, q.span.line + 1, card.sibling)
    assert count == CARDS


Runner = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Runner:
    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _errors(out: str) -> list[tuple[str, str]]:
    found = []
    for line in out.splitlines():
        where, severity, rest = line.split(": ", 2)
        if severity == "error":
            found.append((where, rest.rsplit("[", 1)[1].rstrip("]")))
    return found


def test_check_finds_exactly_the_known_errors(cli: Runner, vault: Path,
                                              scanned: object) -> None:
    code, out, err = cli("check", str(vault))
    assert code == 1
    assert _errors(out) == [("general/eng/axiom of choice.md:261", "unbalanced-cloze"),
                            ("general/eng/price.md:72", "unbalanced-cloze")]
    assert err.startswith("2 error(s), ")


def test_check_all_notes_finds_two_more(cli: Runner, vault: Path, scanned: object) -> None:
    code, out, _ = cli("check", str(vault), "--all", "--errors-only")
    assert code == 1
    note = "general/eng/interface conditions for electromagnetic fields.md"
    assert _errors(out) == [("general/eng/axiom of choice.md:261", "unbalanced-cloze"),
                            (f"{note}:86", "sr-count-mismatch"),
                            (f"{note}:90", "sr-count-mismatch"),
                            ("general/eng/price.md:72", "unbalanced-cloze")]

"""Benchmark `flashmark show` and the reviewer's card rendering on the real vault.

    python scripts/bench_show.py [--vault ../shared/corpus/information] [--runs 11]
    python scripts/bench_show.py --corpus   # also: every card drawn and checked (~10 min)

Prints Markdown tables: whole-process `flashmark show` (warm index, math-heavy cards
and plain ones, against `python -c pass`), the math conversion of every formula of the
vault (distinct formulas, in-process, pylatexenc imported first and timed on its own),
and with --corpus the check of tests/review/test_render_corpus.py over every card on two
processes (cards, math cards, cards shown with LaTeX source, leaks).
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from flashmark.cards import cards_of
from flashmark.config import load_settings
from flashmark.vault.scan import scan_vault

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))  # the repository: the `tests` package


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vault", type=Path, default=HERE.parent / "shared/corpus/information")
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--corpus", action="store_true", help="check every card (slow)")
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "vault"
        shutil.copytree(args.vault, root, ignore=shutil.ignore_patterns(".flashmark"))
        subprocess.run([py, "-m", "compileall", "-q", str(HERE / "src")], check=True)
        settings = load_settings(root)
        result = scan_vault(root, settings)  # warm index
        try:
            cards = [c for rel, note in sorted(result.parsed().items())
                     for q in note.questions for c in cards_of(q, rel)]
        finally:
            result.close()
        mathy = [c.id for c in cards if c.question.text.count("$") >= 8][:args.runs]
        plain = [c.id for c in cards if "$" not in c.question.text][:args.runs]
        floor, show_math, show_plain = [], [], []
        for k in range(args.runs):  # interleaved: the machine's speed drifts
            floor.append(_timed([py, "-c", "pass"]))
            show_math.append(_timed([py, "-m", "flashmark", "show", mathy[k], str(root),
                                     "--answer"]))
            show_plain.append(_timed([py, "-m", "flashmark", "show", plain[k], str(root)]))
        formulas, import_s, convert_s, failed = _math_cost(cards)
        report = _corpus(cards) if args.corpus else None
    print(f"runs: {args.runs}, medians; {len(cards):,} cards\n")
    print("| what | median wall (s) |")
    print("|---|---:|")
    print(f"| `python -c pass` (the floor) | {statistics.median(floor):.3f} |")
    print(f"| `flashmark show ID VAULT --answer`, cards with 4+ formulas | "
          f"{statistics.median(show_math):.3f} |")
    print(f"| `flashmark show ID VAULT`, cards without math | "
          f"{statistics.median(show_plain):.3f} |")
    print(f"\nmath: {formulas:,} distinct formulas; importing pylatexenc {import_s:.3f} s; "
          f"converting all of them {convert_s:.1f} s "
          f"({convert_s / max(formulas, 1) * 1e3:.2f} ms each); {failed} not convertible")
    if report is not None:
        total, math_cards, fallback, leaks, seconds = report
        print(f"\ncorpus: {total:,} cards drawn front and back in {seconds:.0f} s "
              f"(2 processes); {math_cards:,} with math; {fallback} shown with LaTeX "
              f"source ({fallback / max(math_cards, 1):.2%} of math cards); "
              f"leaks: {dict(leaks) or 'none'}")
    return 0


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _math_cost(cards: list) -> tuple[int, float, float, int]:  # type: ignore[type-arg]
    from flashmark.review.card_view import _parser

    sources: set[str] = set()
    seen: set[int] = set()
    for card in cards:
        q = card.question
        if id(q) in seen or "$" not in q.text:
            continue
        seen.add(id(q))
        for block in _parser().parse(q.text):
            for tok in (block.children or []) if block.type == "inline" else [block]:
                if tok.type.startswith("math"):
                    sources.add(tok.content)
    # The first conversion in a fresh process: pylatexenc imported, the tables built.
    probe = ("import time; t = time.perf_counter(); from flashmark.review.math import "
             "to_unicode; to_unicode('\\\\alpha'); print(time.perf_counter() - t)")
    import_s = statistics.median(
        float(subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                             text=True).stdout) for _ in range(5))
    from flashmark.review.math import to_unicode

    start = time.perf_counter()
    failed = sum(to_unicode(s) is None for s in sources)
    return len(sources), import_s, time.perf_counter() - start, failed


def _check_chunk(chunk: list) -> tuple[int, int, int, Counter[str]]:  # type: ignore[type-arg]
    from tests.review.render_check import Report, check_card
    from tests.review.test_render_corpus import SOURCE_SYNTAX

    report = Report()
    for card in chunk:
        if (card.path, card.question.span.line + 1) not in SOURCE_SYNTAX:
            check_card(card, report)
    return report.cards, report.math_cards, report.fallback_cards, report.leaks


def _corpus(cards: list) -> tuple[int, int, int, Counter[str], float]:  # type: ignore[type-arg]
    start = time.perf_counter()
    chunks = [cards[k::2] for k in range(2)]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        parts = pool.map(_check_chunk, chunks)
    leaks: Counter[str] = Counter()
    for part in parts:
        leaks.update(part[3])
    return (sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts),
            leaks, time.perf_counter() - start)


if __name__ == "__main__":
    raise SystemExit(main())

"""`flashmark export` on the real vault (../shared/corpus/information, copied first), read
back with the official `anki` library.

About a minute on a 2-CPU machine: three exports of ~142k cards (~10 s each, ~20 s
with scheduling), three imports into Anki (~3 s each) and one render of every text.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flashmark.cards import cards_of
from flashmark.config import load_settings
from flashmark.export.render import NoteContext, Renderer
from flashmark.model import FsrsEntry, QuestionType, Sm2Entry
from flashmark.syntax import srcodec
from flashmark.vault.scan import scan_vault
from tests.export.export_helpers import CORPUS, AnkiCollection, ExportRun

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the real vault is not at {CORPUS}")]

MakeCollection = Callable[[], AnkiCollection]
CODE = re.compile(r"<pre>.*?</pre>|<code>.*?</code>|\\\(.*?\\\)|\\\[.*?\\\]", re.S)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "information"
    shutil.copytree(CORPUS, root, ignore=shutil.ignore_patterns(".flashmark"))
    for p in [root, *root.rglob("*")]:  # the shared copy is read-only
        p.chmod(p.stat().st_mode | 0o200)
    return root


def _scan(root: Path) -> tuple[int, int, dict[tuple[str, int], list[str | None]]]:
    """(questions, cards, (path, 1-based line) -> SR entry text per sibling)."""
    settings = load_settings(root)
    result = scan_vault(root, settings, use_cache=False)
    try:
        entries: dict[tuple[str, int], list[str | None]] = {}
        cards = 0
        for rel, note in result.parsed().items():
            for q in note.questions:
                siblings = cards_of(q, rel)
                cards += len(siblings)
                entries[(rel, q.span.line + 1)] = [c.entry_text for c in siblings]
        return len(entries), cards, entries
    finally:
        result.close()


def test_full_vault_export_and_reexport(corpus: Path, tmp_path: Path, export: ExportRun,
                                        anki_collection: MakeCollection) -> None:
    questions, cards, _ = _scan(corpus)
    start = time.perf_counter()
    code, out = export(corpus, tmp_path / "all.apkg")
    seconds = time.perf_counter() - start
    print(f"full-vault export: {seconds:.1f} s")  # shown with -s
    assert code == 0
    assert f"{questions} notes, {cards} cards" in out and "skipped" not in out
    col = anki_collection()
    log = col.import_package(tmp_path / "all.apkg", with_scheduling=False)
    assert len(log.new) == questions == col.col.note_count()
    assert col.col.card_count() == cards
    # no Obsidian or flashmark syntax survives in any field
    rng = random.Random(5)
    notes = col.notes()
    for guid in rng.sample(sorted(notes), 3000):
        for value in notes[guid].fields:
            value = CODE.sub("", value)  # code and math show their text as written
            for raw in ("{@{", "}@}", "<!--", "[[", "<@<", "\ue000", "\u2e28\ue000"):
                assert raw not in value, (raw, notes[guid]["Source"])

    # edit three cards, delete one, re-export: Anki updates the three, adds nothing
    sources = {n["Source"]: g for g, n in notes.items()}
    edited = []
    for rel in ("general/eng/Wronskian.md", "special/value proposition canvas.md",
                "general/eng/indeterminate form.md"):
        path = corpus / rel
        text = path.read_text(encoding="utf-8")
        line_no, line = next((k, ln) for k, ln in enumerate(text.split("\n"), start=1)
                             if f"{rel}:{k}" in sources and len(ln) > 20)
        new_line = line.replace(" the ", " the the ", 1) if " the " in line else line + " x"
        path.write_text(text.replace(line, new_line, 1), encoding="utf-8")
        edited.append(sources[f"{rel}:{line_no}"])
    code, out = export(corpus, tmp_path / "again.apkg")
    assert code == 0 and "edited questions keep their Anki notes" in out
    log = col.import_package(tmp_path / "again.apkg", with_scheduling=False)
    assert len(log.new) == 0
    assert col.col.note_count() == questions
    updated = {col.col.get_note(u.id.nid).guid for u in log.updated}
    assert set(edited) <= updated


def test_full_vault_with_scheduling(corpus: Path, tmp_path: Path, export: ExportRun,
                                    anki_collection: MakeCollection) -> None:
    pytest.importorskip("anki")
    _, cards, entries = _scan(corpus)
    code, out = export(corpus, tmp_path / "sched.apkg", "--with-scheduling")
    assert code == 0 and "cards carry their schedule" in out
    col = anki_collection()
    col.import_package(tmp_path / "sched.apkg", with_scheduling=True)
    assert col.col.card_count() == cards
    timing = col.col.sched._timing_today()
    today = dt.datetime.fromtimestamp(timing.next_day_at - 86400).date()
    checked = 0
    for card in random.Random(7).sample(col.cards(), 2000):
        rel, line = card.note()["Source"].rsplit(":", 1)
        entry_text = entries[(rel, int(line))][card.ord]
        entry: Any = srcodec.parse_entry(entry_text) if entry_text else None
        if isinstance(entry, Sm2Entry) and not entry.is_new:
            due, ivl = entry.due, entry.interval
        elif isinstance(entry, FsrsEntry) and entry.state == 2:
            due, ivl = entry.due.astimezone().date(), max(1, entry.interval)
        else:
            continue
        assert card.type == 2
        assert today + dt.timedelta(days=card.due - timing.days_elapsed) == due
        assert card.ivl == ivl
        checked += 1
    assert checked > 1500


def test_fast_paths_match_markdown_it_on_every_text(corpus: Path) -> None:
    """Plain text and plain paragraphs skip markdown-it: the HTML must be the same."""
    settings = load_settings(corpus)
    result = scan_vault(corpus, settings, use_cache=False)
    renderer = Renderer(lambda ref, ctx: (None, None))
    fast = renderer.markdown
    checked = 0

    def both(src: str, *, inline: bool) -> str:
        nonlocal checked
        got = fast(src, inline=inline)
        md = renderer.md
        want = str(md.renderInline(src)) if inline else str(md.render(src)).rstrip("\n")
        assert got == want, src
        checked += 1
        return got

    renderer.markdown = both  # type: ignore[method-assign]
    try:
        for rel, note in result.parsed().items():
            ctx = NoteContext(rel, "information")
            for q in note.questions:
                if q.type is QuestionType.CLOZE:
                    renderer.cloze(q, ctx)
                else:
                    single = q.type in (QuestionType.ONE_SIDED, QuestionType.REVERSIBLE)
                    renderer.side(q.front, ctx, single_line=single)
                    renderer.side(q.back, ctx, single_line=single)
    finally:
        result.close()
    assert checked > 60_000

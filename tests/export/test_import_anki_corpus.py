"""`flashmark import-anki` on the real vault (../shared/corpus/information, copied first):
export it whole, review 200 cards in Anki with its own scheduler, import the reviews
back: exactly those 200 cards' entries change (git says which bytes)."""

from __future__ import annotations

import contextlib
import io
import json
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from export_helpers import CORPUS, AnkiCollection, ExportRun

from flashmark.cards import cards_of
from flashmark.cli.main import main
from flashmark.config import load_settings
from flashmark.syntax.srcodec import COMMENT_END, COMMENT_START
from flashmark.vault.scan import scan_vault

pytestmark = [pytest.mark.corpus, pytest.mark.slow,
              pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the real vault is not at {CORPUS}")]

MakeCollection = Callable[[], AnkiCollection]
REVIEWED = 200


def _entries(root: Path) -> dict[tuple[str, int, int], tuple[str, str | None]]:
    """(path, 1-based line, sibling) -> (card id, SR entry text)."""
    result = scan_vault(root, load_settings(root), use_cache=False)
    try:
        return {(rel, q.span.line + 1, c.sibling): (c.id, c.entry_text)
                for rel, note in result.parsed().items() for q in note.questions
                for c in cards_of(q, rel)}
    finally:
        result.close()


def _without_sr(data: bytes) -> bytes:
    """The note without its SR comments' bodies."""
    out, pos = [], 0
    start_mark, end_mark = COMMENT_START.encode(), COMMENT_END.encode()
    while (start := data.find(start_mark, pos)) >= 0:
        end = data.find(end_mark, start)
        out.append(data[pos:start])
        pos = end + len(end_mark)
    out.append(data[pos:])
    return b"".join(out).replace(b" \n", b"\n")


def _git(root: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(root), "-c", "core.quotepath=off", *args],
                          check=True, capture_output=True).stdout


def test_two_hundred_reviews_change_exactly_their_entries(
        tmp_path: Path, export: ExportRun, anki_collection: MakeCollection) -> None:
    root = tmp_path / "information"
    shutil.copytree(CORPUS, root, ignore=shutil.ignore_patterns(".flashmark", ".git"))
    for p in [root, *root.rglob("*")]:  # the shared copy is read-only
        p.chmod(p.stat().st_mode | 0o200)
    code, _ = export(root, tmp_path / "all.apkg")
    assert code == 0
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "before")
    before = _entries(root)

    col = anki_collection()
    col.col.set_config("fsrs", True)
    col.import_package(tmp_path / "all.apkg")
    rng = random.Random(16)
    sources: dict[int, tuple[str, int, int]] = {}
    for cid, source, ord_ in col.col.db.all(
            "SELECT c.id, n.flds, c.ord FROM cards c JOIN notes n ON c.nid = n.id"):
        rel, line = str(source).split("\x1f")[-2].rsplit(":", 1)
        sources[cid] = (rel, int(line), ord_)
    chosen = rng.sample(sorted(sources), REVIEWED)
    for cid in chosen:
        card = col.col.get_card(cid)
        card.start_timer()
        col.col.sched.answerCard(card, rng.choice((1, 2, 3, 4)))
    path = col.col.path
    col.close()

    out = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out):
        assert main(["import-anki", path, str(root), "--json"]) == 0
    seconds = time.monotonic() - started
    sys.stderr.write(f"import-anki of {REVIEWED} reviews into the real vault: "
                     f"{seconds:.2f} s\n")
    result = json.loads(out.getvalue())
    assert result["reviews_imported"] == REVIEWED
    assert result["updated"] == REVIEWED and not result["unmatched"]

    after = _entries(root)
    assert after.keys() == before.keys()
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {sources[cid] for cid in chosen}
    # git: only the notes of those cards, and in them only SR comments
    files = set(_git(root, "diff", "--name-only", "-z", "--", ".", ":!.flashmark"
                     ).decode().split("\0")) - {""}
    assert files == {rel for rel, _, _ in changed}
    for rel in files:
        old = _git(root, "show", f"HEAD:{rel}")
        assert _without_sr(old) == _without_sr((root / rel).read_bytes()), rel

    again = io.StringIO()
    snapshot = {rel: (root / rel).read_bytes() for rel in files}
    log = (root / ".flashmark" / "reviews.jsonl").read_bytes()
    with contextlib.redirect_stdout(again):
        assert main(["import-anki", path, str(root), "--json"]) == 0
    assert json.loads(again.getvalue())["reviews_imported"] == 0
    assert {rel: (root / rel).read_bytes() for rel in files} == snapshot
    assert (root / ".flashmark" / "reviews.jsonl").read_bytes() == log

"""`flashmark import-anki` on the real vault (../shared/corpus/information, copied first):
export it whole, review 200 cards in Anki with its own scheduler, import the reviews
back: exactly those 200 cards' entries change (git says which bytes)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flashmark.syntax.srcodec import COMMENT_END, COMMENT_START
from tests.export.export_helpers import CORPUS

pytestmark = [pytest.mark.corpus, pytest.mark.slow,
              pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the real vault is not at {CORPUS}")]

REVIEWED = 200


# Everything heavy runs in child processes: a child's peak memory is not pytest's (a
# process forked from pytest starts its max-RSS count from pytest's, and other tests
# measure theirs).
_ENTRIES = """
import json, sys
from pathlib import Path
from flashmark.cards import cards_of
from flashmark.config import load_settings
from flashmark.vault.scan import scan_vault
root = Path(sys.argv[1])
result = scan_vault(root, load_settings(root), use_cache=False)
out = {f"{rel}\\x1f{q.span.line + 1}\\x1f{c.sibling}": [c.id, c.entry_text]
       for rel, note in result.parsed().items() for q in note.questions
       for c in cards_of(q, rel)}
result.close()
Path(sys.argv[2]).write_text(json.dumps(out))
"""

_REVIEW = """
import json, random, sys
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
col = Collection(sys.argv[1])
col.set_config("fsrs", True)
col.import_anki_package(ImportAnkiPackageRequest(package_path=sys.argv[2],
    options=ImportAnkiPackageOptions(with_scheduling=True)))
rng = random.Random(16)
sources = {}
for cid, fields, ord_ in col.db.all(
        "SELECT c.id, n.flds, c.ord FROM cards c JOIN notes n ON c.nid = n.id"):
    rel, line = str(fields).split("\\x1f")[-2].rsplit(":", 1)
    sources[cid] = [rel, int(line), ord_]
chosen = rng.sample(sorted(sources), int(sys.argv[3]))
for cid in chosen:
    card = col.get_card(cid)
    card.start_timer()
    col.sched.answerCard(card, rng.choice((1, 2, 3, 4)))
col.close()
print(json.dumps([sources[cid] for cid in chosen]))
"""


def _python(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _entries(root: Path, out: Path) -> dict[tuple[str, int, int], tuple[str, str | None]]:
    """(path, 1-based line, sibling) -> (card id, SR entry text)."""
    _python("-c", _ENTRIES, str(root), str(out))
    loaded = json.loads(out.read_text())
    keys = {k: k.split("\x1f") for k in loaded}
    return {(k[0], int(k[1]), int(k[2])): (loaded[raw][0], loaded[raw][1])
            for raw, k in keys.items()}


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
        tmp_path: Path) -> None:
    pytest.importorskip("anki")
    root = tmp_path / "information"
    shutil.copytree(CORPUS, root, ignore=shutil.ignore_patterns(".flashmark", ".git"))
    for p in [root, *root.rglob("*")]:  # the shared copy is read-only
        p.chmod(p.stat().st_mode | 0o200)
    _python("-m", "flashmark", "export", str(root), "-o", str(tmp_path / "all.apkg"))
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "before")
    before = _entries(root, tmp_path / "before.json")

    (tmp_path / "anki").mkdir()
    collection = str(tmp_path / "anki" / "collection.anki2")
    chosen = {tuple(c) for c in json.loads(_python(
        "-c", _REVIEW, collection, str(tmp_path / "all.apkg"), str(REVIEWED)))}
    assert len(chosen) == REVIEWED

    started = time.monotonic()
    out = _python("-m", "flashmark", "import-anki", collection, str(root), "--json")
    seconds = time.monotonic() - started
    sys.stderr.write(f"import-anki of {REVIEWED} reviews into the real vault: "
                     f"{seconds:.2f} s\n")
    result = json.loads(out)
    assert result["reviews_imported"] == REVIEWED
    assert result["updated"] == REVIEWED and not result["unmatched"]

    after = _entries(root, tmp_path / "after.json")
    assert after.keys() == before.keys()
    changed = {k for k in before if before[k] != after[k]}
    assert changed == chosen
    # git: only the notes of those cards, and in them only SR comments
    files = set(_git(root, "diff", "--name-only", "-z", "--", ".", ":!.flashmark"
                     ).decode().split("\0")) - {""}
    assert files == {rel for rel, _, _ in changed}
    for rel in files:
        old = _git(root, "show", f"HEAD:{rel}")
        assert _without_sr(old) == _without_sr((root / rel).read_bytes()), rel

    snapshot = {rel: (root / rel).read_bytes() for rel in files}
    log = (root / ".flashmark" / "reviews.jsonl").read_bytes()
    again = _python("-m", "flashmark", "import-anki", collection, str(root), "--json")
    assert json.loads(again)["reviews_imported"] == 0
    assert {rel: (root / rel).read_bytes() for rel in files} == snapshot
    assert (root / ".flashmark" / "reviews.jsonl").read_bytes() == log

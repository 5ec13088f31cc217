"""One definition of each thing: one atomic writer for the files flashmark writes, one
problem record (`model.Diagnostic`), named states and kinds instead of magic strings.

The source tests read `src/flashmark` with `ast` (comments and docstrings do not count);
`generate/compat` is left out: it is the `pytextgen` namespace notes import, with that
library's own names.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

import flashmark
from flashmark import model
from flashmark.vault.edit import TMP_SUFFIX, replacing_atomically, writing_atomically

SRC = Path(flashmark.__file__).resolve().parent


def _sources() -> list[tuple[str, ast.Module]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("generate/compat/"):
            continue
        out.append((rel, ast.parse(path.read_text(encoding="utf-8"))))
    return out


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else "?"


# Every call that renames a file or makes a temporary one, outside the writer itself,
# with why it is not a second writer.
RENAMES_ALLOWED = {
    ("vault/edit.py", "os.replace"): "the writer: notes (apply_edits), state files "
                                     "(replacing_atomically) and recovered notes",
    ("export/package.py", "tempfile.mkstemp"): "the scratch SQLite collection zipped into "
                                               "the package, removed by close()",
    ("export/scheduling.py", "tempfile.mkdtemp"): "the scratch Anki collection folder",
    ("export/anki_import.py", "tempfile.mkdtemp"): "a scratch copy of the Anki collection "
                                                   "read (Anki's own files stay untouched)",
}


_RENAMERS = {"os.replace", "os.rename", "os.renames", "shutil.move", "tempfile.mkstemp",
             "tempfile.mkdtemp", "tempfile.NamedTemporaryFile"}


def test_one_atomic_writer() -> None:
    found: dict[tuple[str, str], int] = {}
    for rel, tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            name = _dotted(node.func)
            attr = node.func.attr
            # Path.rename(x), Path.replace(x) (one argument: str.replace takes two)
            path_method = attr == "rename" or (
                attr == "replace" and len(node.args) == 1 and not node.keywords)
            if path_method or name in _RENAMERS:
                found[(rel, name)] = found.get((rel, name), 0) + 1
    assert set(found) == set(RENAMES_ALLOWED), found
    # the writer renames in three places: the note swap, the recovered note, the helper
    assert found[("vault/edit.py", "os.replace")] == 3


MAGIC = {  # every named vocabulary of model.py, from its own Literal aliases
    word for alias in (model.CardState, model.QueueKind, model.ActionKind,
                       model.AnkiModelKind, model.GenerateMode, model.Severity)
    for word in get_args(alias)
}
# Comparisons with one of those words that belong to another vocabulary.
MAGIC_ALLOWED = {
    ("generate/engine.py", "lost.kind == 'error'"),  # parallel.Lost's kinds (parallel.py)
    ("review/prefetch.py", "outcome[0] == 'error'"),  # the prefetch worker's reply tag
    ("decks.py", "c == '?'"),  # a glob's wildcard
    ("config.py", "{'review': data}"),  # a settings section's name
    ("config.py", "'check' in f.metadata"),  # a dataclass field's metadata key
    ("stats.py", "e.anki_type == 'review'"),  # Anki's revlog kinds (AnkiReview)
    ("review/search.py", "e.anki_type == 'review'"),  # Anki's revlog kinds (AnkiReview)
    ("review/search.py", "c == '?'"),  # a glob's wildcard (path:)
    ("review/card_view.py", "name in ('b', 'strong')"),  # HTML tags
}


def test_named_states_and_kinds() -> None:
    assert {"n", "l", "r", "?", "new", "learning", "review", "rate", "bury", "suspend",
            "b", "c", "write", "check", "diff", "error", "warning"} == MAGIC
    # each alias and its constants agree
    assert get_args(model.CardState) == (model.STATE_NEW, model.STATE_LEARNING,
                                         model.STATE_REVIEW, model.STATE_UNREADABLE)
    assert get_args(model.QueueKind) == (model.NEW_CARD, model.LEARNING, model.REVIEW)
    assert get_args(model.ActionKind) == (model.ACTION_RATE, model.ACTION_BURY,
                                          model.ACTION_SUSPEND)
    assert get_args(model.AnkiModelKind) == (model.MODEL_BASIC, model.MODEL_REVERSED,
                                             model.MODEL_CLOZE)
    assert get_args(model.GenerateMode) == (model.MODE_WRITE, model.MODE_CHECK,
                                            model.MODE_DIFF)
    assert get_args(model.Severity) == (model.ERROR, model.WARNING)
    found = set()
    for rel, tree in _sources():
        if rel == "model.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
            elif isinstance(node, ast.Dict):
                # a table over one vocabulary ({"rate": ..., "bury": ...}), not a JSON
                # object that has, among others, a field called "new"
                keys = [k for k in node.keys if k is not None]
                operands = [v for side in (keys, node.values) if side and all(
                    isinstance(v, ast.Constant) and v.value in MAGIC for v in side)
                    for v in side]
            else:
                continue
            for operand in operands:
                items = (operand.elts if isinstance(operand, (ast.Tuple, ast.Set, ast.List))
                         else [operand])
                if any(isinstance(i, ast.Constant) and i.value in MAGIC for i in items):
                    found.add((rel, ast.unparse(node)))
    assert found == MAGIC_ALLOWED


def test_one_problem_record() -> None:
    """No layer defines its own problem record: each reports `model.Diagnostic`s."""
    records = [(rel, node.name) for rel, tree in _sources() for node in ast.walk(tree)
               if isinstance(node, ast.ClassDef)
               and node.name.endswith(("Problem", "Finding", "Issue", "Diagnostic"))]
    assert records == [("model.py", "Diagnostic")]


def test_diagnostic_prints_one_based() -> None:
    d = model.Diagnostic("a/b.md", 0, model.ERROR, "x", "wrong")
    assert str(d) == "a/b.md:1: error: wrong"
    assert str(model.Diagnostic("a/b.md", None, model.WARNING, "x", "odd")) == \
        "a/b.md: warning: odd"


# --- the writer ---------------------------------------------------------------------


def test_writer_failure_leaves_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")
    target.chmod(0o640)
    with pytest.raises(OSError, match="disk full"), \
            writing_atomically(str(target)) as fh:
        fh.write(b"half of the new")
        raise OSError(errno.ENOSPC, "disk full")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]
    with writing_atomically(str(target)) as fh:
        fh.write(b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640  # the mode is kept
    with replacing_atomically(str(tmp_path / "new.bin"), default_mode=0o600) as tmp:
        assert Path(tmp).name.startswith(".new.bin.") and tmp.endswith(TMP_SUFFIX)
        Path(tmp).write_bytes(b"by name")
    assert (tmp_path / "new.bin").read_bytes() == b"by name"
    assert (tmp_path / "new.bin").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.bin", "state.json"]


# The child runs `flashmark generate` with files limited to LIMIT bytes (RLIMIT_FSIZE,
# enforced by the kernel, root included): writing the cache, larger, fails with EFBIG
# part way through, as on a full disk.
LIMIT = 4096
_LIMITED = f"""
import resource, runpy, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write(), not a killed process
resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, {LIMIT}))
sys.argv = ["flashmark", *sys.argv[1:]]
runpy.run_module("flashmark", run_name="__main__")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_generate_cache_write_failure_leaves_no_temporary(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    root.mkdir()
    for k in range(60):  # each note makes a cache entry: the cache outgrows LIMIT
        (root / f"note {k:02}.md").write_text(f"# note {k}\n\nplain text, no data block\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "user-cache")}
    cache = root / ".flashmark" / "cache"

    def generate() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", _LIMITED, "generate", str(root)],
                              capture_output=True, text=True, env=env, timeout=300)

    done = generate()
    assert done.returncode == 0, done.stderr  # a cache it cannot write only costs time
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in cache.iterdir()) == []  # no cache, no temporary
    assert all(not p.name.endswith(TMP_SUFFIX) for p in root.rglob("*"))
    # without the limit the same run writes the cache, which is over the limit
    done = subprocess.run([sys.executable, "-m", "flashmark", "generate", str(root)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    written = cache / "generate.json"
    assert written.stat().st_size > LIMIT
    assert len(json.loads(written.read_bytes())["notes"]) == 60
    before = written.read_bytes()
    (root / "note 00.md").write_text("# changed\n")  # the next run must rewrite it...
    os.utime(root / "note 00.md", (1, 1))
    done = generate()  # ... and fails: the old cache stays whole, nothing else is left
    assert done.returncode == 0, done.stderr
    assert written.read_bytes() == before
    assert sorted(p.name for p in cache.iterdir()) == ["generate.json"]


def test_fallback_folder_honours_xdg_cache_home(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from flashmark.vault.fallback import fallback_folder

    if sys.platform != "linux":
        pytest.skip("XDG_CACHE_HOME is the Linux convention")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    first = fallback_folder(tmp_path / "vault")
    assert first.parent == tmp_path / "xdg" / "flashmark"
    (tmp_path / "vault").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "vault")
    assert fallback_folder(tmp_path / "link") == first  # keyed by the real path
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert fallback_folder(tmp_path / "vault").parent == tmp_path / "home" / ".cache" / \
        "flashmark"

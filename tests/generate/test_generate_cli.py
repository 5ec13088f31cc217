"""`flashmark generate` end to end: modes, exit codes, orphans, the cache, time zones."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flashmark.cli import generate as cli

GOLDEN = Path(__file__).resolve().parent / "golden"


def vault(tmp_path: Path, *names: str) -> Path:
    root = tmp_path / "vault"
    (root / ".obsidian").mkdir(parents=True)
    shutil.copytree(GOLDEN / "scripts", root / "scripts")
    for name in names:
        shutil.copy(GOLDEN / f"{name}.before.md", root / f"{name}.md")
    return root


def run(*argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["generate", *argv])
    out = io.StringIO()
    code = args.run(args, out)
    return code, out.getvalue()


NOW = "2026-11-23T09:00-05:00"


def test_check_diff_write(tmp_path: Path) -> None:
    root = vault(tmp_path, "memorize_seq")
    note = root / "memorize_seq.md"
    before = note.read_bytes()
    code, out = run(str(root), "--check", "--now", NOW)
    assert code == 1
    assert out.splitlines() == ['memorize_seq.md:29: section "5a1e" is stale',
                                'memorize_seq.md:39: section "9c0d" is stale']
    code, out = run(str(root), "--diff", "--now", NOW)
    assert code == 0 and "+> 3. frame: reframe the question\n" in out
    # first what moved to a changed card (the edited pair), then the diff
    moved, diff = out.split("\n", 1)
    assert moved.startswith("# memorize_seq.md:44: schedule <!--SR:!2027-05-10,228,250")
    assert moved.endswith("moved (similar): 'ideate: generate ideas→::@::←prototype: build "
                          "to think' -> 'ideate: generate many ideas→::@::←prototype: build "
                          "to think'")
    assert diff.startswith("--- a/memorize_seq.md\n+++ b/memorize_seq.md\n")
    assert note.read_bytes() == before  # --check and --diff write nothing
    assert run(str(root), "--now", NOW)[0] == 0
    assert note.read_bytes() == (GOLDEN / "memorize_seq.after.md").read_bytes()
    assert run(str(root), "--check", "--no-cache")[0] == 0
    events = [json.loads(line) for line in
              (root / ".flashmark" / "reviews.jsonl").read_text().splitlines()]
    # the edited pair kept its schedule: its two cards' ids are renamed; the pairs of the
    # inserted and the removed item are orphans
    assert [e["event"] for e in events] == ["renamed"] * 2 + ["orphan"] * 2
    assert {e["via"] for e in events[:2]} == {"similar"}
    events = events[2:]
    assert events[0]["card"] == "define: state the problem→::@::←ideate: generate ideas"
    assert events[0]["comment"].startswith("<!--SR:!fsrs,2027-04-15")
    assert events[0]["line"] == 43


def test_single_note_path_and_vault_detection(tmp_path: Path) -> None:
    root = vault(tmp_path, "memorize_seq", "cloze_text")
    code, _ = run(str(root / "cloze_text.md"), "--now", NOW)
    assert code == 0
    assert (root / "cloze_text.md").read_bytes() == (GOLDEN / "cloze_text.after.md").read_bytes()
    assert (root / "memorize_seq.md").read_bytes() == (
        GOLDEN / "memorize_seq.before.md").read_bytes()


def test_keep_orphans(tmp_path: Path) -> None:
    root = vault(tmp_path, "memorize_seq")
    assert run(str(root), "--keep-orphans", "--now", NOW)[0] == 0
    text = (root / "memorize_seq.md").read_text()
    line = next(s for s in text.splitlines() if s.startswith("<!--flashmark orphans"))
    assert line.startswith('<!--flashmark orphans section="9c0d" [{"card": "define: state')
    assert "!fsrs,2027-04-15T00:00:00.000Z" in line and line.endswith("}]-->")
    assert "<!--SR:" not in line  # not an SR comment any more: no parser takes it for one
    assert run(str(root), "--keep-orphans", "--no-cache", "--check")[0] == 0


def test_errors_exit_3_and_other_sections_still_regenerate(tmp_path: Path) -> None:
    root = vault(tmp_path, "error_runtime", "memorize_map")
    code, _ = run(str(root), "--now", NOW)
    assert code == 3
    assert (root / "memorize_map.md").read_bytes() == (
        GOLDEN / "memorize_map.after.md").read_bytes()
    assert (root / "error_runtime.md").read_bytes() == (
        GOLDEN / "error_runtime.after.md").read_bytes()


def test_cache_skips_unchanged_notes_and_sees_imports(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from flashmark.cli.common import parse_now
    from flashmark.config import Settings
    from flashmark.generate.engine import Options, generate

    root = vault(tmp_path, "memorize_seq", "error_syntax")
    options = Options(now=parse_now(NOW))
    first = generate(root, Settings(), options, jobs=1)
    assert (first.ran, first.cached, first.notes) == (2, 0, 2)
    # racy window: files written within 2 s are hashed again; pretend time passed
    for p in root.rglob("*.md"):
        st = p.stat()
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns - 5_000_000_000))
    generate(root, Settings(), options, jobs=1)  # records the old mtimes
    again = generate(root, Settings(), options, jobs=1)
    assert (again.ran, again.cached) == (0, 2)
    assert [p.line for p in again.problems] == [p.line for p in first.problems]  # from the cache
    lib = root / "scripts" / "utility.py.md"
    lib.write_text(lib.read_text().replace("total * 31", "total * 37"))
    changed = generate(root, Settings(), options, jobs=1)
    # an imported note changed: the notes importing it run again, the others do not
    assert [o.rel for o in changed.outcomes] == ["memorize_seq.md"]


def test_negative_utc_offset_local_time(tmp_path: Path) -> None:
    """Without --now the header is local time; west of UTC it ends in -05:00, and the next
    run reads that header back (nothing rewritten)."""
    root = vault(tmp_path, "memorize_seq")
    script = ("import argparse,io,sys\nfrom flashmark.cli import generate as g\n"
              "p=argparse.ArgumentParser();g.register(p.add_subparsers())\n"
              "a=p.parse_args(['generate',sys.argv[1],'--no-cache'])\n"
              "sys.exit(a.run(a,io.StringIO()))\n")
    env = {**os.environ, "TZ": "America/New_York"}
    done = subprocess.run([sys.executable, "-c", script, str(root)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = (root / "memorize_seq.md").read_text()
    assert "-05:00. Any edits will be overridden! -->" in text
    first = (root / "memorize_seq.md").read_bytes()
    time.sleep(0.01)
    done = subprocess.run([sys.executable, "-c", script, str(root)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and (root / "memorize_seq.md").read_bytes() == first


def test_no_timestamp_keeps_the_old_header(tmp_path: Path) -> None:
    root = vault(tmp_path, "memorize_seq")
    assert run(str(root), "--no-timestamp")[0] == 0
    text = (root / "memorize_seq.md").read_text()
    assert text.count("generated at 2025-03-01T20:00:00.000000+08:00") == 2


def test_parallel_jobs_give_the_same_bytes(tmp_path: Path) -> None:
    names = ["memorize_seq", "memorize_map", "memorize_table", "memorize_linked_seq",
             "memorize_indexed_seq", "semantics_seq_map", "cloze_text", "notes", "crlf"]
    root = vault(tmp_path, *names)
    assert run(str(root), "--jobs", "2", "--now", NOW)[0] == 0
    for name in names:
        assert (root / f"{name}.md").read_bytes() == (GOLDEN / f"{name}.after.md").read_bytes()


def test_other_commands_never_run_note_code(tmp_path: Path) -> None:
    root = vault(tmp_path)
    marker = tmp_path / "ran"
    (root / "note.md").write_text(
        "---\ntags: [flashcard/active]\n---\n\n```Python\n# pytextgen generate data\n"
        f"open({str(marker)!r}, 'w').close()\nreturn ()\n```\n\nq::@::a\n")
    for command in (["scan", str(root)], ["scan", "--json", str(root)], ["check", str(root)]):
        subprocess.run([sys.executable, "-m", "flashmark", *command], capture_output=True,
                       timeout=120, check=False)
    assert not marker.exists()
    assert run(str(root))[0] == 0
    assert marker.exists()  # only generate runs it

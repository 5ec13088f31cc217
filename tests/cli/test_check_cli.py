"""`flashmark check` on a copy of the sample vault notes/ and on small broken notes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

Runner = Callable[..., tuple[int, str, str]]
HEAD = "---\ntags: [flashcard/active/broken]\n---\n"
FINDING = re.compile(r"^(?P<path>[^:]+)(?::(?P<line>\d+))?: (?P<severity>error|warning): "
                     r"(?P<message>.+) \[(?P<code>[a-z-]+)\]$")


def _findings(out: str) -> list[tuple[str, int | None, str, str]]:
    found = []
    for line in out.splitlines():
        m = FINDING.match(line)
        assert m is not None, f"not a finding line: {line!r}"
        found.append((m["path"], int(m["line"]) if m["line"] else None, m["severity"],
                      m["code"]))
    return found


def test_sample_vault_is_clean(cli: Runner, vault: Path) -> None:
    code, out, err = cli("check", str(vault))
    assert code == 0
    assert out == ""
    assert err.strip() == "0 error(s), 0 warning(s)"


def test_unbalanced_cloze(cli: Runner, vault: Path) -> None:
    (vault / "customers" / "broken.md").write_text(
        HEAD + "\nFirst {@{x}@} then {@{y}@ oops.\n", encoding="utf-8")
    code, out, err = cli("check", str(vault))
    assert code == 1
    assert _findings(out) == [("customers/broken.md", 5, "error", "unbalanced-cloze")]
    assert out.startswith("customers/broken.md:5: error: ")
    assert "1 error(s)" in err


def test_sr_count_mismatch(cli: Runner, vault: Path) -> None:
    (vault / "mismatch.md").write_text(
        HEAD + "\nintro line\n\nThe {@{a}@}, the {@{b}@}\nand the {@{c}@}.\n"
        "<!--SR:!2026-01-01,3,250-->\n", encoding="utf-8")
    code, out, _ = cli("check", str(vault))
    assert code == 1
    assert _findings(out) == [("mismatch.md", 9, "error", "sr-count-mismatch")]
    assert "1 entry" in out and "3 deletions" in out


def test_json_findings(cli: Runner, vault: Path) -> None:
    (vault / "b.md").write_text(HEAD + "{@{x}@} {@{y}@\n\nq:@:a\n\nq:@:a\n", encoding="utf-8")
    code, out, err = cli("check", str(vault), "--json")
    assert code == 1
    rows = [json.loads(line) for line in out.splitlines()]
    assert all(set(r) == {"path", "line", "severity", "code", "message"} for r in rows)
    assert [(r["path"], r["line"], r["severity"], r["code"]) for r in rows] == [
        ("b.md", 4, "error", "unbalanced-cloze"),
        ("b.md", 8, "warning", "duplicate-card"),
    ]
    assert err == ""


def test_warnings_alone_exit_0_and_errors_only_hides_them(cli: Runner, vault: Path) -> None:
    (vault / "w.md").write_text(HEAD + "q:@:a\n\nq:@:a\n", encoding="utf-8")
    code, out, err = cli("check", str(vault))
    assert code == 0
    assert _findings(out) == [("w.md", 6, "warning", "duplicate-card")]
    assert "0 error(s), 1 warning(s)" in err
    code, out, _ = cli("check", str(vault), "--errors-only")
    assert (code, out) == (0, "")


def test_malformed_entry(cli: Runner, vault: Path) -> None:
    (vault / "m.md").write_text(HEAD + "q:@:a <!--SR:!2026-01-01,3-->\n", encoding="utf-8")
    code, out, _ = cli("check", str(vault))
    assert code == 1
    assert _findings(out) == [("m.md", 4, "error", "sr-malformed")]
    assert "!2026-01-01,3" in out


def test_unreadable_note_is_a_warning(cli: Runner, vault: Path) -> None:
    bad = HEAD.encode() + b"caf\xe9:@:coffee\n"
    (vault / "latin1.md").write_bytes(bad)
    code, out, _ = cli("check", str(vault))
    assert code == 0
    (finding,) = _findings(out)
    assert finding == ("latin1.md", None, "warning", "unreadable")
    assert "UTF-8" in out
    assert (vault / "latin1.md").read_bytes() == bad


def test_all_notes_reads_untagged_notes(cli: Runner, vault: Path) -> None:
    (vault / "untagged.md").write_text("# untagged\n\n{@{x}@} {@{y}@\n", encoding="utf-8")
    assert cli("check", str(vault))[0] == 0
    code, out, _ = cli("check", str(vault), "--all")
    assert code == 1
    assert ("untagged.md", 3, "error", "unbalanced-cloze") in _findings(out)


def test_check_does_not_modify_notes(cli: Runner, vault: Path) -> None:
    before = {p: p.read_bytes() for p in vault.rglob("*.md")}
    assert cli("check", str(vault), "--no-cache")[0] == 0
    assert {p: p.read_bytes() for p in vault.rglob("*.md")} == before
    assert not (vault / ".flashmark").exists()


def test_missing_vault(cli: Runner, tmp_path: Path) -> None:
    code, out, err = cli("check", str(tmp_path / "missing"))
    assert code == 3
    assert out == ""
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


def test_many_notes_are_linted_in_parallel_in_note_order(
        cli: Runner, vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 60 broken notes: several chunks, shared between processes; the findings must come
    # out in note order, the same as with one process.
    (vault / "bulk").mkdir()
    for k in range(60):
        (vault / "bulk" / f"n{k:02d}.md").write_text(
            HEAD + f"\nq{k} {{@{{x}}@}} {{@{{y}}@ oops\n", encoding="utf-8")
    code, out, _ = cli("check", str(vault))
    assert code == 1
    assert _findings(out) == [(f"bulk/n{k:02d}.md", 5, "error", "unbalanced-cloze")
                              for k in range(60)]
    monkeypatch.setenv("FLASHMARK_JOBS", "1")
    assert cli("check", str(vault))[:2] == (code, out)

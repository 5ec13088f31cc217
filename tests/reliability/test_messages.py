"""A message, not a traceback (exit 70), for a file name that is
not UTF-8, an absurd FSRS stability, `--now` outside the calendar's comfortable range, a
full disk and a read-only vault; and the right message for a UTF-16 note and for note
code that changes the working folder.

Every test runs the real `flashmark` in a subprocess and checks its exit code, its
message and that no traceback was printed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "notes"
HEAD = "---\ntags: [flashcard/active/t]\n---\n\n"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    dest = tmp_path / "notes"
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns(".flashmark"))
    return dest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "user-cache"), "TZ": "UTC"}


def flashmark(env: dict[str, str], *args: str | Path,
              cwd: Path | None = None) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "flashmark", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode != 70, done.stderr
    return done.returncode, done.stdout, done.stderr


def notes_of(vault: Path) -> dict[bytes, bytes]:
    return {os.fsencode(p.relative_to(vault)): p.read_bytes()
            for p in sorted(vault.rglob("*.md")) if ".flashmark" not in p.parts}


def card_ids(env: dict[str, str], vault: Path, path: str) -> list[str]:
    code, out, _ = flashmark(env, "scan", vault, "--json")
    assert code == 0
    return [c["id"] for c in map(json.loads, out.splitlines()) if c["path"] == path]


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` read-only even for root: a read-only bind mount (skip when not allowed)."""
    done = subprocess.run(["mount", "--bind", str(path), str(path)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot bind-mount here ({done.stderr.strip()})")
    try:
        done = subprocess.run(["mount", "-o", "remount,bind,ro", str(path)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot remount read-only ({done.stderr.strip()})")
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)


# --- file names that are not UTF-8 ----------------------------------------------------


def test_note_named_with_invalid_utf8_is_skipped_with_a_warning(vault: Path,
                                                                env: dict[str, str]) -> None:
    bad = os.path.join(os.fsencode(vault), b"bad\xff.md")
    with open(bad, "wb") as fh:
        fh.write((HEAD + "q:@:a\n").encode())
    folder = os.path.join(os.fsencode(vault), b"dir\xfe")
    os.mkdir(folder)
    with open(os.path.join(folder, b"x.md"), "wb") as fh:
        fh.write((HEAD + "r:@:b\n").encode())
    before = notes_of(vault)
    warning = ("bad\\xff.md: warning: the file name is not valid UTF-8: skipped (rename it "
               "to read its cards)")
    folder_warning = warning.replace("bad\\xff.md", "dir\\xfe")
    for command in (["scan"], ["scan"], ["scan", "--json"], ["due"], ["stats"],
                    ["export", "-o", str(vault.parent / "x.apkg")]):
        code, out, err = flashmark(env, command[0], vault, *command[1:])
        assert code == 0, (command, err)
        if command[0] in ("scan", "export"):
            assert err.splitlines() == [warning, folder_warning], (command, err)
    code, out, err = flashmark(env, "check", vault)
    assert warning + " [unreadable]" in out + err
    code, out, err = flashmark(env, "generate", vault)
    assert code == 0 and err.splitlines()[:2] == [warning, folder_warning]
    assert notes_of(vault) == before  # never written


# --- absurd values in SR entries ---------------------------------------------------------

HUGE = HEAD + (
    "Q {@{a}@} <!--SR:!fsrs,2026-01-01T00:00:00.000Z,5,1e25,5,2,3,0,0,"
    "2025-12-01T00:00:00.000Z-->\n\n"
    "R {@{b}@} <!--SR:!2026-01-01,1e25,250-->\n\n"
    "S {@{c}@} <!--SR:!fsrs,2026-01-01T00:00:00.000Z,5,1e400,5,2,3,0,0,-->\n\n"
    "T {@{d}@} <!--SR:!fsrs,2026-01-01T00:00:00.000Z,5,9e8,5,2,3,0,0,"
    "2025-12-01T00:00:00.000Z-->\n")


def test_huge_stability_is_a_check_finding_and_a_refusal_to_rate(
        vault: Path, env: dict[str, str]) -> None:
    (vault / "huge.md").write_text(HUGE)
    code, out, err = flashmark(env, "check", vault)
    assert code == 1
    findings = [line for line in (out + err).splitlines() if line.startswith("huge.md:")]
    assert len(findings) == 3, findings
    assert "stability 1e25 is out of range (at most 1e+09 days)" in findings[0]
    assert "'!2026-01-01,1e25,250'" in findings[1]
    assert "fsrs,2026-01-01T00:00:00.000Z,5,1e400" in findings[2]
    for command in ("scan", "due", "stats"):
        assert flashmark(env, command, vault, "--now", "2026-12-05")[0] == 0
    ids = card_ids(env, vault, "huge.md")
    assert len(ids) == 4
    for card_id, line in zip(ids[:3], (5, 7, 9), strict=True):
        before = (vault / "huge.md").read_bytes()
        code, _, err = flashmark(env, "rate", card_id, "good", vault, "--now", "2026-12-05")
        assert code == 3
        assert err.startswith(f"flashmark: huge.md:{line}: the SR entry "), err
        assert "flashmark will not overwrite it" in err
        assert (vault / "huge.md").read_bytes() == before
    # 9e8 days is absurd but allowed: rated at the longest interval, written back
    code, out, err = flashmark(env, "rate", ids[3], "good", vault, "--now", "2026-12-05")
    assert code == 0, err
    assert re.match(r"huge\.md:11: good -> due 21\d\d-", out), out  # about 100 years


# --- --now out of range ---------------------------------------------------------------------


@pytest.mark.parametrize("when", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("command", ["scan", "due", "rate", "stats"])
def test_now_out_of_range_is_a_usage_error(vault: Path, env: dict[str, str], when: str,
                                           command: str) -> None:
    args: list[str | Path] = (["rate", "0123456789ab", "good", vault] if command == "rate"
                              else [command, vault])
    code, _, err = flashmark(env, *args, "--now", when)
    assert code == 2
    assert err == (f"flashmark: --now '{when}' is out of range: give a time between the "
                   "years 1970 and 9000\n")


def test_now_at_the_edges_of_the_range_works(vault: Path, env: dict[str, str]) -> None:
    for when in ("1970-01-02", "8999-06-01"):
        for command in ("scan", "due", "stats"):
            assert flashmark(env, command, vault, "--now", when)[0] == 0


# --- a read-only vault, a full disk ------------------------------------------------------


def test_read_only_vault(vault: Path, env: dict[str, str], tmp_path: Path) -> None:
    (card_id, *_) = card_ids(env, vault, "customers/customer jobs.md")
    shutil.rmtree(vault / ".flashmark")
    before = notes_of(vault)
    with read_only(vault):
        code, out, err = flashmark(env, "scan", vault)
        assert (code, err) == (0, "") and "total" in out
        code, _, err = flashmark(env, "rate", card_id, "good", vault, "--now", "2026-12-05")
        assert code == 3
        (message,) = err.splitlines()
        assert re.fullmatch(r"flashmark: read-only file system: cannot write "
                            r"(the review log )?'.+'", message)
        code, _, err = flashmark(env, "export", vault, "-o", vault / "deck.apkg")
        assert code == 3
        assert re.fullmatch(r"flashmark: read-only file system: cannot write '.+'\n", err)
    assert notes_of(vault) == before
    assert list((tmp_path / "user-cache").glob("flashmark/*/index.sqlite3"))


def test_export_to_a_full_disk(vault: Path, env: dict[str, str], tmp_path: Path) -> None:
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")
    try:
        code, _, err = flashmark(env, "export", vault, "-o", mnt / "deck.apkg")
        assert code == 3
        assert re.fullmatch(r"flashmark: disk full while writing .+\n", err), err
        assert not (mnt / "deck.apkg").exists()
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_file_size_limit_is_a_message(vault: Path, env: dict[str, str],
                                      tmp_path: Path) -> None:
    """RLIMIT_FSIZE (with SIGXFSZ ignored, writes fail with EFBIG): the way a quota
    looks to a process; works without mount rights."""
    script = ("import resource, signal, sys\n"
              "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
              "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
              "from flashmark.cli.main import main\n"
              "sys.exit(main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", script, "export", str(vault), "--no-cache",
                           "-o", str(tmp_path / "deck.apkg")],
                          capture_output=True, text=True, env=env, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 3
    # the package (SQLite) or the zip file reaches the limit first
    assert re.fullmatch(r"flashmark: (file size limit reached|disk I/O error) while "
                        r"writing .+\n", done.stderr), done.stderr


# --- misleading messages ------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_note_is_named_utf16(vault: Path, env: dict[str, str], encoding: str) -> None:
    (vault / "wide.md").write_bytes((HEAD + "q:@:a\n").encode(encoding))
    code, _, err = flashmark(env, "scan", vault)
    assert code == 0
    assert err == "wide.md: warning: is encoded as UTF-16, not UTF-8: skipped\n"


def test_binary_file_is_still_binary(vault: Path, env: dict[str, str]) -> None:
    (vault / "blob.md").write_bytes(bytes(range(256)) * 4)
    code, _, err = flashmark(env, "scan", vault)
    assert code == 0
    assert err == ("blob.md: warning: looks like a binary file (it contains NUL bytes): "
                   "skipped\n")


def test_note_code_that_changes_folder_does_not_move_the_vault(
        vault: Path, env: dict[str, str]) -> None:
    """`flashmark generate notes` from the vault's parent, relative path: a note's code
    calls os.chdir("/") before the other notes are read and written."""
    (vault / "aaa first.md").write_text(
        "```Python\n# pytextgen generate data\nimport os\nos.chdir('/')\nreturn []\n```\n")
    code, _, err = flashmark(env, "generate", "notes", "--no-cache", cwd=vault.parent)
    assert code == 0, err
    assert "no such note" not in err and "no longer exists" not in err
    assert err.startswith("3 notes with data blocks: 3 run"), err

"""The caches are disposable. A damaged index, export render cache or
generate cache costs a rebuild and a one-line notice, never exit 70 and never gigabytes;
a cache that cannot be written goes elsewhere (the user cache folder, memory).

Every test runs the real `flashmark` in a subprocess and checks its exit code, its
stderr line by line and that no traceback was printed.
"""

from __future__ import annotations

import errno
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.measured import run_measured

SAMPLE = Path(__file__).resolve().parents[2] / "notes"
INDEX = Path(".flashmark/cache/index.sqlite3")


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    dest = tmp_path / "notes"
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns(".flashmark"))
    return dest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The subprocess environment: a private user cache folder, UTC."""
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "user-cache"), "TZ": "UTC"}


def flashmark(env: dict[str, str], *args: str | Path,
              cwd: Path | None = None) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "flashmark", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


def notes_of(vault: Path) -> dict[str, bytes]:
    return {str(p.relative_to(vault)): p.read_bytes() for p in sorted(vault.rglob("*.md"))
            if ".flashmark" not in p.parts}


@contextmanager
def mounted(*command: str, target: Path) -> Iterator[None]:
    """Run ``mount command`` (skip the test when mounting is not permitted), unmount
    after."""
    done = subprocess.run(["mount", *command], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip()})")
    try:
        yield
    finally:
        subprocess.run(["umount", str(target)], check=True)


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` (a file or folder) read-only even for root: a read-only bind mount."""
    with mounted("--bind", str(path), str(path), target=path):
        done = subprocess.run(["mount", "-o", "remount,bind,ro", str(path)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot remount read-only ({done.stderr.strip()})")
        yield


# --- the index ---------------------------------------------------------------------


def _damage_test(vault: Path, env: dict[str, str], damage: str) -> str:
    """Scan, damage the index as ``damage`` says, scan again: same output, one notice,
    and the third scan is quiet. Returns the notice."""
    code, clean, err = flashmark(env, "scan", vault, "--now", "2026-12-05")
    assert (code, err) == (0, "")
    index = vault / INDEX
    for extra in ("-wal", "-shm"):
        index.with_name(index.name + extra).unlink(missing_ok=True)
    data = index.read_bytes()
    page = 4096
    assert len(data) >= 3 * page, "the sample vault's index has a few pages"
    rng = random.Random(10)
    if damage == "garbage pages":
        # every page but the first (the header) and the last: the b-trees' interior
        middle = bytes(rng.getrandbits(8) for _ in range(len(data) - 2 * page))
        index.write_bytes(data[:page] + middle + data[-page:])
    elif damage == "truncated":
        index.write_bytes(data[:len(data) // 2])
    else:
        index.write_bytes(bytes(rng.getrandbits(8) for _ in range(len(data))))
    code, out, err = flashmark(env, "scan", vault, "--now", "2026-12-05")
    assert code == 0
    assert out == clean
    (notice,) = err.splitlines()
    assert re.fullmatch(r"flashmark: the index .*index\.sqlite3 was damaged \(.+\): "
                        r"deleted, rebuilding it", notice), notice
    assert flashmark(env, "scan", vault, "--now", "2026-12-05") == (0, clean, "")
    return notice


def test_index_with_garbage_pages_in_the_middle_is_rebuilt(vault: Path,
                                                           env: dict[str, str]) -> None:
    assert "malformed" in _damage_test(vault, env, "garbage pages")


def test_truncated_index_is_rebuilt(vault: Path, env: dict[str, str]) -> None:
    assert "malformed" in _damage_test(vault, env, "truncated")


def test_index_of_random_bytes_is_rebuilt(vault: Path, env: dict[str, str]) -> None:
    assert "not a database" in _damage_test(vault, env, "random")


def test_rating_works_after_the_index_was_damaged(vault: Path, env: dict[str, str]) -> None:
    code, out, _ = flashmark(env, "scan", vault, "--json")
    card = json.loads(out.splitlines()[0])
    (vault / INDEX).write_bytes(b"\x00garbage" * 1000)
    before = notes_of(vault)
    code, out, err = flashmark(env, "rate", card["id"], "good", vault, "--now", "2026-12-05")
    assert code == 0, err
    assert "was damaged" in err and len(err.splitlines()) == 1
    after = notes_of(vault)
    assert [rel for rel in before if before[rel] != after[rel]] == [card["path"]]


def test_read_only_state_folder_puts_the_index_in_the_user_cache(
        vault: Path, env: dict[str, str], tmp_path: Path) -> None:
    flashmark(env, "scan", vault)  # makes .flashmark/cache/
    (vault / INDEX).unlink()
    with read_only(vault / ".flashmark"):
        first = flashmark(env, "scan", vault, "--now", "2026-12-05")
        second = flashmark(env, "scan", vault, "--now", "2026-12-05")
    assert first[0] == 0 and first == second
    assert first[2] == ""  # the README's documented fallback is silent
    assert not (vault / INDEX).exists()
    (user_index,) = (tmp_path / "user-cache").glob("flashmark/*/index.sqlite3")
    assert sqlite3.connect(user_index).execute("SELECT count(*) FROM notes").fetchone()[0] > 0


def test_unwritable_index_file_is_replaced_by_one_in_the_user_cache(
        vault: Path, env: dict[str, str], tmp_path: Path) -> None:
    flashmark(env, "scan", vault)
    note = vault / "customers" / "customer jobs.md"
    with read_only(vault / INDEX):
        note.write_text(note.read_text() + "\nA {@{new card}@} here.\n")
        code, out, err = flashmark(env, "scan", vault, "--json")
        assert (code, err) == (0, "")
        new = [c for c in map(json.loads, out.splitlines()) if c["back"] == "A new card here."]
        assert len(new) == 1
        code, _, err = flashmark(env, "rate", new[0]["id"], "good", vault,
                                 "--now", "2026-12-05")
    assert (code, err) == (0, "")
    assert "<!--SR:" in note.read_text().splitlines()[-1]
    assert list((tmp_path / "user-cache").glob("flashmark/*/index.sqlite3"))


@pytest.fixture
def full_disk(tmp_path: Path, vault: Path, env: dict[str, str]) -> Iterator[Path]:
    """A copy of the vault on a 1 MB tmpfs that is full: its `.flashmark/cache/` folder
    exists (a vault used before) but the index is gone."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt), target=mnt):
        shutil.copytree(vault, mnt / "v")
        flashmark(env, "scan", mnt / "v")
        for index in (mnt / "v" / INDEX).parent.glob("index.sqlite3*"):
            index.unlink()
        with open(mnt / "filler", "wb", buffering=0) as fh:
            try:
                while True:
                    fh.write(b"\0" * 512)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        yield mnt / "v"


def test_full_disk_leaves_the_index_in_memory(full_disk: Path, vault: Path,
                                              env: dict[str, str]) -> None:
    code, out, err = flashmark(env, "scan", full_disk, "--now", "2026-12-05")
    assert code == 0
    assert out == flashmark(env, "scan", vault, "--now", "2026-12-05")[1]
    (notice,) = err.splitlines()
    assert re.fullmatch(r"flashmark: disk full while writing the index .*index\.sqlite3: "
                        r"it is not saved this time", notice), notice


def test_rating_on_a_full_disk_is_a_message_and_leaves_the_notes(
        full_disk: Path, env: dict[str, str]) -> None:
    code, out, _ = flashmark(env, "scan", full_disk, "--json")
    card = json.loads(out.splitlines()[0])
    before = notes_of(full_disk)
    code, _, err = flashmark(env, "rate", card["id"], "good", full_disk, "--now", "2026-12-05")
    assert code == 3
    assert err.splitlines()[-1].startswith("flashmark: disk full while writing"), err
    assert notes_of(full_disk) == before


# --- the export render cache ----------------------------------------------------------


def _package_notes(apkg: Path) -> list[tuple[str, str, str]]:
    with zipfile.ZipFile(apkg) as z:
        db_name = next(n for n in z.namelist() if n.startswith("collection.anki2"))
        data = z.read(db_name)
    copy = apkg.with_suffix(".anki2")
    copy.write_bytes(data)
    conn = sqlite3.connect(copy)
    try:
        return sorted(conn.execute("SELECT guid, flds, tags FROM notes"))
    finally:
        conn.close()


def _export_measured(env: dict[str, str], vault: Path, out: Path) -> tuple[int, str, int]:
    """Export in a child whose address space is capped at 3 GB: (exit code, stderr,
    peak RSS kB)."""
    code, err, peak = run_measured(["export", vault, "-o", out], env=env,
                                   address_limit=3 << 30)
    assert "Traceback" not in err, err
    return code, err, peak


def test_export_with_garbage_cache_entries_is_correct_and_small(
        vault: Path, env: dict[str, str], tmp_path: Path) -> None:
    code, _, err = flashmark(env, "export", vault, "-o", tmp_path / "clean.apkg")
    assert (code, err) == (0, "")
    cache = vault / ".flashmark" / "cache" / "export.sqlite3"
    conn = sqlite3.connect(cache)
    rels = [r for (r,) in conn.execute("SELECT rel FROM notes")]
    assert len(rels) >= 4
    garbage = [
        b"(\xff\xff\xff\x7f",  # a tuple of 2**31 - 1 items: 16 GB once allocated
        b"[\xff\xff\xff\x7f" + b"N" * 100,
        bytes(random.Random(7).getrandbits(8) for _ in range(5000)),
        b"",
    ]
    for rel, blob in zip(rels, garbage, strict=False):
        conn.execute("UPDATE notes SET data = ? WHERE rel = ?", (blob, rel))
    conn.commit()
    conn.close()
    code, err, maxrss_kb = _export_measured(env, vault, tmp_path / "again.apkg")
    assert (code, err) == (0, "")
    assert maxrss_kb < 1 << 20  # under 1 GB (the damaged cache took 4.5 GB and more)
    assert _package_notes(tmp_path / "again.apkg") == _package_notes(tmp_path / "clean.apkg")


def test_damaged_export_cache_file_is_rebuilt(vault: Path, env: dict[str, str],
                                              tmp_path: Path) -> None:
    flashmark(env, "export", vault, "-o", tmp_path / "clean.apkg")
    cache = vault / ".flashmark" / "cache" / "export.sqlite3"
    data = cache.read_bytes()
    cache.write_bytes(data[:4096] + b"\xa5" * (len(data) - 4096))
    code, out, err = flashmark(env, "export", vault, "-o", tmp_path / "again.apkg")
    assert code == 0 and out.startswith("wrote ")
    (notice,) = err.splitlines()
    assert re.fullmatch(r"flashmark: the export cache .*export\.sqlite3 was damaged "
                        r"\(.+\): deleted, rebuilding it", notice), notice
    assert _package_notes(tmp_path / "again.apkg") == _package_notes(tmp_path / "clean.apkg")
    assert flashmark(env, "export", vault, "-o", tmp_path / "third.apkg")[2] == ""


# --- the generate cache -----------------------------------------------------------------


@pytest.mark.parametrize("damage", ["deep", "wrong types", "not json"])
def test_damaged_generate_cache_is_rebuilt(vault: Path, env: dict[str, str],
                                           damage: str) -> None:
    code, _, summary = flashmark(env, "generate", vault)  # generate reports on stderr
    assert code == 0 and summary.startswith("2 notes with data blocks: 2 run, 0 unchanged")
    notes = notes_of(vault)
    cache = vault / ".flashmark" / "cache" / "generate.json"
    if damage == "deep":
        cache.write_text("[" * 100_000)
    elif damage == "not json":
        cache.write_bytes(b"\xff\xfe garbage")
    else:
        raw = json.loads(cache.read_text())
        for entry in raw["notes"].values():
            entry.update(deps=[1, 2], problems="oops", clean_digest=entry["digest"])
        cache.write_text(json.dumps(raw))
    code, _, err = flashmark(env, "generate", vault)
    assert code == 0
    *notices, again = err.splitlines()
    assert again == summary.strip()  # every note run again, same results
    if damage == "wrong types":
        assert notices == []  # each bad entry is a miss: its note simply runs again
    else:
        (notice,) = notices
        assert re.fullmatch(r"flashmark: the generate cache .*generate\.json was damaged "
                            r"\(.+\): rebuilding it", notice), notice
    assert notes_of(vault) == notes
    code, _, err = flashmark(env, "generate", vault)
    # (a warm run counts the imported module note too: 3 notes, as on main)
    assert code == 0 and re.match(r"\d notes with data blocks: 0 run, ", err), err

"""Fixtures shared by the test folders: a private copy of the sample vault (`vault`),
local time set to UTC (`utc`), and what a rating must write (`expect`)."""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "notes"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """A copy of notes/ (without any index or log a previous run left in it)."""
    dest = tmp_path / "notes"
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns(".flashmark"))
    return dest


def copy_writable(source: Path, dest: Path) -> Path:
    """Copy a vault as a user would have it: writable. The corpus is installed
    read-only, and flashmark refuses to replace a read-only note (it would lose the
    user's protection), so a plain copytree would make every rating a refusal."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".flashmark"))
    for folder, dirs, files in os.walk(dest):
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            mode = os.lstat(path).st_mode
            if not stat.S_ISLNK(mode):
                os.chmod(path, stat.S_IMODE(mode) | stat.S_IWUSR)
    os.chmod(dest, stat.S_IMODE(os.stat(dest).st_mode) | stat.S_IWUSR)
    return dest


@pytest.fixture(scope="session")
def writable_copy() -> Callable[[Path, Path], Path]:
    """`copy_writable` for tests in other folders (conftest is not importable there)."""
    return copy_writable


@pytest.fixture
def utc() -> Iterator[None]:
    """Run in UTC: "today" and the day boundaries depend on the local time zone."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


class Expect:
    """What a rating must write, computed from the scheduler itself: the note's bytes
    with only this card's SR entry replaced by the scheduler's new entry."""

    def __init__(self, vault: Path) -> None:
        from flashmark.config import load_settings

        self.vault = vault
        self.settings = load_settings(vault)

    def rating(self, card_id: str, rel: str, rating: object, now: object) -> tuple[bytes, str]:
        import datetime as dt

        from flashmark.cards import cards_of
        from flashmark.model import Rating
        from flashmark.scheduling import FsrsScheduler, SchedulerConfig
        from flashmark.syntax import parse_note, srcodec
        from flashmark.vault.edit import splice
        from flashmark.vault.srwrite import sr_edit

        assert isinstance(rating, Rating) and isinstance(now, dt.datetime)
        data = (self.vault / rel).read_bytes()
        note = parse_note(data.decode("utf-8"), self.settings.parser)
        card, question = next((c, q) for q in note.questions for c in cards_of(q, rel)
                              if c.id == card_id)
        entry = srcodec.parse_entry(card.entry_text) if card.entry_text else None
        scheduler = FsrsScheduler(SchedulerConfig.from_settings(self.settings.scheduling))
        after = scheduler.review(entry, rating, now, int(card_id, 16)).text  # type: ignore[arg-type]
        edit = sr_edit(data, question, card.sibling, after,
                       same_line=self.settings.parser.comment_on_same_line)
        return splice(data, [edit]), after


@pytest.fixture
def expect(vault: Path) -> Expect:
    return Expect(vault)


@pytest.fixture
def expect_in() -> type[Expect]:
    """``expect_in(root)``: an Expect for another vault (the corpus copy)."""
    return Expect

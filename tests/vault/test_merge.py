"""`flashmark merge-driver` and `flashmark git-setup` with real git, real ratings and the
sample vault (notes/)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashmark.config import load_settings
from flashmark.model import FsrsEntry, Rating, Sm2Entry
from flashmark.review.rating import rate_card
from flashmark.syntax import srcodec
from flashmark.vault.merge import later_entry, merge_bytes

REPO = Path(__file__).resolve().parents[2]
NOTE = "customers/customer interviews.md"
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}
MARKER = re.compile(r"^(<{7}|={7}|>{7}|\|{7})( |$)", re.M)


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True,
                          text=True, check=check)


def flashmark(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flashmark", *args], capture_output=True,
                          text=True, check=check)


def rate(vault: Path, card: str, rating: str, when: str) -> str:
    out = flashmark("rate", card, rating, str(vault), "--now", when, "--json").stdout
    after: str = json.loads(out)["after"]
    return after


def scan(vault: Path) -> list[dict[str, object]]:
    out = flashmark("scan", "--json", str(vault)).stdout
    return [json.loads(line) for line in out.splitlines()]


def entry_of(vault: Path, card: str) -> str:
    """The card's entry text as the note holds it now."""
    for row in scan(vault):
        if row["id"] == card:
            note = (vault / str(row["path"])).read_text(encoding="utf-8").splitlines()
            line = note[int(str(row["end_line"])) - 1]
            m = re.search(r"<!--SR:(.*?)-->", line)
            assert m is not None
            return m[1][1:].split("!")[int(str(row["sibling"]))]
    raise AssertionError(f"card {card} not found")


@pytest.fixture
def clones(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A bare origin holding a copy of notes/ set up with git-setup, and two clones."""
    seed = tmp_path / "seed"
    shutil.copytree(REPO / "notes", seed)
    git(seed, "init", "-q", "-b", "main")
    setup = flashmark("git-setup", str(seed))
    assert "added to" in setup.stdout and "merge=flashmark" in setup.stdout
    # The lock file is per machine (flashmark's .flashmark/.gitignore names only cache/).
    (seed / ".gitignore").write_text(".flashmark/lock\n", encoding="utf-8")
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "vault")
    git(tmp_path, "clone", "-q", "--bare", "seed", "origin.git")
    one, two = tmp_path / "one", tmp_path / "two"
    for clone in (one, two):
        git(tmp_path, "clone", "-q", "origin.git", clone.name)
        flashmark("git-setup", str(clone))  # the driver's config is per repository
    return tmp_path / "origin.git", one, two


def cards_of(vault: Path, line: int) -> list[str]:
    return [str(r["id"]) for r in scan(vault) if r["path"] == NOTE and r["line"] == line]


def test_git_setup_is_idempotent_and_says_so(tmp_path: Path) -> None:
    vault = tmp_path / "v"
    shutil.copytree(REPO / "notes", vault)
    git(vault, "init", "-q")
    (vault / ".gitattributes").write_text("*.png binary", encoding="utf-8")
    first = json.loads(flashmark("git-setup", str(vault), "--json").stdout)
    assert first["attributes_added"] == ["*.md merge=flashmark",
                                         ".flashmark/reviews.jsonl merge=union"]
    assert all(v["changed"] for v in first["config"].values())
    second = json.loads(flashmark("git-setup", str(vault), "--json").stdout)
    assert second["attributes_added"] == []
    assert not any(v["changed"] for v in second["config"].values())
    assert (vault / ".gitattributes").read_text(encoding="utf-8") == (
        "*.png binary\n*.md merge=flashmark\n.flashmark/reviews.jsonl merge=union\n")
    driver = git(vault, "config", "merge.flashmark.driver").stdout.strip()
    assert driver.endswith("-m flashmark merge-driver %O %A %B %P")
    assert git(vault, "check-attr", "merge", "customers/customer jobs.md").stdout.strip()\
        .endswith("merge: flashmark")
    text = flashmark("git-setup", str(vault)).stdout
    assert "already set up" in text and "already set" in text


def test_git_setup_outside_git_is_one_line_error(tmp_path: Path) -> None:
    done = flashmark("git-setup", str(tmp_path), check=False)
    assert done.returncode == 3
    assert done.stderr.startswith("flashmark: ") and "Traceback" not in done.stderr


def test_pull_keeps_each_cards_later_review(clones: tuple[Path, Path, Path]) -> None:
    _, one, two = clones
    cloze = cards_of(one, 21)  # five siblings in one comment
    talk, = cards_of(one, 29)
    listen, = cards_of(one, 31)  # no comment yet: reviewed first on both machines
    facts, = cards_of(one, 32)
    # The same card on both machines, each machine later for some of them.
    talk_one = rate(one, talk, "good", "2026-12-06T10:00")
    talk_two = rate(two, talk, "again", "2026-12-08T10:00")
    facts_one = rate(one, facts, "hard", "2026-12-09T10:00")
    rate(two, facts, "easy", "2026-12-07T10:00")
    listen_one = rate(one, listen, "good", "2026-12-10T09:00")
    rate(two, listen, "good", "2026-12-06T09:00")
    # Different siblings of one comment on the two machines.
    sib0 = rate(one, cloze[0], "good", "2026-12-06T10:00")
    sib2 = rate(two, cloze[2], "hard", "2026-12-07T10:00")
    # Unrelated text edits, one per machine, in the same note.
    path_one, path_two = one / NOTE, two / NOTE
    path_one.write_text(path_one.read_text(encoding="utf-8").replace(
        "## interview rules", "## interview rules (Fitzpatrick)"), encoding="utf-8")
    path_two.write_text(path_two.read_text(encoding="utf-8").replace(
        "## interview process", "## the interview process"), encoding="utf-8")
    for clone in (one, two):
        git(clone, "add", "-A")
        git(clone, "commit", "-qm", f"reviews on {clone.name}")
    git(one, "push", "-q", "origin", "HEAD")
    pulled = git(two, "pull", "--no-rebase", "--no-edit", "origin", "main", check=False)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    merged = path_two.read_text(encoding="utf-8")
    assert not MARKER.search(merged)
    assert "## interview rules (Fitzpatrick)" in merged
    assert "## the interview process" in merged
    assert entry_of(two, talk) == talk_two
    assert entry_of(two, facts) == facts_one
    assert entry_of(two, listen) == listen_one
    assert entry_of(two, cloze[0]) == sib0 and entry_of(two, cloze[2]) == sib2
    assert talk_one != talk_two
    log_one = (one / ".flashmark/reviews.jsonl").read_text(encoding="utf-8").splitlines()
    log_two = (two / ".flashmark/reviews.jsonl").read_text(encoding="utf-8").splitlines()
    assert set(log_one) <= set(log_two) and len(log_two) >= 8
    assert flashmark("check", str(two), "--errors-only", check=False).returncode == 0


def test_text_conflict_keeps_markers_and_resolves_schedules(
        clones: tuple[Path, Path, Path]) -> None:
    _, one, two = clones
    talk, = cards_of(one, 29)
    rate(one, talk, "good", "2026-12-06T10:00")
    later = rate(two, talk, "hard", "2026-12-09T10:00")
    for clone, words in ((one, "your own idea"), (two, "the idea you pitch")):
        path = clone / NOTE
        path.write_text(path.read_text(encoding="utf-8").replace(
            "not your idea:@:", f"not {words}:@:"), encoding="utf-8")
        git(clone, "commit", "-qam", "edit")
    git(one, "push", "-q", "origin", "HEAD")
    pulled = git(two, "pull", "--no-rebase", "--no-edit", "origin", "main", check=False)
    assert pulled.returncode != 0 and "CONFLICT" in pulled.stdout
    merged = (two / NOTE).read_text(encoding="utf-8")
    hunk = re.search(r"^<{7} .*?\n(.*?)^\|{7} .*?\n(.*?)^={7}\n(.*?)^>{7} ", merged,
                     re.M | re.S)
    assert hunk is not None
    ours, base, theirs = hunk.groups()
    assert "the idea you pitch" in ours and "your own idea" in theirs
    assert f"<!--SR:!{later}-->" in ours and f"<!--SR:!{later}-->" in theirs
    assert "<!--SR:!2026-12-13,30,250-->" in base  # the base stays what it was


def test_merge_driver_command_exit_codes(tmp_path: Path) -> None:
    base = "- q:@:a <!--SR:!2026-12-01,10,250-->\nshared\n"
    ours = "- q:@:a <!--SR:!2026-12-20,15,250-->\nshared ours\n"   # reviewed 12-05
    theirs = "- q:@:a <!--SR:!2026-12-30,20,250-->\nshared\n"       # reviewed 12-10
    paths = []
    for name, text in (("O", base), ("A", ours), ("B", theirs)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / name))
    done = flashmark("merge-driver", *paths, "x.md", check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "A").read_text(encoding="utf-8") == (
        "- q:@:a <!--SR:!2026-12-30,20,250-->\nshared ours\n")
    # A text conflict on the line that holds the comment: markers, exit 1.
    (tmp_path / "A").write_text(ours.replace("q:@:", "q1:@:"), encoding="utf-8")
    (tmp_path / "B").write_text(theirs.replace("q:@:", "q2:@:"), encoding="utf-8")
    done = flashmark("merge-driver", *paths, "x.md", check=False)
    assert done.returncode == 1 and "conflict" in done.stderr
    text = (tmp_path / "A").read_text(encoding="utf-8")
    assert text.count("<!--SR:!2026-12-30,20,250-->") == 2 and MARKER.search(text)


def test_comment_moved_to_its_own_line_on_one_side() -> None:
    base = b"- q:@:a <!--SR:!2026-12-01,10,250-->\n- r:@:b\n"
    ours = b"- q:@:a\n<!--SR:!2026-12-01,10,250-->\n- r:@:b\n"          # split off
    theirs = b"- q:@:a <!--SR:!2026-12-30,20,250-->\n- r:@:b\n"          # reviewed
    result = merge_bytes(base, ours, theirs)
    assert result.clean and result.data == b"- q:@:a\n<!--SR:!2026-12-30,20,250-->\n- r:@:b\n"
    joined = merge_bytes(ours, base, b"- q:@:a\n<!--SR:!2026-12-30,20,250-->\n- r:@:b\n")
    assert joined.clean and joined.data == b"- q:@:a <!--SR:!2026-12-30,20,250-->\n- r:@:b\n"


def test_undecidable_entries_become_a_conflict() -> None:
    base = b"- q:@:a <!--SR:!2026-12-01,10,250-->\n"
    ours = b"- q:@:a <!--SR:!2026-12-20,15,250-->\n"
    theirs = b"- q:@:a <!--SR:!2026-12-20,15,260-->\n"  # same review and due, other ease
    result = merge_bytes(base, ours, theirs)
    assert result.conflicts == 1
    assert result.data.decode().count("<!--SR:") == 3 and MARKER.search(result.data.decode())
    broken = merge_bytes(base, ours, b"- q:@:a <!--SR:!2026-12-40,15,260-->\n")
    assert broken.conflicts == 1


def test_markdown_rules_are_not_markers() -> None:
    text = "Title\n=======\n\n- q:@:a <!--SR:!2026-12-01,10,250-->\n\n>>>>>>> quote\n"
    ours = text.replace("Title", "Title 1").replace("12-01,10", "12-11,15")
    theirs = text.replace("quote", "quote 2")
    result = merge_bytes(text.encode(), ours.encode(), theirs.encode())
    assert result.clean
    assert result.data.decode() == ours.replace("quote", "quote 2")


# --- the later review wins, for any two histories ------------------------------------------

TEMPLATE = "---\ntags: [flashcard/active]\n---\n\n- intro line\n- q:@:a\n- filler line\n"


@pytest.fixture(scope="module")
def tiny_vault(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("tiny") / "v"
    root.mkdir()
    (root / "flashmark.yaml").write_text(
        'parser:\n  flashcard_tags: ["#flashcard/active"]\n', encoding="utf-8")
    (root / "n.md").write_text(TEMPLATE, encoding="utf-8")
    card = str(scan(root)[0]["id"])
    return root, card


def _history(root: Path, card: str, start: dt.datetime,
             steps: list[tuple[int, str]]) -> dt.datetime:
    when = start
    config = load_settings(root)
    for hours, rating in steps:
        when += dt.timedelta(hours=hours)
        rate_card(root, config, card, Rating(rating), when)
    return when


RATINGS = st.sampled_from([r.value for r in Rating])
STEPS = st.lists(st.tuples(st.integers(1, 24 * 60), RATINGS), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(common=st.lists(st.tuples(st.integers(1, 24 * 30), RATINGS), max_size=2),
       ours_steps=STEPS, theirs_steps=STEPS)
def test_merged_entry_is_the_later_reviews(tiny_vault: tuple[Path, str], tmp_path: Path,
                                           common: list[tuple[int, str]],
                                           ours_steps: list[tuple[int, str]],
                                           theirs_steps: list[tuple[int, str]]) -> None:
    template, card = tiny_vault
    work = tmp_path / f"w{os.getpid()}-{len(list(tmp_path.iterdir()))}"
    base_root = work / "base"
    shutil.copytree(template, base_root)
    start = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    start = _history(base_root, card, start, common)
    sides = {}
    last = {}
    for name, steps in (("ours", ours_steps), ("theirs", theirs_steps)):
        shutil.copytree(base_root, work / name)
        last[name] = _history(work / name, card, start, steps)
        sides[name] = (work / name / "n.md").read_bytes()
    base = (base_root / "n.md").read_bytes()
    result = merge_bytes(base, sides["ours"], sides["theirs"])
    if last["ours"] == last["theirs"] and sides["ours"] != sides["theirs"]:
        return  # the same moment on both machines: nothing says which is later
    assert result.clean
    later = "ours" if last["ours"] > last["theirs"] else "theirs"
    assert result.data == sides[later]


def test_later_entry_rules() -> None:
    fsrs_early = srcodec.parse_entry(
        "fsrs,2026-12-20T00:00:00.000Z,10,10,5,2,3,0,0,2026-12-10T08:00:00.000Z")
    fsrs_late = srcodec.parse_entry(
        "fsrs,2026-12-19T00:00:00.000Z,9,9,5,2,3,0,0,2026-12-10T18:00:00.000Z")
    legacy = srcodec.parse_entry("2026-12-31,20,250")  # reviewed 2026-12-11
    placeholder = srcodec.parse_entry("2000-01-01,1,250")
    assert isinstance(fsrs_early, FsrsEntry) and isinstance(legacy, Sm2Entry)
    assert later_entry(fsrs_early, fsrs_late) is fsrs_late  # same day: the moment decides
    assert later_entry(fsrs_late, legacy) is legacy
    assert later_entry(placeholder, fsrs_early) is fsrs_early
    same_day = srcodec.parse_entry("2026-12-25,15,250")  # reviewed 2026-12-10 too
    assert later_entry(same_day, fsrs_early) is same_day  # tie: the later due date

"""Torture the write path: real `flashmark` processes killed with SIGKILL at
random instants, concurrent raters on one note, ratings while `generate` rewrites the
note, and another program writing the note every 5 ms while ratings go in. After each
scenario the vault is checked: every note decodes and parses, its text outside SR
comments is one the scenario allows, no SR comment is malformed, nested or inside a card,
every rating a process reported as written (exit 0) is in the log and in the note, log
and notes agree after reconciliation, no temporary file and no flashmark process is
left. Prints a Markdown results table; exits 1 when a required zero is not zero.

    python scripts/torture.py [--quick] [--seed N] [--kills 500] [--raters 4]
                              [--rounds 200] [--gen-rounds 100] [--ext-ratings 1000]

Everything runs on a copy of the sample vault (`notes/`); results: docs/reliability.md.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import datetime as dt
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from flashmark.cards import cards_of  # noqa: E402
from flashmark.config import Settings, load_settings  # noqa: E402
from flashmark.review.rating import reconcile  # noqa: E402
from flashmark.syntax import parse_note, srcodec  # noqa: E402
from flashmark.vault.edit import TMP_SUFFIX, is_own_temp, sweep_debris  # noqa: E402
from flashmark.vault.lock import vault_lock  # noqa: E402
from flashmark.vault.notefile import decode_note  # noqa: E402
from flashmark.vault.reviewlog import (  # noqa: E402
    Abort,
    Commit,
    External,
    Review,
    ReviewLog,
    Undo,
    in_effect,
)

GEN_NOTE = "customers/customer interviews.md"  # has pytextgen sections (generate)
EXT_NOTE = "customers/customer jobs.md"  # the external writer's note
PLACEHOLDER = "2000-01-01,1,250"  # "never reviewed", added for a comment's other slots
TOGGLE_ANCHOR = b'look for patterns across all interviews\n"""'
TOGGLE_LINE = b"compare notes with a colleague who held other interviews\n"
MARKER = re.compile(r"(?m)^torture-mark-\d+\n")
HEADER_TIME = re.compile(r"generated at \S+\. Any edits")
SR_COMMENT = re.compile(r"\s*<!--SR:.*?-->", re.S)
BASE_TIME = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
RATINGS = ("again", "hard", "good", "easy")


# --- results -----------------------------------------------------------------------------

@dataclass
class Result:
    scenario: str
    runs: int = 0
    corrupted: int = 0
    nested_misplaced: int = 0
    lost_ratings: int = 0
    divergences: int = 0
    leftover_temps: int = 0
    leftover_procs: int = 0
    ext_lost: int = 0  # external edits lost (only in the documented final gap)
    ext_clobbered: int = 0  # ratings overwritten by the external writer's own stale write
    other_debris: int = 0  # temp files of export/generate (not notes), reported
    ext_unexplained: int = 0  # external edits lost outside the final gap (a bug)
    orphaned_workers: int = 0  # left by a main-only kill, with --allow-orphaned-workers
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def failed(self) -> bool:
        return bool(self.corrupted or self.nested_misplaced or self.lost_ratings
                    or self.divergences or self.leftover_temps or self.leftover_procs
                    or self.ext_unexplained)


# --- processes -----------------------------------------------------------------------------

class Runner:
    """Starts real flashmark processes, each in its own session (process group), all
    tagged in their environment so that a leftover one is found in /proc."""

    def __init__(self, vault: Path, work: Path) -> None:
        self.vault = vault
        self.tag = secrets.token_hex(6)
        self.tmpdir = work / "tmp"
        self.tmpdir.mkdir(exist_ok=True)
        self.out = work / "out"
        self.out.mkdir(exist_ok=True)
        self.env = dict(os.environ, PYTHONPATH=str(REPO / "src"), TORTURE_TAG=self.tag,
                        TMPDIR=str(self.tmpdir), FLASHMARK_LOCK_TIMEOUT="300")

    def start(self, *args: str, quiet: bool = False) -> subprocess.Popen[bytes]:
        # ``quiet`` for processes we kill: a worker that outlives them would hold a pipe
        # open, and reading it to its end would wait for that worker.
        out = subprocess.DEVNULL if quiet else subprocess.PIPE
        return subprocess.Popen([sys.executable, "-m", "flashmark", *args], env=self.env,
                                stdout=out, stderr=out, start_new_session=True)

    def run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        proc = self.start(*args)
        out, err = proc.communicate()
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def rate_args(self, card: str, rating: str, moment: dt.datetime) -> list[str]:
        return ["rate", card, rating, str(self.vault), "--now", moment.isoformat()]

    def leftovers(self, wait: float = 2.0) -> list[int]:
        """Live (not zombie) processes carrying this run's tag, after up to ``wait`` s."""
        deadline = time.monotonic() + wait
        while True:
            found = tagged_processes(self.tag)
            if not found or time.monotonic() >= deadline:
                return found
            time.sleep(0.02)

    def kill_leftovers(self) -> None:
        for pid in tagged_processes(self.tag):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def tagged_processes(tag: str) -> list[int]:
    needle = f"TORTURE_TAG={tag}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if needle not in fh.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in (b"Z", b"X"):
            found.append(int(entry))
    return found


# --- the vault and what is allowed in it -----------------------------------------------------

@dataclass(frozen=True)
class CardView:
    id: str
    rel: str
    entry: str | None
    text: str


def read_cards(root: Path, settings: Settings, problems: list[str]) -> dict[str, CardView]:
    """Every card of every note, by id; a note that does not decode or parse is added to
    ``problems``."""
    cards: dict[str, CardView] = {}
    for path in sorted(root.rglob("*.md")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".flashmark/"):
            continue
        try:
            text = decode_note(rel, path.read_bytes()).text
            note = parse_note(text, settings.parser)
        except Exception as exc:  # a note that cannot be read back is what we look for
            problems.append(f"{rel}: does not decode/parse: {exc}")
            continue
        for q in note.questions:
            for card in cards_of(q, rel):
                cards[card.id] = CardView(card.id, rel, card.entry_text, q.text)
    return cards


def canonical(text: str) -> str:
    """The note without what the scenarios may change: SR comments, generated-at times,
    the external writer's marker lines."""
    return MARKER.sub("", HEADER_TIME.sub("generated at T. Any edits", SR_COMMENT.sub("", text)))


def comment_problems(rel: str, text: str) -> list[str]:
    """SR comments that are unclosed, nested in another comment, or malformed."""
    out = []
    pos = text.find("<!--SR:")
    while pos != -1:
        end = text.find("-->", pos)
        if end == -1:
            out.append(f"{rel}: unclosed <!--SR: at {pos}")
            break
        if text.find("<!--", pos + 4, end) != -1:
            out.append(f"{rel}: comment nested in the SR comment at {pos}")
        elif not srcodec.body_is_valid(text[pos + 7:end]):
            out.append(f"{rel}: malformed SR comment {text[pos:end + 3]!r}")
        pos = text.find("<!--SR:", end)
    return out


def toggle(data: bytes) -> bytes:
    """Add or remove one item of the generate note's data block (so generate rewrites)."""
    if TOGGLE_LINE + TOGGLE_ANCHOR[-3:] in data:
        return data.replace(TOGGLE_LINE + TOGGLE_ANCHOR[-3:], TOGGLE_ANCHOR[-3:], 1)
    anchor = data.index(TOGGLE_ANCHOR) + len(TOGGLE_ANCHOR) - 3
    return data[:anchor] + TOGGLE_LINE + data[anchor:]


def write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.harness")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Vault:
    """A copy of the sample vault with its baseline: what every note may look like
    (outside SR comments), the stable cards and their entries before the torture."""

    def __init__(self, work: Path, runner_factory: Callable[[Path], Runner],
                 gen_copies: int = 0) -> None:
        self.root = work / "vault"
        shutil.copytree(REPO / "notes", self.root)
        for k in range(gen_copies):  # enough notes with code for generate to fork workers
            shutil.copy(self.root / GEN_NOTE,
                        self.root / GEN_NOTE.replace(".md", f" copy {k}.md"))
        self.settings = load_settings(self.root)
        self.runner = runner_factory(self.root)
        ext = self.root / EXT_NOTE
        data = ext.read_bytes()
        if not data.endswith(b"\n\n"):  # markers get a paragraph of their own
            ext.write_bytes(data + b"\n")
        self._generate_both_states()
        problems: list[str] = []
        self.baseline = read_cards(self.root, self.settings, problems)
        assert not problems, problems
        self.stable = sorted(set(self.baseline) & set(self._toggled_ids))
        self.allowed: dict[str, set[str]] = {}
        for path in self.root.rglob("*.md"):
            rel = path.relative_to(self.root).as_posix()
            self.allowed[rel] = {canonical(path.read_text("utf-8"))}
        gen = self.allowed[GEN_NOTE]
        for variant in self._gen_variants:
            gen.add(canonical(variant.decode("utf-8")))
        self.bad_comments_before = sum(len(comment_problems(r, (self.root / r).read_text()))
                                       for r in self.allowed)

    def _generate_both_states(self) -> None:
        """Run generate on the note as is and toggled, so that both states (and the mixed
        ones a killed generate leaves: data block of one, section of the other) are
        known; the vault is left in state A."""
        note = self.root / GEN_NOTE
        run = self.runner.run("generate", str(self.root))
        assert run.returncode == 0, run.stderr
        state_a = note.read_bytes()
        write_atomically(note, toggle(state_a))
        run = self.runner.run("generate", str(self.root))
        assert run.returncode == 0, run.stderr
        state_b = note.read_bytes()
        assert state_b != toggle(state_a), "generate did not rewrite the toggled section"
        problems: list[str] = []
        self._toggled_ids = read_cards(self.root, self.settings, problems)
        self._gen_variants = [state_b, toggle(state_a), toggle(state_b)]
        write_atomically(note, state_a)
        shutil.rmtree(self.root / ".flashmark")  # a fresh log for the torture

    def stable_in(self, rel: str) -> list[str]:
        return [c for c in self.stable if self.baseline[c].rel == rel]


# --- the checks ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rated:
    card: str
    time: str  # the review's time as logged (unique per rating in a run)


def moment(k: int) -> dt.datetime:
    return BASE_TIME + dt.timedelta(minutes=k)


def settle(vault: Vault) -> None:
    """What the next writer does first: sweep its debris and reconcile the log."""
    with vault_lock(vault.root):
        sweep_debris(vault.root)
        reconcile(vault.root, vault.settings, ReviewLog(vault.root),
                  dt.datetime.now(dt.UTC))


def same_entry(a: str | None, b: str | None) -> bool:
    return (a or PLACEHOLDER) == (b or PLACEHOLDER)


def check_structure(vault: Vault, result: Result) -> dict[str, CardView]:
    """Notes decode, parse and hold only allowed text; no comment malformed or nested;
    every stable card is still there with its text."""
    problems: list[str] = []
    cards = read_cards(vault.root, vault.settings, problems)
    result.corrupted += len(problems)
    result.problems += problems
    bad_comments = 0
    for rel, allowed in vault.allowed.items():
        path = vault.root / rel
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            result.corrupted += 1
            result.problems.append(f"{rel}: unreadable: {exc}")
            continue
        if canonical(text) not in allowed:
            result.corrupted += 1
            result.problems.append(f"{rel}: text outside SR comments is not a known state")
        found = comment_problems(rel, text)
        bad_comments += len(found)
        result.problems += found
    result.nested_misplaced += max(0, bad_comments - vault.bad_comments_before)
    for cid in vault.stable:
        card = cards.get(cid)
        if card is None:
            result.nested_misplaced += 1
            result.problems.append(f"card {cid} ({vault.baseline[cid].rel}) is gone")
        elif card.text != vault.baseline[cid].text:
            result.nested_misplaced += 1
            result.problems.append(f"card {cid}: its text changed")
    return cards


def check_temps(vault: Vault, result: Result) -> None:
    """Note temporaries (``*.flashmark-tmp``): none may stay after the next write."""
    for dirpath, _dirs, files in os.walk(vault.root):
        for name in files:
            if is_own_temp(name):
                result.leftover_temps += 1
                result.problems.append(f"leftover {os.path.join(dirpath, name)}")


def count_debris(vault: Vault, result: Result) -> None:
    """Temporaries of export and generate's cache (not notes) still there: reported."""
    places = [vault.runner.out, vault.runner.tmpdir, vault.root / ".flashmark",
              vault.root / ".flashmark" / "cache"]
    for folder in places:
        with contextlib.suppress(FileNotFoundError):
            for path in folder.iterdir():
                if path.name.endswith(".tmp") or path.name.startswith(
                        ("flashmark-", ".generate.")):
                    result.other_debris += 1
                    result.problems.append(f"debris {path}")


def check_agreement(vault: Vault, result: Result, rated: list[Rated],
                    excused: Callable[[str, str | None, str | None], bool] | None = None
                    ) -> None:
    """After reconciliation: each stable card's entry is what the log says it is, and
    every rating reported as written is in effect (or undone by a committed undo)."""
    settle(vault)
    problems: list[str] = []
    cards = read_cards(vault.root, vault.settings, problems)
    events = ReviewLog(vault.root).events()
    effective = in_effect(events)
    last: dict[str, str | None] = {}
    for e in effective:
        if isinstance(e, Review | External):
            last[e.id] = e.after
    for cid in vault.stable:
        card = cards.get(cid)
        if card is None:
            continue  # counted by check_structure
        expected = last.get(cid, vault.baseline[cid].entry)
        if not same_entry(card.entry, expected):
            if excused is not None and excused(cid, expected, card.entry):
                continue
            result.divergences += 1
            result.problems.append(f"card {cid}: note has {card.entry!r}, log says "
                                   f"{expected!r}")
    committed = {e.of for e in events if isinstance(e, Commit)}
    undone = {e.of for e in events
              if isinstance(e, Undo) and (not e.staged or e.uid in committed)}
    effective_uids = {e.uid for e in effective}
    by_key: dict[tuple[str, str], list[Review]] = {}
    for e in events:
        if isinstance(e, Review):
            by_key.setdefault((e.id, e.time), []).append(e)
    for r in rated:
        candidates = by_key.get((r.card, r.time), [])
        if not any(e.uid in effective_uids or e.uid in undone for e in candidates):
            result.lost_ratings += 1
            result.problems.append(f"rating of {r.card} at {r.time} reported written, "
                                   "not in effect in the log")


def check_all(vault: Vault, result: Result, rated: list[Rated],
              excused: Callable[[str, str | None, str | None], bool] | None = None) -> None:
    check_structure(vault, result)
    check_agreement(vault, result, rated, excused)
    check_temps(vault, result)
    left = vault.runner.leftovers()
    result.leftover_procs += len(left)
    if left:
        result.problems.append(f"leftover processes {left}")
        vault.runner.kill_leftovers()


class Clock:
    """Unique review times (a rating is found in the log by card and time)."""

    def __init__(self) -> None:
        self._k = 0
        self._lock = threading.Lock()

    def next(self) -> dt.datetime:
        with self._lock:
            self._k += 1
            return moment(self._k)


def rated_of(card: str, when: dt.datetime) -> Rated:
    return Rated(card, srcodec.iso_ms(when))


def next_writer(vault: Vault, rng: random.Random, clock: Clock, rated: list[Rated],
                result: Result) -> None:
    """One real, uninterrupted write command (it sweeps and reconciles)."""
    card = rng.choice(vault.stable)
    when = clock.next()
    run = vault.runner.run(*vault.runner.rate_args(card, rng.choice(RATINGS), when))
    if run.returncode == 0:
        rated.append(rated_of(card, when))
    else:
        result.problems.append(f"reconciling rate failed: {run.stderr.decode().strip()}")


# --- scenarios -------------------------------------------------------------------------------

def wait_for_write(proc: subprocess.Popen[bytes], op: str, vault: Vault,
                   log_size: int) -> None:
    """Return when ``proc`` starts writing: its first log line (rate, undo: the staged
    event), or its first temporary file (generate: a note; export: the manifest or the
    package), or when it ends."""
    log_path = vault.root / ".flashmark" / "reviews.jsonl"
    folders = {"generate": [vault.root / GEN_NOTE.rsplit("/", 1)[0]],
               "export": [vault.root / ".flashmark", vault.runner.out]}.get(op, [])
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if op in ("rate", "undo"):
            with contextlib.suppress(FileNotFoundError):
                if log_path.stat().st_size > log_size:
                    return
        elif any(n.endswith((TMP_SUFFIX, ".tmp")) for f in folders for n in os.listdir(f)):
            return
        time.sleep(0.0005)


def scenario_kills(work: Path, rng: random.Random, kills: int, check_every: int,
                   allow_orphans: bool) -> Result:
    result = Result("kill -9 at random instants (rate/undo/generate/export)")
    vault = Vault(work, lambda root: Runner(root, work), gen_copies=8)
    runner, clock, rated = vault.runner, Clock(), list[Rated]()
    counts = dict.fromkeys(("rate", "undo", "generate", "export"), 0)
    killed = 0
    temps_seen = 0
    log_path = vault.root / ".flashmark" / "reviews.jsonl"

    def command(op: str) -> tuple[list[str], Rated | None]:
        when = clock.next()
        card = rng.choice(vault.stable)
        if op == "rate":
            return runner.rate_args(card, rng.choice(RATINGS), when), rated_of(card, when)
        if op == "undo":
            return ["undo", str(vault.root), "--now", when.isoformat()], None
        if op == "generate":
            note = vault.root / GEN_NOTE
            write_atomically(note, toggle(note.read_bytes()))
            return ["generate", "--no-cache", str(vault.root)], None
        return ["export", str(vault.root), "-o", str(runner.out / "deck.apkg")], None

    # How long each command takes here, uninterrupted (kills are spread over that time).
    took: dict[str, float] = {}
    for op in counts:
        times = []
        for _ in range(3):
            args, rating = command(op)
            started = time.monotonic()
            run = runner.run(*args)
            times.append(time.monotonic() - started)
            if rating is not None and run.returncode == 0:
                rated.append(rating)
        took[op] = sorted(times)[1]
    for i in range(kills):
        op = rng.choices(list(counts), weights=(5, 2, 2, 1))[0]
        counts[op] += 1
        args, rating = command(op)
        log_size = log_path.stat().st_size if log_path.exists() else 0
        proc = runner.start(*args, quiet=True)
        if rng.random() < 0.4:  # any instant of the run
            time.sleep(rng.uniform(0, took[op] * 1.1))
        else:  # an instant of the few milliseconds in which it writes
            wait_for_write(proc, op, vault, log_size)
            time.sleep(rng.uniform(0, 0.004))
        main_only = rng.random() < 0.25  # as `kill -9 PID` or the OOM killer would
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if main_only:
                    os.kill(proc.pid, signal.SIGKILL)
                else:
                    os.killpg(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait()
        if proc.returncode == 0 and rating is not None:
            rated.append(rating)
        temps_seen += sum(1 for _ in vault.root.rglob("*" + TMP_SUFFIX))
        left = runner.leftovers(wait=1.0)
        if left:
            if main_only and allow_orphans:
                result.orphaned_workers += len(left)
            else:
                result.leftover_procs += len(left)
            result.problems.append(f"after killing {op} ({'pid' if main_only else 'group'}): "
                                   f"processes left {left}")
            runner.kill_leftovers()
        check_structure(vault, result)
        if (i + 1) % check_every == 0 or i + 1 == kills:
            next_writer(vault, rng, clock, rated, result)
            check_all(vault, result, rated)
        result.runs += 1
    # The last word: an uninterrupted export (it may clean what killed exports left).
    final = runner.run("export", str(vault.root), "-o", str(runner.out / "deck.apkg"))
    if final.returncode != 0:
        result.problems.append(f"final export failed: {final.stderr.decode().strip()}")
    count_debris(vault, result)
    events = ReviewLog(vault.root).events()
    stamps = {e.uid: e.time for e in events}
    # Settled by the next writer's reconciliation: stamped with that writer's time.
    settled = [e for e in events
               if isinstance(e, Commit | Abort) and stamps.get(e.of) != e.time]
    recommitted = sum(1 for e in settled if isinstance(e, Commit))
    result.notes.append(
        "uninterrupted run times " + ", ".join(f"{op} {t * 1000:.0f} ms" for op, t in took.items())
        + f"; {killed} killed mid-run; {result.orphaned_workers} orphaned workers "
        "(main-only kills, allowed); " + ", ".join(f"{n} {op}" for op, n in counts.items())
        + f"; {len(rated)} ratings exited 0; reconciliation settled {len(settled)} staged "
        f"events a kill left open ({recommitted} committed, {len(settled) - recommitted} "
        f"aborted); {temps_seen} temp files seen right after a kill, swept by the next "
        "writer")
    return result


def scenario_raters(work: Path, rng: random.Random, raters: int, rounds: int) -> Result:
    result = Result(f"{raters} concurrent raters x {rounds} rounds, one note")
    vault = Vault(work, lambda root: Runner(root, work))
    runner, clock = vault.runner, Clock()
    cards = vault.stable_in(GEN_NOTE)
    rated: list[Rated] = []
    failures: dict[int, int] = {}
    guard = threading.Lock()
    seeds = [rng.randrange(1 << 30) for _ in range(raters)]

    def rater(seed: int) -> None:
        own = random.Random(seed)
        for _ in range(rounds):
            card = own.choice(cards)
            when = clock.next()
            run = runner.run(*runner.rate_args(card, own.choice(RATINGS), when))
            with guard:
                if run.returncode == 0:
                    rated.append(rated_of(card, when))
                else:
                    failures[run.returncode] = failures.get(run.returncode, 0) + 1
                    result.problems.append(f"rate exit {run.returncode}: "
                                           f"{run.stderr.decode().strip()[:200]}")

    threads = [threading.Thread(target=rater, args=(s,)) for s in seeds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.runs = raters * rounds
    check_all(vault, result, rated)
    in_log = [e for e in in_effect(ReviewLog(vault.root).events()) if isinstance(e, Review)]
    if len(in_log) != len(rated):
        result.lost_ratings += abs(len(in_log) - len(rated))
        result.problems.append(f"{len(rated)} ratings exited 0, {len(in_log)} in effect")
    result.notes.append(f"{len(rated)} exited 0 = {len(in_log)} reviews in effect; "
                        f"failed exits {failures or 'none'}")
    return result


def scenario_rate_while_generate(work: Path, rng: random.Random, rounds: int) -> Result:
    result = Result(f"rate while generate rewrites the note x {rounds}")
    vault = Vault(work, lambda root: Runner(root, work))
    runner, clock = vault.runner, Clock()
    cards = vault.stable_in(GEN_NOTE)
    rated: list[Rated] = []
    gen_codes: dict[int, int] = {}
    rate_codes: dict[int, int] = {}
    note = vault.root / GEN_NOTE
    for _ in range(rounds):
        write_atomically(note, toggle(note.read_bytes()))
        jobs: list[tuple[str, dt.datetime | None, subprocess.Popen[bytes]]] = []
        order = ["generate", "rate", "rate"]
        rng.shuffle(order)
        for what in order:
            time.sleep(rng.uniform(0, 0.08))
            if what == "generate":
                jobs.append(("generate", None, runner.start("generate", str(vault.root))))
            else:
                card, when = rng.choice(cards), clock.next()
                jobs.append((card, when, runner.start(
                    *runner.rate_args(card, rng.choice(RATINGS), when))))
        for what, stamp, proc in jobs:
            _out, err = proc.communicate()
            codes = gen_codes if what == "generate" else rate_codes
            codes[proc.returncode] = codes.get(proc.returncode, 0) + 1
            if stamp is not None and proc.returncode == 0:
                rated.append(rated_of(what, stamp))
            elif proc.returncode not in (0, 4):
                result.problems.append(f"{what} exit {proc.returncode}: "
                                       f"{err.decode().strip()[:200]}")
        result.runs += 1
        check_structure(vault, result)
    check_all(vault, result, rated)
    result.notes.append(f"generate exits {sorted(gen_codes.items())} (4: the note changed "
                        f"under it, nothing written); rate exits {sorted(rate_codes.items())}")
    return result


# The external writer -------------------------------------------------------------------------

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def exchange(a: Path, b: Path) -> None:
    if _libc.renameat2(-100, os.fsencode(a), -100, os.fsencode(b), 2) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@dataclass
class ExternalWriter:
    """Another program that adds a unique marker line to the note every ``period`` s,
    cycling through atomic replace / in place x prepend (after the frontmatter) /
    append. Its atomic replace is a rename done with RENAME_EXCHANGE only so that it
    can tell, afterwards, whether it overwrote a version it had not read (its own race,
    as when an editor saves a stale buffer)."""

    path: Path
    period: float = 0.005
    written: list[tuple[str, str]] = field(default_factory=list)  # (marker, mode)
    detached: set[str] = field(default_factory=set)  # in-place writes into a replaced file
    clobbers: list[tuple[bytes, bytes]] = field(default_factory=list)  # (displaced, ours)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            marker = f"torture-mark-{n}"
            mode = ("atomic-prepend", "atomic-append", "inplace-prepend",
                    "inplace-append")[n % 4]
            try:
                if mode.startswith("atomic"):
                    self._atomic(marker, mode.endswith("prepend"))
                else:
                    self._in_place(marker, mode.endswith("prepend"))
                self.written.append((marker, mode))
            except (OSError, ValueError) as exc:
                self.errors.append(f"{mode}: {exc}")
            time.sleep(self.period)

    @staticmethod
    def _add(data: bytes, marker: str, prepend: bool) -> bytes:
        line = marker.encode() + b"\n"
        if prepend:
            at = data.index(b"\n---\n", 3) + 5
            return data[:at] + line + data[at:]
        return data + line

    def _atomic(self, marker: str, prepend: bool) -> None:
        data = self.path.read_bytes()
        new = self._add(data, marker, prepend)
        tmp = self.path.with_name(f".{self.path.name}.ext.tmp")
        tmp.write_bytes(new)
        exchange(tmp, self.path)
        displaced = tmp.read_bytes()
        tmp.unlink()
        if displaced != data:
            self.clobbers.append((displaced, new))

    def _in_place(self, marker: str, prepend: bool) -> None:
        with open(self.path, "r+b") as fh:
            data = fh.read()
            new = self._add(data, marker, prepend)
            fh.seek(0)
            fh.write(new)
            fh.truncate()
            fh.flush()
            ino = os.fstat(fh.fileno()).st_ino
            with contextlib.suppress(FileNotFoundError):
                if os.stat(self.path).st_ino != ino:
                    self.detached.add(marker)


def scenario_external(work: Path, rng: random.Random, ratings: int) -> Result:
    result = Result(f"external writer every 5 ms during {ratings} ratings")
    vault = Vault(work, lambda root: Runner(root, work))
    runner, clock = vault.runner, Clock()
    cards = vault.stable_in(EXT_NOTE)
    rated: list[Rated] = []
    codes: dict[int, int] = {}
    refusals: dict[str, int] = {}
    writer = ExternalWriter(vault.root / EXT_NOTE)
    thread = threading.Thread(target=writer.run)
    thread.start()
    try:
        for _ in range(ratings):
            card, when = rng.choice(cards), clock.next()
            run = runner.run(*runner.rate_args(card, rng.choice(RATINGS), when))
            codes[run.returncode] = codes.get(run.returncode, 0) + 1
            if run.returncode == 0:
                rated.append(rated_of(card, when))
            else:
                why = run.stderr.decode().strip().splitlines()[0][:160] if run.stderr else "?"
                refusals[why] = refusals.get(why, 0) + 1
            result.runs += 1
    finally:
        writer.stop.set()
        thread.join()

    clobbered_entries: set[tuple[str, str]] = set()

    def excused(cid: str, expected: str | None, found: str | None) -> bool:
        """A divergence the external writer made: one of its stale writes displaced a
        version holding the logged entry and wrote one without it."""
        needle = f"{expected}" if expected else ""
        for displaced, ours in writer.clobbers:
            if needle and needle.encode() in displaced and needle.encode() not in ours:
                clobbered_entries.add((cid, needle))
                return True
        return False

    check_all(vault, result, rated, excused)
    afters = {(e.id, e.time): e.after for e in ReviewLog(vault.root).events()
              if isinstance(e, Review)}
    overwritten = 0  # ratings a stale external write took out of the note (even if a
    for r in rated:  # later rating of the card put a newer entry back)
        after = afters.get((r.card, r.time), "").encode()
        if after and any(after in displaced and after not in ours
                         for displaced, ours in writer.clobbers):
            overwritten += 1
    result.ext_clobbered = overwritten
    # The note is the truth: the next rating of a clobbered card logs what it found.
    for cid, _entry in sorted(clobbered_entries):
        found = read_cards(vault.root, vault.settings, []).get(cid)
        run = runner.run(*runner.rate_args(cid, "good", clock.next()))
        externals = [e for e in ReviewLog(vault.root).events()
                     if isinstance(e, External) and e.id == cid]
        if run.returncode != 0 or found is None or not externals or not same_entry(
                externals[-1].after, found.entry):
            result.divergences += 1
            result.problems.append(f"card {cid}: its next rating logged no `external` "
                                   "event for the entry the external writer left")
    text = (vault.root / EXT_NOTE).read_text("utf-8")
    present = set(re.findall(r"(?m)^(torture-mark-\d+)$", text))
    lost = [(m, mode) for m, mode in writer.written if m not in present]
    result.ext_lost = len(lost)
    unexplained = [m for m, mode in lost if mode.startswith("inplace") and m not in writer.detached]
    by_mode: dict[str, int] = {}
    for _m, mode in lost:
        by_mode[mode] = by_mode.get(mode, 0) + 1
    if unexplained:
        result.problems.append(f"in-place markers lost although written into the note's "
                               f"current file: {unexplained[:10]}")
    result.notes.append(
        f"{len(writer.written)} external edits, lost {result.ext_lost} "
        f"({', '.join(f'{n} {m}' for m, n in sorted(by_mode.items())) or 'none'}; "
        f"{len(unexplained)} not explained by the final gap); ratings exit "
        f"{sorted(codes.items())}; {len(writer.clobbers)} external writes were stale "
        f"(overwrote a version they had not read): they took {result.ext_clobbered} "
        f"ratings out of the note, {len(clobbered_entries)} of them still the card's latest "
        "(the log keeps them; the next rating logs an `external` event)")
    for why, n in sorted(refusals.items()):
        result.notes.append(f"{n} ratings refused (kept as pending): {why}")
    if writer.errors:
        result.notes.append(f"external writer errors: {writer.errors[:3]}")
    result.ext_unexplained = len(unexplained)
    return result


# --- main --------------------------------------------------------------------------------------

COLUMNS = ("scenario", "runs", "corrupted", "nested/misplaced", "lost ratings",
           "divergences", "leftover temps", "leftover processes", "external edits lost",
           "export/cache debris (reported)")


def table(results: list[Result]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in results:
        procs = str(r.leftover_procs) + (f" (+{r.orphaned_workers} orphaned workers)"
                                         if r.orphaned_workers else "")
        cells = [r.scenario, r.runs, r.corrupted, r.nested_misplaced, r.lost_ratings,
                 r.divergences, r.leftover_temps, procs, r.ext_lost, r.other_debris]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


@contextlib.contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="flashmark-torture-"))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the short CI version")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--kills", type=int)
    ap.add_argument("--check-every", type=int, default=10,
                    help="reconcile and check agreement after every N kills")
    ap.add_argument("--raters", type=int, default=4)
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--gen-rounds", type=int)
    ap.add_argument("--ext-ratings", type=int)
    ap.add_argument("--only", choices=("kills", "raters", "generate", "external"),
                    action="append", help="run only these scenarios")
    ap.add_argument("--keep", action="store_true", help="keep the work folders")
    ap.add_argument("--allow-orphaned-workers", action="store_true",
                    help="report, not fail on, worker processes that outlive a kill -9 of "
                         "their main process only (until supervised workers are merged)")
    args = ap.parse_args(argv)
    sizes = (40, 10, 8, 40) if args.quick else (500, 200, 100, 1000)
    for name, size in zip(("kills", "rounds", "gen_rounds", "ext_ratings"), sizes,
                          strict=True):
        if getattr(args, name) is None:
            setattr(args, name, size)
    seed = args.seed if args.seed is not None else secrets.randbelow(1 << 31)
    print(f"seed {seed} (rerun with --seed {seed})", flush=True)
    rng = random.Random(seed)
    scenarios: list[tuple[str, Callable[[Path], Result]]] = [
        ("kills", lambda w: scenario_kills(w, rng, args.kills, args.check_every,
                                           args.allow_orphaned_workers)),
        ("raters", lambda w: scenario_raters(w, rng, args.raters, args.rounds)),
        ("generate", lambda w: scenario_rate_while_generate(w, rng, args.gen_rounds)),
        ("external", lambda w: scenario_external(w, rng, args.ext_ratings)),
    ]
    results = []
    for name, run in scenarios:
        if args.only and name not in args.only:
            continue
        started = time.monotonic()
        with workdir(args.keep) as work:
            result = run(work)
        results.append(result)
        print(f"{result.scenario}: {time.monotonic() - started:.0f} s; "
              + "; ".join(result.notes), flush=True)
        for problem in dict.fromkeys(result.problems):
            print(f"  {problem}", flush=True)
    print()
    print(table(results))
    failed = [r.scenario for r in results if r.failed()]
    if failed:
        print(f"\nFAILED (seed {seed}): {'; '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())


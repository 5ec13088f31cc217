"""Three-way merge of a note for git (`flashmark merge-driver`): review conflicts resolved.

Two machines that review the same note produce different ``<!--SR:...-->`` comments on
the same lines; git's own merge stops there with conflict markers. This merge lets git
merge the *text* and decides only the *schedules*, by a rule that cannot lose a review.

How it works
------------
1. **Slots.** Every SR comment of the base (O), ours (A) and theirs (B) is given a slot:
   the card position it belongs to. A comment of A (and of B) is paired with a comment of
   O by aligning the three versions with their SR comments masked (``difflib`` on whole
   lines): comments on equal lines pair in order; in a changed block they pair in order
   when both sides of the block hold the same number of comments (a card whose text was
   edited, a comment moved to its own line or joined back onto the card's line: "split"
   or "joined"), otherwise by their card's text; comments still unpaired pair by their
   card's text across the whole note (a card moved elsewhere). A comment that pairs with
   nothing gets a slot of its own (a card reviewed for the first time, a new card).
2. **Text.** Each comment is replaced by a token naming its slot (the same token in
   every version that holds that slot), and real ``git merge-file --diff3`` merges the
   three token texts. So git decides every text question exactly as it always does, and
   a line whose only change is its schedule merges cleanly on both sides.
   A conflict hunk whose two sides are equal except for slot tokens (both machines gave
   the same card its first review) is resolved and its slots joined.
3. **Schedules.** Each slot's entries are merged entry by entry (sibling by sibling):
   a change on one side wins over the base; entries added on one side are kept; when
   both sides changed an entry the **later review** wins: an FSRS entry's ``last
   review``, a legacy entry's ``due - interval``; on the same review day (or the same
   moment for two FSRS entries) the later due date. Everything else (an unreadable entry
   on a changed slot, one side removing an entry the other changed, two different
   entries with the same review and due) cannot be decided and becomes a conflict.
4. **Output.** Tokens are replaced by the merged comments. Git's remaining conflict
   hunks keep their markers, with the merged schedules written into both sides, so
   whichever text the user keeps, the later reviews stay; a schedule that could not be
   decided is shown as a conflict hunk of its own line. Any conflict means exit 1.

Nothing is decided silently: the only decisions taken are "one side changed it" (git's
own rule) and "the later review wins" for two reviews of the same card.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field

from flashmark.errors import FlashmarkError
from flashmark.model import FsrsEntry, RawEntry, Sm2Entry, SrEntry
from flashmark.syntax import srcodec
from flashmark.vault.edit import write_file_atomically

SR_COMMENT = re.compile(r"<!--SR:([^\n]*?)-->")
_MASK = "<!--SR:@-->"  # every comment looks alike to the aligner
_TOKEN = re.compile(r"<!--SR:@flashmark-merge-slot-(\d+)@-->")
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
MARKER_SIZE = 7  # git's default conflict marker size


class MergeError(FlashmarkError):
    """`git merge-file` could not be run or failed."""


@dataclass(frozen=True, slots=True)
class MergeResult:
    data: bytes
    conflicts: int  # conflict hunks left in ``data`` (text and undecidable schedules)
    resolved: int  # SR comments whose entries were merged from both sides

    @property
    def clean(self) -> bool:
        return self.conflicts == 0


# --- reading a version -----------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return _LINE.findall(text)


@dataclass
class _Version:
    lines: list[str]
    bodies: list[list[str]] = field(init=False)  # per line, its comments' bodies in order
    masked: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.bodies = [SR_COMMENT.findall(line) for line in self.lines]
        self.masked = [SR_COMMENT.sub(_MASK, line) for line in self.lines]

    def comments(self, start: int = 0, stop: int | None = None) -> list[tuple[int, int]]:
        stop = len(self.lines) if stop is None else stop
        return [(i, k) for i in range(start, stop) for k in range(len(self.bodies[i]))]

    def anchor(self, ref: tuple[int, int]) -> tuple[str, int]:
        """The card a comment belongs to: its line's text without comments, or for a
        comment on its own line, the text of the line above."""
        i, k = ref
        text = SR_COMMENT.sub("", self.lines[i]).strip()
        while not text and i > 0:
            i -= 1
            text = SR_COMMENT.sub("", self.lines[i]).strip()
        return text, k

    def body(self, ref: tuple[int, int]) -> str:
        return self.bodies[ref[0]][ref[1]]


def _pair(base: _Version, side: _Version) -> dict[tuple[int, int], tuple[int, int]]:
    """Comments of ``side`` -> the comment of ``base`` at the same card position."""
    pairs: dict[tuple[int, int], tuple[int, int]] = {}
    matcher = difflib.SequenceMatcher(None, base.masked, side.masked, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        ours, theirs = base.comments(i1, i2), side.comments(j1, j2)
        if tag == "equal" or len(ours) == len(theirs):
            pairs.update(zip(theirs, ours, strict=True))
        else:
            found = _pair_by_anchor(base, ours, side, theirs)
            used = set(found.values())
            found.update(_pair_by_likeness(base, [c for c in ours if c not in used],
                                           side, [c for c in theirs if c not in found]))
            pairs.update(found)
    taken = set(pairs.values())
    pairs.update(_pair_by_anchor(base, [c for c in base.comments() if c not in taken],
                                 side, [c for c in side.comments() if c not in pairs]))
    return pairs


def _pair_by_anchor(base: _Version, ours: list[tuple[int, int]], side: _Version,
                    theirs: list[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, int]]:
    """Pairs of comments whose card text is the same and unique on both sides."""
    by_anchor = {base.anchor(c): c for c in ours}
    base_count = Counter(base.anchor(c) for c in ours)
    side_count = Counter(side.anchor(c) for c in theirs)
    return {c: by_anchor[a] for c in theirs
            if base_count[a := side.anchor(c)] == 1 and side_count[a] == 1}


def _pair_by_likeness(base: _Version, ours: list[tuple[int, int]], side: _Version,
                      theirs: list[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, int]]:
    """Pairs of comments whose cards' texts are each other's closest match and alike
    (an edited card among added or removed ones)."""
    if not ours or not theirs or len(ours) * len(theirs) > 400:
        return {}

    def likeness(a: tuple[int, int], b: tuple[int, int]) -> float:
        x, y = base.anchor(a), side.anchor(b)
        return 0.0 if x[1] != y[1] else difflib.SequenceMatcher(None, x[0], y[0]).ratio()

    scores = {(a, b): likeness(a, b) for a in ours for b in theirs}

    def clear_best(candidates: list[float]) -> bool:
        # Alike, and clearly more alike than the runner-up: short cards ("- a:@:b")
        # resemble each other, and a wrong pairing would move a schedule to another card.
        ranked = sorted(candidates, reverse=True)
        return ranked[0] >= 0.6 and (len(ranked) == 1 or ranked[0] - ranked[1] >= 0.15)

    found: dict[tuple[int, int], tuple[int, int]] = {}
    for a in ours:
        b = max(theirs, key=lambda b: scores[(a, b)])
        if (clear_best([scores[(a, x)] for x in theirs])
                and clear_best([scores[(x, b)] for x in ours])
                and max(ours, key=lambda x: scores[(x, b)]) == a):
            found[b] = a
    return found


# --- merging one comment -----------------------------------------------------------------


@dataclass
class _Slot:
    base: str | None = None
    ours: str | None = None
    theirs: str | None = None


def _review_day(entry: Sm2Entry | FsrsEntry) -> dt.date:
    if isinstance(entry, FsrsEntry):
        # A learner's day is local, like the dates of legacy entries.
        return dt.date.min if entry.last_review is None else entry.last_review.astimezone().date()
    try:
        return entry.due - dt.timedelta(days=entry.interval)
    except OverflowError:
        return dt.date.min


def _due_day(entry: Sm2Entry | FsrsEntry) -> dt.date:
    return entry.due.astimezone().date() if isinstance(entry, FsrsEntry) else entry.due


def later_entry(a: SrEntry, b: SrEntry) -> SrEntry | None:
    """The entry of the later review: FSRS ``last review`` or legacy ``due - interval``
    (compared by local day, and by moment between two FSRS entries); a tie goes to the
    later due date. None when it cannot be told (an unreadable entry, a full tie)."""
    if isinstance(a, RawEntry) or isinstance(b, RawEntry):
        return None
    day_a, day_b = _review_day(a), _review_day(b)
    if day_a != day_b:
        return a if day_a > day_b else b
    if isinstance(a, FsrsEntry) and isinstance(b, FsrsEntry):
        epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
        last_a, last_b = a.last_review or epoch, b.last_review or epoch
        if last_a != last_b:
            return a if last_a > last_b else b
        if a.due != b.due:
            return a if a.due > b.due else b
        return None
    due_a, due_b = _due_day(a), _due_day(b)
    if due_a != due_b:
        return a if due_a > due_b else b
    return None


def merge_comment(base: str | None, ours: str | None, theirs: str | None) -> str | None:
    """The merged body of one SR comment (None when a side has no comment), or raise
    `_UndecidedError`. Bodies are compared entry by entry (sibling slots)."""
    if ours == theirs:
        return ours
    if ours == base:
        return theirs
    if theirs == base:
        return ours
    if ours is None or theirs is None:
        raise _UndecidedError  # one side removed the comment, the other changed it
    base_entries = srcodec.parse_body(base)[0] if base else ()
    ours_entries = srcodec.parse_body(ours)[0]
    theirs_entries = srcodec.parse_body(theirs)[0]
    shortest = min(len(ours_entries), len(theirs_entries))
    if shortest < len(base_entries) and len(ours_entries) != len(theirs_entries):
        raise _UndecidedError  # a side dropped entries (siblings) the other may have changed
    merged: list[SrEntry] = []
    for i in range(max(len(ours_entries), len(theirs_entries))):
        o = base_entries[i].text if i < len(base_entries) else None
        a = ours_entries[i] if i < len(ours_entries) else None
        b = theirs_entries[i] if i < len(theirs_entries) else None
        a_text, b_text = (None if a is None else a.text), (None if b is None else b.text)
        if a is None or (b is not None and a_text in (o, b_text)):
            assert b is not None
            merged.append(b)
        elif b is None or b_text == o:
            merged.append(a)
        else:
            winner = later_entry(a, b)
            if winner is None:
                raise _UndecidedError
            merged.append(winner)
    texts = [e.text for e in merged]
    for side, entries in ((ours, ours_entries), (theirs, theirs_entries)):
        if texts == [e.text for e in entries]:
            return side  # exactly one side's comment: keep its bytes (legacy form too)
    return srcodec.format_body(merged)


class _UndecidedError(Exception):
    pass


# --- the merge -----------------------------------------------------------------------------


def _token(slot: int) -> str:
    return f"<!--SR:@flashmark-merge-slot-{slot}@-->"


def _tokenize(version: _Version, slot_of: dict[tuple[int, int], int]) -> str:
    out: list[str] = []
    for i, line in enumerate(version.lines):
        pieces = SR_COMMENT.split(line)  # text, body, text, body, ..., text
        for k in range(len(pieces) // 2):
            pieces[2 * k + 1] = _token(slot_of[(i, k)])
        out.append("".join(pieces))
    return "".join(out)


def _git_merge_file(ours: str, base: str, theirs: str, marker_size: int) -> tuple[str, int]:
    with tempfile.TemporaryDirectory(prefix="flashmark-merge-") as folder:
        names = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = os.path.join(folder, name)
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            names.append(path)
        data, code = _run_merge_file(names, marker_size)
    return data.decode("utf-8"), code


def _run_merge_file(paths: list[str], marker_size: int) -> tuple[bytes, int]:
    try:
        proc = subprocess.run(
            ["git", "merge-file", "-p", "--diff3", f"--marker-size={marker_size}",
             "-L", "ours", "-L", "base", "-L", "theirs", *paths],
            capture_output=True, check=False)
    except OSError as exc:
        raise MergeError(f"cannot run git merge-file: {exc.strerror or exc}") from None
    if not 0 <= proc.returncode < 128:
        message = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
        raise MergeError(f"git merge-file failed: {message}")
    return proc.stdout, proc.returncode


def merge_bytes(base: bytes, ours: bytes, theirs: bytes) -> MergeResult:
    """Merge three versions of a note (see the module's docstring)."""
    try:
        texts = [b.decode("utf-8") for b in (base, ours, theirs)]
    except UnicodeDecodeError:
        return _plain_merge(base, ours, theirs)
    versions = [_Version(_lines(t)) for t in texts]
    if not any(v.comments() for v in versions):
        return _plain_merge(base, ours, theirs)
    o_version, a_version, b_version = versions
    slots: list[_Slot] = []
    slot_of_base: dict[tuple[int, int], int] = {}
    for ref in o_version.comments():
        slot_of_base[ref] = len(slots)
        slots.append(_Slot(base=o_version.body(ref)))
    side_slots: list[dict[tuple[int, int], int]] = []
    for version, side in ((a_version, "ours"), (b_version, "theirs")):
        pairs = _pair(o_version, version)
        slot_of: dict[tuple[int, int], int] = {}
        for ref in version.comments():
            if ref in pairs:
                slot_of[ref] = slot_of_base[pairs[ref]]
            else:
                slot_of[ref] = len(slots)
                slots.append(_Slot())
            setattr(slots[slot_of[ref]], side, version.body(ref))
        side_slots.append(slot_of)
    # Longer than any run of marker characters in the notes, so hunks parse unambiguously
    # (a Markdown heading underlined with "=======" is not a marker).
    longest = max((len(m[0]) for t in texts for m in re.finditer(r"(?m)^([<|=>])\1*", t)),
                  default=0)
    size = max(MARKER_SIZE, longest) + 1
    merged, _ = _git_merge_file(_tokenize(a_version, side_slots[0]),
                                _tokenize(o_version, slot_of_base),
                                _tokenize(b_version, side_slots[1]), size)
    return _Resolver(slots, size).render(merged)


def _plain_merge(base: bytes, ours: bytes, theirs: bytes) -> MergeResult:
    """Git's own merge, for notes without SR comments or not in UTF-8."""
    with tempfile.TemporaryDirectory(prefix="flashmark-merge-") as folder:
        paths = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = os.path.join(folder, name)
            with open(path, "wb") as fh:
                fh.write(data)
            paths.append(path)
        out, code = _run_merge_file(paths, MARKER_SIZE)
    return MergeResult(out, code, 0)


def _tokens(lines: list[str]) -> list[int]:
    return [int(s) for s in _TOKEN.findall("".join(lines))]


def _anchored(lines: list[str]) -> dict[tuple[str, int], int]:
    """Slot tokens of a hunk section by their card text (unique ones only)."""
    found: dict[tuple[str, int], int] = {}
    seen: Counter[tuple[str, int]] = Counter()
    previous = ""
    for line in lines:
        text = _TOKEN.sub("", line).strip()
        for k, slot in enumerate(int(s) for s in _TOKEN.findall(line)):
            key = (text or previous, k)
            seen[key] += 1
            found[key] = slot
        previous = text or previous
    return {key: slot for key, slot in found.items() if seen[key] == 1}


@dataclass
class _Hunk:
    ours: list[str]
    base: list[str]
    theirs: list[str]
    markers: list[str]  # the four marker lines as git wrote them


class _Resolver:
    def __init__(self, slots: list[_Slot], marker_size: int) -> None:
        self.slots = slots
        self.size = marker_size
        self.alias: dict[int, int] = {}
        self.merged: dict[int, str | None] = {}
        self.undecided: set[int] = set()

    def _find(self, slot: int) -> int:
        while slot in self.alias:
            slot = self.alias[slot]
        return slot

    def _parse(self, text: str) -> list[list[str] | _Hunk]:
        parts: list[list[str] | _Hunk] = [[]]
        hunk: _Hunk | None = None
        section: list[str] = []
        for line in _lines(text):
            kind = line[0] * self.size if line[:1] in "<|=>" and line else ""
            if kind and line.startswith(kind) and line[self.size:self.size + 1] in " \r\n":
                if kind[0] == "<":
                    hunk = _Hunk([], [], [], [line])
                    section = hunk.ours
                    continue
                if hunk is not None:
                    hunk.markers.append(line)
                    if kind[0] == "|":
                        section = hunk.base
                    elif kind[0] == "=":
                        section = hunk.theirs
                    else:
                        parts.append(hunk)
                        parts.append([])
                        hunk = None
                    continue
            if hunk is None:
                clean = parts[-1]
                assert isinstance(clean, list)
                clean.append(line)
            else:
                section.append(line)
        return parts

    def _joinable(self, a: int, b: int) -> bool:
        sa, sb = self.slots[a], self.slots[b]
        return a == b or not any(
            x is not None and y is not None
            for x, y in ((sa.base, sb.base), (sa.ours, sb.ours), (sa.theirs, sb.theirs)))

    def _union(self, a: int, b: int) -> None:
        if a != b:
            sa, sb = self.slots[a], self.slots[b]
            sa.base = sa.base if sa.base is not None else sb.base
            sa.ours = sa.ours if sa.ours is not None else sb.ours
            sa.theirs = sa.theirs if sa.theirs is not None else sb.theirs
            self.alias[b] = a

    def _join(self, hunk: _Hunk) -> bool:
        """Resolve a hunk whose sides differ only in slot tokens by joining those slots
        (True). Otherwise join the slots of the two sides whose card text is the same
        (a card both sides reviewed inside a text conflict) and keep the hunk (False)."""
        if [_TOKEN.sub(_MASK, x) for x in hunk.ours] == \
                [_TOKEN.sub(_MASK, x) for x in hunk.theirs]:
            pairs = list(zip(_tokens(hunk.ours), _tokens(hunk.theirs), strict=True))
            pairs = [(self._find(a), self._find(b)) for a, b in pairs]
            if all(self._joinable(a, b) for a, b in pairs):
                for a, b in pairs:
                    self._union(self._find(a), self._find(b))
                return True
        ours, theirs = _anchored(hunk.ours), _anchored(hunk.theirs)
        for anchor, slot in theirs.items():
            if anchor in ours:
                a, b = self._find(ours[anchor]), self._find(slot)
                if self._joinable(a, b):
                    self._union(a, b)
        return False

    def _resolve(self, slot: int) -> None:
        s = self.slots[slot]
        try:
            self.merged[slot] = merge_comment(s.base, s.ours, s.theirs)
        except _UndecidedError:
            self.undecided.add(slot)

    def _fill(self, line: str, side: str) -> str:
        def comment(m: re.Match[str]) -> str:
            slot = self._find(int(m[1]))
            record = self.slots[slot]
            if slot in self.undecided or side == "base":
                body = getattr(record, side)
            else:
                body = self.merged[slot]
                if body is None:
                    # The merge says "no comment", yet the line that holds it is in the
                    # result (its pairing with the other side was not found): keep the
                    # comment this line came with rather than drop a schedule.
                    own = getattr(record, side, None)
                    body = own if own is not None else record.ours or record.theirs
            return "" if body is None else f"{srcodec.COMMENT_START}{body}{srcodec.COMMENT_END}"
        return _TOKEN.sub(comment, line)

    def _marker(self, line: str) -> str:
        return line[0] * MARKER_SIZE + line[self.size:]

    def render(self, text: str) -> MergeResult:
        parts = self._parse(text)
        for part in parts:
            if isinstance(part, _Hunk) and self._join(part):
                part.markers.clear()
        for slot in range(len(self.slots)):
            if self._find(slot) == slot:
                self._resolve(slot)
        out: list[str] = []
        conflicts = 0
        for part in parts:
            if isinstance(part, _Hunk) and not part.markers:
                part = part.ours  # resolved by joining slots
            if isinstance(part, list):
                for line in part:
                    slots = {self._find(int(s)) for s in _TOKEN.findall(line)}
                    if slots & self.undecided:
                        conflicts += 1
                        ending = line[len(line.rstrip("\r\n")):] or "\n"
                        out += ["<" * MARKER_SIZE + " ours" + ending,
                                self._fill(line, "ours"),
                                "|" * MARKER_SIZE + " base" + ending,
                                self._fill(line, "base"),
                                "=" * MARKER_SIZE + ending,
                                self._fill(line, "theirs"),
                                ">" * MARKER_SIZE + " theirs" + ending]
                    else:
                        out.append(self._fill(line, "merged"))
                continue
            conflicts += 1
            m = part.markers
            out.append(self._marker(m[0]))
            out += [self._fill(x, "ours") for x in part.ours]
            out.append(self._marker(m[1]))
            out += [self._fill(x, "base") for x in part.base]
            out.append(self._marker(m[2]))
            out += [self._fill(x, "theirs") for x in part.theirs]
            out.append(self._marker(m[3]))
        resolved = sum(1 for slot, s in enumerate(self.slots)
                       if self._find(slot) == slot and slot not in self.undecided
                       and s.ours is not None and s.theirs is not None
                       and s.ours != s.theirs and s.ours != s.base and s.theirs != s.base)
        return MergeResult("".join(out).encode("utf-8"), conflicts, resolved)


def write_result(path: str, data: bytes) -> None:
    """Replace git's ``%A`` file atomically (its mode kept). Without the sweep of dead
    processes' temporary files: git runs drivers in the work tree's top folder, which may
    be the vault, where a note's temporary file is the write path's to recover."""
    write_file_atomically(os.path.abspath(path), data)


def merge_files(base: str, ours: str, theirs: str) -> MergeResult:
    """`flashmark merge-driver %O %A %B`: merge and write the result to ``ours``."""
    contents = []
    for path in (base, ours, theirs):
        try:
            with open(path, "rb") as fh:
                contents.append(fh.read())
        except OSError as exc:
            raise MergeError(f"cannot read {path}: {exc.strerror or exc}") from None
    result = merge_bytes(*contents)
    write_result(ours, result.data)
    return result

"""The `<!--SR:...-->` comment codec (every form it reads: docs/compatibility.md).

``parse_entries`` never fails: an entry it cannot read becomes a :class:`RawEntry`
that is written back verbatim. ``format_comment(parse_comment(x)) == x`` holds for
every comment, and ``format_*_entry`` reproduce what the OSR plugin writes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Context, Decimal

from flashmark.model import FsrsEntry, RawEntry, Sm2Entry, SrEntry

COMMENT_START = "<!--SR:"
COMMENT_END = "-->"

# What the OSR plugin reads (1.15.4, src/utils/comment-parser.ts; docs/compatibility.md
# lists each form): it splits the body on "!", trims each piece, and then
# * a legacy piece is `DATE,INTERVAL,EASE[,more...]`: DATE by moment.js as YYYY-MM-DD,
#   DD-MM-YYYY or "ddd MMM DD YYYY"; INTERVAL and EASE by parseInt (133.4 -> 133);
#   fields after the third are ignored (we keep them, verbatim);
# * an FSRS piece is `fsrs,DUE,IVL,S,D,STATE,REPS,LAPSES,STEP,LAST[,more...]` with DUE
#   and LAST read by moment() as any ISO-8601 instant (offsets such as +08:00 too).
_DATE = r"\d{4}-\d{2}-\d{2}|\d{2}-\d{2}-\d{4}|[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{4}"
_INT = r"(\d+)(?:\.\d*)?"  # parseInt: the whole part of a decimal
_EXTRA = r"((?:,[^,]*)*)"  # fields the plugin ignores
_SM2 = re.compile(f"({_DATE}),{_INT},{_INT}{_EXTRA}")
_INSTANT = (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
            r"(?:Z|[+-]\d{2}:?\d{2})")
_NUMBER = r"\d+(?:\.\d+)?(?:e[-+]?\d+)?"
_FSRS = re.compile(
    f"fsrs,({_INSTANT}),(\\d+)(?:\\.\\d*)?,({_NUMBER}),({_NUMBER}),"
    f"([0-3]),(\\d+),(\\d+),(\\d+),({_INSTANT}|-){_EXTRA}"
)


# The largest stability (in days) an entry may hold. FSRS caps intervals at 100 years and
# no review grows stability past a few hundred thousand days; a bigger value (1e25, inf)
# is a damaged or hand-made entry, and arithmetic on it overflows (decimal, datetime).
MAX_STABILITY = 1e9


def body_is_valid(body: str) -> bool:
    """True when every entry of the body is readable, real calendar dates included."""
    entries = parse_body(body)[0]
    return bool(entries) and not any(isinstance(e, RawEntry) for e in entries)


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _date(text: str) -> dt.date:
    """A legacy DATE in any of the plugin's three formats (ValueError if impossible)."""
    if text[4] == "-":
        return dt.date.fromisoformat(text)
    if text[2] == "-":
        return dt.date(int(text[6:]), int(text[3:5]), int(text[:2]))
    # "Sat Dec 05 2026" (JavaScript's Date.toDateString()); a wrong weekday is rejected
    # like moment.js does (its weekday-mismatch check makes the date invalid).
    day = dt.date(int(text[-4:]), _MONTHS.index(text[4:7]) + 1, int(text[8:10]))
    if _WEEKDAYS[day.weekday()] != text[:3]:
        raise ValueError(f"{text[:3]} is not the weekday of {day}")
    return day


def parse_entry(text: str) -> SrEntry:
    """Parse one entry (the text between two "!", without the "!").

    Whitespace around the entry is ignored (the plugin trims it) but kept in ``text``.
    """
    bare = text.strip()
    m = _SM2.fullmatch(bare)
    if m:
        try:
            due = _date(m[1])
        except ValueError:
            return RawEntry(text, f"invalid date {m[1]!r}")
        return Sm2Entry(due, int(m[2]), int(m[3]), text)
    m = _FSRS.fullmatch(bare)
    if m:
        try:
            due_at = _utc(m[1])
            last = None if m[9] == "-" else _utc(m[9])
        except ValueError:
            return RawEntry(text, "invalid timestamp")
        stability, difficulty = float(m[3]), float(m[4])
        if not stability <= MAX_STABILITY:
            return RawEntry(text, f"stability {m[3]} is out of range (at most "
                                  f"{MAX_STABILITY:.0e} days)")
        if not math.isfinite(difficulty):
            return RawEntry(text, f"difficulty {m[4]} is not a finite number")
        return FsrsEntry(due_at, int(m[2]), stability, difficulty, int(m[5]), int(m[6]),
                         int(m[7]), int(m[8]), last, text)
    if bare.startswith("fsrs,"):
        return RawEntry(text, "an FSRS entry needs 10 fields: fsrs,DUE,IVL,S,D,STATE,REPS,"
                              "LAPSES,STEP,LAST")
    return RawEntry(text, "expected !YYYY-MM-DD,INTERVAL,EASE or !fsrs,...")


def body_lead(body: str) -> str:
    """The whitespace before the first "!" (`<!--SR: !...`): the plugin ignores it."""
    stripped = body.lstrip()
    return body[:len(body) - len(stripped)] if stripped.startswith("!") else ""


def parse_body(body: str) -> tuple[tuple[SrEntry, ...], bool]:
    """Entries of a comment body (between "<!--SR:" and "-->").

    Returns the entries and whether the body is the old single-card form
    ``date,interval,ease`` without a leading "!".
    """
    lead = body_lead(body)
    if not body.startswith("!", len(lead)):
        # The old single-card form, or something unreadable: either way one entry that
        # is written back exactly as it was (no "!" added).
        if _SM2.fullmatch(body.strip()):
            return (parse_entry(body),), True
        return ((RawEntry(body, "an SR comment must start with '!'"),) if body else ()), True
    return tuple(parse_entry(part) for part in body[len(lead) + 1:].split("!")), False


def format_body(entries: tuple[SrEntry, ...] | list[SrEntry],
                legacy_single: bool = False, lead: str = "") -> str:
    """The body again; ``lead`` is the body's :func:`body_lead`, kept as it was."""
    if legacy_single and len(entries) <= 1:
        return entries[0].text if entries else ""
    return lead + "".join("!" + e.text for e in entries)


def format_comment(entries: tuple[SrEntry, ...] | list[SrEntry],
                   legacy_single: bool = False, lead: str = "") -> str:
    return COMMENT_START + format_body(entries, legacy_single, lead) + COMMENT_END


# --- writing new entries ------------------------------------------------------------


_EIGHT = Decimal("1e-8")
# Enough digits for any finite float at 8 decimals (the default 28 fail from 1e20 on).
_WIDE = Context(prec=400)


def js_number(value: float) -> str:
    """Format like OSR: ``Number(x.toFixed(8)).toString()`` (no trailing zeros; like
    JavaScript, exponent notation below 1e-6: 1e-8, 1.5e-7)."""
    # toFixed(8) picks the nearer multiple of 1e-8 and, on an exact tie, the larger
    # one; Python's formatting would round a tie to even.
    if not math.isfinite(value):
        raise ValueError(f"cannot write {value} in an SR entry")
    exact = Decimal(value).quantize(_EIGHT, rounding=ROUND_HALF_UP if value >= 0
                                    else ROUND_HALF_DOWN, context=_WIDE)
    text = f"{exact:.8f}".rstrip("0").rstrip(".")
    rounded = float(text) if text not in ("", "-", "-0") else 0.0
    if rounded == 0:
        return "0"
    if abs(rounded) < 1e-6:
        mantissa, _, exponent = repr(rounded).partition("e")
        return f"{mantissa.removesuffix('.0')}e{int(exponent)}"
    return text


def iso_ms(moment: dt.datetime) -> str:
    """`2030-03-17T00:00:00.000Z`: UTC with milliseconds, like JavaScript's toISOString."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def sm2_entry(due: dt.date, interval: int, ease: int) -> Sm2Entry:
    return Sm2Entry(due, interval, ease, f"{due.isoformat()},{interval},{ease}")


def fsrs_entry(*, due: dt.datetime, interval: int, stability: float, difficulty: float,
               state: int, reps: int, lapses: int, step: int,
               last_review: dt.datetime | None) -> FsrsEntry:
    # Round-trip through the text so the entry holds exactly what a re-read would give.
    text = ",".join((
        "fsrs", iso_ms(due), str(interval), js_number(stability), js_number(difficulty),
        str(state), str(reps), str(lapses), str(step),
        "-" if last_review is None else iso_ms(last_review),
    ))
    entry = parse_entry(text)
    assert isinstance(entry, FsrsEntry)
    return entry


def canonical_text(entry: SrEntry) -> str:
    """What we would write for this entry's values (equals ``entry.text`` for OSR's output)."""
    if isinstance(entry, Sm2Entry):
        return sm2_entry(entry.due, entry.interval, entry.ease).text
    if isinstance(entry, FsrsEntry):
        return fsrs_entry(due=entry.due, interval=entry.interval, stability=entry.stability,
                          difficulty=entry.difficulty, state=entry.state, reps=entry.reps,
                          lapses=entry.lapses, step=entry.step,
                          last_review=entry.last_review).text
    return entry.text

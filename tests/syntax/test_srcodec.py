"""The `<!--SR:-->` codec: parse, format, round trips."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flashmark.model import PLACEHOLDER_TEXT, FsrsEntry, RawEntry, Sm2Entry
from flashmark.syntax import srcodec
from flashmark.syntax.srcodec import (
    body_is_valid,
    canonical_text,
    format_body,
    format_comment,
    fsrs_entry,
    iso_ms,
    js_number,
    parse_body,
    parse_entry,
    sm2_entry,
)

UTC = dt.UTC

# --- parsing ----------------------------------------------------------------------


def test_legacy_entry() -> None:
    entries, single = parse_body("!2026-03-13,394,230")
    assert single is False
    (e,) = entries
    assert e == Sm2Entry(dt.date(2026, 3, 13), 394, 230, "2026-03-13,394,230")
    assert not e.is_new


def test_entries_on_the_placeholder_date_are_new_and_interval_zero_is_not() -> None:
    """As the plugin reads them (comment-parser.ts): the date 2000-01-01 means "no
    schedule" whatever the interval and ease; interval 0 is what its SM-2 writes on
    Again, a lapsed card due on its date."""
    (placeholder,), _ = parse_body("!" + PLACEHOLDER_TEXT)
    assert isinstance(placeholder, Sm2Entry)
    assert placeholder.is_new
    assert (placeholder.due, placeholder.interval, placeholder.ease) == (
        dt.date(2000, 1, 1), 1, 250)
    (zero,), _ = parse_body("!2026-05-01,0,250")
    assert isinstance(zero, Sm2Entry)
    assert not zero.is_new
    for text in ("!2000-01-01,1,260", "!2000-01-01,7,250", "!01-01-2000,3,230"):
        (other,), _ = parse_body(text)
        assert isinstance(other, Sm2Entry) and other.is_new, text


def test_fsrs_entry_with_last_review() -> None:
    text = ("fsrs,2031-11-26T00:00:00.000Z,1963,1962.84850637,4.98215312,2,11,0,0,"
            "2026-07-12T00:00:00.000Z")
    (e,), _ = parse_body("!" + text)
    assert e == FsrsEntry(
        due=dt.datetime(2031, 11, 26, tzinfo=UTC), interval=1963, stability=1962.84850637,
        difficulty=4.98215312, state=2, reps=11, lapses=0, step=0,
        last_review=dt.datetime(2026, 7, 12, tzinfo=UTC), text=text)
    assert e.due.tzinfo is not None and e.due.utcoffset() == dt.timedelta(0)
    assert not e.is_new


def test_fsrs_entry_without_last_review() -> None:
    text = "fsrs,2030-03-17T12:34:56.789Z,0,0.5,7,0,0,0,1,-"
    (e,), _ = parse_body("!" + text)
    assert isinstance(e, FsrsEntry)
    assert e.last_review is None
    assert e.due == dt.datetime(2030, 3, 17, 12, 34, 56, 789000, tzinfo=UTC)
    assert (e.interval, e.stability, e.difficulty, e.state, e.reps, e.lapses, e.step) == (
        0, 0.5, 7.0, 0, 0, 0, 1)
    assert e.is_new  # state 0


def test_mixed_comment_from_spec() -> None:
    body = ("!2029-08-08,1401,230!fsrs,2031-11-26T00:00:00.000Z,1963,1962.84850637,"
            "4.98215312,2,11,0,0,2026-07-12T00:00:00.000Z")
    entries, single = parse_body(body)
    assert [type(e) for e in entries] == [Sm2Entry, FsrsEntry]
    assert not single
    assert body_is_valid(body)
    assert format_body(entries, single) == body


def test_old_single_card_form() -> None:
    entries, single = parse_body("2024-01-01,3,250")
    assert single is True
    assert entries == (Sm2Entry(dt.date(2024, 1, 1), 3, 250, "2024-01-01,3,250"),)
    assert format_body(entries, single) == "2024-01-01,3,250"
    assert format_comment(entries, single) == "<!--SR:2024-01-01,3,250-->"
    # written as a normal comment once asked to
    assert format_comment(entries) == "<!--SR:!2024-01-01,3,250-->"


@pytest.mark.parametrize(("body", "texts"), [
    ("!bogus!2026-01-01,3,250", ["bogus", None]),
    ("!fsrs,2030-03-17T00:00:00.000Z,10", ["fsrs,2030-03-17T00:00:00.000Z,10"]),
    ("!fsrs,2030-03-17T00:00:00.000Z,10,1.5,5,4,1,0,0,-", [
        "fsrs,2030-03-17T00:00:00.000Z,10,1.5,5,4,1,0,0,-"]),  # state 4 does not exist
    ("!2026-01-01,3", ["2026-01-01,3"]),
    ("!", [""]),
    ("!2026-01-01,3,250!!2026-01-02,4,250", [None, "", None]),
])
def test_malformed_entries_are_kept_verbatim(body: str, texts: list[str | None]) -> None:
    entries, single = parse_body(body)
    assert len(entries) == len(texts)
    for entry, raw in zip(entries, texts, strict=True):
        if raw is None:
            assert isinstance(entry, Sm2Entry)
        else:
            assert isinstance(entry, RawEntry)
            assert entry.text == raw
            assert entry.reason
            assert canonical_text(entry) == raw
    assert not body_is_valid(body)
    assert format_body(entries, single) == body


@pytest.mark.parametrize("body", ["!2026-13-01,3,250", "!2026-02-30,3,250"])
def test_impossible_dates_are_raw_entries(body: str) -> None:
    entries, single = parse_body(body)
    (entry,) = entries
    assert isinstance(entry, RawEntry)
    assert entry.text == body[1:]
    assert "invalid date" in entry.reason
    assert format_body(entries, single) == body


@pytest.mark.parametrize("body", ["!2026-13-01,3,250", "!2026-02-30,3,250",
                                  "!fsrs,2030-02-31T00:00:00.000Z,1,1,1,2,1,0,0,-"])
def test_body_is_valid_rejects_impossible_dates(body: str) -> None:
    assert not body_is_valid(body)


def test_unreadable_single_form_body_is_one_raw_entry() -> None:
    entries, _ = parse_body("garbage")
    raw = entries[0]
    assert isinstance(raw, RawEntry)
    assert entries == (RawEntry("garbage", raw.reason),)
    assert raw.reason


def test_unreadable_body_without_bang_round_trips() -> None:
    """`<!--SR:garbage-->` is kept verbatim, without gaining a '!'."""
    entries, single = parse_body("garbage")
    assert format_body(entries, single) == "garbage"


def test_empty_body() -> None:
    entries, single = parse_body("")
    assert entries == ()
    assert format_body(entries, single) == ""
    assert format_body(()) == ""


def test_parse_entry_never_raises_on_odd_fsrs_timestamps() -> None:
    e = parse_entry("fsrs,2030-02-31T00:00:00.000Z,1,1,1,2,1,0,0,-")
    assert isinstance(e, RawEntry)
    assert e.text == "fsrs,2030-02-31T00:00:00.000Z,1,1,1,2,1,0,0,-"


# --- writing ----------------------------------------------------------------------


@pytest.mark.parametrize(("value", "osr"), [
    # Number(x.toFixed(8)).toString() as run by node for each value
    (1, "1"),
    (1.0, "1"),
    (0, "0"),
    (-0.0, "0"),
    (2045.37497602, "2045.37497602"),
    (0.1 + 0.2, "0.3"),
    (1 / 3, "0.33333333"),
    (0.5, "0.5"),
    (5.5, "5.5"),
    (3.141592653589793, "3.14159265"),
    (123.000000005, "123.00000001"),
    (4.98215312, "4.98215312"),
    (1962.84850637, "1962.84850637"),
    (1e-9, "0"),
    (-2.5, "-2.5"),
])
def test_js_number_matches_osr(value: float, osr: str) -> None:
    assert js_number(value) == osr


@pytest.mark.parametrize(("value", "osr"), [
    (0.001953125, "0.00195313"),
    (2.001953125, "2.00195313"),
])
def test_js_number_rounds_ties_like_javascript(value: float, osr: str) -> None:
    assert js_number(value) == osr


@pytest.mark.parametrize(("value", "osr"), [
    # below 1e-6 JavaScript's Number.toString uses exponent notation
    (1.5e-8, "1e-8"),
    (1.23e-7, "1.2e-7"),
    (-4e-7, "-4e-7"),
    (5e-9, "1e-8"),
    (1e-6, "0.000001"),
    (0.00000099, "9.9e-7"),
])
def test_js_number_small_values_like_javascript(value: float, osr: str) -> None:
    assert js_number(value) == osr


def test_iso_ms() -> None:
    moment = dt.datetime(2030, 3, 17, 1, 2, 3, 456789, tzinfo=UTC)
    assert iso_ms(moment) == "2030-03-17T01:02:03.456Z"
    plus8 = dt.timezone(dt.timedelta(hours=8))
    assert iso_ms(dt.datetime(2030, 3, 17, 8, 0, tzinfo=plus8)) == "2030-03-17T00:00:00.000Z"


def test_sm2_entry() -> None:
    e = sm2_entry(dt.date(2026, 3, 13), 394, 230)
    assert e.text == "2026-03-13,394,230"
    assert parse_entry(e.text) == e


@pytest.mark.parametrize("number", ["1e-7", "1.5e-7", "0.000001", "12.5", "0"])
def test_fsrs_numbers_keep_their_text(number: str) -> None:
    text = f"fsrs,2030-01-01T00:00:00.000Z,1,{number},5,2,1,0,0,-"
    (entry,), _ = parse_body("!" + text)
    assert isinstance(entry, FsrsEntry)
    assert entry.stability == float(number)
    assert canonical_text(entry) == text


def test_fsrs_entry_formats_like_osr() -> None:
    e = fsrs_entry(due=dt.datetime(2031, 11, 26, tzinfo=UTC), interval=1963,
                   stability=1962.848506371234, difficulty=4.982153118,
                   state=2, reps=11, lapses=0, step=0,
                   last_review=dt.datetime(2026, 7, 12, tzinfo=UTC))
    assert e.text == ("fsrs,2031-11-26T00:00:00.000Z,1963,1962.84850637,4.98215312,2,11,0,0,"
                      "2026-07-12T00:00:00.000Z")
    new = fsrs_entry(due=dt.datetime(2030, 1, 1, 9, 30, tzinfo=UTC), interval=0,
                     stability=0.40255, difficulty=7.1949, state=1, reps=1, lapses=0, step=0,
                     last_review=None)
    assert new.text == "fsrs,2030-01-01T09:30:00.000Z,0,0.40255,7.1949,1,1,0,0,-"


# --- properties -------------------------------------------------------------------

# Text bodies as they can appear between "<!--SR:" and "-->" (the first "-->" ends a
# comment, so a body never contains it).
bodies = st.text(st.characters(exclude_categories=["Cs"]), max_size=80).filter(
    lambda b: "-->" not in b)
entry_like = st.lists(
    st.one_of(
        st.just("2026-01-01,3,250"),
        st.just("fsrs,2030-03-17T00:00:00.000Z,10,9.5,5.1,2,3,0,0,-"),
        st.text(alphabet="0123456789-,.:TZfsr!", max_size=20),
    ), max_size=5).map(lambda parts: "!" + "!".join(parts))


@settings(max_examples=200, deadline=None)
@given(st.one_of(bodies.map(lambda b: "!" + b), entry_like))
def test_format_parse_round_trip_on_bodies_starting_with_bang(body: str) -> None:
    entries, single = parse_body(body)
    assert format_body(entries, single) == body
    assert srcodec.COMMENT_START + format_body(entries, single) + srcodec.COMMENT_END == \
        format_comment(entries, single)


@example("0")
@settings(max_examples=200, deadline=None)
@given(st.one_of(bodies, entry_like))
def test_format_parse_round_trip_on_any_body(body: str) -> None:
    entries, single = parse_body(body)
    assert format_body(entries, single) == body


dates = st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(9999, 12, 31))
instants = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(9999, 12, 31),
                        timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


@st.composite
def decimals(draw: st.DrawFn, max_int: int) -> str:
    """A number as OSR writes it: at most 8 decimals, no trailing zeros."""
    whole = draw(st.integers(0, max_int))
    frac = draw(st.text(alphabet="0123456789", max_size=8)).rstrip("0")
    text = f"{whole}.{frac}" if frac else str(whole)
    if 0 < float(text) < 1e-6:  # JavaScript writes these as 1e-7, 1.5e-7, ...
        mantissa, _, exponent = repr(float(text)).partition("e")
        text = f"{mantissa.removesuffix('.0')}e{int(exponent)}"
    return text


@st.composite
def sm2_texts(draw: st.DrawFn) -> tuple[str, tuple[object, ...]]:
    due = draw(dates)
    interval = draw(st.integers(0, 36500))
    ease = draw(st.integers(130, 500))
    return f"{due.isoformat()},{interval},{ease}", (due, interval, ease)


@st.composite
def fsrs_texts(draw: st.DrawFn) -> tuple[str, tuple[object, ...]]:
    due = draw(instants)
    last = draw(st.none() | instants)
    interval = draw(st.integers(0, 36500))
    s = draw(decimals(100000))
    d = draw(decimals(10))
    state = draw(st.integers(0, 3))
    reps, lapses, step = (draw(st.integers(0, 500)) for _ in range(3))
    text = ",".join(["fsrs", iso_ms(due), str(interval), s, d, str(state), str(reps),
                     str(lapses), str(step), "-" if last is None else iso_ms(last)])
    return text, (due, interval, float(s), float(d), state, reps, lapses, step, last)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(sm2_texts(), fsrs_texts()), min_size=1, max_size=6))
def test_well_formed_entries_round_trip(items: list[tuple[str, tuple[object, ...]]]) -> None:
    body = "".join("!" + text for text, _ in items)
    assert body_is_valid(body)
    entries, single = parse_body(body)
    assert not single
    assert format_body(entries, single) == body
    for entry, (text, fields) in zip(entries, items, strict=True):
        assert entry.text == text
        assert canonical_text(entry) == entry.text
        if isinstance(entry, Sm2Entry):
            assert (entry.due, entry.interval, entry.ease) == fields
            again: Sm2Entry | FsrsEntry = sm2_entry(entry.due, entry.interval, entry.ease)
        else:
            assert isinstance(entry, FsrsEntry)
            assert (entry.due, entry.interval, entry.stability, entry.difficulty, entry.state,
                    entry.reps, entry.lapses, entry.step, entry.last_review) == fields
            again = fsrs_entry(due=entry.due, interval=entry.interval,
                               stability=entry.stability, difficulty=entry.difficulty,
                               state=entry.state, reps=entry.reps, lapses=entry.lapses,
                               step=entry.step, last_review=entry.last_review)
        assert again == entry  # format(fields) then parse gives the same fields and text


# --- the real vault ---------------------------------------------------------------

CORPUS = Path(os.environ.get("FLASHMARK_CORPUS") or
              Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "information")
_SR = re.compile(r"<!--SR:(.*?)-->")


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the real vault is not at {CORPUS}")
def test_every_comment_of_the_vault_round_trips() -> None:
    comments = entries_seen = 0
    for path in sorted(CORPUS.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if "<!--SR:" not in text:
            continue
        for m in _SR.finditer(text):
            body = m[1]
            comments += 1
            entries, single = parse_body(body)
            assert format_body(entries, single) == body, (path, body)
            for e in entries:
                entries_seen += 1
                assert isinstance(e, Sm2Entry | FsrsEntry), (path, e)
                assert canonical_text(e) == e.text, (path, e.text)
    # the corpus: 43,955 comments, ~146,950 entries
    assert comments == 43955
    assert entries_seen == 105886 + 41066


@pytest.mark.parametrize("body", ["", "!2026-01-01,3,250", "!a!b!!c", "2026-01-01,3,250",
                                  "!fsrs,2026-01-01T00:00:00.000Z,1,2,3,2,1,0,0,"])
def test_entry_count_is_the_number_of_entry_texts(body: str) -> None:
    from flashmark.model import Span, SrComment

    comment = SrComment(Span(0, 0, 0, 0), body)
    assert comment.entry_count == len(comment.entry_texts)

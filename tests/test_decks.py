"""The one deck matcher (`flashmark.decks`): patterns × deck names, suggestions, and the
per-deck review settings that go through it."""

from __future__ import annotations

import pytest

from flashmark.decks import DeckPattern, DeckSelection, closest_decks
from flashmark.errors import EXIT_INPUT, UnknownDeckError
from flashmark.review.settings import SHARED, ReviewSettings

CUSTOMERS = "flashcard/active/business/customers"
DECKS = [
    "flashcard/active/business",
    CUSTOMERS,
    f"{CUSTOMERS}/customer_jobs",
    "flashcard/active/businessplan",
    "flashcard/active/general/eng/customer_development",
    "flashcard/active/general",
    "flashcard/active/special/C",
    "flashcard/active/special/Cpp",
    "Flashcard/Äctive/Straße",
]

# pattern -> the decks of DECKS it selects (a deck selects its sub-decks; * crosses /).
TABLE: list[tuple[str, set[str]]] = [
    # exact path and prefix (only at a `/`: `business` is not `businessplan`)
    ("flashcard/active/business", {"flashcard/active/business", CUSTOMERS,
                                   f"{CUSTOMERS}/customer_jobs"}),
    (CUSTOMERS, {CUSTOMERS, f"{CUSTOMERS}/customer_jobs"}),
    (f"{CUSTOMERS}/customer_jobs", {f"{CUSTOMERS}/customer_jobs"}),
    ("flashcard/active/special/C", {"flashcard/active/special/C"}),
    # spelling: `#`, spaces, slashes at the ends, `::`, any case
    ("#flashcard/active/business/customers/", {CUSTOMERS, f"{CUSTOMERS}/customer_jobs"}),
    ("  Flashcard::Active::Business::Customers ", {CUSTOMERS, f"{CUSTOMERS}/customer_jobs"}),
    ("flashcard/active/special/c", {"flashcard/active/special/C"}),
    ("flashcard/äctive/STRASSE", {"Flashcard/Äctive/Straße"}),  # casefold: ß is ss
    # `*`: any run, `/` included (Anki's deck: search), and `**` is the same
    ("flashcard/active/business/cust*", {CUSTOMERS, f"{CUSTOMERS}/customer_jobs"}),
    ("flashcard/active/bus*", {"flashcard/active/business", CUSTOMERS,
                               f"{CUSTOMERS}/customer_jobs", "flashcard/active/businessplan"}),
    ("*/customer_jobs", {f"{CUSTOMERS}/customer_jobs"}),
    ("**/customer_jobs", {f"{CUSTOMERS}/customer_jobs"}),
    ("*cust*", {CUSTOMERS, f"{CUSTOMERS}/customer_jobs",
                "flashcard/active/general/eng/customer_development"}),
    ("flashcard/*/C", {"flashcard/active/special/C"}),
    ("flashcard::*::eng", {"flashcard/active/general/eng/customer_development"}),
    ("*", set(DECKS)),
    # `?`: one character, never `/`
    ("flashcard/active/special/C??", {"flashcard/active/special/Cpp"}),
    ("flashcard/active/special/?", {"flashcard/active/special/C"}),
    ("flashcard/active?special/C", set()),
    # no other character is special: `[` is literal
    ("flashcard/active/special/[C]", set()),
    # selects nothing
    ("business/customers", set()),  # patterns start at the root, like Anki deck names
    ("flashcard/active/customers", set()),
    ("", set()),
    ("#", set()),
]


@pytest.mark.parametrize(("pattern", "selected"), TABLE, ids=[p or "<empty>" for p, _ in TABLE])
def test_pattern_table(pattern: str, selected: set[str]) -> None:
    compiled = DeckPattern(pattern)
    assert {d for d in DECKS if compiled.selects(d)} == selected
    assert not compiled.selects(None)  # a card without a deck is never selected by a pattern


def test_depth_is_the_nearest_matching_deck() -> None:
    assert DeckPattern("flashcard/active/business").depth(f"{CUSTOMERS}/customer_jobs") == 3
    assert DeckPattern("*/customers").depth(f"{CUSTOMERS}/customer_jobs") == 4
    assert DeckPattern("flashcard/*").depth(f"{CUSTOMERS}/customer_jobs") == 5
    assert DeckPattern("*/eng").depth(CUSTOMERS) == 0


def test_selection_of_several_patterns() -> None:
    both = DeckSelection(["flashcard/active/special/C", "*/eng"])
    assert {d for d in DECKS if both.selects(d)} == {
        "flashcard/active/special/C", "flashcard/active/general/eng/customer_development"}
    everything = DeckSelection(None)
    assert not everything and everything.selects(None) and everything.selects(CUSTOMERS)
    assert DeckSelection("x").patterns[0].text == "x"  # one string is one pattern


def test_unknown_deck_names_the_closest() -> None:
    with pytest.raises(UnknownDeckError) as caught:
        DeckSelection([CUSTOMERS, "flashcard/active/busines/customer"]).require_known(
            [*DECKS, None])
    err = caught.value
    assert err.exit_code == EXIT_INPUT
    assert err.pattern == "flashcard/active/busines/customer"
    assert err.closest[0] == CUSTOMERS
    assert str(err).startswith(
        f"no deck matches 'flashcard/active/busines/customer' ({len(DECKS)} decks hold cards)"
        f"\n  hint: closest: {CUSTOMERS}")
    DeckSelection(["flashcard/active/bus*"]).require_known(DECKS)  # known: no error


@pytest.mark.parametrize(("wanted", "first"), [
    ("flashcard/active/genral", "flashcard/active/general"),  # a typo
    ("customer_jobs", f"{CUSTOMERS}/customer_jobs"),  # the last part alone
    ("customer", CUSTOMERS),  # a part of the last part
    ("flashcard/active/marketing/customer_dev*",
     "flashcard/active/general/eng/customer_development"),
    ("flashcard::active::special::cp", "flashcard/active/special/Cpp"),
])
def test_closest_decks(wanted: str, first: str) -> None:
    assert closest_decks(wanted, DECKS)[0] == first


def test_nothing_close_is_no_suggestion() -> None:
    assert closest_decks("nosuchdeck", DECKS) == []
    assert closest_decks("*", DECKS) == []
    with pytest.raises(UnknownDeckError, match="`flashmark due` lists the decks"):
        DeckSelection("nosuchdeck").require_known(DECKS)


def test_review_deck_settings_use_the_same_patterns() -> None:
    settings = ReviewSettings(deck_limits=(
        ("flashcard/active/business", 5),
        ("Flashcard::Active::Business::Customers", 3),  # more specific, other spelling
        ("*/customer_jobs", 1),
        ("flashcard/active/special/C?p", 0),
    ))
    assert settings.group_of("flashcard/active/business") == "flashcard/active/business"
    assert settings.group_of(CUSTOMERS) == "Flashcard::Active::Business::Customers"
    assert settings.group_of(f"{CUSTOMERS}/personas") == "Flashcard::Active::Business::Customers"
    # the pattern matching the deck itself beats one matching only a parent
    assert settings.group_of(f"{CUSTOMERS}/customer_jobs") == "*/customer_jobs"
    assert settings.group_of(f"{CUSTOMERS}/customer_jobs/x") == "*/customer_jobs"
    assert settings.group_of("flashcard/active/special/Cpp") == "flashcard/active/special/C?p"
    assert settings.group_of("flashcard/active/special/C") == SHARED
    assert settings.group_of("flashcard/active/businessplan") == SHARED
    assert settings.group_of(None) == SHARED
    assert settings.limit_of(settings.group_of(CUSTOMERS)) == 3

"""The stages that give a regenerated section's old schedules back to changed cards
(`generate.states.reattach`): exact, normalized, cloze answers, similar. Each case is a
section's old body and its freshly generated body (a slot after each card, as the
helpers write it), and the exact text that must come out."""

from __future__ import annotations

import pytest

from flashmark.generate.states import (
    SIMILAR_THRESHOLD,
    SLOT,
    normalized,
    reattach,
    similarity,
)


def fresh(*items: str) -> str:
    """A generated list body: one slot after each item, as the helpers leave it."""
    return "\n".join(f"- {item} {SLOT}" for item in items) + "\n"


def test_reordered_list_with_one_item_edited() -> None:
    old = ("- [copper](copper.md):@:reacts slowly with [air](air.md) <!--SR:!2031-01-01,10,250-->\n"
           "- [gold](gold.md):@:may react with some strong [oxidizing agents](o.md) "
           "<!--SR:!2032-02-02,20,270-->\n"
           "- [zinc](zinc.md):@:reacts with [acids](acid.md) <!--SR:!2033-03-03,30,290-->\n")
    new = fresh("[zinc](zinc.md):@:reacts with [acids](acid.md)",
                "[copper](copper.md):@:reacts slowly with [air](air.md) when moist",
                "[gold](gold.md):@:may react with some strong [oxidizing agents](o.md)")
    placed = reattach(new, old)
    assert placed.text == (
        "- [zinc](zinc.md):@:reacts with [acids](acid.md) <!--SR:!2033-03-03,30,290-->\n"
        "- [copper](copper.md):@:reacts slowly with [air](air.md) when moist "
        "<!--SR:!2031-01-01,10,250-->\n"
        "- [gold](gold.md):@:may react with some strong [oxidizing agents](o.md) "
        "<!--SR:!2032-02-02,20,270-->\n")
    assert not placed.orphans
    assert [(m.stage, m.old_line, m.new_line) for m in placed.moves] == [
        ("exact", 2, 0), ("similar", 0, 1), ("exact", 1, 2)]


def test_two_similar_items_are_not_cross_matched() -> None:
    # one answer shared by two metals is edited: each card keeps its own schedule
    old = ("- [zinc](zinc.md):@:reacts with [acids](acid.md) <!--SR:!2030-01-01,1,250-->\n"
           "- [iron](iron.md):@:reacts with [acids](acid.md) <!--SR:!2030-02-02,2,250-->\n")
    new = fresh("[iron](iron.md):@:reacts with [acids](acid.md) and steam",
                "[zinc](zinc.md):@:reacts with [acids](acid.md) and steam")
    placed = reattach(new, old)
    assert placed.text == (
        "- [iron](iron.md):@:reacts with [acids](acid.md) and steam "
        "<!--SR:!2030-02-02,2,250-->\n"
        "- [zinc](zinc.md):@:reacts with [acids](acid.md) and steam "
        "<!--SR:!2030-01-01,1,250-->\n")
    # a row replaced by another metal with the same answer is another card
    swapped = reattach(fresh("[tin](tin.md):@:reacts with [acids](acid.md)",
                             "[iron](iron.md):@:reacts with [acids](acid.md)"), old)
    assert swapped.text == ("- [tin](tin.md):@:reacts with [acids](acid.md)\n"
                            "- [iron](iron.md):@:reacts with [acids](acid.md) "
                            "<!--SR:!2030-02-02,2,250-->\n")
    assert [o.comment for o in swapped.orphans] == ["<!--SR:!2030-01-01,1,250-->"]


def test_linked_sequence_pair_follows_its_unchanged_neighbour() -> None:
    old = ("- _(start)_→::@::←first step <!--SR:!2030-01-01,1,250!2030-01-02,2,250-->\n"
           "- first step→::@::←second step <!--SR:!2030-02-01,1,250!2030-02-02,2,250-->\n"
           "- second step→::@::←third step <!--SR:!2030-03-01,1,250!2030-03-02,2,250-->\n"
           "- third step→::@::←_(end)_ <!--SR:!2030-04-01,1,250!2030-04-02,2,250-->\n")
    # "second step" becomes "second big step": both pairs it is in changed
    new = fresh("_(start)_→::@::←first step", "first step→::@::←second big step",
                "second big step→::@::←third step", "third step→::@::←_(end)_")
    placed = reattach(new, old)
    assert placed.text == (
        "- _(start)_→::@::←first step <!--SR:!2030-01-01,1,250!2030-01-02,2,250-->\n"
        "- first step→::@::←second big step <!--SR:!2030-02-01,1,250!2030-02-02,2,250-->\n"
        "- second big step→::@::←third step <!--SR:!2030-03-01,1,250!2030-03-02,2,250-->\n"
        "- third step→::@::←_(end)_ <!--SR:!2030-04-01,1,250!2030-04-02,2,250-->\n")
    assert [m.stage for m in placed.moves] == ["exact", "similar", "similar", "exact"]
    # two neighbours edited at once: the pair between them kept no side; it is orphaned
    both = reattach(fresh("_(start)_→::@::←first step", "first step→::@::←second big step",
                          "second big step→::@::←third big step",
                          "third big step→::@::←_(end)_"), old)
    assert "- second big step→::@::←third big step\n" in both.text
    assert [(o.card, o.comment) for o in both.orphans] == [
        ("second step→::@::←third step", "<!--SR:!2030-03-01,1,250!2030-03-02,2,250-->")]
    assert [m.old_card for m in both.moves if m.stage == "similar"] == [
        "first step→::@::←second step", "third step→::@::←_(end)_"]
    # a one-word item replaced by another word is another item: [second step] and
    # [2nd step] keep half their words, below the threshold
    replaced = reattach(fresh("_(start)_→::@::←first step", "first step→::@::←2nd step",
                              "2nd step→::@::←third step", "third step→::@::←_(end)_"), old)
    assert len(replaced.orphans) == 2 and SIMILAR_THRESHOLD > 0.5


NORMALIZED_OLD = (
    "- [coke](<coke%20(fuel).md>):@:a fuel <!--SR:!2030-01-01,1,250-->\n"
    "- [[Mercury (element)|mercury]]:@:Hg <!--SR:!2030-02-02,2,250-->\n"
    "- salt &amp; pepper:@:[Spice](Spice.md) <!--SR:!2030-03-03,3,250-->\n"
    "- two   spaces:@:here <!--SR:!2030-04-04,4,250-->\n")
NORMALIZED_NEW = fresh("[coke](coke%20(fuel).md):@:a fuel",
                       "[mercury](mercury%20(element).md):@:Hg",
                       "salt & pepper:@:[Spice](spice.md)",
                       "two spaces:@:here")


def test_normalized_stage_link_forms_entities_case_and_spaces() -> None:
    placed = reattach(NORMALIZED_NEW, NORMALIZED_OLD, rematch="normalized")
    assert placed.text == (
        "- [coke](coke%20(fuel).md):@:a fuel <!--SR:!2030-01-01,1,250-->\n"
        "- [mercury](mercury%20(element).md):@:Hg <!--SR:!2030-02-02,2,250-->\n"
        "- salt & pepper:@:[Spice](spice.md) <!--SR:!2030-03-03,3,250-->\n"
        "- two spaces:@:here <!--SR:!2030-04-04,4,250-->\n")
    assert [m.stage for m in placed.moves] == ["normalized"] * 4
    # the exact stage alone orphans them all (today's behaviour before issue 19)
    exact = reattach(NORMALIZED_NEW, NORMALIZED_OLD, rematch="exact")
    assert len(exact.orphans) == 4 and not exact.moves


def test_rematch_stops_at_the_stage_asked_for() -> None:
    old = "- [copper](copper.md):@:reacts slowly with air <!--SR:!2031-01-01,10,250-->\n"
    new = fresh("[copper](copper.md):@:reacts slowly with air when moist")
    assert reattach(new, old, rematch="normalized").orphans
    assert not reattach(new, old, rematch="similar").orphans
    with pytest.raises(ValueError):
        reattach(new, old, rematch="fuzzy")


def test_cloze_block_edited_keeps_its_entry() -> None:
    old = "> the {@{quick}@} brown fox jumps over the lazy dog <!--SR:!2030-01-01,1,250-->\n"
    new = f"> the {{@{{fast}}@}} brown fox jumps over the lazy dog {SLOT}\n"
    placed = reattach(new, old)
    assert placed.text == ("> the {@{fast}@} brown fox jumps over the lazy dog "
                           "<!--SR:!2030-01-01,1,250-->\n")
    assert [m.stage for m in placed.moves] == ["similar"]


def test_unrelated_text_is_orphaned() -> None:
    old = "- [copper](copper.md):@:reacts slowly with [air](air.md) <!--SR:!2031-01-01,10,250-->\n"
    new = fresh("[copper](copper.md):@:is a [noble metal](noble%20metal.md) used in coins")
    placed = reattach(new, old)
    assert placed.text == new.replace(f" {SLOT}", "")
    assert [o.comment for o in placed.orphans] == ["<!--SR:!2031-01-01,10,250-->"]


def test_similarity_scores() -> None:
    assert normalized("[x](<a b.md>)") == normalized("[x](a%20b.md)") == normalized("[[A b|x]]")
    assert similarity("a:@:reacts slowly with air", "a:@:reacts slowly with air when moist"
                      ) >= SIMILAR_THRESHOLD
    assert similarity("a:@:b", "c:@:b") == 0.0  # the question replaced
    assert similarity("`<`→::@::←`<=`", "`<=`→::@::←`>`") == 0.0  # no side kept
    assert similarity("one two", "one two:@:three") == 0.0  # sides differ in number


def test_equal_scores_go_by_position() -> None:
    old = ("- a:@:one two three <!--SR:!2030-01-01,1,250-->\n"
           "- b:@:other words here <!--SR:!2030-02-02,2,250-->\n"
           "- a:@:one two three <!--SR:!2030-03-03,3,250-->\n")
    # both twins edited the same way: each keeps its own schedule, in order
    new = fresh("a:@:one two three four", "b:@:other words here", "a:@:one two three four")
    placed = reattach(new, old)
    assert placed.text == ("- a:@:one two three four <!--SR:!2030-01-01,1,250-->\n"
                           "- b:@:other words here <!--SR:!2030-02-02,2,250-->\n"
                           "- a:@:one two three four <!--SR:!2030-03-03,3,250-->\n")
    # one twin left, edited: it takes the schedule of the twin that was where it is
    last = reattach(fresh("b:@:other words here", "a:@:one two three four"), old)
    assert last.text == ("- b:@:other words here <!--SR:!2030-02-02,2,250-->\n"
                         "- a:@:one two three four <!--SR:!2030-03-03,3,250-->\n")
    assert [o.comment for o in last.orphans] == ["<!--SR:!2030-01-01,1,250-->"]

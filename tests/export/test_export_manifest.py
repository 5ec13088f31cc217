"""The export manifest and the rule that keeps an edited card on its Anki note."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flashmark.export.guids import deck_id, note_guid, side_hash, similarity, sketch
from flashmark.export.manifest import (
    Entry,
    Manifest,
    ManifestError,
    NewQuestion,
    assign_guids,
    load_manifest,
    save_manifest,
)

NS = "vault"


def q(key: str, text: str, model: str = "c", front: str = "", back: str = "") -> NewQuestion:
    return NewQuestion(key, model, sketch(text), side_hash(front), side_hash(back))


def exported(questions: list[NewQuestion]) -> list[Entry]:
    guids, _ = assign_guids([], questions, NS)
    return [Entry(*n, g) for n, g in zip(questions, guids, strict=True)]


A = q("k-a", "the mitochondria is the powerhouse of the cell")
B = q("k-b", "photosynthesis turns light into chemical energy in plants")
C = q("k-c", "the speed of light in vacuum is about 300000 km per second")


def test_new_questions_get_guids_from_their_keys() -> None:
    guids, edited = assign_guids([], [A, B], NS)
    assert guids == [note_guid(NS, "k-a"), note_guid(NS, "k-b")] and edited == 0
    assert guids[0].startswith("fm-") and len(guids[0]) == 19
    assert note_guid("other vault", "k-a") != guids[0]


def test_unchanged_questions_keep_their_guids_wherever_they_move() -> None:
    old = exported([A, B, C])
    guids, edited = assign_guids(old, [C, A, B], NS)
    assert guids == [old[2].guid, old[0].guid, old[1].guid] and edited == 0


def test_an_edited_question_keeps_its_guid() -> None:
    old = exported([A, B, C])
    b2 = q("k-b2", "photosynthesis turns sunlight into chemical energy in green plants")
    guids, edited = assign_guids(old, [A, b2, C], NS)
    assert guids == [e.guid for e in old] and edited == 1


def test_a_basic_card_with_one_side_unchanged_is_the_same_card() -> None:
    old = exported([q("k1", "x", "b", "What is 2+2?", "4"), q("k2", "y", "b", "Capital?", "Rome")])
    new = [q("k1b", "z", "b", "What is 2+2?", "four"), q("k2", "y", "b", "Capital?", "Rome")]
    guids, edited = assign_guids(old, new, NS)
    assert guids == [old[0].guid, old[1].guid] and edited == 1


def test_a_replaced_question_is_new() -> None:
    old = exported([A, B, C])
    other = q("k-x", "an entirely different statement about medieval history")
    guids, edited = assign_guids(old, [A, other, C], NS)
    assert guids[0] == old[0].guid and guids[2] == old[2].guid
    assert guids[1] == note_guid(NS, "k-x") and edited == 0


def test_models_must_match() -> None:
    old = exported([q("k1", "same words here", "b")])
    guids, edited = assign_guids(old, [q("k2", "same words here", "c")], NS)
    assert guids == [note_guid(NS, "k2")] and edited == 0


def test_edits_match_only_between_the_same_unchanged_neighbours() -> None:
    old = exported([A, B, C])
    b2 = q("k-b2", "photosynthesis turns sunlight into chemical energy in green plants")
    # b2 now stands before A: the old B is between A and C, b2 is not
    guids, edited = assign_guids(old, [b2, A, C], NS)
    assert guids[0] == note_guid(NS, "k-b2") and edited == 0


def test_inserted_and_edited_in_one_gap() -> None:
    old = exported([A, B, C])
    new_one = q("k-n", "a brand new card about volcanoes and plate tectonics")
    b2 = q("k-b2", "photosynthesis turns light into chemical energy in all plants")
    guids, edited = assign_guids(old, [A, new_one, b2, C], NS)
    assert guids == [old[0].guid, note_guid(NS, "k-n"), old[1].guid, old[2].guid]
    assert edited == 1


def test_pairs_never_cross() -> None:
    b1 = q("k-b1", "alpha beta gamma delta epsilon")
    b2 = q("k-b2", "zeta eta theta iota kappa")
    old = exported([A, b1, b2, C])
    e1 = q("k-e1", "alpha beta gamma delta omega")
    e2 = q("k-e2", "zeta eta theta iota lambda")
    guids, edited = assign_guids(old, [A, e2, e1, C], NS)
    # e2 pairs with b2 and e1 with b1 would cross: the better pair wins, the other is new
    assert edited == 1 and len(set(guids)) == 4


def test_a_derived_guid_is_never_given_twice() -> None:
    old = exported([A])
    a2 = q("k-a2", "the mitochondria is the powerhouse of every cell")
    guids, _ = assign_guids(old, [a2], NS)
    assert guids == [old[0].guid]
    second = [Entry(*a2, guids[0])]
    # the original text comes back next to the edited one: it cannot take the same GUID
    guids, _ = assign_guids(second, [A, a2], NS)
    assert guids[1] == old[0].guid and guids[0] != guids[1]


def test_sketch_and_similarity() -> None:
    assert similarity(sketch("- item1→::@::←item2"), sketch("- item1→::@::←item2")) == 1.0
    assert similarity(sketch("x {@{y}@} z"), sketch("x {@{w}@} z")) == 0.5
    assert similarity(sketch(""), sketch("")) == 1.0
    long_a = " ".join(f"word{k}" for k in range(200))
    long_b = long_a.replace("word100", "changed")
    assert similarity(sketch(long_a), sketch(long_b)) == 1.0  # edits in the middle
    assert len(sketch(long_a)) == 12 * 4


def test_deck_ids_are_fixed_and_safe_for_javascript() -> None:
    assert deck_id("a::b") == deck_id("a::b") != deck_id("a::c")
    assert 2 ** 48 <= deck_id("x") < 2 ** 53


def test_manifest_round_trip(tmp_path: Path) -> None:
    path = tmp_path / ".flashmark" / "export-manifest.json"
    old = exported([A, B])
    a2 = q("k-a2", "the mitochondria is the powerhouse of every cell")
    entries = [Entry(*a2, old[0].guid), old[1]]
    save_manifest(path, Manifest(NS, 1700000000, {"n.md": entries}))
    data = json.loads(path.read_text())
    assert data["notes"]["n.md"][0][-1] == old[0].guid  # an inherited GUID is kept
    assert len(data["notes"]["n.md"][1]) == 5  # a derived one is not written
    loaded = load_manifest(path, "ignored")
    assert loaded.namespace == NS and loaded.stamp == 1700000000
    assert loaded.notes == {"n.md": entries}
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    assert [p.name for p in path.parent.iterdir()] == ["export-manifest.json"]


def test_missing_and_damaged_manifests(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    assert load_manifest(path, "fresh") == Manifest("fresh")
    path.write_text("{not json")
    with pytest.raises(ManifestError, match="cannot read the export manifest"):
        load_manifest(path, "x")
    path.write_text('{"format": 1, "namespace": "n", "notes": {"a.md": [["k"]]}}')
    with pytest.raises(ManifestError, match="damaged") as err:
        load_manifest(path, "x")
    assert err.value.hint is not None and "move the file away" in err.value.hint

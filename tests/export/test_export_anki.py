"""Export the sample vault and import every package into a fresh collection with the
official `anki` library: counts, rendering of each note type, and re-imports."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flashmark.cli.main import main
from tests.export.export_helpers import AnkiCollection, ExportRun

pytest.importorskip("anki")

MakeCollection = Callable[[], AnkiCollection]


def scan_cards(vault: Path) -> list[dict[str, Any]]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["scan", "--json", str(vault)]) == 0
    return [json.loads(line) for line in buf.getvalue().splitlines()]


def body(html: str) -> str:
    """A rendered card without the note type's CSS."""
    return html.split("</style>", 1)[-1]


def by_source(col: AnkiCollection) -> dict[str, Any]:
    """Source field ("path:line") -> note."""
    return {n["Source"]: n for n in col.notes().values()}


def card_html(col: AnkiCollection, source: str, ord_: int) -> tuple[str, str]:
    for card in col.cards():
        if card.note()["Source"] == source and card.ord == ord_:
            return body(card.question()), body(card.answer())
    raise AssertionError(f"no card {ord_} for {source}")


# --- counts ----------------------------------------------------------------------------


def test_counts_equal_scan(vault: Path, tmp_path: Path, export: ExportRun,
                           anki_collection: MakeCollection) -> None:
    code, out = export(vault, tmp_path / "all.apkg")
    assert code == 0
    scanned = scan_cards(vault)
    questions = {(c["path"], c["line"]) for c in scanned}
    col = anki_collection()
    log = col.import_package(tmp_path / "all.apkg")
    assert len(log.new) == col.col.note_count() == len(questions) == 13
    # One card of the scan cannot exist in Anki: a cloze block numbered 1 and 3 has no
    # deletion for its card 2. The summary says so.
    assert col.col.card_count() == len(scanned) - 1 == 22
    assert "skipped 1 of 23 cards" in out
    assert "history/rome.md:7: cloze number without a deletion (card 2 of the block)" in out
    assert "wrote" in out and "13 notes, 22 cards, 3 decks, 2 media files" in out


@pytest.mark.parametrize(("option", "value", "paths"), [
    ("--deck", "flashcard/active/science", {"science/physics.md", "science/mechanics.md"}),
    ("--deck", "flashcard::active::sci*", {"science/physics.md", "science/mechanics.md"}),
    ("--deck", "flashcard/active/history", {"history/rome.md"}),
    ("--tag", "topic/classical", {"science/mechanics.md"}),
    ("--tag", "#topic", {"science/mechanics.md"}),
    ("--tag", "extra/inline", {"science/mechanics.md"}),  # an inline tag
])
def test_selection_counts_equal_scan(vault: Path, tmp_path: Path, export: ExportRun,
                                     anki_collection: MakeCollection, option: str,
                                     value: str, paths: set[str]) -> None:
    out = tmp_path / "part.apkg"
    assert export(vault, out, option, value)[0] == 0
    scanned = [c for c in scan_cards(vault) if c["path"] in paths]
    col = anki_collection()
    col.import_package(out)
    assert col.col.note_count() == len({(c["path"], c["line"]) for c in scanned})
    skipped = 1 if "history/rome.md" in paths else 0
    assert col.col.card_count() == len(scanned) - skipped
    assert {n["Source"].rsplit(":", 1)[0] for n in col.notes().values()} == paths


# --- what each note type shows ------------------------------------------------------------


def test_basic_and_reversed_render(vault: Path, tmp_path: Path, export: ExportRun,
                                   anki_collection: MakeCollection) -> None:
    export(vault, tmp_path / "a.apkg")
    col = anki_collection()
    col.import_package(tmp_path / "a.apkg")
    notes = by_source(col)
    basic = notes["science/physics.md:7"]
    assert basic.note_type()["name"] == "flashmark Basic"
    assert basic["Front"] == "Energy of a photon"
    assert basic["Back"] == r"\(E = h\nu\)"  # $...$ became MathJax; the SR comment is gone
    assert basic["Link"] == "obsidian://open?vault=vault&amp;file=science%2Fphysics.md"
    q, a = card_html(col, "science/physics.md:7", 0)
    assert q == '<div class="fm-front">Energy of a photon</div>'
    assert '<div class="fm-back">\\(E = h\\nu\\)</div>' in a
    assert ('<a href="obsidian://open?vault=vault&amp;file=science%2Fphysics.md">'
            "science/physics.md:7</a>") in a

    rev = notes["science/physics.md:9"]
    assert rev.note_type()["name"] == "flashmark Basic (and reversed card)"
    assert [c.ord for c in rev.cards()] == [0, 1]
    q0, _ = card_html(col, "science/physics.md:9", 0)
    q1, a1 = card_html(col, "science/physics.md:9", 1)
    assert "Newton's second law" in q0
    assert r"\(F = ma\)" in q1 and "Newton's second law" in a1.split('id="answer"')[1]
    # a wikilink becomes a link that opens the note in Obsidian
    assert ('<a class="fm-link" href="obsidian://open?vault=vault&amp;file=mechanics">'
            "the laws</a>") in q1

    multi = notes["science/mechanics.md:7"]
    assert multi["Front"] == "<p>Front line one<br />\nFront line two</p>"
    assert '<a href="obsidian://open?vault=vault&amp;file=science%2Fphysics.md">link</a>' \
        in multi["Back"]
    assert '<img src="photo-' in multi["Back"]  # raw <img src> packaged under a unique name
    assert "flashcard::active::science::mechanics" in multi.tags
    assert {"topic::classical", "extra::inline"} <= set(multi.tags)


def test_multiline_with_code_highlight_and_embed(vault: Path, tmp_path: Path,
                                                 export: ExportRun,
                                                 anki_collection: MakeCollection) -> None:
    export(vault, tmp_path / "a.apkg")
    col = anki_collection()
    col.import_package(tmp_path / "a.apkg")
    note = by_source(col)["science/physics.md:15"]
    back = note["Back"]
    assert "<mark>highlighted</mark>" in back and "==" not in back
    assert "<code>inline code</code>" in back
    assert '<pre><code class="language-python">x = {"a": 1}\n</code></pre>' in back
    m = re.search(r'<img src="(diagram-[0-9a-f]{8}\.png)" alt="diagram.png">', back)
    assert m is not None and "![[" not in back
    assert sorted(os.listdir(col.col.media.dir())) == sorted([m[1], *(
        f for f in os.listdir(col.col.media.dir()) if f.startswith("photo-"))])


def test_cloze_render(vault: Path, tmp_path: Path, export: ExportRun,
                      anki_collection: MakeCollection) -> None:
    export(vault, tmp_path / "a.apkg")
    col = anki_collection()
    col.import_package(tmp_path / "a.apkg")
    notes = by_source(col)
    math = notes["science/physics.md:11"]
    assert math.note_type()["name"] == "flashmark Cloze"
    text = math["Text"]
    # }} inside math is split so that Anki does not end the deletion early
    assert r"{{c2::\(x^{y^{2} }\)}}" in text
    assert r"{{c1::\(\frac{a}{b}\)}}" in text
    assert "{{c3::answer::hint}}" in text
    assert sorted(c.ord for c in math.cards()) == [0, 1, 2]
    q, a = card_html(col, "science/physics.md:11", 2)
    assert "[hint]" in q and "answer" not in q.replace("data-cloze=\"answer\"", "")
    assert '<span class="cloze" data-ordinal="3">answer</span>' in a
    q, _ = card_html(col, "science/physics.md:11", 1)
    assert r"\(\frac{a}{b}\)" in q and "[...]" in q

    numbered = notes["science/physics.md:13"]
    assert numbered["Text"].count("{{c1::") == 2 and numbered["Text"].count("{{c2::") == 1
    assert sorted(c.ord for c in numbered.cards()) == [0, 1]
    q, _ = card_html(col, "science/physics.md:13", 0)
    assert q.count("[...]") == 2 and "second" in q

    callout = notes["science/physics.md:22"]
    assert '<b class="fm-callout fm-callout-tip">Remember</b>' in callout["Text"]
    assert "[!tip]" not in callout["Text"] and "^block1" not in callout["Text"]

    gap = notes["history/rome.md:7"]
    assert sorted(c.ord for c in gap.cards()) == [0, 2]  # c1 and c3; no card asks "c2"


def test_nothing_obsidian_shows_raw(vault: Path, tmp_path: Path, export: ExportRun,
                                    anki_collection: MakeCollection) -> None:
    export(vault, tmp_path / "a.apkg")
    col = anki_collection()
    col.import_package(tmp_path / "a.apkg")
    for card in col.cards():
        for html in (body(card.question()), body(card.answer())):
            for raw in ("[[", "]]", "==", "<!--", "-->", "%%", "[!tip]", "{@{", "}@}",
                        "?@?", ":@:", "$"):
                assert raw not in html, (raw, card.note()["Source"], html)


def test_missing_and_outside_images_are_text(vault: Path, tmp_path: Path,
                                             export: ExportRun,
                                             anki_collection: MakeCollection,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    export(vault, tmp_path / "a.apkg")
    err = capsys.readouterr().err
    assert "history/rome.md: image 'nowhere.png' not found (left as text)" in err
    assert ("history/rome.md: image '../../etc/passwd.png' resolves outside the vault "
            "(left as text)") in err
    col = anki_collection()
    col.import_package(tmp_path / "a.apkg")
    back = by_source(col)["history/rome.md:9"]["Back"]
    assert back == ('<span class="fm-missing-media">[a missing one (nowhere.png)]</span> and '
                    '<span class="fm-missing-media">[passwd.png]</span>')
    assert len(os.listdir(col.col.media.dir())) == 2  # the images that were found


# --- identity across exports ----------------------------------------------------------


def _edit(vault: Path, rel: str, old: str, new: str) -> None:
    path = vault / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_export_twice_adds_nothing(vault: Path, tmp_path: Path, export: ExportRun,
                                   anki_collection: MakeCollection) -> None:
    export(vault, tmp_path / "1.apkg")
    export(vault, tmp_path / "2.apkg")
    col = anki_collection()
    first = col.import_package(tmp_path / "1.apkg")
    before = {g: n.fields for g, n in col.notes().items()}
    second = col.import_package(tmp_path / "2.apkg")
    assert len(first.new) == 13
    assert len(second.new) == 0
    assert len(second.updated) + len(second.duplicate) == 13
    assert {g: n.fields for g, n in col.notes().items()} == before


def test_edited_card_updates_its_note(vault: Path, tmp_path: Path, export: ExportRun,
                                      anki_collection: MakeCollection) -> None:
    export(vault, tmp_path / "1.apkg")
    col = anki_collection()
    col.import_package(tmp_path / "1.apkg")
    old = by_source(col)["science/mechanics.md:5"]
    # the card's text changes (so does its flashmark id); its Anki note stays
    _edit(vault, "science/mechanics.md", "Speed:@:distance / time",
          "Speed:@:distance travelled / time taken")
    _edit(vault, "history/rome.md", "by {@{Romulus}@}", "by {@{Romulus and Remus}@}")
    code, out = export(vault, tmp_path / "2.apkg")
    assert code == 0 and "2 edited questions keep their Anki notes" in out
    log = col.import_package(tmp_path / "2.apkg")
    assert len(log.new) == 0
    assert col.col.note_count() == 13
    notes = by_source(col)
    new = notes["science/mechanics.md:5"]
    assert new.guid == old.guid and new.id == old.id
    assert new["Back"] == "distance travelled / time taken"
    assert "{{c2::Romulus and Remus}}" in notes["history/rome.md:3"]["Text"]
    updated = {col.col.get_note(u.id.nid).guid for u in log.updated}
    assert old.guid in updated


def test_deleted_card_leaves_the_rest(vault: Path, tmp_path: Path, export: ExportRun,
                                      anki_collection: MakeCollection) -> None:
    export(vault, tmp_path / "1.apkg")
    col = anki_collection()
    col.import_package(tmp_path / "1.apkg")
    before = {g: list(n.fields) for g, n in col.notes().items()}
    _edit(vault, "science/mechanics.md", "Speed:@:distance / time\n", "")
    _, out = export(vault, tmp_path / "2.apkg")
    assert "12 notes" in out
    log = col.import_package(tmp_path / "2.apkg")
    assert len(log.new) == 0
    after = {g: list(n.fields) for g, n in col.notes().items()}
    assert after.keys() == before.keys()  # Anki keeps the deleted card's note
    changed = {g for g in after if after[g] != before[g]}
    # only the line numbers of the cards below the deleted line moved
    for g in changed:
        assert after[g][:-2] == before[g][:-2] and after[g][-2] != before[g][-2]
    assert {before[g][-2] for g in changed} == {"science/mechanics.md:7"}


def test_inserted_card_is_new_and_neighbours_keep_notes(
        vault: Path, tmp_path: Path, export: ExportRun,
        anki_collection: MakeCollection) -> None:
    export(vault, tmp_path / "1.apkg")
    col = anki_collection()
    col.import_package(tmp_path / "1.apkg")
    guids = {n["Source"]: g for g, n in col.notes().items()}
    _edit(vault, "science/mechanics.md", "Speed:@:distance / time",
          "Velocity:@:displacement / time\nSpeed:@:distance / time")
    export(vault, tmp_path / "2.apkg")
    log = col.import_package(tmp_path / "2.apkg")
    assert len(log.new) == 1
    notes = by_source(col)
    assert notes["science/mechanics.md:5"]["Back"] == "displacement / time"
    assert notes["science/mechanics.md:6"].guid == guids["science/mechanics.md:5"]
    assert notes["science/mechanics.md:8"].guid == guids["science/mechanics.md:7"]


def test_same_text_in_two_vaults_gives_two_notes(tmp_path: Path, export: ExportRun,
                                                 anki_collection: MakeCollection) -> None:
    from tests.export.export_helpers import write_vault

    a = write_vault(tmp_path / "a")
    b = write_vault(tmp_path / "b")
    export(a, tmp_path / "a.apkg")
    export(b, tmp_path / "b.apkg")
    col = anki_collection()
    col.import_package(tmp_path / "a.apkg")
    log = col.import_package(tmp_path / "b.apkg")
    assert len(log.new) == 13 and col.col.note_count() == 26


def test_package_is_stamped_newer(vault: Path, tmp_path: Path, export: ExportRun,
                                  anki_collection: MakeCollection) -> None:
    """Two exports in the same second still update (Anki applies only a newer one)."""
    export(vault, tmp_path / "1.apkg")
    _edit(vault, "science/mechanics.md", "distance / time", "distance over time")
    export(vault, tmp_path / "2.apkg")
    col = anki_collection()
    col.import_package(tmp_path / "1.apkg")
    log = col.import_package(tmp_path / "2.apkg")
    assert len(log.updated) >= 1
    assert by_source(col)["science/mechanics.md:5"]["Back"] == "distance over time"


# --- scheduling -------------------------------------------------------------------------


def _front(card: Any) -> str | None:
    note = card.note()
    return str(note["Front"]) if "Front" in note else None


def _anki_due_date(col: AnkiCollection, card: Any) -> dt.date:
    timing = col.col.sched._timing_today()
    today = dt.datetime.fromtimestamp(timing.next_day_at - 86400).date()
    return today + dt.timedelta(days=card.due - timing.days_elapsed)


def test_with_scheduling_carries_due_date_and_interval(
        vault: Path, tmp_path: Path, export: ExportRun,
        anki_collection: MakeCollection) -> None:
    card = next(c for c in scan_cards(vault) if c["front"] == "Speed")
    now = dt.datetime.now().astimezone()
    assert main(["rate", card["id"], "good", str(vault), "--now", now.isoformat()]) == 0
    assert main(["rate", card["id"], "good", str(vault),
                 "--now", (now + dt.timedelta(minutes=11)).isoformat()]) == 0
    rated = next(c for c in scan_cards(vault) if c["id"] == card["id"])
    schedule = rated["schedule"]
    assert schedule["kind"] == "fsrs" and schedule["state"] == 2 and schedule["interval"] >= 1
    code, out = export(vault, tmp_path / "s.apkg", "--with-scheduling")
    assert code == 0 and "cards carry their schedule" in out
    col = anki_collection()
    col.import_package(tmp_path / "s.apkg", with_scheduling=True)
    anki_card = next(c for c in col.cards() if _front(c) == "Speed")
    due = dt.datetime.fromisoformat(schedule["due"].replace("Z", "+00:00")).astimezone().date()
    assert _anki_due_date(col, anki_card) == due
    assert anki_card.ivl == schedule["interval"]
    assert anki_card.type == 2 and anki_card.queue == 2
    assert anki_card.memory_state is not None
    assert anki_card.memory_state.stability == pytest.approx(schedule["stability"], rel=1e-4)
    assert anki_card.reps == schedule["reps"]
    # a legacy SM-2 entry keeps its date, interval and ease
    legacy = next(c for c in col.cards() if _front(c) == "Energy of a photon")
    assert _anki_due_date(col, legacy) == dt.date(2026, 3, 13)
    assert (legacy.ivl, legacy.factor) == (394, 2300)
    # cards without a schedule (and the placeholder entry) are new
    rome = [c for c in col.cards() if c.note()["Source"] == "history/rome.md:3"]
    assert sorted((c.ord, c.type) for c in rome) == [(0, 2), (1, 0)]
    assert sum(1 for c in col.cards() if c.type == 0) == 22 - 3


def test_with_scheduling_into_an_older_collection(vault: Path, tmp_path: Path,
                                                  export: ExportRun,
                                                  anki_collection: MakeCollection) -> None:
    """Anki counts due days from a collection's creation: the date must survive a
    collection that was created long ago."""
    export(vault, tmp_path / "s.apkg", "--with-scheduling")
    col = anki_collection()
    col.make_older(400)
    assert col.col.sched.today == 400
    col.import_package(tmp_path / "s.apkg", with_scheduling=True)
    legacy = next(c for c in col.cards() if _front(c) == "Energy of a photon")
    assert _anki_due_date(col, legacy) == dt.date(2026, 3, 13)


# Card shapes of the real vault the reviewer drew wrongly (issue 13), cut from the
# notes named beside them: the export, through the same markdown-it configuration, must
# show them right in Anki too.
SHAPES = """#flashcard/active/history

plural {@{cat}@}s

> <u>慶曆</u>四年<sup>[1](#^note-6908421a)</sup>春，{@{<u>滕子京</u><sup>[2](#^note-39b01dcc)\
</sup>}@}{@{謫<sup>[3](#^note-56c21595)</sup>}@}守

> __example__
>
> ---
>
> {@{__Materials Requisition Form__}@}

__there is {@{a bold}@}__

> [!theorem] Carmichael
>
> - statement
>     - proof / setup ::@:: Let $n = p_1$ and $r$. <p> Write $a^r$<br>then<br/>more.
"""


def test_reviewer_shapes_in_anki(vault: Path, tmp_path: Path, export: ExportRun,
                                 anki_collection: MakeCollection) -> None:
    # plural.md: `plural {@{cat}@}s`; 岳陽樓記.md:71; ACCT 2200/formats.md:24;
    # Carmichael function.md:87
    (vault / "shapes.md").write_text(SHAPES, encoding="utf-8")
    export(vault, tmp_path / "a.apkg")
    col = anki_collection()
    col.import_package(tmp_path / "a.apkg")
    q, a = card_html(col, "shapes.md:3", 0)
    assert "**" not in q + a
    assert re.search(r"plural <span class=\"cloze\"[^>]*>\[\.\.\.\]</span>s", q)
    assert re.search(r">cat</span>s", a)
    q, a = card_html(col, "shapes.md:5", 0)
    assert "**" not in q + a and "<u>慶曆</u>" in q
    assert re.search(r'四年<sup><a href="obsidian://[^"]*">1</a></sup>春', q)
    assert re.search(r"春，<span class=\"cloze\"[^>]*>\[\.\.\.\]</span>", q)
    assert re.search(r"<span class=\"cloze\"[^>]*><u>滕子京</u><sup>", a)
    q, a = card_html(col, "shapes.md:7", 0)
    assert re.search(r"<blockquote>\s*<p><strong>example</strong></p>\s*<hr />", q)
    assert re.search(r"<strong>Materials Requisition Form</strong>", a)
    q, a = card_html(col, "shapes.md:13", 0)
    assert re.search(r"<strong>there is <span class=\"cloze\"[^>]*>a bold</span></strong>", a)
    q, a = card_html(col, "shapes.md:18", 0)
    assert "<pre>" not in q and "proof / setup" in q and "- " not in q
    assert r"\(n = p_1\)" in a and "<p>" in a and a.count("<br") >= 2


REAL_CARDS = Path(__file__).resolve().parents[1] / "tui" / "cards"


def test_real_card_shapes_in_anki(tmp_path: Path, export: ExportRun,
                                  anki_collection: MakeCollection) -> None:
    """The real vault's cards of the reviewer's snapshot tests (tests/tui/cards),
    exported and read back by Anki: `card.question()` of the fixed shapes, and the image
    card's picture packaged in Anki's media folder."""
    import shutil

    from flashmark.export.media import packaged_name

    vault = tmp_path / "vault"
    vault.mkdir()
    shutil.copy(REAL_CARDS / "flashmark.yaml", vault)
    for name in ("letter_after_cloze_math", "br_reversible", "quote_rule",
                 "nested_list_in_callout", "cjk_after_cloze_footnotes"):
        shutil.copy(REAL_CARDS / f"{name}.md", vault)
    (vault / "special" / "attachments").mkdir(parents=True)
    image_rel = "special/attachments/Pasted image 20240322145601.png"
    shutil.copy(REAL_CARDS / "attachments" / "Pasted image 20240322145601.png",
                vault / image_rel)
    shutil.copy(REAL_CARDS / "image_cloze_in_callout.md", vault / "special" / "lift chart.md")
    export(vault, tmp_path / "a.apkg")
    col = anki_collection()
    col.import_package(tmp_path / "a.apkg")
    cloze = r'<span class="cloze"[^>]*>'

    # Green's theorem.md:58, `{@{$$…$$}@}The integral`: no `**`, the letter after the blank
    q, a = card_html(col, "letter_after_cloze_math.md:6", 2)
    assert "**" not in q + a
    assert re.search(cloze + r"\[\.\.\.\]</span>\s*The integral", q)
    # ISC213 index.md:54, `… → output <br/> improve: …`: the break kept
    _, a = card_html(col, "br_reversible.md:6", 0)
    assert re.search(r"output\s*<br\s*/?>\s*improve:", a)
    # MUS-4100E questions:172, `> ---` inside the quote: a rule between its paragraphs
    q, _ = card_html(col, "quote_rule.md:6", 0)
    assert re.search(r"<blockquote>.*<li>alto sax</li>\s*</ol>\s*<hr />\s*<ol>", q, re.S)
    # Fourier transform.md:258, `>     - … ::@:: …`: a question, not a code block
    q, a = card_html(col, "nested_list_in_callout.md:6", 0)
    assert "<pre>" not in q and "/ mnemonic" in q and not q.lstrip().startswith("-")
    # 岳陽樓記.md:71: the blank followed by a CJK character, footnote markers kept
    q, _ = card_html(col, "cjk_after_cloze_footnotes.md:6", 1)
    assert re.search(cloze + r"\[\.\.\.\]</span>守<sup>", q)
    # lift chart.md:30: the picture is the answer, packaged under its unique name
    name = packaged_name(image_rel)
    q, a = card_html(col, "special/lift chart.md:6", 1)
    assert "<img" not in q
    assert re.search(cloze + f'<img src="{re.escape(name)}" alt="lift chart example"', a)
    media = Path(col.col.media.dir())
    assert (media / name).read_bytes() == (vault / image_rel).read_bytes()

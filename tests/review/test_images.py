"""Images in the reviewer's card: found by the vault's resolver (the exporter's), drawn by
the TUI's drawer scaled to the card, alt text and file name otherwise, and never a
file outside the vault read. The image card is the real `special/lift chart.md` card
(tests/tui/cards/image_cloze_in_callout.md) with a PNG drawn for the test."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from rich.console import Console, RenderableType
from rich.text import Text

from flashmark.config import load_settings
from flashmark.review.card_view import CardImages, card_renderable, render_text
from flashmark.review.rating import find_card
from flashmark.review.render import card_sides, prepare
from flashmark.tui import images as tui_images
from flashmark.vault.media import MediaIndex

CARDS = Path(__file__).resolve().parents[1] / "tui" / "cards"
LIFT_CHART = "attachments/Pasted image 20240322145601.png"


class Recorder:
    """A drawer that records what it was asked to draw, and draws a marker."""

    def __init__(self) -> None:
        self.calls: list[tuple[Path, int | None]] = []

    def __call__(self, path: Path, width_px: int | None) -> RenderableType:
        self.calls.append((path, width_px))
        with Image.open(path) as opened:  # raises for a file that is not an image
            opened.verify()
        return Text(f"<picture {path.name}>")


def vault_with(tmp_path: Path, files: dict[str, bytes | None]) -> Path:
    root = tmp_path / "vault"
    root.mkdir()
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if data is None:
            shutil.copy(CARDS / rel, path)
        else:
            path.write_bytes(data)
    return root


def shown(markdown: str, root: Path, note: str, draw: Recorder | None) -> str:
    images = CardImages(MediaIndex(root), note, draw)
    return render_text(card_renderable(prepare(markdown), images=images), width=60,
                       color=False).rstrip("\n")


def png_bytes(size: tuple[int, int] = (40, 20)) -> bytes:
    path = Path(__file__).parent / "_tmp.png"
    try:
        Image.new("RGB", size, (200, 30, 30)).save(path)
        return path.read_bytes()
    finally:
        path.unlink()


def test_markdown_image_of_the_real_card_is_drawn_from_the_vault(tmp_path: Path) -> None:
    # the same file name at the vault root: the note's folder comes first
    root = vault_with(tmp_path, {LIFT_CHART: None, "special/lift chart.md": b""})
    (root / "special" / "attachments").mkdir()
    shutil.copy(CARDS / LIFT_CHART, root / "special" / LIFT_CHART)
    source = (CARDS / "image_cloze_in_callout.md").read_text(encoding="utf-8")
    draw = Recorder()
    out = shown(source.split("---\n", 2)[2], root, "special/lift chart.md", draw)
    # relative to the note's folder first (special/attachments/…), %20 decoded
    assert draw.calls == [(root / "special" / LIFT_CHART, None)]
    assert "<picture Pasted image 20240322145601.png>" in out
    assert "[image" not in out


def test_wikilink_embed_by_name_with_width(tmp_path: Path) -> None:
    root = vault_with(tmp_path, {"media/deep/diagram.png": png_bytes()})
    draw = Recorder()
    out = shown("see ![[diagram.png|200]] here", root, "notes/n.md", draw)
    assert draw.calls == [(root / "media/deep/diagram.png", 200)]
    assert out.split("\n") == ["see", "<picture diagram.png>", "here"]
    out = shown("![[diagram.png|a diagram]]", root, "n.md", Recorder())
    assert out == "<picture diagram.png>"


def test_paths_outside_the_vault_are_never_read(tmp_path: Path) -> None:
    outside = tmp_path / "secret.png"
    outside.write_bytes(png_bytes())
    root = vault_with(tmp_path, {"n.md": b""})
    (root / "link.png").symlink_to(outside)
    draw = Recorder()
    for ref in ("../secret.png", "../../etc/passwd", str(outside), "/etc/passwd",
                "link.png", "%2E%2E/secret.png"):
        out = shown(f"![x]({ref})", root, "n.md", draw)
        assert out.startswith("[image: x (") and out.endswith(")]"), (ref, out)
    out = shown("![[../secret.png]]", root, "n.md", draw)
    assert out == "[image: secret.png]"
    # markdown-it refuses a file: URL as a link: the text stays as written, unread
    assert shown("![x](file:///etc/passwd)", root, "n.md", draw) == "![x](file:///etc/passwd)"
    assert draw.calls == []


def test_alt_text_when_missing_unreadable_or_not_an_image(tmp_path: Path) -> None:
    root = vault_with(tmp_path, {"img/fake.png": b"not a png", "img/empty.png": b"",
                                 "img/real.png": png_bytes()})
    draw = Recorder()
    assert shown("![a *fake*](img/fake.png)", root, "n.md", draw) == \
        "[image: a fake (img/fake.png)]"
    assert shown("![](img/empty.png)", root, "n.md", draw) == "[image: img/empty.png]"
    assert shown("![gone](img/gone.png)", root, "n.md", draw) == "[image: gone (gone.png)]"
    assert [p.name for p, _ in draw.calls] == ["fake.png", "empty.png"]
    # no drawer (a terminal that draws no pictures, `flashmark show`): alt and the file
    assert shown("![chart](img/real.png)", root, "n.md", None) == \
        "[image: chart (img/real.png)]"
    # the real drawer on a PNG cut short (its header promises pixels it does not have)
    # and on a text file named .png: its error is caught, the alt text shown
    (root / "img" / "cut.png").write_bytes(png_bytes((200, 100))[:60])
    real = tui_images.image_drawer()
    assert real is not None
    for name in ("cut.png", "fake.png"):
        images = CardImages(MediaIndex(root), "n.md", real)
        out = render_text(card_renderable(f"![chart](img/{name})", images=images), width=40,
                          color=False)
        assert out.strip() == f"[image: chart (img/{name})]"


@pytest.mark.parametrize(("size", "asked", "width", "expect"), [
    ((400, 200), None, 30, (30, 8)),  # wider than the card: the card's width
    ((400, 200), 50, 30, (5, 1)),  # `|50`: 50 px of 10 px cells
    ((100, 2000), None, 60, (2, tui_images.MAX_ROWS)),  # tall: MAX_ROWS lines, 20 px wide
])
def test_real_drawer_scales_to_the_card(tmp_path: Path, size: tuple[int, int],
                                        asked: int | None, width: int,
                                        expect: tuple[int, int]) -> None:
    root = vault_with(tmp_path, {"x.png": png_bytes(size)})
    draw = tui_images.image_drawer()  # tests run without a terminal: half-cell blocks
    assert draw is not None
    picture = draw(root / "x.png", asked)
    console = Console(width=width, color_system="truecolor", force_terminal=True,
                      file=open("/dev/null", "w"))  # noqa: SIM115
    lines = console.render_lines(picture, console.options.update(width=width), pad=False)
    widths = {sum(len(seg.text) for seg in line) for line in lines}
    assert (widths.pop(), len(lines)) == expect and not widths
    assert all(seg.text == "▀" and seg.style is not None and seg.style.bgcolor is not None
               for line in lines for seg in line)


def test_flashmark_show_prints_alt_text_and_resolved_file(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    root.mkdir()
    shutil.copy(CARDS / "flashmark.yaml", root)
    (root / "special" / "attachments").mkdir(parents=True)
    shutil.copy(CARDS / LIFT_CHART, root / "special" / LIFT_CHART)
    shutil.copy(CARDS / "image_cloze_in_callout.md", root / "special" / "lift chart.md")
    settings = load_settings(root)
    card = next(c for c in _cards(root, settings) if c[1] == 1)
    proc = subprocess.run([sys.executable, "-m", "flashmark", "show", card[0], str(root),
                           "--json", "--width", "120"], capture_output=True, text=True, check=True)
    data = json.loads(proc.stdout)
    assert data["back"].splitlines()[-1] == (
        "▌ [image: lift chart example (special/attachments/Pasted image 20240322145601.png)]")
    assert "[...]" in data["front"] and "[image" not in data["front"]
    _, back = card_sides(find_card(root, settings, card[0]).card)
    assert "](attachments/Pasted%20image%2020240322145601.png)" in back


def _cards(root: Path, settings: object) -> list[tuple[str, int]]:
    from flashmark.cards import cards_of
    from flashmark.syntax import parse_note

    note = parse_note((root / "special" / "lift chart.md").read_text(encoding="utf-8"),
                      settings.parser)  # type: ignore[attr-defined]
    return [(c.id, c.sibling) for q in note.questions for c in cards_of(q, "special/lift chart.md")]


def test_images_in_table_cells_and_html_blocks_are_text(tmp_path: Path) -> None:
    root = vault_with(tmp_path, {"x.png": png_bytes()})
    draw = Recorder()
    out = shown("| a | b |\n|---|---|\n| ![p](x.png) | 2 |", root, "n.md", draw)
    assert out.splitlines()[-1] == "[image: p (x.png)]  2"
    assert shown("<div>\n![p](x.png)\n</div>", root, "n.md", draw) == "[image: p (x.png)]"
    assert draw.calls == []
    assert shown("- item ![p](x.png)", root, "n.md", draw) == "• item\n  <picture x.png>"


def test_raw_img_tags(tmp_path: Path) -> None:
    root = vault_with(tmp_path, {"a b.png": png_bytes()})
    draw = Recorder()
    assert shown('x <img src="a%20b.png" alt="a &amp; b" width="30"> y', root, "n.md",
                 draw) == "x\n<picture a b.png>\ny"
    assert draw.calls == [(root / "a b.png", 30)]
    # alone on its line (an HTML block: a line of text), missing, outside the vault
    assert shown('<img src="a%20b.png" alt="chart">', root, "n.md", draw) == \
        "[image: chart (a b.png)]"
    assert shown("<img src='gone.png' alt=\"g\">", root, "n.md", draw) == \
        "[image: g (gone.png)]"
    assert shown('x <img src="../../etc/passwd"> y', root, "n.md", draw) == \
        "x [image: passwd] y"
    assert len(draw.calls) == 1


CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "information"


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")
def test_every_image_card_of_the_real_vault(tmp_path: Path) -> None:
    """The vault's cards with an image (`![…](…)`, `![[x.png]]`, `<img>`), on a copy of
    their notes with one picture the vault references put in place (the corpus ships no
    image files): each image is drawn or shown as `[image: …]`, none resolves outside
    the copy, no image markup is left."""
    from flashmark.cards import cards_of
    from flashmark.syntax import parse_note

    settings = load_settings(CORPUS)
    root = tmp_path / "vault"
    root.mkdir()
    notes: list[str] = []
    for path in sorted(CORPUS.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if "![" in text or "<img" in text:
            rel = path.relative_to(CORPUS).as_posix()
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
            notes.append(rel)
    (root / "special" / "attachments").mkdir(parents=True, exist_ok=True)
    shutil.copy(CARDS / LIFT_CHART, root / "special" / LIFT_CHART)
    index = MediaIndex(root)
    draw = Recorder()
    cards = images = 0
    for rel in notes:
        note = parse_note((root / rel).read_text(encoding="utf-8"), settings.parser)
        for q in note.questions:
            if "![" not in q.text and "<img" not in q.text:
                continue
            for card in cards_of(q, rel):
                cards += 1
                for side in card_sides(card):
                    out = render_text(card_renderable(side, images=CardImages(index, rel, draw)),
                                      width=80, color=False)
                    images += out.count("[image:") + out.count("<picture ")
                    assert "](" not in out.replace("[image:", "") or "`" in side, (rel, out)
    assert cards > 1000 and images > 1000
    assert draw.calls and all(p.resolve().is_relative_to(root.resolve())
                              for p, _ in draw.calls)
    assert {p.name for p, _ in draw.calls} == {"Pasted image 20240322145601.png"}

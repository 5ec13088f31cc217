"""Build an N-times vault from the real one, for the scale benchmarks (issue 17).

    python scripts/make_big_vault.py N OUT [--source VAULT]

OUT gets the source vault's dot-folders (``.obsidian``: the plugin settings, so the big
vault reads cards as the real one does) and N copies of its content, ``copy00/`` ...
Every question of copy k gets the token `` ⁽k⁾`` at the end of its first line (before a
same-line SR comment or block id), so its text, and so its card ids, differ from the
other copies' beyond the path; the syntax stays valid (the script checks each copy's
card count against the source's). The result depends only on the source and N.
The source is only read. OUT must not exist.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

from flashmark.config import load_settings
from flashmark.syntax import parse_note

DEFAULT_SOURCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "information"
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
# Where a token goes on a question's first line: before a same-line SR comment, else
# before a trailing block id, else at the end (trailing spaces and CR stay after it).
TAIL = re.compile(r"(\s*<!--SR:.*|\s+\^[A-Za-z0-9-]+\s*|\s*)$", re.DOTALL)


def token(copy: int) -> str:
    return f" ⁽{str(copy).translate(SUPERSCRIPT)}⁾"


def first_lines(text: str, settings: object) -> tuple[list[int], int]:
    """The 0-based first line of every question of the note, and its card count."""
    note = parse_note(text, settings, all_notes=False)  # type: ignore[arg-type]
    return ([q.span.line for q in note.questions],
            sum(q.card_count for q in note.questions))


def perturb(lines: list[str], starts: list[int], copy: int) -> str:
    out = list(lines)
    mark = token(copy)
    for n in starts:
        line = out[n]
        tail = TAIL.search(line)
        cut = tail.start() if tail else len(line)
        out[n] = line[:cut] + mark + line[cut:]
    return "\n".join(out)


def build(source: Path, copies: int, out: Path) -> tuple[int, int]:
    """Write the vault; (notes written, cards per copy in the source)."""
    settings = load_settings(source).parser
    out.mkdir(parents=True)
    for entry in sorted(os.listdir(source)):
        if entry.startswith(".") and entry not in (".flashmark", ".git"):
            shutil.copytree(source / entry, out / entry) if (source / entry).is_dir() \
                else shutil.copy2(source / entry, out / entry)
        elif not entry.startswith(".") and (source / entry).is_file() \
                and not entry.endswith(".md"):
            shutil.copy2(source / entry, out / entry)  # flashmark.yaml and the like
    notes = 0
    cards = 0
    width = max(2, len(str(copies - 1)))
    for folder, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel_folder = os.path.relpath(folder, source)
        for name in sorted(files):
            src = os.path.join(folder, name)
            rel = os.path.normpath(os.path.join(rel_folder, name))
            data = Path(src).read_bytes()
            starts: list[int] = []
            lines: list[str] = []
            if name.endswith(".md"):
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    text = ""
                if text:
                    starts, count = first_lines(text, settings)
                    cards += count
                    lines = text.split("\n")
            for k in range(copies):
                dest = out / f"copy{k:0{width}d}" / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                if starts:
                    body = perturb(lines, starts, k)
                    dest.write_bytes(body.encode("utf-8"))
                    if k == 0:  # the perturbed note must hold the same cards
                        _, again = first_lines(body, settings)
                        if again != count:
                            raise SystemExit(f"{rel}: {count} cards became {again}")
                else:
                    dest.write_bytes(data)
                notes += name.endswith(".md")
    return notes, cards


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("copies", type=int, metavar="N")
    p.add_argument("out", type=Path, metavar="OUT")
    p.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = p.parse_args(argv)
    if args.copies < 1:
        p.error("N must be at least 1")
    if args.out.exists():
        p.error(f"{args.out} exists: give a new folder")
    notes, cards = build(args.source.resolve(), args.copies, args.out)
    print(f"{args.out}: {notes} notes, {args.copies} x {cards} cards", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

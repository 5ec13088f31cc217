"""Measure where `generate`'s similarity stage should draw its line (docs/generate.md).

Reads (never writes) every generated section of a vault. For each card that has a
schedule (a unit with an SR comment, `generate.states.units`):

* **unrelated**: its highest `similarity` to another card of the same section (with
  another normalized text): what the similarity stage could wrongly take if the card
  vanished;
* **edits**: its similarity to itself after one small edit: a word replaced, a word
  deleted, a two-word phrase appended, a typo (two letters swapped) in its longest word.

Prints, for thresholds 0.3 .. 0.9, the share of edits that would keep their schedule and
the share of unrelated pairs that would be (wrongly) matched.

    python scripts/measure_rematch.py ../shared/corpus/information
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from flashmark.generate.finder import DATA_MARKER, LfText, find_sections
from flashmark.generate.sections import split_header
from flashmark.generate.states import normalized, similarity, units

WORD = re.compile(r"[^\W_]{2,}")


def edits(card: str) -> list[str]:
    sides = re.split(r"(::@::|:@:|\?\?@\?\?|\?@\?)", card)
    longest = max(range(0, len(sides), 2), key=lambda k: len(WORD.findall(sides[k])))
    side = sides[longest]
    words = list(WORD.finditer(side))
    out: list[str] = []

    def with_side(text: str) -> str:
        return "".join([*sides[:longest], text, *sides[longest + 1:]])

    out.append(with_side(side.rstrip() + " when moist"))
    if words:
        w = words[len(words) // 2]
        out.append(with_side(side[:w.start()] + "xyzzy" + side[w.end():]))
        big = max(words, key=lambda m: len(m[0]))
        if len(big[0]) >= 4:
            t = big[0]
            out.append(with_side(side[:big.start()] + t[0] + t[2] + t[1] + t[3:]
                                 + side[big.end():]))
    if len(words) >= 2:
        w = words[len(words) // 2]
        out.append(with_side(side[:w.start()] + side[w.end():]))
    return out


def main(vault: Path) -> None:
    unrelated: list[float] = []
    edited: list[float] = []
    cards = sections = 0
    for path in sorted(vault.rglob("*.md")):
        raw = path.read_bytes()
        if DATA_MARKER not in raw:
            continue
        text = LfText(raw.decode("utf-8", "replace").lstrip("\ufeff")).text
        found, _, _ = find_sections(text)
        for s in found.values():
            _, body = split_header(text[s.content_start:s.content_end])
            scheduled = [u.key for u in units(body) if u.comments]
            if not scheduled:
                continue
            sections += 1
            norm = [normalized(k) for k in scheduled]
            for k, key in enumerate(scheduled):
                cards += 1
                others = [similarity(key, o, 0.0) for j, o in enumerate(scheduled)
                          if norm[j] != norm[k]]
                if others:
                    unrelated.append(max(others))
                edited.extend(similarity(key, e, 0.0) for e in edits(key))
    print(f"{cards} scheduled cards in {sections} sections; {len(edited)} edits, "
          f"{len(unrelated)} nearest other cards")
    print("threshold  edits kept  unrelated matched")
    for t in (0.3, 0.4, 0.5, 0.55, 0.6, 0.67, 0.7, 0.75, 0.8, 0.9):
        kept = sum(1 for x in edited if x >= t) / len(edited)
        wrong = sum(1 for x in unrelated if x >= t) / len(unrelated)
        print(f"{t:9.2f}  {kept:10.1%}  {wrong:17.1%}")
    for name, xs in (("edits", edited), ("unrelated", unrelated)):
        xs = sorted(xs)
        q = [xs[int(p * (len(xs) - 1))] for p in (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)]
        print(f"{name}: p1 {q[0]:.2f} p5 {q[1]:.2f} p25 {q[2]:.2f} median {q[3]:.2f} "
              f"p75 {q[4]:.2f} p95 {q[5]:.2f} p99 {q[6]:.2f}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))

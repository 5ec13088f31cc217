"""CPU cost of each step of a cold `scan --json`, note by note in one process (issue 17).

    python scripts/json_cost.py VAULT

Prints the seconds spent over every note in: reading, parsing, card ids, summary and
tally (what a plain cold scan does), the JSON lines, their UTF-8 encoding, zlib (as the
index stores them) and decompressing them (what a cold run's parent does to print them).
"""

from __future__ import annotations

import gc
import sys
import time
import zlib
from pathlib import Path

from flashmark.cardjson import note_json_lines
from flashmark.config import load_settings
from flashmark.identity import card_ids
from flashmark.syntax import parse_note
from flashmark.vault.codec import dump_summary, dump_tally, summarize, tally
from flashmark.vault.notefile import read_note
from flashmark.vault.walk import walk_notes


def main() -> int:
    gc.disable()  # as the scan runs
    root = Path(sys.argv[1])
    settings = load_settings(root)
    spent: dict[str, float] = {}
    size = 0

    def tick(step: str, since: float) -> float:
        now = time.process_time()
        spent[step] = spent.get(step, 0.0) + now - since
        return now

    for f in walk_notes(str(root), settings.ignore, []):
        t = time.process_time()
        text = read_note(f.rel, f.path, f.size)
        t = tick("read", t)
        note = parse_note(text.text, settings.parser)
        t = tick("parse", t)
        ids = [card_ids(q, f.rel) for q in note.questions]
        t = tick("card ids", t)
        summary = summarize(note, f.rel, ids)
        dump_summary(summary), dump_tally(tally(summary))
        t = tick("summary and tally", t)
        lines = note_json_lines(note.questions, f.rel, ids=ids)
        t = tick("JSON lines", t)
        raw = lines.encode("utf-8")
        t = tick("UTF-8", t)
        packed = zlib.compress(raw, 1)
        t = tick("zlib", t)
        zlib.decompress(packed)
        tick("decompress", t)
        size += len(raw)
    for step, seconds in spent.items():
        print(f"{step:18} {seconds:6.2f} s")
    print(f"lines: {size / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

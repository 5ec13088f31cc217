"""A generated section on the wire (pytextgen's format) and when to rewrite it.

```
<!--pytextgen generate section="ID"--><!-- The following content is generated at
2024-03-22T20:40:48.774310+08:00. Any edits will be overridden! -->\\n\\nBODY\\n\\n<!--/pytextgen-->
```

(the header is on the start marker's line). The header's time is local time with
microseconds and the UTC offset (``-05:00`` west of UTC: pytextgen 9.0.1 cannot read
those and fails at import there; flashmark reads and writes both signs).

A section is rewritten only when the new text is not empty and differs from the old text
once the header is set aside; otherwise the note keeps every byte, old time included.
``timestamp=False`` keeps the old header (or writes none when there was none).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, replace

from flashmark.generate.states import Move, Orphan, reattach

HEADER_FORMAT = ("<!-- The following content is generated at {now}. Any edits will be "
                 "overridden! -->")
HEADER = re.compile(
    r"<!-- The following content is generated at "
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[+-]\d{2}:\d{2}(?::\d{2})?|Z)?)"
    r"\. Any edits will be overridden! -->")


def header(now: dt.datetime) -> str:
    """The header for ``now`` in local time (or ``now``'s own offset when it has one)."""
    moment = now if now.tzinfo is not None else now.astimezone()
    return HEADER_FORMAT.format(now=moment.isoformat(timespec="microseconds"))


def split_header(content: str) -> tuple[str, str]:
    """(header, rest) of a section's old content; the header only counts at the start."""
    m = HEADER.match(content)
    if m is None:
        return "", content
    return m[0], content[:m.start()] + content[m.end():]


@dataclass(frozen=True, slots=True)
class SectionUpdate:
    id: str
    line: int  # 0-based line of the start marker
    old: str  # the old content (header included), LF newlines
    new: str  # the new content (header included)
    orphans: tuple[Orphan, ...]
    moved: int
    rebuilt: int
    moves: tuple[Move, ...] = ()  # every comment placed (lines are the note's, 0-based)


def update(section_id: str, line: int, old: str, generated: str, now: dt.datetime,
           *, timestamp: bool = True,
           token: tuple[str, str] = ("{@{", "}@}"),
           rematch: str = "similar") -> SectionUpdate | None:
    """The new content of a section, or None when it is up to date (or the generated
    text is empty: empty output never clears a section)."""
    if not generated:
        return None
    old_header, body = split_header(old)
    placed = reattach(generated, body, token, rematch)
    if placed.text == body:
        return None
    head = header(now) if timestamp else old_header
    # the body starts on the start marker's line: body line k is note line ``line + k``
    orphans = tuple(replace(o, line=line + o.line) for o in placed.orphans)
    # new lines stay relative to the section: sections before it may change length
    moves = tuple(replace(m, old_line=line + m.old_line) for m in placed.moves)
    return SectionUpdate(section_id, line, old, head + placed.text, orphans, placed.moved,
                         placed.rebuilt, moves)


def unified_diff(rel: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(before.splitlines(keepends=True),
                                 after.splitlines(keepends=True), f"a/{rel}", f"b/{rel}")
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)

"""Git conflict markers left in a note around its SR comments (`flashmark check`).

A merge of two machines' reviews that git could not resolve leaves
``<<<<<<<`` / ``=======`` / ``>>>>>>>`` lines in the note. The plugin and flashmark would
then read both sides' comments as cards' text or comments, so `check` reports each such
conflict (error ``merge-conflict``) when an SR comment is inside it or on the line just
before or after it. ``=======`` alone is also a Markdown heading underline: it counts
only between ``<<<<<<<`` and ``>>>>>>>``.
"""

from __future__ import annotations

from flashmark.model import ERROR, Diagnostic

_OURS, _THEIRS = "<" * 7, ">" * 7
_SR = "<!--SR:"


def _is_marker(line: str, marker: str) -> bool:
    # git writes "<<<<<<< HEAD", "=======", ">>>>>>> branch" (or the bare marker)
    return line.startswith(marker) and (len(line) == 7 or line[7] in " \t\r")


def conflict_problems(lines: list[str]) -> list[Diagnostic]:
    """One ``merge-conflict`` problem per conflict that touches an SR comment."""
    problems: list[Diagnostic] = []
    n = len(lines)
    i = 0
    while i < n:
        if not _is_marker(lines[i], _OURS):
            i += 1
            continue
        start = i
        end = start + 1
        while end < n and not _is_marker(lines[end], _THEIRS):
            end += 1
        closed = end < n
        around = lines[max(0, start - 1):min(n, end + 2)]
        if any(_SR in line for line in around):
            what = (f"a git conflict (lines {start + 1}-{end + 1})" if closed else
                    f"an unfinished git conflict ('{_OURS}' on line {start + 1} is never "
                    f"closed by '{_THEIRS}')")
            problems.append(Diagnostic(
                "", start, ERROR, "merge-conflict",
                f"{what} in or next to an SR comment: resolve it (keep one side's "
                f"entries) before reviewing, or both sides' text is read as cards"))
        i = end + 1
    return problems

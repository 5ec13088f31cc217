"""Turn "sibling k of this question now has entry E" into the smallest `Edit`.

* The comment exists and has slot k: only the entry's text is replaced.
* The comment has fewer entries than k+1 (a mismatched comment): the missing slots up to
  k are filled with the placeholder `!2000-01-01,1,250` ("never reviewed") and E is
  appended; nothing that is there is changed or dropped.
* The old single-card form `<!--SR:date,ivl,ease-->` becomes `<!--SR:!date,ivl,ease...-->`.
* There is no comment: one is added with a placeholder for every other sibling, after
  one space at the end of the card's last line (before a block id `^id`), or on the next
  line, indented like the card's last line, when the vault puts comments on their own
  line or the card ends with a code fence.
"""

from __future__ import annotations

from flashmark.model import PLACEHOLDER_TEXT, Question
from flashmark.syntax.srcodec import COMMENT_END, COMMENT_START
from flashmark.vault.edit import Edit


def _line_indent(data: bytes, line_end: int) -> bytes:
    start = max(data.rfind(b"\n", 0, line_end), data.rfind(b"\r", 0, line_end)) + 1
    line = data[start:line_end]
    return line[:len(line) - len(line.lstrip(b" \t"))]


def _newline(data: bytes) -> bytes:
    pos = data.find(b"\n")
    if pos > 0 and data[pos - 1:pos] == b"\r":
        return b"\r\n"
    if pos < 0 and b"\r" in data:
        return b"\r"
    return b"\n"


def sr_edit(data: bytes, question: Question, sibling: int, entry_text: str,
            *, same_line: bool = True) -> Edit:
    """The edit that stores ``entry_text`` (without "!") in slot ``sibling``."""
    if not 0 <= sibling < question.card_count:
        raise ValueError(f"sibling {sibling} out of range 0..{question.card_count - 1}")
    sr = question.sr
    new_entry = entry_text.encode("utf-8")
    if sr is None:
        entries = [PLACEHOLDER_TEXT] * question.card_count
        entries[sibling] = entry_text
        comment = (COMMENT_START + "".join("!" + e for e in entries) + COMMENT_END).encode()
        if same_line and not question.ends_with_fence:
            return Edit(question.anchor, question.anchor, b"", b" " + comment)
        end = question.span.end
        indent = _line_indent(data, end)
        return Edit(end, end, b"", _newline(data) + indent + comment)
    body_start = sr.span.start + len(COMMENT_START)
    body_end = sr.span.end - len(COMMENT_END)
    if sr.legacy_single:
        old = data[body_start:body_end]
        entries = [sr.body] if sr.body else []
        while len(entries) < sibling:
            entries.append(PLACEHOLDER_TEXT)
        if sibling < len(entries):
            entries[sibling] = entry_text
        else:
            entries.append(entry_text)
        return Edit(body_start, body_end, old, "".join("!" + e for e in entries).encode())
    texts = sr.entry_texts
    if sibling < len(texts):
        # byte range of entry `sibling`: after the (sibling+1)-th "!" of the body (and
        # the whitespace before the first "!", which is ASCII)
        pos = body_start + sr.lead
        for k in range(sibling):
            pos += 1 + len(texts[k].encode("utf-8"))
        start = pos + 1
        old = data[start:start + len(texts[sibling].encode("utf-8"))]
        return Edit(start, start + len(old), old, new_entry)
    filler = b"".join(b"!" + PLACEHOLDER_TEXT.encode() for _ in range(len(texts), sibling))
    return Edit(body_end, body_end, b"", filler + b"!" + new_entry)

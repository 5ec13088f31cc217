"""The text a card's identity is computed from (see docs/card-identity.md)."""

from __future__ import annotations

import textwrap


def identity_text(text: str) -> str:
    """A question's text without a trailing block id (` ^id`), common indentation and
    surrounding whitespace: what stays the same when a card is moved or linked to."""
    cut = text.rfind(" ^")
    if cut >= 0 and "\n" not in text[cut:]:
        tail = text[cut + 2:].rstrip()
        if tail and tail.isascii() and all(c.isalnum() or c == "-" for c in tail):
            text = text[:cut]
    # dedent only matters when the first line is indented (it never is blank here)
    if "\n" in text and text[:1] in (" ", "\t"):
        text = textwrap.dedent(text)
    return text.strip()

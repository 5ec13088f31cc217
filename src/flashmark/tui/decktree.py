"""The deck list's rows: the tag tree, folded and filtered (plain data, no widgets)."""

from __future__ import annotations

from dataclasses import dataclass

from flashmark.review.queue import DeckNode


@dataclass(frozen=True, slots=True)
class DeckRow:
    path: str  # the deck (tag path) this row stands for
    label: str  # what the row shows: fold marker, indentation and name
    depth: int
    counts: DeckNode
    has_children: bool
    expanded: bool


def _children(nodes: dict[str, DeckNode]) -> dict[str, list[str]]:
    kids: dict[str, list[str]] = {"": []}
    for path in sorted(nodes):
        parent = path.rpartition("/")[0]
        kids.setdefault(parent, []).append(path)
        kids.setdefault(path, [])
    return kids


def deck_rows(nodes: dict[str, DeckNode], decks: set[str], expanded: set[str],
              text_filter: str = "") -> list[DeckRow]:
    """Visible rows in tree order.

    ``nodes``: counts of every deck and parent deck; ``decks``: the decks that hold cards
    themselves. A chain of parents without cards of their own and with one child each
    shows as one row (`flashcard/active`). With a filter (a deck or tag name, `#`
    optional, case-insensitive), only matching decks and their parents show, unfolded.
    """
    kids = _children(nodes)
    wanted = text_filter.strip().lstrip("#").lower()
    keep: set[str] | None = None
    if wanted:
        keep = set()
        for path in nodes:
            if wanted in path.lower():
                parts = path.split("/")
                keep.update("/".join(parts[:k]) for k in range(1, len(parts) + 1))
    rows: list[DeckRow] = []

    def visit(path: str, depth: int) -> None:
        name = path.rpartition("/")[2]
        while len(kids[path]) == 1 and path not in decks and (keep is None or path in keep):
            path = kids[path][0]
            name += "/" + path.rpartition("/")[2]
        children = [c for c in kids[path] if keep is None or c in keep]
        is_open = bool(children) and (keep is not None or path in expanded)
        marker = ("▾ " if is_open else "▸ ") if children else "  "
        rows.append(DeckRow(path, "  " * depth + marker + name, depth, nodes[path],
                            bool(children), is_open))
        if is_open:
            for child in children:
                visit(child, depth + 1)

    for top in kids[""]:
        if keep is None or top in keep:
            visit(top, 0)
    return rows


def initially_expanded(nodes: dict[str, DeckNode], decks: set[str]) -> set[str]:
    """Unfold the top of the tree: each top-level row (after folding a chain) is open."""
    return {row.path for row in deck_rows(nodes, decks, set()) if row.has_children}

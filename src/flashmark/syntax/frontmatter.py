"""YAML frontmatter: where it is, and the ``tags`` it declares.

Like Obsidian, frontmatter exists only when the very first line is exactly ``---``
and a later line is exactly ``---``. The tag reader is a small hand parser for the
shapes tags take in practice (block list, flow list, scalar); anything it does not
recognise goes to PyYAML, so the common case stays fast.
"""

from __future__ import annotations

import re

_KEY = re.compile(r"^(tags|tag)\s*:(.*)$")
_OTHER_KEY = re.compile(r"^\S[^:]*:")


def frontmatter_end(lines: list[str]) -> int:
    """Index of the closing ``---`` line, or -1 when the note has no frontmatter."""
    first = lines[0]
    if first.startswith("\ufeff"):
        first = first[1:]
    if first.rstrip() != "---":
        return -1
    for i in range(1, len(lines)):
        if lines[i].rstrip() == "---":
            return i
    return -1


def _clean(item: str) -> str:
    item = item.strip()
    if len(item) >= 2 and item[0] == item[-1] and item[0] in "\"'":
        item = item[1:-1]
    return item.strip().lstrip("#")


def frontmatter_tags(lines: list[str], end: int) -> list[str]:
    """Tags listed under ``tags:`` (or ``tag:``) in lines ``1..end-1``."""
    tags: list[str] = []
    i = 1
    while i < end:
        m = _KEY.match(lines[i])
        if not m:
            i += 1
            continue
        value = m[2].strip()
        if value.startswith("[") and value.endswith("]"):
            tags.extend(_clean(v) for v in value[1:-1].split(","))
        elif value and value[0] in "[{|>&*!":
            tags.extend(_yaml_tags(lines[1:end]))
            return [t for t in tags if t]
        elif value:
            tags.extend(_clean(v) for v in re.split(r"[,\s]+", value))
        i += 1
        while i < end:
            line = lines[i]
            stripped = line.strip()
            if stripped.startswith("- ") or stripped == "-":
                tags.append(_clean(stripped[1:]))
            elif stripped and (not line[0].isspace() or _OTHER_KEY.match(line)):
                break
            i += 1
    return [t for t in tags if t]


def _yaml_tags(lines: list[str]) -> list[str]:
    import yaml

    try:
        data = yaml.safe_load("\n".join(lines))
    except yaml.YAMLError:
        return []
    if not isinstance(data, dict):
        return []
    value = data.get("tags", data.get("tag"))
    if isinstance(value, str):
        return [_clean(v) for v in re.split(r"[,\s]+", value)]
    if isinstance(value, list):
        return [_clean(str(v)) for v in value if v is not None]
    return []

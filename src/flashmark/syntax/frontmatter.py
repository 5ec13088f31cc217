"""YAML frontmatter: the ``tags`` it declares.

Where the frontmatter is (:func:`frontmatter_end`) is decided in
:mod:`flashmark.syntax.blocks`, like every other block boundary. The tag reader is a
small hand parser for the shapes tags take in practice (block list, flow list,
scalar); anything it does not recognise goes to PyYAML, so the common case stays fast.
"""

from __future__ import annotations

import re

from flashmark.syntax.blocks import frontmatter_end

__all__ = ["frontmatter_end", "frontmatter_tags"]

_KEY = re.compile(r"^(tags|tag)\s*:(.*)$")
_OTHER_KEY = re.compile(r"^\S[^:]*:")


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

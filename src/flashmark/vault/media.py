"""Files a note references (images), found the way Obsidian finds them: the one
resolver the exporter (export.media) and the reviewer (review.card_view) share.

A reference (``![[x.png]]``, ``![](../img/x.png)``, ``<img src="x.png">``) is looked up

1. as a path relative to the note's folder (``![](...)`` links are written that way);
   a path that climbs out of the vault is refused;
2. as a path from the vault root;
3. by name (Obsidian's "shortest path" links, ``![[x.png]]``): the file with that name
   in the note's folder, else the only file with that name in the vault, else the one in
   the attachment folder (``.obsidian/app.json`` ``attachmentFolderPath``), else the one
   with the shortest path.

A found file must really be inside the vault (symbolic links are followed and checked):
nothing outside the vault is ever named to a caller, so nothing outside it is read.
"""

from __future__ import annotations

import json
import os
import posixpath
from pathlib import Path

__all__ = ["IMAGE_EXTS", "MediaIndex", "is_image_name"]

IMAGE_EXTS = frozenset({"png", "jpg", "jpeg", "gif", "bmp", "svg", "webp", "avif", "tif",
                        "tiff", "ico"})
_SKIP_DIRS = frozenset({".git", ".obsidian", ".flashmark", ".trash"})


def is_image_name(path: str) -> bool:
    """Whether a file name has an image extension (``![[x.png]]`` is an image,
    ``![[note]]`` an embedded note)."""
    name = posixpath.basename(path)
    return "." in name and name.rsplit(".", 1)[1].lower() in IMAGE_EXTS


class MediaIndex:
    """Resolves image references of one vault (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self._by_name: dict[str, list[str]] | None = None
        self.attachment_folder = self._attachment_folder()

    def _attachment_folder(self) -> str | None:
        try:
            data = json.loads((self.root / ".obsidian" / "app.json").read_bytes())
        except (OSError, ValueError):
            return None
        folder = data.get("attachmentFolderPath") if isinstance(data, dict) else None
        return folder.strip() if isinstance(folder, str) and folder.strip() else None

    def _names(self) -> dict[str, list[str]]:
        """Every file that is not a note, by name (built on first use)."""
        if self._by_name is None:
            names: dict[str, list[str]] = {}
            root = str(self.root)
            for folder, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
                rel_folder = os.path.relpath(folder, root).replace(os.sep, "/")
                for name in files:
                    if name.endswith(".md"):
                        continue
                    rel = name if rel_folder == "." else f"{rel_folder}/{name}"
                    names.setdefault(name.lower(), []).append(rel)
            self._by_name = names
        return self._by_name

    def _file(self, rel: str) -> str | None:
        """``rel`` when it is a file inside the vault (symbolic links followed)."""
        path = os.path.join(self.root, rel)
        if not os.path.isfile(path):
            return None
        real = os.path.realpath(path)
        if real != self.real_root and not real.startswith(self.real_root + os.sep):
            return None
        return rel

    def _attachment_candidates(self, note_folder: str) -> str | None:
        folder = self.attachment_folder
        if folder is None or folder == "/":
            return "" if folder == "/" else None
        if folder.startswith("./"):
            return posixpath.normpath(posixpath.join(note_folder, folder[2:]))
        return folder.strip("/")

    def find(self, ref: str, note_rel: str) -> tuple[str | None, str | None]:
        """(vault path of the file, None) or (None, why it cannot be used)."""
        ref = ref.split("#", 1)[0].split("?", 1)[0].strip()
        if ref.lower().startswith("file:"):
            return None, f"{ref!r} is a file outside the vault"
        if not ref:
            return None, "empty image reference"
        note_folder = posixpath.dirname(note_rel)
        candidates: list[str] = []
        if ref.startswith("/"):
            candidates.append(posixpath.normpath(ref.lstrip("/")))
        else:
            joined = posixpath.normpath(posixpath.join(note_folder, ref))
            if joined == ".." or joined.startswith("../"):
                return None, f"{ref!r} resolves outside the vault"
            candidates.append(joined)
            candidates.append(posixpath.normpath(ref))
        for c in candidates:
            if c.startswith("../") or c == "..":
                continue
            found = self._file(c)
            if found is not None:
                return found, None
        name = posixpath.basename(ref)
        matches = self._names().get(name.lower(), [])
        if "/" in ref.strip("/"):
            tail = "/" + ref.strip("/").lower()
            matches = [m for m in matches if ("/" + m.lower()).endswith(tail)]
        if matches:
            ordered = sorted(matches, key=lambda m: (m.count("/"), len(m), m))
            same = [m for m in ordered if posixpath.dirname(m) == note_folder]
            attach = self._attachment_candidates(note_folder)
            in_attach = ([m for m in ordered if posixpath.dirname(m) == attach]
                         if attach is not None else [])
            for pick in (same, ordered if len(ordered) == 1 else [], in_attach, ordered):
                if pick:
                    found = self._file(pick[0])
                    if found is not None:
                        return found, None
                    break
            return None, f"{ref!r} resolves outside the vault"
        return None, f"{ref!r} not found"

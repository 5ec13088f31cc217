"""Images referenced by cards, packaged under unique names. They are found by the
vault's resolver (flashmark.vault.media, shared with the reviewer).

Anki's media folder is flat, so a file is packaged as ``<name>-<8 hex of its vault
path>.<ext>``: two ``diagram.png`` in different folders do not collide, and the name is
the same in every export (Anki does not store a second copy).
"""

from __future__ import annotations

import hashlib
import posixpath
import re

from flashmark.export.render import NoteContext
from flashmark.vault import media as vault_media

__all__ = ["MediaIndex", "packaged_name"]

_UNSAFE = re.compile(r"[\s/\\:*?\"<>|#%&{}\[\]^`']+")


def packaged_name(rel: str) -> str:
    """The file's name in the package (and in Anki's media folder)."""
    base = posixpath.basename(rel)
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = _UNSAFE.sub("_", stem).strip("._")[:60] or "media"
    ext = _UNSAFE.sub("", ext)[:10].lower()
    digest = hashlib.blake2b(rel.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
    return f"{stem}-{digest}" + (f".{ext}" if ext else "")


class MediaIndex(vault_media.MediaIndex):
    """The vault's resolver, plus what the export keeps of each lookup."""

    def resolve(self, ref: str, ctx: NoteContext) -> tuple[str | None, str | None]:
        """The renderer's callback: the packaged name, or a problem to report."""
        found, problem = self.find(ref, ctx.rel)
        ctx.lookups.append((ref, found))
        if found is None:
            return None, f"{ctx.rel}: image {problem}"
        ctx.media.add(found)
        return packaged_name(found), None

"""Where a vault's own files go when its `.flashmark/` folder cannot be written (a
read-only vault, a vault on a full or foreign file system): one folder per vault in
the user cache folder (platformdirs: on Linux ``$XDG_CACHE_HOME/flashmark``, else
~/.cache/flashmark). The index and the write lock both use it, so every process of one
vault agrees on the place."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import platformdirs


def fallback_folder(vault: Path) -> Path:
    """The vault's folder in the user cache folder (not created here). The key is the
    vault's real path, so two spellings of one vault (a symlink, `..`) share it."""
    base = platformdirs.user_cache_path("flashmark", appauthor=False)
    key = hashlib.blake2b(os.fsencode(os.path.realpath(vault)), digest_size=8).hexdigest()
    return base / key

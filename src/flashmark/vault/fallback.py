"""The vault's state folder `.flashmark/`: what of it stays out of git, and where a
vault's own files go when its `.flashmark/` folder cannot be written (a
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


# What in .flashmark/ belongs to this machine only: the rebuildable cache, the write
# lock, the temporary-file journal, versions recovered after a crash. Committed, the
# lock alone would conflict on every pull of a vault synced with git.
_LOCAL_ONLY = ("cache/", "lock", "tmp-journal", "recovered/")


def keep_local_files_out_of_git(state: Path) -> None:
    """Write ``.flashmark/.gitignore``, or add the lines an older flashmark's lacks
    (only appended: a user's own lines stay)."""
    ignore = state / ".gitignore"
    try:
        have = ignore.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        have = []
    except (OSError, UnicodeDecodeError):
        return
    missing = [line for line in _LOCAL_ONLY if line not in have]
    if not missing:
        return
    head = "" if have else "# flashmark: files of this machine only, rebuildable: not for git\n"
    gap = "\n" if have and not ignore.read_bytes().endswith(b"\n") else ""
    with open(ignore, "a", encoding="utf-8") as fh:
        fh.write(gap + head + "".join(line + "\n" for line in missing))

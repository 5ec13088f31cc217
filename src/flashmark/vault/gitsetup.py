"""`flashmark git-setup`: the .gitattributes lines and git config that make git merge
notes with `flashmark merge-driver` (and the review log by keeping both sides' lines)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from flashmark.errors import VaultError
from flashmark.vault.edit import write_file_atomically

DRIVER = "flashmark"
ATTRIBUTE_LINES = (f"*.md merge={DRIVER}", ".flashmark/reviews.jsonl merge=union")
DRIVER_NAME = "flashmark: keep each card's later review in SR comments"


def driver_command() -> str:
    """The command git runs. Git finds it through a shell and its own PATH, which need
    not be the one flashmark was started from (a GUI client, a cron job); the absolute
    path of this interpreter with ``-m flashmark`` always names this installation (a
    virtual environment's interpreter is kept as it is, not resolved, so it keeps its
    packages)."""
    return f"{shlex.quote(sys.executable)} -m flashmark merge-driver %O %A %B %P"


@dataclass
class SetupReport:
    repository: str  # the work tree's top folder
    attributes_path: str
    attributes_added: list[str] = field(default_factory=list)
    config: dict[str, str] = field(default_factory=dict)  # key -> value now set
    config_changed: list[str] = field(default_factory=list)


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True,
                              text=True, check=False)
    except OSError as exc:
        raise VaultError(f"cannot run git: {exc.strerror or exc}",
                         hint="install git and make sure it is on PATH") from None


def set_up(vault: str) -> SetupReport:
    root = Path(vault).absolute()
    if not root.is_dir():
        raise VaultError(f"vault folder {vault!r} does not exist" if not root.exists()
                         else f"{vault!r} is not a folder")
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0 or not top.stdout.strip():
        raise VaultError(f"{vault!r} is not inside a git work tree",
                         hint="run `git init` in the vault first")
    report = SetupReport(top.stdout.strip(), str(root / ".gitattributes"))
    _add_attributes(root / ".gitattributes", report)
    for key, value in ((f"merge.{DRIVER}.name", DRIVER_NAME),
                       (f"merge.{DRIVER}.driver", driver_command())):
        current = _git(root, "config", "--local", "--get", key)
        if current.returncode != 0 or current.stdout.rstrip("\n") != value:
            done = _git(root, "config", "--local", key, value)
            if done.returncode != 0:
                raise VaultError(f"git config {key} failed: {done.stderr.strip()}")
            report.config_changed.append(key)
        report.config[key] = value
    return report


def _add_attributes(path: Path, report: SetupReport) -> None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    except OSError as exc:
        raise VaultError(f"cannot read {path}: {exc.strerror or exc}") from None
    present = {line.strip() for line in data.decode("utf-8", "replace").splitlines()}
    missing = [line for line in ATTRIBUTE_LINES if line not in present]
    if not missing:
        return
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    if data and not data.endswith(b"\n"):
        data += newline
    data += b"".join(line.encode() + newline for line in missing)
    try:
        write_file_atomically(os.fspath(path), data)
    except OSError as exc:
        raise VaultError(f"cannot write {path}: {exc.strerror or exc}") from None
    report.attributes_added = missing

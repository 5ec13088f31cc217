"""The review log: `.flashmark/reviews.jsonl`, one JSON object per line, append-only.

Every rating, undo and externally observed change is one line, so the file merges
cleanly when the vault is synced with git (`.flashmark/reviews.jsonl merge=union` in
`.gitattributes`). It is the history FSRS weights are fitted to and what `undo` reverts;
the schedules themselves stay in the notes.

Events (all carry "v": 1, "event", "time" as ISO UTC and a random "uid"):
* review: id, path, sibling, rating, duration_ms, before / after (the entry text
  without "!", null for none), scheduler, edit {start, old, new} (the bytes written)
* undo: of (the uid of the review, bury or suspend it takes back), id, path
* external: id, path, sibling, before, after (the note changed without us)
* pending: like review, for a rating that could not be written (the note changed
  and the card was not found); nothing is lost, it can be re-applied
* bury: id, path, until (ISO UTC, the next local midnight): the card stays out of the
  review queue until then (`-` in the reviewer)
* suspend: id, path: the card stays out of every queue until an `unsuspend` (`!`)
* unsuspend: id, path: the card is back in the queues
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flashmark.errors import FlashmarkError

LOG_NAME = "reviews.jsonl"


@dataclass(frozen=True, slots=True)
class LogProblem:
    line: int
    message: str


class ReviewLog:
    def __init__(self, vault: Path) -> None:
        self.path = vault / ".flashmark" / LOG_NAME
        # The file only grows: remember what was parsed and read just the new tail.
        self._events: list[dict[str, Any]] = []
        self._offset = 0
        self._head = b""

    def append(self, event: dict[str, Any]) -> dict[str, Any]:
        event = {"v": 1, "uid": secrets.token_hex(8), **event}
        line = (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise FlashmarkError(f"cannot write the review log {self.path}: {exc.strerror}",
                                 hint="is the vault read-only?") from None
        try:
            # One write of a whole line: concurrent appenders do not interleave lines.
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return event

    def events(self, problems: list[LogProblem] | None = None) -> list[dict[str, Any]]:
        """All events, oldest first (a copy; re-reading parses only what was appended)."""
        try:
            with open(self.path, "rb") as fh:
                head = fh.read(64)
                size = fh.seek(0, os.SEEK_END)
                if size < self._offset or head != self._head[:len(head)] or not self._head:
                    # rewritten (a git merge, a hand edit): start over
                    self._events, self._offset = [], 0
                fh.seek(self._offset)
                raw = fh.read()
        except FileNotFoundError:
            self._events, self._offset, self._head = [], 0, b""
            return []
        except OSError as exc:
            raise FlashmarkError(f"cannot read the review log {self.path}: {exc.strerror}"
                                 ) from None
        self._head = head
        end = raw.rfind(b"\n") + 1  # a torn last line is left for the next read
        line_no = 0
        for line in raw[:end].splitlines():
            line_no += 1
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                # A torn line from a crash mid-write, or a merge leftover: skip, report.
                if problems is not None:
                    problems.append(LogProblem(line_no, "unreadable line skipped"))
                continue
            if isinstance(event, dict):
                self._events.append(event)
        self._offset += end
        return list(self._events)

"""`flashmark generate`: regenerate pytextgen sections; schedules follow their cards.

This is the only command that runs Python code written in the notes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from flashmark.cli.common import add_now_argument, parse_now
from flashmark.cli.output import ProgressBar
from flashmark.config import load_settings
from flashmark.errors import EXIT_CONFLICT, EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, UsageError
from flashmark.model import MODE_CHECK, MODE_DIFF, MODE_WRITE, GenerateMode

if TYPE_CHECKING:
    from flashmark.generate.engine import Report

DESCRIPTION = """\
Run the ```Python blocks marked `# pytextgen generate data` in the notes (after the
`# pytextgen generate module` blocks they import) and rewrite the
<!--pytextgen generate section="ID"--> sections they produce, byte-compatible with
pytextgen 9.0.1. The old <!--SR:...--> comments stay with their cards (every entry
kept): same text, then the same text normalised (link forms, spaces, entities), then a
similar text (generate: {rematch: exact|normalized|similar} in flashmark.yaml; --diff
shows what moved how); schedules that match no new card are reported and kept in
.flashmark/reviews.jsonl (and after the section with --keep-orphans).

WARNING: this runs Python code from your notes, with your permissions. Run it only on
notes you trust."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "generate", help="regenerate pytextgen sections (runs the notes' Python code)",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="notes or folders to generate (default: the whole vault); a single "
                        "folder is taken as the vault")
    p.add_argument("--vault", metavar="DIR",
                   help="the vault folder (default: the folder of the paths that holds "
                        ".obsidian or .flashmark, else the current folder)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="write nothing; list stale sections and exit 1 if there are any "
                           "(for CI and pre-commit)")
    mode.add_argument("--diff", action="store_true",
                      help="write nothing; print a unified diff of what would change")
    p.add_argument("--no-timestamp", action="store_true",
                   help="keep the old 'generated at' time in rewritten sections")
    p.add_argument("--keep-orphans", action="store_true",
                   help="also write schedules that match no new card in a comment right "
                        "after their section")
    p.add_argument("--jobs", "-j", type=int, metavar="N",
                   help="run notes in N processes (default: one per CPU, up to 4)")
    p.add_argument("--no-cache", action="store_true",
                   help="run every note, even those unchanged since their last clean run")
    p.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    add_now_argument(p)
    p.set_defaults(run=run)


def _find_vault(paths: list[Path]) -> Path:
    if len(paths) == 1 and paths[0].is_dir():
        return paths[0]
    start = paths[0].resolve() if paths else Path.cwd().resolve()
    for folder in (start, *start.parents):
        if (folder / ".obsidian").is_dir() or (folder / ".flashmark").is_dir():
            return folder
    return Path.cwd() if not paths else (start if start.is_dir() else start.parent)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    from flashmark.generate.engine import Options, generate

    root, targets = _vault_and_targets(args)
    settings = load_settings(root)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    mode: GenerateMode = MODE_CHECK if args.check else MODE_DIFF if args.diff else MODE_WRITE
    options = Options(now=parse_now(args.now), timestamp=not args.no_timestamp,
                      keep_orphans=args.keep_orphans)
    bar = ProgressBar("generating")
    try:
        report = generate(root, settings, options, targets=targets, mode=mode,
                          use_cache=not args.no_cache, jobs=args.jobs, progress=bar)
    finally:
        bar.close()
    _warn(report, mode, keep_orphans=args.keep_orphans)
    if mode == MODE_DIFF:
        _write_diff(report, out)
    elif mode == MODE_CHECK:
        for rel, line, section in report.stale:
            out.write(f"{rel}:{line + 1}: section \"{section}\" is stale\n")
    if not args.quiet and mode != MODE_DIFF:
        sys.stderr.write(_summary(report, mode))
    return _exit_code(report, mode)


def _vault_and_targets(args: argparse.Namespace) -> tuple[Path, list[Path]]:
    """The vault folder, and the notes or folders asked for (none: the whole vault)."""
    # Absolute from here on: note code may os.chdir, which must not move the vault.
    paths = [Path(p).absolute() for p in args.paths]
    for p in paths:
        if not p.exists():
            raise UsageError(f"{p} does not exist")
    root = Path(args.vault).absolute() if args.vault else _find_vault(paths)
    targets = [] if (len(paths) == 1 and paths[0].is_dir() and not args.vault) else paths
    return root, targets


def _warn(report: Report, mode: GenerateMode, *, keep_orphans: bool) -> None:
    """The run's problems and orphaned schedules, on stderr."""
    for problem in report.problems:
        sys.stderr.write(f"{problem}\n")
    for rel, section, orphan in report.orphans:
        where = ("kept in .flashmark/reviews.jsonl" if mode == MODE_WRITE else
                 "would be kept in .flashmark/reviews.jsonl")
        if keep_orphans:
            where += " and after the section"
        sys.stderr.write(f"{rel}:{orphan.line + 1}: warning: the schedule {orphan.comment} of "
                         f"card {_short(orphan.card)!r} (section \"{section}\") matches no "
                         f"regenerated card: {where}\n")


def _write_diff(report: Report, out: TextIO) -> None:
    """--diff: per changed note, the schedules that moved to a changed card, then the
    note's unified diff."""
    from flashmark.generate.sections import unified_diff

    for o in report.outcomes:
        if o.after is not None:
            # which schedules moved to a changed card, and how (before the note's diff:
            # `patch` and `git apply` skip lines before a diff's header)
            for up in o.updates:
                for m in up.moves:
                    if m.stage != "exact":
                        out.write(f"# {o.rel}:{m.old_line + 1}: schedule {m.comment} "
                                  f"moved ({m.stage}): {_short(m.old_card)!r} -> "
                                  f"{_short(m.new_card)!r}\n")
            out.write(unified_diff(o.rel, o.data.decode("utf-8", "replace"),
                                   o.after.decode("utf-8", "replace")))


def _summary(report: Report, mode: GenerateMode) -> str:
    """The closing line: notes run and cached, sections stale or rewritten, schedules
    moved and orphaned, errors."""
    verb = "stale" if mode == MODE_CHECK else "rewritten"
    count = len(report.stale) if mode == MODE_CHECK else report.sections_written
    notes = len({r for r, _, _ in report.stale}) if mode == MODE_CHECK else len(report.written)
    return (f"{report.notes} notes with data blocks: {report.ran} run, {report.cached} "
            f"unchanged (cache); {count} section{'s' * (count != 1)} {verb} in {notes} "
            f"note{'s' * (notes != 1)}; {_moved_summary(report)}{len(report.orphans)} "
            f"orphaned schedule"
            f"{'s' * (len(report.orphans) != 1)}; {report.errors} error"
            f"{'s' * (report.errors != 1)}\n")


def _exit_code(report: Report, mode: GenerateMode) -> int:
    if report.conflicts:
        return EXIT_CONFLICT
    if report.errors:
        return EXIT_INPUT
    if mode == MODE_CHECK and report.stale:
        return EXIT_FINDINGS
    return EXIT_OK


def _moved_summary(report: Report) -> str:
    """``schedules moved to changed cards: 17 normalized, 2 similar; `` (or nothing)."""
    counts: dict[str, int] = {}
    for o in report.outcomes:
        for up in o.updates:
            for m in up.moves:
                if m.stage != "exact":
                    counts[m.stage] = counts.get(m.stage, 0) + 1
    if not counts:
        return ""
    order = ("normalized", "cloze", "similar")
    return ("schedules moved to changed cards: "
            + ", ".join(f"{counts[s]} {s}" for s in order if s in counts) + "; ")


def _short(text: str, width: int = 60) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[:width - 1] + "…"

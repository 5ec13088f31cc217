"""Run the Python blocks of a note, the way pytextgen does, with the note's line numbers.

**This executes code written in the notes.** Only `flashmark generate` imports this
module; scanning, reviewing and exporting never run note code.

For one data block:

1. the module blocks of every note it imports (``# import REL.md``, transitively: an
   imported note's module blocks bring their own imports first; cycles are errors), then
   every module block of the note itself (each preceded by its imports), each once;
2. then the data block.

Each block is compiled as the body of ``async def`` (so top-level ``return`` and
``await`` work) from the note's text with as many newlines in front as the block's
first line has before it: tracebacks and syntax errors give the note's own line
numbers. All blocks share one globals dict (fresh per data block) holding the builtins
and ``__env__`` (``cwf``, ``cwd``, ``cwf_sect``, ``cwf_sects``, ``cwf_sects0``); what a
module block returns (``export_seq(...)``, a dict) is added to those globals. While the
code runs, ``pytextgen`` imports resolve to flashmark's compatibility namespace
(``generate/compat``).
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, SimpleNamespace
from typing import Any

from flashmark.errors import NoteReadError
from flashmark.generate.compat import config as compat_config
from flashmark.generate.compat import installed
from flashmark.generate.compat import util as compat_util
from flashmark.generate.finder import Block, LfText, find_blocks
from flashmark.vault.notefile import read_note

ENTRY = "__flashmark_block__"


class CodeError(Exception):
    """Note code that cannot run: where (note, 0-based line) and why."""

    def __init__(self, rel: str, line: int, message: str) -> None:
        super().__init__(message)
        self.rel = rel
        self.line = line
        self.message = message


@dataclass(slots=True)
class LoadedNote:
    rel: str  # vault-relative (or absolute when outside the vault)
    path: str  # real path
    blocks: list[Block]
    problems: list[tuple[int, str]]  # (0-based line, message) of malformed blocks
    codes: dict[int, CodeType] = field(default_factory=dict)
    library: list[Compiled] | None = None  # its module blocks with their imports

    @property
    def modules(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "module"]


@dataclass(frozen=True, slots=True)
class Compiled:
    rel: str
    path: str
    line: int  # 0-based line of the block's fence
    code: CodeType


def _wrap(tree: ast.Module) -> ast.Module:
    fn = ast.AsyncFunctionDef(
        name=ENTRY,
        args=ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                           kw_defaults=[], kwarg=None, defaults=[]),
        body=tree.body or [ast.Pass(lineno=1, col_offset=0)],
        decorator_list=[], returns=None, type_comment=None, lineno=1, col_offset=0,
        end_lineno=1, end_col_offset=0)
    # the body keeps its own positions (the note's lines): only the new node needs one
    return ast.Module(body=[fn], type_ignores=[])


class Library:
    """Loads and compiles notes' blocks (each once per process) and runs data blocks."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._notes: dict[str, LoadedNote] = {}
        self.filenames: dict[str, str] = {}  # compiled file name -> rel, for tracebacks
        self._loop: asyncio.AbstractEventLoop | None = None

    def rel(self, real: str) -> str:
        try:
            return Path(real).relative_to(self.root).as_posix()
        except ValueError:
            return real

    def load(self, path: str, text: str | None = None) -> LoadedNote:
        """The note at ``path`` (from ``text`` when given, else read from disk)."""
        real = os.path.realpath(path)
        note = self._notes.get(real)
        if note is not None and text is None:
            return note
        rel = self.rel(real)
        if text is None:
            text = read_note(rel, real).text
        blocks, problems = find_blocks(LfText(text).text)
        note = LoadedNote(rel, real, blocks, [(p.line or 0, p.message) for p in problems])
        self._notes[real] = note
        self.filenames[real] = rel
        return note

    def compile(self, note: LoadedNote, block: Block) -> Compiled:
        code = note.codes.get(block.index)
        if code is None:
            source = "\n" * block.code_line + block.code
            try:
                tree = ast.parse(source, note.path, "exec", type_comments=True)
                code = compile(_wrap(tree), note.path, "exec", dont_inherit=True)
            except SyntaxError as exc:
                line = (exc.lineno or block.code_line + 1) - 1
                raise CodeError(note.rel, line,
                                f"{type(exc).__name__}: {exc.msg}") from None
            note.codes[block.index] = code
        return Compiled(note.rel, note.path, block.line, code)

    def _imports(self, note: LoadedNote, block: Block, stack: tuple[str, ...],
                 out: list[Compiled]) -> None:
        folder = os.path.dirname(note.path)
        for target, line in block.imports:
            path = os.path.realpath(os.path.join(folder, target))
            if path in stack:
                chain = " → ".join(self.rel(p) for p in (*stack[stack.index(path):], path))
                raise CodeError(note.rel, line, f"import cycle: {chain}")
            try:
                imported = self.load(path)
            except NoteReadError as exc:
                reason = ("no such note" if not os.path.exists(path) else exc.reason)
                raise CodeError(note.rel, line, f"cannot import {target}: {reason}") from None
            out.extend(self._library(imported, (*stack, path)))

    def _library(self, note: LoadedNote, stack: tuple[str, ...]) -> list[Compiled]:
        """A note's module blocks, each preceded by what it imports."""
        if note.library is not None:
            return note.library
        if note.problems:
            line, message = note.problems[0]
            raise CodeError(note.rel, line, message)
        out: list[Compiled] = []
        for block in note.modules:
            self._imports(note, block, stack, out)
            out.append(self.compile(note, block))
        note.library = out
        return out

    def init_codes(self, note: LoadedNote, block: Block) -> list[Compiled]:
        """What runs before a data block, in order, each once."""
        out: list[Compiled] = []
        stack = (note.path,)
        self._imports(note, block, stack, out)
        out.extend(self._library(note, stack))
        seen: set[int] = set()
        unique = []
        for c in out:
            if id(c.code) not in seen:
                seen.add(id(c.code))
                unique.append(c)
        return unique

    def run(self, note: LoadedNote, block: Block,
            sections: dict[str, str]) -> tuple[Any, list[str]]:
        """Run data ``block`` of ``note``; its return value and the notes it imported.

        ``sections`` (id -> current text) is what note code sees if it opens a section.
        Raises `CodeError` with the note's line when the code fails.
        """
        inits = self.init_codes(note, block)
        data = self.compile(note, block)
        deps = sorted({c.rel for c in inits if c.path != note.path})
        env = _env(Path(note.path))
        scope: dict[str, Any] = {"__builtins__": dict(builtins.__dict__), "__env__": env}

        async def main() -> Any:
            for c in inits:
                exported = await _call(c.code, scope)
                if exported is not None:
                    scope.update(exported)
            return await _call(data.code, scope)

        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        compat_util.SECTION_TEXTS.clear()
        compat_util.SECTION_TEXTS.update({(note.path, k): v for k, v in sections.items()})
        try:
            with installed(), contextlib.redirect_stdout(sys.stderr):
                result = self._loop.run_until_complete(main())
        except CodeError:
            raise
        except BaseException as exc:  # note code may raise anything, SystemExit included
            if isinstance(exc, KeyboardInterrupt) and (
                    signal.getsignal(signal.SIGINT) is not signal.SIG_IGN):
                raise  # possibly a real Ctrl-C (worker processes ignore those): stop
            if not isinstance(exc, Exception):  # it unwound the event loop: start afresh
                self.close()
            raise self._error(note, block, exc) from None
        finally:
            compat_config.reset()
            compat_util.SECTION_TEXTS.clear()
        return result, deps

    def _error(self, note: LoadedNote, block: Block, exc: BaseException) -> CodeError:
        where = [(self.filenames[f.f_code.co_filename], line)
                 for f, line in traceback.walk_tb(exc.__traceback__)
                 if f.f_code.co_filename in self.filenames]
        message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        if not where:
            return CodeError(note.rel, block.code_line, message)
        rel, line = where[-1]
        if rel != note.rel:  # it failed inside an imported note: say where
            outer = [w for w in where if w[0] == note.rel]
            at = outer[-1][1] if outer else block.code_line + 1
            return CodeError(note.rel, at - 1, f"{message} (raised in {rel}:{line})")
        return CodeError(rel, line - 1, message)

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None


async def _call(code: CodeType, scope: dict[str, Any]) -> Any:
    exec(code, scope)  # defines the block's async function in ``scope``
    fn = scope.pop(ENTRY)
    return await fn()


def _env(path: Path) -> SimpleNamespace:
    def cwf_sect(section: str | None) -> Any:
        if section is None:
            return compat_util.NULL_LOCATION
        return compat_util.FileSection(path=path, section=section)

    def cwf_sects0(sections: Iterable[str | None]) -> Iterable[Any]:
        return (cwf_sect(s) for s in sections)

    def cwf_sects(*sections: str | None) -> tuple[Any, ...]:
        return tuple(cwf_sects0(sections))

    return SimpleNamespace(result=None, cwf=path, cwd=path.parent, cwf_sect=cwf_sect,
                           cwf_sects=cwf_sects, cwf_sects0=cwf_sects0)


def results_of(value: Any) -> list[Any]:
    """A data block's return value as a list of results (`TypeError` otherwise)."""
    if compat_util.Result.isinstance(value):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        out = []
        for item in value:
            if not compat_util.Result.isinstance(item):
                raise TypeError(f"the data block returned {type(item).__name__}, not a Result")
            out.append(item)
        return out
    raise TypeError(f"the data block returned {type(value).__name__}, not Results")

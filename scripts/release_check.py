#!/usr/bin/env python3
"""Release check: build flashmark the way it ships and run it from a fresh install.

    python scripts/release_check.py [--python PY] [--source DIR] [--keep]

Needs nothing but Python (and pip reaching a package index): every tool is installed into
a virtual environment under a temporary folder. Steps, each a hard failure:

1. snapshot the source (the files git tracks, as they are in the work tree; a folder that
   is not a git work tree is copied whole, less build output), so nothing untracked or
   built earlier (``build/``, ``*.egg-info``) leaks into the package;
2. build the sdist and a wheel from the snapshot, and a second wheel from the unpacked
   sdist (``python -m build --no-isolation`` in a tools environment holding the
   pyproject's build requirements, ``build`` and ``twine``);
3. ``twine check --strict`` both, read the metadata (version = flashmark.__version__,
   licence and LICENSE file, classifiers, project URLs, keywords, the README rendered as
   the long description) and compare the wheels' files with the package's files in the
   source: every file under ``src/flashmark`` must be in both wheels;
4. install the wheel into a fresh virtual environment (with ``--python``'s interpreter)
   and run it from an empty folder with no source on the path: ``flashmark --version``,
   ``python -m flashmark --version``, ``scan --json`` and ``export`` on a copy of
   ``notes/``, the completion script and a completion query, and the reviewer through
   the installed entry point in a pseudo-terminal: first card painted, Space, ``3``
   (Good) writes a rating into the note and the review log, ``q`` exits 0;
5. reinstall from the wheel built out of the sdist and run the version, scan and
   first-card checks again.

Exit 0 when every step passed, 1 (with the failing step and its output) otherwise.
``--skip-contents-check`` leaves out step 3's file comparison, so that the run-time
steps alone can be shown to catch a missing data file (tests/test_packaging.py).
"""

from __future__ import annotations

import argparse
import email.parser
import fcntl
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import termios
import time
import tomllib
import zipfile
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A fixed clock: the sample's new cards are due, and runs are reproducible.
NOW = "2026-11-23T09:00:00+00:00"
# Files in the source package that are never shipped.
NOT_SHIPPED = re.compile(r"(^|/)__pycache__/|\.py[co]$")
EXPECTED_URLS = ("Homepage", "Documentation", "Issues")
PAINTED = re.compile(rb"first card painted after [\d.]+ s")
ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
BUILD_OUTPUT = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info",
                                      "__pycache__", ".flashmark", ".mypy_cache",
                                      ".ruff_cache", ".pytest_cache", ".hypothesis")


class ReleaseCheckError(Exception):
    """One step of the release check failed; the message says which and why."""


def log(message: str) -> None:
    print(f"release-check: {message}", flush=True)


def run(cmd: Sequence[str | Path], *, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 600, what: str = "") -> str:
    """Run ``cmd``; its stdout, or ReleaseCheckError with its output when it fails."""
    argv = [str(c) for c in cmd]
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise ReleaseCheckError(f"{what or ' '.join(argv)}: exit {proc.returncode}\n"
                                f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc.stdout


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for the installed flashmark: nothing that points Python at the
    source tree or another environment."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP",
                        "PYTHONSAFEPATH", "FLASHMARK_EXIT_AFTER_FIRST_CARD", "_ARGCOMPLETE")}
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra)
    return env


# -- 1. the source snapshot --------------------------------------------------------------


def snapshot(source: Path, dest: Path) -> None:
    inside = subprocess.run(["git", "-C", str(source), "rev-parse", "--show-toplevel"],
                            capture_output=True, text=True)
    if inside.returncode == 0 and Path(inside.stdout.strip()).resolve() == source.resolve():
        listed = run(["git", "ls-files", "-z", "--cached"], cwd=source).split("\0")
        for name in filter(None, listed):
            src = source / name
            if src.is_file():  # a tracked file deleted in the work tree is left out
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / name)
    else:
        shutil.copytree(source, dest, ignore=BUILD_OUTPUT, dirs_exist_ok=True)


def package_files(tree: Path) -> set[str]:
    """The files of the ``flashmark`` package in a source tree, as wheel paths."""
    root = tree / "src"
    return {p.relative_to(root).as_posix() for p in (root / "flashmark").rglob("*")
            if p.is_file() and not NOT_SHIPPED.search(p.relative_to(root).as_posix())}


def source_version(tree: Path) -> str:
    text = (tree / "src" / "flashmark" / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if m is None:
        raise ReleaseCheckError("no __version__ = \"...\" in src/flashmark/__init__.py")
    return m[1]


# -- 2. build ----------------------------------------------------------------------------


def venv(python: str, path: Path) -> Path:
    run([python, "-m", "venv", path], cwd=path.parent, what=f"{python} -m venv")
    return path / "bin" / "python"


def pip_install(py: Path, *args: str | Path, what: str) -> None:
    run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
        cwd=py.parent, what=what, env=clean_env())


def build(tools: Path, tree: Path, outdir: Path, *dists: str) -> None:
    run([tools, "-m", "build", "--no-isolation", *dists, "--outdir", outdir, tree], cwd=tree,
        what=f"python -m build {' '.join(dists)} in {tree.name}", env=clean_env())


def only(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise ReleaseCheckError(f"expected one {pattern} in {folder}, found "
                                f"{[p.name for p in found]}")
    return found[0]


# -- 3. metadata and contents ------------------------------------------------------------


def wheel_metadata(wheel: Path) -> tuple[email.message.Message, set[str]]:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(zf.read(meta_name).decode("utf-8"))
    return meta, names


def long_description(meta: email.message.Message) -> str:
    payload = meta.get_payload()
    return payload if isinstance(payload, str) else ""


def check_metadata(meta: email.message.Message, names: set[str], version: str,
                   label: str) -> None:
    problems: list[str] = []
    if meta["Version"] != version:
        problems.append(f"Version {meta['Version']!r}, flashmark.__version__ is {version!r}")
    if meta["License-Expression"] != "MIT":
        problems.append(f"License-Expression {meta['License-Expression']!r}, expected 'MIT'")
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
        problems.append("no LICENSE file in the wheel's .dist-info/licenses/")
    classifiers = meta.get_all("Classifier") or []
    for minor in (11, 12, 13):
        if f"Programming Language :: Python :: 3.{minor}" not in classifiers:
            problems.append(f"no classifier for Python 3.{minor}")
    urls = {u.split(",", 1)[0].strip() for u in meta.get_all("Project-URL") or []}
    problems += [f"no {u} project URL" for u in EXPECTED_URLS if u not in urls]
    if not meta["Keywords"]:
        problems.append("no keywords")
    if meta["Description-Content-Type"] != "text/markdown":
        problems.append(f"Description-Content-Type {meta['Description-Content-Type']!r}")
    if "## Install" not in long_description(meta):
        problems.append("the long description is not the README (no '## Install' section)")
    if problems:
        raise ReleaseCheckError(f"metadata of {label}:\n  " + "\n  ".join(problems))


def check_contents(names: set[str], expected: set[str], label: str) -> None:
    missing = sorted(expected - names)
    if missing:
        raise ReleaseCheckError(f"{label} lacks files of the package (declare them in "
                                f"[tool.setuptools.package-data] in pyproject.toml):\n  "
                                + "\n  ".join(missing))


RENDER = """
import re
import sys
from readme_renderer.markdown import render
html = render(open(sys.argv[1], encoding="utf-8").read())
ok = html is not None and re.search(r"<h2[^>]*>Install<", html) and "<table>" in html
sys.exit(0 if ok else 1)
"""


# -- 4. the installed package ------------------------------------------------------------


class Terminal:
    """A child process on a pseudo-terminal of 80x24: what it painted, and keys to send."""

    def __init__(self, argv: Sequence[str | Path], cwd: Path, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.proc = subprocess.Popen([str(a) for a in argv], cwd=cwd, env=env, stdin=slave,
                                     stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        self.out = bytearray()

    def pump(self, wait: float) -> bool:
        """Read what arrives within ``wait`` seconds; False once the child closed the
        terminal."""
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:
            return False
        self.out += chunk
        return bool(chunk)

    def text(self, start: int = 0) -> str:
        """What was painted since byte ``start``, without escape sequences."""
        return ANSI.sub(b"", bytes(self.out[start:])).decode("utf-8", "replace")

    def wait_for(self, pattern: str, *, start: int = 0, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            if regex.search(self.text(start)):
                return
            if not self.pump(0.2) and regex.search(self.text(start)) is None:
                break
        raise ReleaseCheckError(f"the reviewer never showed /{pattern}/ (exit "
                                f"{self.proc.poll()}); its screen:\n{self.text()[-2000:]}")

    def send(self, keys: str) -> int:
        """Type ``keys``; returns the output position before them."""
        mark = len(self.out)
        os.write(self.master, keys.encode())
        return mark

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.pump(0.2)
        while select.select([self.master], [], [], 0)[0] and self.pump(0):
            pass  # what it painted before exiting
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            raise ReleaseCheckError(f"the reviewer did not exit; its screen:\n"
                                    f"{self.text()[-2000:]}")
        os.close(self.master)
        return self.proc.returncode


def first_card(flashmark: Path, vault: Path, cwd: Path) -> None:
    """The installed reviewer paints its first card and exits 0 (the benchmark switch)."""
    term = Terminal([flashmark, "review", vault, "--now", NOW], cwd,
                    clean_env(TERM="xterm-256color", FLASHMARK_EXIT_AFTER_FIRST_CARD="1"))
    code = term.finish()
    if code != 0 or not PAINTED.search(bytes(term.out)):
        raise ReleaseCheckError(f"flashmark review painted no first card (exit {code}):\n"
                                f"{term.text()[-2000:]}")


def review_and_rate(flashmark: Path, vault: Path, cwd: Path) -> str:
    """Show the first card, its answer, rate it Good, quit: the rating must be in a note
    and in the review log, and the exit code 0. Returns the rated note's path."""
    before = {p: p.read_bytes() for p in vault.rglob("*.md")}
    reviews = vault / ".flashmark" / "reviews.jsonl"
    term = Terminal([flashmark, "review", vault, "--now", NOW], cwd,
                    clean_env(TERM="xterm-256color"))
    try:
        term.wait_for(r"Show answer")
        term.wait_for(r"\.md")  # the card's note, shown above the card once it is loaded
        mark = term.send(" ")
        term.wait_for(r"3 Good", start=mark)  # the rating buttons, shown with the answer
        term.send("3")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
                reviews.exists() and '"rating"' in reviews.read_text(encoding="utf-8")):
            term.pump(0.2)
        term.send("q")
    finally:
        code = term.finish()
    if code != 0:
        raise ReleaseCheckError(f"flashmark review exited {code}:\n{term.text()[-2000:]}")
    if not reviews.exists():
        raise ReleaseCheckError(f"no review log after a rating:\n{term.text()[-2000:]}")
    events = [json.loads(line) for line in reviews.read_text(encoding="utf-8").splitlines()]
    rated = [e for e in events if e.get("rating") == "good"]
    changed = [p for p, data in before.items() if p.read_bytes() != data]
    if len(rated) != 1 or len(changed) != 1:
        raise ReleaseCheckError(f"expected one Good rating and one changed note, found "
                                f"{len(rated)} ratings {events} and changed notes {changed}")
    if "<!--SR:" not in changed[0].read_text(encoding="utf-8"):
        raise ReleaseCheckError(f"{changed[0]} changed but holds no SR comment")
    return changed[0].relative_to(vault).as_posix()


def check_installed(py: Path, version: str, notes: Path, work: Path, *, full: bool,
                    label: str) -> None:
    bindir = py.parent
    flashmark = bindir / "flashmark"
    run_dir = work / "run"  # empty: nothing of the source next to the commands
    run_dir.mkdir(exist_ok=True)
    env = clean_env()
    where = run([py, "-I", "-c", "import flashmark; print(flashmark.__file__)"], cwd=run_dir,
                env=env).strip()
    if not Path(where).resolve().is_relative_to(bindir.parent.resolve()):
        raise ReleaseCheckError(f"flashmark was imported from {where}, not the fresh environment")
    commands: list[list[str | Path]] = [[flashmark, "--version"],
                                        [py, "-m", "flashmark", "--version"]]
    for cmd in commands:
        shown = run(cmd, cwd=run_dir, env=env).strip()
        if shown != f"flashmark {version}":
            raise ReleaseCheckError(f"{' '.join(map(str, cmd))} printed {shown!r}, "
                                    f"expected 'flashmark {version}'")
    vault = run_dir / f"notes-{label}"  # a copy per install: --keep shows each one's writes
    shutil.copytree(notes, vault, ignore=shutil.ignore_patterns(".flashmark"))
    lines = run([flashmark, "scan", "--json", vault, "--now", NOW], cwd=run_dir,
                env=env).splitlines()
    cards = [json.loads(line) for line in lines]
    if not cards or not all("id" in c and "deck" in c for c in cards):
        raise ReleaseCheckError(f"scan --json gave no cards: {lines[:3]}")
    log(f"  scan --json: {len(cards)} cards")
    first_card(flashmark, vault, run_dir)
    log("  review: first card painted")
    if not full:
        return
    apkg = run_dir / f"notes-{label}.apkg"
    run([flashmark, "export", vault, "-o", apkg], cwd=run_dir, env=env)
    with zipfile.ZipFile(apkg) as zf:
        if not any(n.startswith("collection.anki2") for n in zf.namelist()):
            raise ReleaseCheckError(f"export wrote no Anki collection: {zf.namelist()}")
    log(f"  export: {apkg.name}, {apkg.stat().st_size} bytes")
    if "complete " not in run([flashmark, "completion", "bash"], cwd=run_dir, env=env):
        raise ReleaseCheckError("flashmark completion bash printed no `complete` line")
    query = run(["bash", "-c", f'"{flashmark}" 8>&1 9>/dev/null >/dev/null'], cwd=run_dir,
                env=clean_env(_ARGCOMPLETE="1", COMP_LINE="flashmark sc", COMP_POINT="12",
                              _ARGCOMPLETE_SHELL="bash"))
    if "scan" not in query.split():
        raise ReleaseCheckError(f"completing `flashmark sc` offered {query!r}, not scan")
    log("  completion: script and a query answered")
    note = review_and_rate(flashmark, vault, run_dir)
    log(f"  review: rated Good, written into {note} and the review log, exit 0")


# -- the whole check ---------------------------------------------------------------------


def check(python: str, source: Path, work: Path, *, contents: bool) -> None:
    shown = run([python, "-c", "import sys; print(sys.version.split()[0])"], cwd=work).strip()
    log(f"Python {shown} ({python}); source {source}; work folder {work}")
    tree = work / "tree"
    tree.mkdir()
    snapshot(source, tree)
    version = source_version(tree)
    expected = package_files(tree)

    tools = venv(python, work / "tools")
    requires = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))[
        "build-system"]["requires"]
    # readme_renderer[md]: twine check alone does not render Markdown without it.
    pip_install(tools, "build", "twine", "readme_renderer[md]", *requires,
                what="installing build tools")
    dist = work / "dist"
    build(tools, tree, dist, "--sdist", "--wheel")
    sdist, wheel = only(dist, "*.tar.gz"), only(dist, "*.whl")
    unpacked = work / "sdist"
    with tarfile.open(sdist) as tf:
        tf.extractall(unpacked, filter="data")
    resdist = work / "dist-from-sdist"
    build(tools, only(unpacked, "flashmark-*"), resdist, "--wheel")
    rewheel = only(resdist, "*.whl")
    log(f"built {sdist.name}, {wheel.name} and {rewheel.name} (from the sdist)")

    run([tools, "-m", "twine", "check", "--strict", sdist, wheel, rewheel], cwd=work,
        what="twine check --strict")
    for label, whl in (("the wheel", wheel), ("the wheel built from the sdist", rewheel)):
        meta, names = wheel_metadata(whl)
        check_metadata(meta, names, version, label)
        if contents:
            check_contents(names, expected, label)
        description = work / "long-description.md"
        description.write_text(long_description(meta), encoding="utf-8")
        run([tools, "-c", RENDER, description], cwd=work,
            what=f"rendering the long description of {label}")
    log(f"metadata: twine check passed, version {version}, MIT + LICENSE, URLs, "
        f"README renders" + (f"; all {len(expected)} package files in both wheels"
                             if contents else "; file comparison skipped"))

    runtime = venv(python, work / "venv")
    pip_install(runtime, wheel, what=f"installing {wheel.name} into a fresh environment")
    log(f"installed {wheel.name} into a fresh environment")
    check_installed(runtime, version, tree / "notes", work, full=True, label="wheel")
    pip_install(runtime, "--force-reinstall", "--no-deps", rewheel,
                what=f"installing {rewheel.name} (from the sdist)")
    log("installed the wheel built from the sdist")
    check_installed(runtime, version, tree / "notes", work, full=False, label="sdist-wheel")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter to build with and install into (default: this one)")
    ap.add_argument("--source", type=Path, default=REPO,
                    help="the source tree to check (default: this repository)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--skip-contents-check", action="store_true",
                    help="do not compare the wheels' files with the source package")
    args = ap.parse_args(argv)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="flashmark-release-"))
    try:
        check(args.python, args.source.resolve(), work, contents=not args.skip_contents_check)
    except ReleaseCheckError as exc:
        log(f"FAILED: {exc}")
        return 1
    except subprocess.TimeoutExpired as exc:
        log(f"FAILED: timed out: {exc}")
        return 1
    finally:
        if args.keep:
            log(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    log(f"passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""flashmark as it ships: one version, the licence, `python -m flashmark`, the stylesheet as
package data, shell completion answered from the parser, and scripts/release_check.py
failing when a file the package needs is left out of the wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import flashmark
from flashmark.errors import EXIT_INTERNAL, BrokenInstallError
from flashmark.tui import app as tui_app

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
FLASHMARK = Path(sys.executable).parent / "flashmark"
STYLESHEET_DATA = '"tui/*.tcss"'


def _run(*argv: str | Path, env: dict[str, str] | None = None,
         cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env,
                          cwd=cwd, stdin=subprocess.DEVNULL, timeout=600)


# -- metadata ------------------------------------------------------------------------------


def test_the_version_is_written_once_and_printed_by_both_entry_points(tmp_path: Path) -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "flashmark.__version__"}
    for argv in ([FLASHMARK, "--version"], [sys.executable, "-m", "flashmark", "--version"]):
        done = _run(*argv, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (0, f"flashmark {flashmark.__version__}\n")


def test_python_dash_m_runs_the_same_commands(vault: Path) -> None:
    by_module = _run(sys.executable, "-m", "flashmark", "scan", "--json", vault)
    by_script = _run(FLASHMARK, "scan", "--json", vault)
    assert by_module.returncode == by_script.returncode == 0
    assert by_module.stdout == by_script.stdout and by_module.stdout.count("\n") > 10


def test_the_license_file_is_the_declared_licence() -> None:
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text


def test_project_urls_are_the_placeholders_the_readme_names() -> None:
    urls = PYPROJECT["project"]["urls"]
    assert {"Homepage", "Documentation", "Issues"} <= set(urls)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert urls["Homepage"] in readme
    assert all(u.startswith(urls["Homepage"]) for u in urls.values())


def test_every_non_python_file_of_the_package_is_declared_as_package_data() -> None:
    """The fast half of the release check's file comparison, on the declared patterns."""
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["flashmark"]
    root = REPO / "src" / "flashmark"
    data = [p.relative_to(root) for p in root.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert data, "the package has data files (at least py.typed and the stylesheet)"
    undeclared = [str(p) for p in data if not any(p.match(pat) for pat in patterns)]
    assert undeclared == []


# -- the stylesheet ------------------------------------------------------------------------


def test_the_stylesheet_is_read_through_importlib_resources() -> None:
    assert (REPO / "src/flashmark/tui/flashmark.tcss").read_text(
        encoding="utf-8") == tui_app.FlashmarkApp.CSS
    assert tui_app.FlashmarkApp.CSS_PATH is None


def test_a_missing_stylesheet_is_a_one_line_broken_install_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An install without the file (what pip gave before) names it instead of a traceback."""
    monkeypatch.setattr("importlib.resources.files", lambda package: tmp_path)
    with pytest.raises(BrokenInstallError) as caught:
        tui_app.load_stylesheet()
    assert caught.value.exit_code == EXIT_INTERNAL
    assert "stylesheet flashmark.tcss is missing" in str(caught.value)


# -- shell completion ----------------------------------------------------------------------


def _bash_complete(line: str, tmp_path: Path) -> list[str]:
    """What bash offers for ``line`` + Tab, through the script `flashmark completion bash`
    prints and the installed command (the way a user's shell runs it)."""
    script = tmp_path / "flashmark.bash"
    script.write_text(_run(FLASHMARK, "completion", "bash").stdout, encoding="utf-8")
    words = line.split(" ")
    program = f"""
source {script}
COMP_WORDS=({" ".join(f"'{w}'" for w in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE='{line}'
COMP_POINT={len(line)}
_python_argcomplete flashmark '{words[-1]}' '{words[-2]}'
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    env = dict(os.environ, PATH=f"{FLASHMARK.parent}{os.pathsep}{os.environ['PATH']}")
    done = _run("bash", "--norc", "-c", program, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return [w.strip() for w in done.stdout.splitlines() if w.strip()]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_commands_and_options_from_the_parser(tmp_path: Path) -> None:
    from flashmark.cli.main import build_parser

    commands = next(a for a in build_parser()._actions
                    if a.__class__.__name__ == "_SubParsersAction").choices
    assert commands is not None
    offered = _bash_complete("flashmark ", tmp_path)
    assert set(commands) <= set(offered)
    assert _bash_complete("flashmark ex", tmp_path) == ["export"]
    assert _bash_complete("flashmark review --th", tmp_path) == ["--theme"]
    assert _bash_complete("flashmark review --theme ", tmp_path) == ["dark", "light"]
    shells = [w for w in _bash_complete("flashmark completion ", tmp_path) if w[0] != "-"]
    assert shells == ["bash", "zsh", "fish"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="needs fish")
def test_fish_completes_from_the_parser(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=f"{FLASHMARK.parent}{os.pathsep}{os.environ['PATH']}")
    program = ("flashmark completion fish | source; complete -C 'flashmark ex'; "
               "echo SPLIT; complete -C 'flashmark review --theme '")
    done = _run("fish", "--no-config", "-c", program, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.split("SPLIT\n")
    assert [line.split("\t")[0] for line in first.splitlines()] == ["export"]
    assert [line.split("\t")[0] for line in second.splitlines()] == ["dark", "light"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_script_its_parser_accepts(shell: str) -> None:
    done = _run(FLASHMARK, "completion", shell)
    assert done.returncode == 0 and "flashmark" in done.stdout
    assert ("complete --command flashmark" in done.stdout) == (shell == "fish")
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed: only the script's text is checked")
    syntax = _run(shell, "-n", "-c", done.stdout) if shell != "fish" else _run(
        "fish", "--no-execute", "-c", done.stdout)
    assert syntax.returncode == 0, syntax.stderr


def test_completion_of_an_unknown_shell_is_a_usage_error() -> None:
    done = _run(FLASHMARK, "completion", "powershell")
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_a_normal_start_does_not_import_argcomplete(vault: Path) -> None:
    probe = ("import sys; from flashmark.cli.main import main; main(['scan', sys.argv[1]]); "
             "print('argcomplete' in sys.modules)")
    done = _run(sys.executable, "-c", probe, vault)
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "False"


# -- the release check ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tree_without_stylesheet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's tracked files, with the stylesheet dropped from the package data (the
    state the issue found: only py.typed declared)."""
    tree = tmp_path_factory.mktemp("broken") / "flashmark"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, tree / name)
    pyproject = tree / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert STYLESHEET_DATA in text
    pyproject.write_text(text.replace(f", {STYLESHEET_DATA}", ""), encoding="utf-8")
    return tree


def _release_check(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return _run(sys.executable, REPO / "scripts" / "release_check.py", *args)


@pytest.mark.slow
def test_release_check_fails_when_the_stylesheet_is_not_packaged(
        tree_without_stylesheet: Path) -> None:
    done = _release_check("--source", tree_without_stylesheet)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the wheel lacks files of the package" in done.stdout
    assert "flashmark/tui/flashmark.tcss" in done.stdout
    assert "passed" not in done.stdout


@pytest.mark.slow
def test_the_installed_wheel_without_its_stylesheet_fails_at_the_reviewer(
        tree_without_stylesheet: Path) -> None:
    """Without the file comparison the run-time steps catch it: the installed reviewer
    stops with the one-line error (no traceback), and the check fails there."""
    done = _release_check("--source", tree_without_stylesheet, "--skip-contents-check")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "scan --json: " in done.stdout  # the commands without the TUI ran
    assert "flashmark review painted no first card (exit 70)" in done.stdout
    assert "stylesheet flashmark.tcss is missing from the installed flashmark" in done.stdout
    assert "Traceback" not in done.stdout

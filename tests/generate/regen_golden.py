"""Rewrite tests/generate/golden/*.after.md from the *.before.md files (run by hand after
a deliberate format change; then review the diff): `python tests/generate/regen_golden.py`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from flashmark.config import Settings
from flashmark.generate.engine import Options, generate

GOLDEN = Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository: `tests`

from tests.generate.test_generate_golden import NOW  # noqa: E402


def main() -> None:
    for before in sorted(GOLDEN.glob("*.before.md")):
        name = before.name.removesuffix(".before.md")
        with tempfile.TemporaryDirectory() as tmp:
            vault = Path(tmp)
            shutil.copytree(GOLDEN / "scripts", vault / "scripts")
            note = vault / f"{name}.md"
            shutil.copy(before, note)
            report = generate(vault, Settings(), Options(now=NOW), targets=[note],
                              use_cache=False, jobs=1)
            (GOLDEN / f"{name}.after.md").write_bytes(note.read_bytes())
            for p in report.problems:
                print(f"{name}: {p}")


if __name__ == "__main__":
    main()

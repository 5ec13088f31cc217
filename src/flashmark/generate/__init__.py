"""Regenerate pytextgen sections (`flashmark generate`).

**Generating runs the Python code written in the notes** (the ```` ```Python ```` blocks
marked ``# pytextgen generate data|module``). Only the `generate` command imports the
runner; nothing else in flashmark executes note code.

Modules: ``finder`` (blocks, imports, sections), ``runner`` (executes blocks),
``compat`` (the ``pytextgen`` namespace note code imports), ``sections`` (wire format,
header, when to rewrite), ``states`` (old SR comments follow their cards by text),
``cache`` (skip unchanged notes) and ``engine`` (the run: `Edit`s applied through
`flashmark.vault.edit.apply_edits`).
"""

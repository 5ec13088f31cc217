"""Export to Anki (`flashmark export`): Markdown -> Anki HTML, note types with fixed ids,
GUIDs from card identity with an export manifest, media, and optional scheduling through
the official `anki` library. See docs/export.md."""

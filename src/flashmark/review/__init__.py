"""UI-free reviewing: find a card, rate it (note + log), undo. The TUI and CLI call this."""

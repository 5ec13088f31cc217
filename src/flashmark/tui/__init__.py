"""The terminal UI (Textual): deck list, reviewer, statistics. Only this package imports
Textual; everything it shows comes from ``flashmark.review`` and ``flashmark.stats``."""

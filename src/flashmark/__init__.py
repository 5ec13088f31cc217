"""flashmark: spaced repetition for cards written inside Markdown notes.

The package is layered (see docs/architecture.md): ``syntax`` parses text into
questions, ``model`` holds the frozen data types, ``vault`` does file IO, and the
``cli`` turns it all into commands. Importing :mod:`flashmark` is cheap on purpose:
nothing heavy (Textual, fsrs, genanki) is imported until a command needs it.
"""

__version__ = "0.1.0"

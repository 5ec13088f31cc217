"""The three Anki note types flashmark exports to, with fixed ids.

Anki identifies a note type by its id. Changing the *fields* or the *number of card
templates* of a note type that is already in a collection makes Anki import a copy of
the note type, and notes whose GUID matches an existing note of the old type are then
skipped: so the fields and templates below are frozen. The CSS and the template text
may change (Anki then updates the note type on import, if the package is newer).

- ``flashmark Basic``: one card, Front -> Back (``:@:`` and ``?@?`` questions).
- ``flashmark Basic (and reversed card)``: Front -> Back first, Back -> Front second
  (``::@::`` and ``??@??``), the order of the siblings in the SR comment.
- ``flashmark Cloze``: one note per cloze block, one card per deletion group.

Every note type also has ``Source`` (the note's path and the question's line, as text)
and ``Link`` (an ``obsidian://open`` URL to the note): the answer side shows the source
as a link back to Obsidian.
"""

from __future__ import annotations

from typing import Any

import genanki

from flashmark.model import MODEL_BASIC, MODEL_CLOZE, MODEL_REVERSED

__all__ = ["BASIC", "CLOZE", "MODELS", "REVERSED", "model_json"]

BASIC_ID = 1745203911
REVERSED_ID = 1745203912
CLOZE_ID = 1745203913

CSS = """\
.card {
  font-family: -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", sans-serif;
  font-size: 20px;
  line-height: 1.45;
  text-align: left;
  color: #1f2328;
  background: #ffffff;
  max-width: 46em;
  margin: 0 auto;
}
.nightMode .card, .night_mode .card { color: #e6edf3; background: #1e1e1e; }
.fm-front, .fm-back, .fm-text { overflow-wrap: anywhere; }
.fm-back { margin-top: 0.4em; }
hr#answer { margin: 0.8em 0; }
img { max-width: 100%; height: auto; }
code { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: 0.9em;
  background: rgba(127, 127, 127, 0.15); padding: 0.05em 0.25em; border-radius: 3px; }
pre { background: rgba(127, 127, 127, 0.12); padding: 0.6em 0.8em; border-radius: 4px;
  overflow-x: auto; }
pre code { background: none; padding: 0; font-size: 0.85em; }
blockquote { margin: 0.5em 0; padding: 0.1em 0.9em; border-left: 3px solid #8b949e; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #8b949e; padding: 0.2em 0.5em; }
mark { background: #fff3a3; color: inherit; padding: 0 0.1em; }
.nightMode mark, .night_mode mark { background: #6b5d00; }
.fm-callout { display: block; margin-bottom: 0.2em; }
.fm-missing-media { color: #9a6700; font-style: italic; }
.cloze { font-weight: bold; color: #0969da; }
.nightMode .cloze, .night_mode .cloze { color: #58a6ff; }
.fm-source { margin-top: 1.2em; font-size: 0.65em; color: #8b949e; }
.fm-source a { color: inherit; }
"""

_SOURCE = '<div class="fm-source"><a href="{{Link}}">{{Source}}</a></div>'

_FIELDS = [{"name": "Front"}, {"name": "Back"}, {"name": "Source"}, {"name": "Link"}]

BASIC = genanki.Model(
    BASIC_ID, "flashmark Basic",
    fields=_FIELDS,
    templates=[{
        "name": "Card 1",
        "qfmt": '<div class="fm-front">{{Front}}</div>',
        "afmt": '{{FrontSide}}\n<hr id="answer">\n<div class="fm-back">{{Back}}</div>\n'
                + _SOURCE,
    }],
    css=CSS)

REVERSED = genanki.Model(
    REVERSED_ID, "flashmark Basic (and reversed card)",
    fields=[dict(f) for f in _FIELDS],
    templates=[
        {
            "name": "Card 1",
            "qfmt": '<div class="fm-front">{{Front}}</div>',
            "afmt": '{{FrontSide}}\n<hr id="answer">\n<div class="fm-back">{{Back}}</div>\n'
                    + _SOURCE,
        },
        {
            "name": "Card 2",
            "qfmt": '<div class="fm-front">{{Back}}</div>',
            "afmt": '{{FrontSide}}\n<hr id="answer">\n<div class="fm-back">{{Front}}</div>\n'
                    + _SOURCE,
        },
    ],
    css=CSS)

CLOZE = genanki.Model(
    CLOZE_ID, "flashmark Cloze",
    fields=[{"name": "Text"}, {"name": "Source"}, {"name": "Link"}],
    templates=[{
        "name": "Cloze",
        "qfmt": '<div class="fm-text">{{cloze:Text}}</div>',
        "afmt": '<div class="fm-text">{{cloze:Text}}</div>\n' + _SOURCE,
    }],
    css=CSS,
    model_type=genanki.Model.CLOZE)

# model letter (as kept in the export manifest) -> model
MODELS: dict[str, Any] = {MODEL_BASIC: BASIC, MODEL_REVERSED: REVERSED, MODEL_CLOZE: CLOZE}


def model_json(model: Any, stamp: int) -> dict[str, Any]:
    """The note type as it goes into the package's ``col.models`` (genanki's JSON)."""
    data: dict[str, Any] = model.to_json(stamp, 1)
    return data

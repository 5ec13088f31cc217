"""flashmark.model: the fast Question constructor makes the same objects as __init__."""

from __future__ import annotations

from dataclasses import fields, replace

from flashmark.model import Question, QuestionType, Span, SrComment, make_question


def test_make_question_equals_the_dataclass_constructor() -> None:
    span = Span(3, 40, 1, 2)
    sr = SrComment(Span(20, 40, 2, 2), "!2026-01-01,1,250")
    args = (QuestionType.CLOZE, span, "a {@{b}@}", "", "", sr, "deck/x", 19, False)
    made = make_question(*args, 1, None, "a {@{b}@}")
    built = Question(*args, 0, 1, None, "a {@{b}@}")
    assert made == built
    # every field is set, and only those (a new field must be added to make_question)
    assert vars(made) == vars(built)
    assert set(vars(made)) == {f.name for f in fields(Question)}
    assert replace(made, ordinal=2).ordinal == 2
    assert made.card_count == 1 and made.deletions == ()

"""Version-1 events (whole-comment judging) stay readable after the upgrade to asks: a worker's
changelog or a compacted topic written before it still holds them.
"""

from __future__ import annotations

from typing import Any

import pytest

from contracts.events import CommentClassified, SuggestionDetected, SuggestionThemed, Verdict

TEXT = "Love it. Please add offline maps"


def accepted() -> dict[str, Any]:
    """A version-1 event's comment, as JSON."""
    return {
        "schema_version": 1, "key": "x:c1", "comment_id": "c1", "platform": "x",
        "product": "trailmate", "author_id": "a1", "text": TEXT,
        "created_at": "2026-01-02T03:04:05Z", "received_at": "2026-01-02T03:04:06Z",
        "source": {"topic": "feedback.comments", "partition": 0, "offset": 7},
    }


def test_a_version_1_suggestion_verdict_reads_with_the_whole_comment_as_its_ask() -> None:
    v1 = {
        "schema_version": 1, "key": "x:c1", "comment": accepted(), "verdict": "suggestion",
        "reason": "classifier", "score": 0.9, "threshold": 0.5, "classifier_version": "old",
        "classified_at": "2026-01-02T03:04:07Z",
    }
    event = CommentClassified.model_validate(v1)
    assert event.schema_version == 3
    assert event.verdict is Verdict.SUGGESTION
    assert [(ask.text, ask.start, ask.end, ask.score) for ask in event.asks] == [
        (TEXT, 0, len(TEXT), 0.9)
    ]


def test_a_version_1_rejection_reads_without_asks() -> None:
    v1 = {
        "schema_version": 1, "key": "x:c1", "comment": accepted(), "verdict": "not_suggestion",
        "reason": "classifier", "score": 0.1, "threshold": 0.5, "classifier_version": "old",
        "classified_at": "2026-01-02T03:04:07Z",
    }
    assert CommentClassified.model_validate(v1).asks == []


def test_a_version_1_detection_reads_with_the_whole_comment_as_its_ask() -> None:
    v1 = {
        "schema_version": 1, "suggestion_id": "x:c1", "comment": accepted(), "score": 0.9,
        "embedding": [1.0, 0.0], "embedding_model": "m", "detected_at": "2026-01-02T03:04:07Z",
    }
    event = SuggestionDetected.model_validate(v1)
    assert (event.ask.text, event.ask.start, event.ask.end) == (TEXT, 0, len(TEXT))


def test_a_version_1_member_reads_with_its_text_as_ask_and_comment() -> None:
    v1 = {
        "schema_version": 1, "suggestion_id": "x:c1", "product": "trailmate", "theme_id": "t-1",
        "platform": "x", "comment_id": "c1", "author_id": "a1", "text": "Please add offline maps",
        "asked_at": "2026-01-02T03:04:05Z", "placed_at": "2026-01-02T03:04:08Z",
    }
    member = SuggestionThemed.model_validate(v1)
    assert (member.schema_version, member.ask_start, member.ask_end, member.comment_text) == (
        3, 0, len("Please add offline maps"), "Please add offline maps"
    )
    assert member.rating is None


MEMBER_V2 = {
    "schema_version": 2, "suggestion_id": "x:c1#1", "product": "trailmate", "theme_id": "t-1",
    "platform": "x", "comment_id": "c1", "author_id": "a1", "text": "add offline maps", "ask_start": 7,
    "ask_end": 23, "comment_text": "Please add offline maps", "asked_at": "2026-01-02T03:04:05Z",
    "placed_at": "2026-01-02T03:04:08Z",
}


def test_a_version_2_member_reads_without_a_rating() -> None:
    member = SuggestionThemed.model_validate(MEMBER_V2)
    assert (member.schema_version, member.rating, member.text) == (3, None, "add offline maps")
    assert SuggestionThemed.model_validate({**MEMBER_V2, "schema_version": 3, "rating": 2}).rating == 2
    with pytest.raises(ValueError, match="rating"):
        SuggestionThemed.model_validate({**MEMBER_V2, "rating": 6})


def test_an_unknown_version_is_still_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        SuggestionThemed.model_validate({**MEMBER_V2, "schema_version": 4})


@pytest.mark.parametrize(
    "model",
    [CommentClassified, SuggestionDetected, SuggestionThemed],
)
@pytest.mark.parametrize(
    "payload",
    [
        {"schema_version": 1},
        {"schema_version": 1, "text": 7, "comment": "not an object", "verdict": "suggestion"},
        {"schema_version": 1, "text": "", "comment": {"text": None}, "verdict": "suggestion"},
        {"schema_version": 1, "text": ["x"], "comment": {"text": 3}, "asks": "many"},
    ],
)
def test_a_broken_version_1_record_is_refused_as_invalid_never_crashes(
    model: Any, payload: dict[str, Any]
) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        model.model_validate(payload)

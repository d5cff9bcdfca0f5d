"""Every Kafka topic of youasked, declared once: name, key, compaction, what it carries."""

from __future__ import annotations

from dataclasses import dataclass

from youasked.contracts.events import (
    CommentAccepted,
    CommentClassified,
    CommentReceived,
    DeadLetter,
    Event,
    SuggestionDetected,
    SuggestionThemed,
    ThemeChanged,
)


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic's declaration. ``partitions=None`` takes ``Settings.topic_partitions``."""

    name: str
    key: str
    payload: type[Event] | None
    description: str
    compacted: bool = False
    partitions: int | None = None
    public: bool = True


COMMENTS = TopicSpec(
    name="feedback.comments",
    key="platform:comment_id (any key is accepted)",
    payload=CommentReceived,
    description="Raw social comments from producers, the webhook and replays.",
)
COMMENTS_DLQ = TopicSpec(
    name="feedback.comments.dlq",
    key="source topic:partition:offset",
    payload=DeadLetter,
    description="Inputs of feedback.comments that were not passed on, with the reason.",
)
COMMENTS_VALIDATED = TopicSpec(
    name="feedback.comments.validated",
    key="platform:comment_id",
    payload=CommentAccepted,
    description="Internal: valid comments re-keyed by identity so that duplicates meet.",
    public=False,
)
COMMENTS_ACCEPTED = TopicSpec(
    name="feedback.comments.accepted",
    key="platform:comment_id",
    payload=CommentAccepted,
    description="Valid, normalized comments, each identity once within the retention horizon.",
)

COMMENTS_CLASSIFIED = TopicSpec(
    name="feedback.comments.classified",
    key="platform:comment_id",
    payload=CommentClassified,
    description="Every accepted comment with its verdict, score and reason.",
)
SUGGESTIONS = TopicSpec(
    name="feedback.suggestions",
    key="product",
    payload=SuggestionDetected,
    description="Valid suggestions with their embeddings; one product's suggestions share a partition.",
)

THEMES = TopicSpec(
    name="feedback.themes",
    key="theme_id",
    payload=ThemeChanged,
    description="The latest state of every theme, merges and splits included (compacted).",
    compacted=True,
)
THEME_MEMBERS = TopicSpec(
    name="feedback.theme-members",
    key="suggestion_id",
    payload=SuggestionThemed,
    description="Which theme each suggestion is in, with its comment reference (compacted).",
    compacted=True,
)

THEME_TICKS = TopicSpec(
    name="feedback.theme-ticks",
    key="product",
    payload=None,
    description="Internal: time steps that let a product re-cluster when due by time.",
    public=False,
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    COMMENTS,
    COMMENTS_DLQ,
    COMMENTS_VALIDATED,
    COMMENTS_ACCEPTED,
    COMMENTS_CLASSIFIED,
    SUGGESTIONS,
    THEMES,
    THEME_MEMBERS,
    THEME_TICKS,
)


def topic_by_name(name: str) -> TopicSpec:
    """The declaration of ``name``; raises ``KeyError`` for an undeclared topic."""
    for spec in ALL_TOPICS:
        if spec.name == name:
            return spec
    raise KeyError(name)

"""Every Kafka topic of youasked, declared once: name, key, compaction, what it carries."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.dialogue import DialogueThreadMeasured, DialogueWeekMeasured
from contracts.events import (
    CommentAccepted,
    CommentClassified,
    CommentReceived,
    DeadLetter,
    Event,
    SuggestionDetected,
    SuggestionThemed,
    ThemeChanged,
)
from contracts.impact import ClosureImpact, PraiseDetected
from contracts.lifecycle import (
    AuthorErased,
    ClosureEvent,
    CommandOutcome,
    MonthlyUpdate,
    ThemeCommand,
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
    description="Internal: valid comments keyed by identity, in their author's partition (a hash of "
    "platform:author_id), so that duplicates meet and one author's comments meet.",
    public=False,
)
COMMENTS_ACCEPTED = TopicSpec(
    name="feedback.comments.accepted",
    key="platform:comment_id",
    payload=CommentAccepted,
    description="Valid, normalized comments, each identity once within the retention horizon; each in "
    "its author's partition (a hash of platform:author_id), so one author's comments meet in one worker.",
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

THEME_COMMANDS = TopicSpec(
    name="feedback.theme-commands",
    key="product",
    payload=ThemeCommand,
    description="Product managers' decisions (status, cost, release, merge, split); keyed by product "
    "so that a product's commands and suggestions share a partition.",
)
THEME_OUTCOMES = TopicSpec(
    name="feedback.theme-outcomes",
    key="command_id",
    payload=CommandOutcome,
    description="The outcome of every theme command: accepted with its changes, or rejected with a reason.",
)
CLOSURES = TopicSpec(
    name="feedback.closures",
    key="closure:{theme_id}:{release version or 'none'}",
    payload=ClosureEvent,
    description="'You asked, we did': exactly one closure per theme and release, with everyone who asked.",
)
MONTHLY_UPDATES = TopicSpec(
    name="feedback.monthly-updates",
    key="product:YYYY-MM",
    payload=MonthlyUpdate,
    description="What shipped in a month, per product, as data and as text (compacted: latest wins).",
    compacted=True,
)

ERASURES = TopicSpec(
    name="feedback.erasures",
    key="author_hash",
    payload=AuthorErased,
    description="People whose data was erased, by hash (compacted): consumers delete and keep out "
    "what they hold of each from before the erasure.",
    compacted=True,
)

PRAISE = TopicSpec(
    name="feedback.praise",
    key="product",
    payload=PraiseDetected,
    description="Comments judged praise rather than asks, with their embeddings; keyed by product so "
    "that a product's praise meets its shipped themes in one partition.",
)
CLOSURE_IMPACT = TopicSpec(
    name="feedback.closure-impact",
    key="{closure_id}:{week}",
    payload=ClosureImpact,
    description="Per shipped closure and event-time week after shipping (1-12): asks before and after "
    "as rates per week, distinct people, follow-up praise (compacted: latest version wins).",
    compacted=True,
)

DIALOGUE_TURNS = TopicSpec(
    name="feedback.dialogue-turns",
    key="product",
    payload=CommentClassified,
    description="Internal: every comment of a reply thread (customers' and the brand's), keyed by "
    "product so that a thread's comments and its product's weekly measures meet in one partition.",
    public=False,
)
DIALOGUE_THREADS = TopicSpec(
    name="feedback.dialogue-threads",
    key="platform:thread_id",
    payload=DialogueThreadMeasured,
    description="The latest dialogue measures of each reply thread: first response, service level, "
    "escalation (compacted).",
    compacted=True,
)
DIALOGUE_WEEKS = TopicSpec(
    name="feedback.dialogue-weeks",
    key="product:platform:week",
    payload=DialogueWeekMeasured,
    description="Dialogue measures per product, platform and ISO week: first response p50/p90, share "
    "within the service level, share closed without escalation (compacted: latest wins).",
    compacted=True,
)


def _dead_letters_of(spec: TopicSpec, stage: str) -> TopicSpec:
    return TopicSpec(
        name=f"{spec.name}.dlq",
        key="source topic:partition:offset",
        payload=DeadLetter,
        description=f"Records of {spec.name} that the {stage} stage could not process, with the stage, "
        "the reason and the original record.",
    )


COMMENTS_VALIDATED_DLQ = _dead_letters_of(COMMENTS_VALIDATED, "ingest-accept")
COMMENTS_ACCEPTED_DLQ = _dead_letters_of(COMMENTS_ACCEPTED, "classify")
SUGGESTIONS_DLQ = _dead_letters_of(SUGGESTIONS, "themes")
THEME_TICKS_DLQ = _dead_letters_of(THEME_TICKS, "themes")
THEME_COMMANDS_DLQ = _dead_letters_of(THEME_COMMANDS, "themes")
PRAISE_DLQ = _dead_letters_of(PRAISE, "themes")
COMMENTS_CLASSIFIED_DLQ = _dead_letters_of(COMMENTS_CLASSIFIED, "dialogue-route")
DIALOGUE_TURNS_DLQ = _dead_letters_of(DIALOGUE_TURNS, "dialogue")

DEAD_LETTER_TOPICS: dict[str, TopicSpec] = {
    COMMENTS.name: COMMENTS_DLQ,
    COMMENTS_VALIDATED.name: COMMENTS_VALIDATED_DLQ,
    COMMENTS_ACCEPTED.name: COMMENTS_ACCEPTED_DLQ,
    SUGGESTIONS.name: SUGGESTIONS_DLQ,
    THEME_TICKS.name: THEME_TICKS_DLQ,
    THEME_COMMANDS.name: THEME_COMMANDS_DLQ,
    PRAISE.name: PRAISE_DLQ,
    COMMENTS_CLASSIFIED.name: COMMENTS_CLASSIFIED_DLQ,
    DIALOGUE_TURNS.name: DIALOGUE_TURNS_DLQ,
}
"""Each worker input's dead-letter topic (by the input's unprefixed name)."""

STAGES: dict[str, tuple[TopicSpec, ...]] = {
    "ingest-validate": (COMMENTS,),
    "ingest-accept": (COMMENTS_VALIDATED,),
    "classify": (COMMENTS_ACCEPTED,),
    "themes": (SUGGESTIONS, THEME_TICKS, THEME_COMMANDS, PRAISE),
    "dialogue-route": (COMMENTS_CLASSIFIED,),
    "dialogue": (DIALOGUE_TURNS,),
}
"""Each stage (agent) of the worker and the topics it reads."""

ALL_TOPICS: tuple[TopicSpec, ...] = (
    COMMENTS,
    COMMENTS_DLQ,
    COMMENTS_VALIDATED,
    COMMENTS_VALIDATED_DLQ,
    COMMENTS_ACCEPTED,
    COMMENTS_ACCEPTED_DLQ,
    COMMENTS_CLASSIFIED,
    SUGGESTIONS,
    SUGGESTIONS_DLQ,
    THEMES,
    THEME_MEMBERS,
    THEME_TICKS,
    THEME_TICKS_DLQ,
    THEME_COMMANDS,
    THEME_COMMANDS_DLQ,
    THEME_OUTCOMES,
    CLOSURES,
    MONTHLY_UPDATES,
    ERASURES,
    PRAISE,
    PRAISE_DLQ,
    CLOSURE_IMPACT,
    COMMENTS_CLASSIFIED_DLQ,
    DIALOGUE_TURNS,
    DIALOGUE_TURNS_DLQ,
    DIALOGUE_THREADS,
    DIALOGUE_WEEKS,
)

WORKER_INPUTS: tuple[TopicSpec, ...] = (
    COMMENTS,
    COMMENTS_VALIDATED,
    COMMENTS_ACCEPTED,
    SUGGESTIONS,
    THEME_TICKS,
    THEME_COMMANDS,
    PRAISE,
    COMMENTS_CLASSIFIED,
    DIALOGUE_TURNS,
)
"""The topics the stream worker consumes (its consumer group's progress is measured on them)."""

"""Versioned event contracts: one frozen pydantic model per event, JSON on the wire.

Producers of ``feedback.comments`` send :class:`CommentReceived`. The ingest agent passes each
valid one on as :class:`CommentAccepted` and dead-letters each invalid one as :class:`DeadLetter`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, TypeGuard

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

# A character ``str.strip`` keeps, spelled out: Python, ECMA (JSON Schema) and Rust (pydantic)
# regexes each define ``\s`` differently.
VISIBLE = r"[^\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
Identifier = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256, pattern=VISIBLE)
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=256)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
URL_PATTERN = rf"^https?://{VISIBLE}+$"
Url = Annotated[str, StringConstraints(max_length=2048, pattern=URL_PATTERN)]


class Platform(enum.StrEnum):
    """Where a comment was posted."""

    X = "x"
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    TIKTOK = "tiktok"
    YOUTUBE = "youtube"
    APP_STORE = "app_store"
    GOOGLE_PLAY = "google_play"
    FORUM = "forum"
    OTHER = "other"


class Speaker(enum.StrEnum):
    """Who wrote a comment: a customer, or the brand's own account (a reply of its support)."""

    CUSTOMER = "customer"
    BRAND = "brand"


class Event(BaseModel):
    """Base of every event: frozen, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Engagement(Event):
    """Engagement counts on the source post, where the platform reports them."""

    likes: int | None = Field(default=None, ge=0)
    replies: int | None = Field(default=None, ge=0)
    shares: int | None = Field(default=None, ge=0)
    views: int | None = Field(default=None, ge=0)


class CommentFields(Event):
    """The fields of a social comment, common to the received and the accepted form."""

    comment_id: Identifier = Field(description="The platform's id of the comment.")
    platform: Platform
    product: Identifier = Field(description="The product the comment is about.")
    author_id: Identifier = Field(description="The platform's stable id of the author.")
    author_handle: ShortText | None = Field(default=None, description="Public handle, e.g. @ana.")
    text: str = Field(description="The comment's text, whole.")
    created_at: AwareDatetime = Field(description="When it was posted (timezone-aware).")
    thread_id: ShortText | None = Field(default=None, description="Post or thread it belongs to.")
    parent_id: ShortText | None = Field(default=None, description="Comment it replies to.")
    url: Url | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")] | None = (
        Field(default=None, description="BCP 47 tag, if known.")
    )
    engagement: Engagement | None = None
    rating: int | None = Field(default=None, ge=1, le=5, description="Store rating, if any.")
    title: ShortText | None = Field(default=None, description="Review title, if any.")
    speaker: Speaker = Field(
        default=Speaker.CUSTOMER,
        description="Who wrote it: a customer, or the brand's own account (set by the producer, or at "
        "ingest when the author is one of the product's brand accounts). A brand reply is measured "
        "as dialogue, never judged as a suggestion.",
    )

    @property
    def dedupe_key(self) -> str:
        """``platform:comment_id``: the identity of a comment across redeliveries."""
        return f"{self.platform.value}:{self.comment_id}"


def _is_version_1(data: object) -> TypeGuard[dict[str, Any]]:
    return isinstance(data, dict) and data.get("schema_version") == 1


def _speaker_from_version_1(data: object) -> object:
    """A version-1 comment (before ``speaker``) reads as version 2: its speaker is a customer."""
    if not _is_version_1(data) or "speaker" in data:
        return data
    return {**data, "schema_version": 2}


class CommentReceived(CommentFields):
    """A social comment as producers send it to ``feedback.comments`` (version 1, without
    ``speaker``, is still accepted: it is read as a customer's comment).
    """

    schema_version: Literal[2] = 2

    @model_validator(mode="before")
    @classmethod
    def _from_version_1(cls, data: object) -> object:
        return _speaker_from_version_1(data)


class SourceRef(Event):
    """Where a record was read: topic, partition and offset."""

    topic: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)


class CommentAccepted(CommentFields):
    """A valid comment, normalized (HTML character references read, NFKC, each whitespace run
    folded to one space or one line break), passed on once per dedupe key.
    """

    schema_version: Literal[2] = 2
    key: str = Field(description="platform:comment_id")
    received_at: AwareDatetime
    source: SourceRef

    @model_validator(mode="before")
    @classmethod
    def _from_version_1(cls, data: object) -> object:
        """Read a version-1 comment (kept on a topic from before ``speaker``): a customer's."""
        return _speaker_from_version_1(data)


class DeadLetterReason(enum.StrEnum):
    """Why an input record could not be used."""

    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    INVALID_FIELDS = "invalid_fields"
    UNKNOWN_PLATFORM = "unknown_platform"
    EMPTY_TEXT = "empty_text"
    TEXT_TOO_LONG = "text_too_long"
    FUTURE_TIMESTAMP = "future_timestamp"
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNREADABLE_RECORD = "unreadable_record"
    """A stage after ingest could not read a record of its input topic (not our own schema)."""
    PROCESSING_FAILED = "processing_failed"
    """A stage after ingest raised on a record (not a transient broker error): set aside, moved on."""


class DeadLetter(Event):
    """An input record that a stage did not pass on, with the original bytes and the reason.

    Every stage has a dead-letter topic of its own (``<input topic>.dlq``, see
    :data:`contracts.topics.DEAD_LETTER_TOPICS`). ``original_b64`` holds the record's
    value exactly as received, unless it would not fit in a record of its own: then it holds the
    first ``original_b64``-decoded bytes only, ``original_truncated`` is true, and
    ``original_size`` and ``original_sha256`` identify the whole.
    """

    schema_version: Literal[1] = 1
    stage: str = Field(default="ingest-validate", description="The agent that set the record aside.")
    reason: DeadLetterReason
    detail: str = Field(description="Human-readable explanation, at most 2,000 characters.")
    exception_type: str | None = Field(
        default=None, description="The exception's qualified type, when a stage raised on the record."
    )
    source: SourceRef
    original_key_b64: str | None = Field(default=None, description="Record key, base64.")
    original_b64: str = Field(description="The record's value as received, base64 (maybe truncated).")
    original_size: int | None = Field(default=None, ge=0, description="Bytes of the whole original value.")
    original_sha256: str | None = Field(
        default=None, description="SHA-256 (hex) of the whole original value."
    )
    original_truncated: bool = False
    failed_at: datetime



def _whole_comment_ask(text: object) -> dict[str, object]:
    """The ask of a version-1 event: the whole comment, as version 1 judged it."""
    whole = text if isinstance(text, str) else ""
    return {"text": whole, "start": 0, "end": len(whole)}


class Verdict(enum.StrEnum):
    """What a comment was judged to be."""

    SUGGESTION = "suggestion"
    NOT_SUGGESTION = "not_suggestion"
    MODERATED = "moderated"
    BRAND_REPLY = "brand_reply"
    """Written by the brand's own account: measured as dialogue, never judged (reason ``brand_reply``)."""


class AskSpan(Event):
    """One ask inside a comment: its text and its span in the comment's ``text`` (Python string
    offsets, end exclusive): ``comment.text[start:end] == text``.
    """

    text: str = Field(min_length=1)
    start: int = Field(ge=0)
    end: int = Field(ge=1)


class ScoredAsk(AskSpan):
    """An ask with the classifier's score for it."""

    score: float = Field(ge=0.0, le=1.0)


class CommentClassified(Event):
    """Every accepted comment's judgement: the basis of monthly counts and moderation reports.

    The comment is judged unit by unit (sentences and clauses). ``reason`` is a moderation code
    (``blocked_word``, ``promo_spam``, ``too_short``, ...) when ``verdict`` is ``moderated``;
    ``no_units`` when nothing of the author's own words is left to judge (a retweet, a quote);
    ``praise`` when every unit praises and asks for nothing, ``service_request`` when its units
    ask for a service to the writer (a code, a refund, a call) or praise, naming no change,
    ``fix_request`` when they ask to fix something ("Please fix it asap") or praise, asking no
    change, ``instruction`` when they tell the reader what to do ("Please make sure you have the
    latest version", "Click share, then ...") or praise, asking no change
    (``not_suggestion``: neither embedded nor scored; no score); ``first_stage`` when the cheap
    first stage found no unit worth embedding (``not_suggestion``); else ``classifier``.
    ``score`` is the best unit's classifier probability that it asks for a product change, the
    first stage's best unit score when that stage rejected every unit (compare it with the first
    stage's threshold in ``reason_detail``, not with ``threshold``), and None when moderation
    stopped it first. ``asks`` are the units scored at or above
    ``threshold``, in order of position: non-empty exactly when ``verdict`` is ``suggestion``. A
    unit that only gives the reason for the ask before it ("Would make sharing hikes nicer") is
    no ask of its own; one scored an ask after a unit that is not spans both units, as an ask
    that names nothing ("Please add it!") spans the unit beside it that says what it wants, and
    is one ask with an ask beside it that names something ("Add dark mode. Please add it!").
    A brand's own reply is not judged: ``verdict`` and ``reason`` are ``brand_reply`` (version 3).
    """

    schema_version: Literal[3] = 3
    key: str = Field(description="platform:comment_id")
    comment: CommentAccepted
    verdict: Verdict
    reason: str
    reason_detail: str = ""
    score: float | None = Field(default=None, ge=0.0, le=1.0)
    threshold: float = Field(ge=0.0, le=1.0)
    asks: list[ScoredAsk] = Field(default_factory=list, max_length=64)
    classifier_version: str
    classified_at: AwareDatetime

    @model_validator(mode="before")
    @classmethod
    def _from_version_1(cls, data: object) -> object:
        """Read a version-1 event (the whole comment judged as one): a suggestion's one ask is
        the whole comment, with the comment's score. A version-2 event (before brand replies)
        reads as it is.
        """
        if isinstance(data, dict) and data.get("schema_version") == 2:
            return {**data, "schema_version": 3}
        if not _is_version_1(data):
            return data
        upgraded = {**data, "schema_version": 3}
        comment = data.get("comment")
        text = comment.get("text") if isinstance(comment, dict) else None
        if data.get("verdict") == Verdict.SUGGESTION and text and "asks" not in data:
            upgraded["asks"] = [{**_whole_comment_ask(text), "score": data.get("score")}]
        return upgraded


class SuggestionDetected(Event):
    """One ask of a comment judged a suggestion, with the ask's embedding, keyed by product on
    ``feedback.suggestions``.

    A comment with several asks gives one event per ask. ``suggestion_id`` is
    ``platform:comment_id#n``, n the 1-based ordinal of the ask in the comment (``x:123#1``,
    ``x:123#2``): consumers de-duplicate on it; the comment's key is the part before the last
    ``#`` (:func:`suggestion_id_of`, :func:`comment_key_of`). ``ask`` is the ask's text and span
    in ``comment.text``, ``score`` its classifier score, ``embedding`` the L2-normalized
    embedding of the ask's text (cosine = dot product).
    """

    schema_version: Literal[2] = 2
    suggestion_id: str
    comment: CommentAccepted
    ask: AskSpan
    score: float = Field(ge=0.0, le=1.0)
    embedding: list[float] = Field(min_length=1, max_length=4096)
    embedding_model: str
    detected_at: AwareDatetime

    @model_validator(mode="before")
    @classmethod
    def _from_version_1(cls, data: object) -> object:
        """Read a version-1 event (one per comment): its ask is the whole comment."""
        if not _is_version_1(data):
            return data
        comment = data.get("comment")
        text = comment.get("text") if isinstance(comment, dict) else None
        return {"ask": _whole_comment_ask(text), **data, "schema_version": 2}


def suggestion_id_of(comment_key: str, ordinal: int) -> str:
    """The id of the ``ordinal``-th (1-based) ask of the comment ``platform:comment_id``."""
    return f"{comment_key}#{ordinal}"


def comment_key_of(suggestion_id: str) -> str:
    """The ``platform:comment_id`` a suggestion id was made from (the id itself if it has no ``#n``)."""
    head, sep, tail = suggestion_id.rpartition("#")
    return head if sep and tail.isdigit() else suggestion_id


class ThemeStatus(enum.StrEnum):
    """Where a theme stands in the clustering: live, or folded into another theme.

    A live theme is ``emerging`` while fewer suggestions than a theme is founded from ask it
    (two or three people asking the same thing in different words), then ``active``; it keeps
    its id as it grows.
    """

    ACTIVE = "active"
    EMERGING = "emerging"
    MERGED = "merged"


LIVE_THEME_STATUSES = (ThemeStatus.ACTIVE, ThemeStatus.EMERGING)
"""The clustering statuses of a live theme (not merged away)."""


class LifecycleStatus(enum.StrEnum):
    """Where a theme is in its life: ``new -> under_review -> planned -> in_progress -> shipped``."""

    NEW = "new"
    UNDER_REVIEW = "under_review"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    SHIPPED = "shipped"
    DECLINED = "declined"
    MERGED = "merged"


class CostSize(enum.StrEnum):
    """A t-shirt size estimate (XS 1, S 2, M 3, L 5, XL 8 story points)."""

    XS = "XS"
    S = "S"
    M = "M"
    L = "L"
    XL = "XL"


class CostInput(Event):
    """A product manager's cost estimate: a size or story points, not both; neither = unknown."""

    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "properties": {"size": {"type": "string"}, "points": {"type": "integer"}},
                "required": ["size", "points"],
            }
        }
    )

    size: CostSize | None = None
    points: int | None = Field(default=None, gt=0, le=10_000)

    @model_validator(mode="after")
    def _one_of(self) -> CostInput:
        if self.size is not None and self.points is not None:
            raise ValueError("give a size or points, not both")
        return self


class ReleaseRef(Event):
    """The release a theme ships in."""

    name: Identifier
    version: Identifier
    date: dt.date | None = None
    link: Url | None = None
    note: Reason | None = Field(default=None, description="What changed, in words for people.")


class ScoreFactor(Event):
    """One impact factor: its raw value, normalized value (0..1), weight and contribution."""

    name: str
    raw: float
    normalized: float
    weight: float
    contribution: float
    note: str = ""


class ThemeScore(Event):
    """Impact against cost, with every factor shown (formula ``formula_version``, see models/scoring.py).

    ``quadrant`` here uses the absolute high-impact threshold; ranking a product's themes
    against each other (percentile threshold) is the reader's: the read model does it (its
    quadrant, ``hot_plan`` and ``high_impact_threshold`` are the product's).
    """

    formula_version: str
    impact: float = Field(ge=0.0, le=1.0)
    priority: float
    cost_points_used: int
    cost_normalized: float
    cost_assumed: bool
    quadrant: Literal["quick_win", "big_bet", "fill_in", "money_pit", "unknown_cost"]
    hot_plan: bool
    high_impact_threshold: float
    factors: list[ScoreFactor]
    notes: list[str] = Field(default_factory=list)
    as_of: AwareDatetime


class ThemeChanged(Event):
    """The latest state of one theme, on the compacted ``feedback.themes`` keyed by theme id.

    A merged theme's last record has ``status = merged`` and ``merged_into``: whoever asked
    under it follows that id. ``merged_from`` and ``split_from`` keep the lineage.
    ``author_count`` counts distinct people (platform + author id), duplicates included.
    A live theme's ``status`` is ``emerging`` while it is small (version 2; a version-1 record,
    from before emerging themes, reads as it is). ``agreement`` (version 3; earlier records read
    without it) says how far the theme holds one idea: below :data:`MIXED_AGREEMENT` it likely
    gathers several.
    """

    schema_version: Literal[3] = 3
    theme_id: str
    product: str
    status: ThemeStatus
    merged_into: str | None = None
    merged_from: list[str] = Field(default_factory=list)
    split_from: str | None = None
    label: str = ""
    keywords: list[str] = Field(default_factory=list)
    title: str = Field(
        default="",
        description="A short title: the one a person gave (a rename), else one picked from the asks' words.",
    )
    named: bool = Field(default=False, description="Whether a person gave the title (it then stays).")
    representative_id: str | None = None
    representative_text: str | None = None
    member_count: int = Field(ge=0)
    mention_count: int = Field(ge=0)
    author_count: int = Field(ge=0)
    first_seen: AwareDatetime | None = None
    last_seen: AwareDatetime | None = None
    platform_counts: dict[str, int] = Field(default_factory=dict)
    weekly_counts: dict[str, int] = Field(default_factory=dict, description="ISO week -> mentions")
    change: str = Field(
        description="What changed: joined, mention, created, merged, split, recluster, or a command kind."
    )
    changed_at: AwareDatetime
    lifecycle_status: LifecycleStatus = LifecycleStatus.NEW
    cost: CostInput | None = None
    release: ReleaseRef | None = None
    engagement: int = Field(default=0, ge=0, description="Likes + replies + shares on its comments.")
    score: ThemeScore | None = None
    agreement: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="The share of the theme's sampled members as close to their mean direction as a theme "
        "is founded at (1 - models.themes.agreement.disagreement): near 1 for one idea in many words; below "
        "MIXED_AGREEMENT the theme likely gathers several ideas, for a person to split or rename. None for a "
        "merged theme, or a record from before version 3.",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_earlier_versions(cls, data: object) -> object:
        """Read a version-1 snapshot (before ``emerging``) or a version-2 one (before
        ``agreement``): their fields mean the same.
        """
        if isinstance(data, dict) and data.get("schema_version") in (1, 2):
            return {**data, "schema_version": 3}
        return data


MIXED_AGREEMENT = 0.5
"""A live theme whose :attr:`ThemeChanged.agreement` is below this has more than half of its
sampled members far from its centre: it likely gathers several ideas (a grab bag), which the
dashboard shows as "mixed". Themes of one idea read 0.7-0.95 on real replays; grab bags 0.25-0.45
(``docs/benchmarks.md``, "A word of which or how many ends no title")."""


def is_mixed(agreement: float | None) -> bool:
    """Whether a theme of this :attr:`ThemeChanged.agreement` likely gathers several ideas."""
    return agreement is not None and agreement < MIXED_AGREEMENT


class DuplicateKind(enum.StrEnum):
    """How a suggestion relates to an earlier one of the same product."""

    EXACT = "exact"
    AUTO = "auto"
    REVIEW = "review"
    CONFIRMED = "confirmed"
    """A ``review`` a person confirmed: it counts for what it duplicates, like ``auto``."""
    DISTINCT = "distinct"
    """A ``review`` a person rejected: a suggestion of its own, not a duplicate."""


ATTACHING = (DuplicateKind.EXACT.value, DuplicateKind.AUTO.value)
"""The duplicate kinds attached without a person's review: see :func:`follows_original`."""


def follows_original(duplicate_kind: str | None, theme_id: str | None) -> bool:
    """Whether a member record of this kind and theme lives where what it repeats lives (counted
    in that theme, thanked by its closures), whatever theme its own record names.

    An ``exact`` repeat always does: it was counted as a mention of its original and never
    clustered, so its record keeps the theme its original had when it came, and the original may
    have moved since (a re-cluster, a product manager's ``place``). An ``auto`` near-duplicate is
    clustered as a suggestion of its own and its record follows it; it goes with its original only
    while it is in no theme itself.
    """
    if duplicate_kind == DuplicateKind.EXACT.value:
        return True
    return duplicate_kind == DuplicateKind.AUTO.value and theme_id is None


def repeating(followers: Mapping[str, str], originals: Iterable[str]) -> set[str]:
    """The repeats among ``followers`` (a repeat's id -> the id it repeats, for records that
    :func:`follows_original`) that lead to one of ``originals``, directly or through repeats of
    repeats.
    """
    by_original: dict[str, list[str]] = {}
    for repeat, original in followers.items():
        by_original.setdefault(original, []).append(repeat)
    reached = set(originals)
    frontier = list(reached)
    found: set[str] = set()
    while frontier:
        frontier = [r for original in frontier for r in by_original.get(original, ()) if r not in reached]
        reached.update(frontier)
        found.update(frontier)
    return found


def root_of(followers: Mapping[str, str], repeat: str) -> str | None:
    """The id ``repeat``'s chain of repeats ends at (the first id that is no key of ``followers``),
    or None when the chain turns in a circle.
    """
    seen, current = {repeat}, followers[repeat]
    while current in followers:
        if current in seen:
            return None
        seen.add(current)
        current = followers[current]
    return current


class SuggestionThemed(Event):
    """Where one suggestion lives, on the compacted ``feedback.theme-members`` keyed by suggestion id.

    ``theme_id`` None = waiting in the pool. A duplicate (``duplicate_kind`` exact, auto or
    confirmed) counts as a mention of ``duplicate_of``; ``review`` marks a possible duplicate
    awaiting a person, while the suggestion also stands on its own (``distinct`` once a person
    said it is not a duplicate). ``text`` is the ask and ``ask_start``/``ask_end`` its span in
    the comment; the comment reference (platform, comment id, url, thread) lets a closure reply
    in the original thread. Two asks of one comment are two members, possibly of two themes.
    An exact repeat (and an automatic near-duplicate in no theme of its own) lives where what it
    repeats lives now; its ``theme_id`` says where that was when it came (:func:`follows_original`).
    ``rating`` is the comment's store rating, where it has one: with the comment's text it says how
    the ask was made (:class:`models.tone.Tone`), which the theme's impact counts.
    """

    schema_version: Literal[3] = 3
    suggestion_id: str
    product: str
    theme_id: str | None
    duplicate_of: str | None = None
    duplicate_kind: DuplicateKind | None = None
    similarity: float | None = None
    platform: Platform
    comment_id: str
    author_id: str
    author_handle: str | None = None
    url: str | None = None
    thread_id: str | None = None
    text: str = Field(description="The ask.")
    ask_start: int = Field(ge=0, description="Where the ask starts in the comment's text.")
    ask_end: int = Field(ge=0, description="Where the ask ends in the comment's text (exclusive).")
    comment_text: str = Field(description="The whole comment the ask came from, for context.")
    asked_at: AwareDatetime
    engagement: Engagement | None = None
    rating: int | None = Field(default=None, ge=1, le=5, description="The comment's store rating, if any.")
    placed_at: AwareDatetime

    @model_validator(mode="before")
    @classmethod
    def _from_version_1(cls, data: object) -> object:
        """Read a version-1 member (kept in a changelog or a compacted topic from before asks
        existed): its ask is its whole text, which was the whole comment. A version-2 member
        (before ``rating``) reads with no rating.
        """
        if isinstance(data, dict) and data.get("schema_version") == 2:
            return {**data, "schema_version": 3}
        if not _is_version_1(data):
            return data
        text = data.get("text")
        whole = _whole_comment_ask(text)
        return {"ask_start": 0, "ask_end": whole["end"], "comment_text": whole["text"], **data,
                "schema_version": 3}


def event_json(event: BaseModel) -> bytes:
    """Serialize an event to its wire form (UTF-8 JSON)."""
    return event.model_dump_json().encode("utf-8")

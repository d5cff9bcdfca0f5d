"""The read model's tables (SQLAlchemy 2): what product managers query, projected from the topics.

Every row is keyed by an id its event carries, so replaying the topics from the beginning
upserts the same rows again and gives the same database (see :mod:`api.readmodel.project`).
Schema changes go through Alembic (``api/readmodel/migrations``); this module is the
models the migrations are written from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from contracts.events import LIVE_THEME_STATUSES

LIVE_STATUSES = [status.value for status in LIVE_THEME_STATUSES]
"""The ``status`` values of a live theme row (not merged away)."""

ID = 256
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
MIDDLE = datetime(5000, 1, 1, tzinfo=UTC)


def to_utc(value: datetime) -> datetime:
    """``value`` (aware) in UTC; an instant before year 1 or after 9999 in UTC (a year-1 time
    east of UTC, a year-9999 time west of it) becomes the earliest or latest UTC time.

    Clamping rather than storing the time as given: SQLite keeps no offset, so a wall time stored
    as given would sort hours away from its instant among the others, and PostgreSQL would keep
    year 0 but psycopg cannot read such a value back, so every query touching the row would
    fail. Clamping moves the instant by at most the 14 hours of the largest offset and keeps the
    order of all times (it is monotonic), so range filters and sorts stay right.
    """
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # the naive wall time decides which edge: the offset is at most a day either way
        return EARLIEST if value.replace(tzinfo=None) < MIDDLE.replace(tzinfo=None) else LATEST


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC and read back aware on every database.

    SQLite keeps no offset: a ``+02:00`` time would come back as a naive wall time, two hours
    off. Values are turned to UTC on the way in (:func:`to_utc`, safe for any ISO date) and given
    UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the read model stores aware times only")
        return to_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the read model."""


class ThemeRow(Base):
    """The latest snapshot of a theme (``feedback.themes``), with its score flattened for sorting."""

    __tablename__ = "themes"

    theme_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    product: Mapped[str] = mapped_column(String(ID), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    lifecycle_status: Mapped[str] = mapped_column(String(32), index=True)
    merged_into: Mapped[str | None] = mapped_column(String(ID))
    split_from: Mapped[str | None] = mapped_column(String(ID))
    label: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    title: Mapped[str] = mapped_column(Text, default="", server_default="")
    named: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    representative_id: Mapped[str | None] = mapped_column(String(ID))
    representative_text: Mapped[str | None] = mapped_column(Text)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    mention_count: Mapped[int] = mapped_column(Integer, default=0)
    author_count: Mapped[int] = mapped_column(Integer, default=0, index=True)
    first_seen: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    platform_counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    weekly_counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    engagement: Mapped[int] = mapped_column(BigInteger, default=0)  # see project.BIGGEST
    priority: Mapped[float | None] = mapped_column(Float, index=True)
    impact: Mapped[float | None] = mapped_column(Float)
    growth: Mapped[float | None] = mapped_column(Float)
    quadrant: Mapped[str | None] = mapped_column(String(32), index=True)
    hot_plan: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cost: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    release: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    change: Mapped[str] = mapped_column(String(64), default="")
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    search_text: Mapped[str] = mapped_column(Text, default="")  # title, label, keywords, representative
    agreement: Mapped[float | None] = mapped_column(Float)  # ThemeChanged.agreement (None before version 3)


class ThemeHistoryRow(Base):
    """One accepted change of a theme: a status, cost or release change, a merge, a split."""

    __tablename__ = "theme_history"
    __table_args__ = (
        UniqueConstraint("theme_id", "command_id", "kind", "to_status", name="uq_history_change"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    theme_id: Mapped[str] = mapped_column(String(ID), index=True)
    command_id: Mapped[str] = mapped_column(String(ID))
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(ID))
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class SuggestionRow(Base):
    """Where a valid suggestion (one ask) sits (``feedback.theme-members``), with what the person wrote."""

    __tablename__ = "suggestions"
    __table_args__ = (Index("ix_suggestions_theme_platform", "theme_id", "platform"),)

    suggestion_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    product: Mapped[str] = mapped_column(String(ID), index=True)
    theme_id: Mapped[str | None] = mapped_column(String(ID), index=True)
    duplicate_of: Mapped[str | None] = mapped_column(String(ID), index=True)
    duplicate_kind: Mapped[str | None] = mapped_column(String(32), index=True)
    similarity: Mapped[float | None] = mapped_column(Float)
    platform: Mapped[str] = mapped_column(String(32))
    comment_id: Mapped[str] = mapped_column(String(ID))
    author_id: Mapped[str] = mapped_column(String(ID), index=True)
    author_hash: Mapped[str | None] = mapped_column(String(16), index=True)
    author_handle: Mapped[str | None] = mapped_column(String(ID))
    url: Mapped[str | None] = mapped_column(String(2048))
    thread_id: Mapped[str | None] = mapped_column(String(ID))
    text: Mapped[str] = mapped_column(Text)  # the ask
    ask_start: Mapped[int | None] = mapped_column(Integer)  # the ask's span in comment_text
    ask_end: Mapped[int | None] = mapped_column(Integer)
    comment_text: Mapped[str | None] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ClassificationRow(Base):
    """Every judged comment (``feedback.comments.classified``): the basis of the monthly metrics."""

    __tablename__ = "classifications"
    __table_args__ = (Index("ix_classifications_product_created", "product", "created_at"),)

    key: Mapped[str] = mapped_column(String(ID), primary_key=True)
    product: Mapped[str] = mapped_column(String(ID))
    platform: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(ID), index=True)
    author_hash: Mapped[str | None] = mapped_column(String(16), index=True)
    verdict: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(String(ID))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    classified_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ClosureRow(Base):
    """A "You asked, we did" closure (``feedback.closures``), whole, keyed by its closure key."""

    __tablename__ = "closures"

    closure_key: Mapped[str] = mapped_column(String(ID), primary_key=True)
    closure_id: Mapped[str] = mapped_column(String(ID))
    theme_id: Mapped[str] = mapped_column(String(ID), index=True)
    product: Mapped[str] = mapped_column(String(ID), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    people_count: Mapped[int] = mapped_column(Integer)
    comment_count: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    event: Mapped[dict[str, Any]] = mapped_column(JSON)

    @property
    def follow_up_of(self) -> str | None:
        """The key of the closure this one follows up (people a product manager added after
        shipping, thanked in their threads: it ships nothing of its own), or None.
        """
        key = self.event.get("follow_up_of") if isinstance(self.event, dict) else None
        return key if isinstance(key, str) and key else None


class ClosureImpactRow(Base):
    """One week of a shipped closure's impact (``feedback.closure-impact``): the latest version."""

    __tablename__ = "closure_impact"

    closure_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    product: Mapped[str] = mapped_column(String(ID), index=True)
    theme_id: Mapped[str] = mapped_column(String(ID), index=True)
    version: Mapped[int] = mapped_column(Integer)
    week_end: Mapped[datetime] = mapped_column(UtcDateTime())
    event: Mapped[dict[str, Any]] = mapped_column(JSON)


class OutcomeRow(Base):
    """The outcome of a theme command (``feedback.theme-outcomes``): accepted, or why not."""

    __tablename__ = "command_outcomes"

    command_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    product: Mapped[str] = mapped_column(String(ID))
    theme_id: Mapped[str] = mapped_column(String(ID), index=True)
    kind: Mapped[str | None] = mapped_column(String(32))
    accepted: Mapped[bool] = mapped_column(Boolean)
    code: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    closure_key: Mapped[str | None] = mapped_column(String(ID))
    author_hash: Mapped[str | None] = mapped_column(String(16), index=True)  # a decision about one asker
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ApiKeyRow(Base):
    """An API key: its public id, its role, and a hash of its secret (never the secret)."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(ID))
    role: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class MonthlyUpdateRow(Base):
    """A product's "what we shipped this month" (``feedback.monthly-updates``), the latest per month."""

    __tablename__ = "monthly_updates"

    product: Mapped[str] = mapped_column(String(ID), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    distinct_people: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime())
    event: Mapped[dict[str, Any]] = mapped_column(JSON)


class SuggestionVectorRow(Base):
    """A suggestion's embedding (``feedback.suggestions``): float32 bytes, L2-normalized.

    Semantic search compares a query with each theme's representative suggestion.
    """

    __tablename__ = "suggestion_vectors"

    suggestion_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    product: Mapped[str] = mapped_column(String(ID))
    model: Mapped[str] = mapped_column(String(ID))
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class ErasureRow(Base):
    """A person erased (``feedback.erasures``), by hash: their rows from before ``erased_at`` are
    deleted, and such rows arriving later (a replay) are kept out.
    """

    __tablename__ = "erasures"

    author_hash: Mapped[str] = mapped_column(String(16), primary_key=True)
    erasure_id: Mapped[str] = mapped_column(String(ID))
    erased_at: Mapped[datetime] = mapped_column(UtcDateTime())

SET_ASIDE_MAX_BYTES = 64 * 1024
"""Most bytes of a set-aside value kept (the whole stays on its topic for the topic's retention)."""


class SetAsideRow(Base):
    """A record the projection could not write on its own, set aside so that the rest go on.

    ``topic``, ``partition`` and ``offset`` say where it is (None when a batch was given by
    hand); one row per place, so a batch repeated after a crash sets a record aside once.
    ``value`` is the record's value as read, its first :data:`SET_ASIDE_MAX_BYTES` bytes when it
    is larger (``value_truncated``); ``value_size`` (bytes) and ``value_sha256`` are of the whole.
    """

    __tablename__ = "set_aside"
    __table_args__ = (UniqueConstraint("topic", "partition", "offset", name="uq_set_aside_source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stage: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(ID))
    partition: Mapped[int | None] = mapped_column(Integer)
    offset: Mapped[int | None] = mapped_column(BigInteger)
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    reason: Mapped[str] = mapped_column(Text)
    exception_type: Mapped[str] = mapped_column(String(ID))
    value: Mapped[bytes | None] = mapped_column(LargeBinary)
    value_size: Mapped[int] = mapped_column(BigInteger)
    value_truncated: Mapped[bool] = mapped_column(Boolean)
    value_sha256: Mapped[str | None] = mapped_column(String(64))
    set_aside_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class DialogueWeekRow(Base):
    """A product's dialogue measures for one platform and ISO week (``feedback.dialogue-weeks``)."""

    __tablename__ = "dialogue_weeks"
    __table_args__ = (Index("ix_dialogue_weeks_product_week", "product", "week"),)

    key: Mapped[str] = mapped_column(String(ID), primary_key=True)
    product: Mapped[str] = mapped_column(String(ID))
    platform: Mapped[str] = mapped_column(String(32))
    week: Mapped[str] = mapped_column(String(8))
    threads: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)
    within_service_level: Mapped[int] = mapped_column(Integer)
    escalated: Mapped[int] = mapped_column(Integer)
    closed_without_escalation: Mapped[int] = mapped_column(Integer)
    share_within_service_level: Mapped[float | None] = mapped_column(Float)
    share_closed_without_escalation: Mapped[float | None] = mapped_column(Float)
    response_p50_s: Mapped[float | None] = mapped_column(Float)
    response_p90_s: Mapped[float | None] = mapped_column(Float)
    working_response_p50_s: Mapped[float | None] = mapped_column(Float)
    working_response_p90_s: Mapped[float | None] = mapped_column(Float)
    service_level: Mapped[dict[str, Any]] = mapped_column(JSON)
    measured_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DialogueThreadRow(Base):
    """One reply thread's latest dialogue measures (``feedback.dialogue-threads``)."""

    __tablename__ = "dialogue_threads"
    __table_args__ = (Index("ix_dialogue_threads_product_week", "product", "week"),)

    key: Mapped[str] = mapped_column(String(ID * 2 + 40), primary_key=True)
    product: Mapped[str] = mapped_column(String(ID))
    platform: Mapped[str] = mapped_column(String(32))
    thread_id: Mapped[str] = mapped_column(String(ID))
    week: Mapped[str | None] = mapped_column(String(8))
    first_inbound_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_reply_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    response_s: Mapped[float | None] = mapped_column(Float)
    working_response_s: Mapped[float | None] = mapped_column(Float)
    within_service_level: Mapped[bool | None] = mapped_column(Boolean)
    escalated: Mapped[bool] = mapped_column(Boolean)
    escalation: Mapped[str | None] = mapped_column(String(64))
    inbound_count: Mapped[int] = mapped_column(Integer)
    reply_count: Mapped[int] = mapped_column(Integer)
    measured_at: Mapped[datetime] = mapped_column(UtcDateTime())

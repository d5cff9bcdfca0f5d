"""Project events into the read model: one idempotent upsert per record.

:func:`apply_record` takes a topic's logical name and a record's value (our JSON) and writes
what it says. Rows are keyed by ids the events carry, so applying a record twice, or replaying
a topic from the beginning, leaves the same rows. A theme snapshot older than the stored one
(by ``changed_at``) is ignored, so order across partitions cannot roll a theme back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from youasked.contracts.events import CommentClassified, SuggestionDetected, SuggestionThemed, ThemeChanged
from youasked.contracts.lifecycle import ClosureEvent, CommandOutcome, MonthlyUpdate
from youasked.readmodel.schema import (
    ClassificationRow,
    ClosureRow,
    MonthlyUpdateRow,
    OutcomeRow,
    SuggestionRow,
    SuggestionVectorRow,
    ThemeHistoryRow,
    ThemeRow,
)

logger = logging.getLogger(__name__)


def search_text_of(theme: ThemeChanged) -> str:
    """What full-text search matches for a theme: its label, keywords and representative text."""
    parts = [theme.label, " ".join(theme.keywords), theme.representative_text or ""]
    return " ".join(" ".join(parts).lower().split())


def _factor(theme: ThemeChanged, name: str) -> float | None:
    if theme.score is None:
        return None
    for factor in theme.score.factors:
        if factor.name == name:
            return factor.raw
    return None


def project_theme(session: Session, theme: ThemeChanged) -> None:
    """Upsert a theme's latest snapshot (older snapshots than the stored one are ignored)."""
    row = session.get(ThemeRow, theme.theme_id)
    if row is not None and row.changed_at is not None and row.changed_at > theme.changed_at:
        return
    if row is None:
        row = ThemeRow(theme_id=theme.theme_id)
        session.add(row)
    row.product = theme.product
    row.status = theme.status.value
    row.lifecycle_status = theme.lifecycle_status.value
    row.merged_into = theme.merged_into
    row.split_from = theme.split_from
    row.label = theme.label
    row.keywords = list(theme.keywords)
    row.representative_id = theme.representative_id
    row.representative_text = theme.representative_text
    row.member_count = theme.member_count
    row.mention_count = theme.mention_count
    row.author_count = theme.author_count
    row.first_seen = theme.first_seen
    row.last_seen = theme.last_seen
    row.platform_counts = dict(theme.platform_counts)
    row.weekly_counts = dict(theme.weekly_counts)
    row.engagement = theme.engagement
    row.priority = theme.score.priority if theme.score else None
    row.impact = theme.score.impact if theme.score else None
    row.growth = _factor(theme, "growth")
    row.quadrant = theme.score.quadrant if theme.score else None
    row.hot_plan = bool(theme.score and theme.score.hot_plan)
    row.score = theme.score.model_dump(mode="json") if theme.score else None
    row.cost = theme.cost.model_dump(mode="json") if theme.cost else None
    row.release = theme.release.model_dump(mode="json") if theme.release else None
    row.change = theme.change
    row.changed_at = theme.changed_at
    row.search_text = search_text_of(theme)


def project_member(session: Session, member: SuggestionThemed) -> None:
    """Upsert where a suggestion sits and what its author wrote."""
    session.merge(
        SuggestionRow(
            suggestion_id=member.suggestion_id,
            product=member.product,
            theme_id=member.theme_id,
            duplicate_of=member.duplicate_of,
            duplicate_kind=member.duplicate_kind.value if member.duplicate_kind else None,
            similarity=member.similarity,
            platform=member.platform.value,
            comment_id=member.comment_id,
            author_id=member.author_id,
            author_handle=member.author_handle,
            url=member.url,
            thread_id=member.thread_id,
            text=member.text,
            asked_at=member.asked_at,
            placed_at=member.placed_at,
        )
    )


def project_classification(session: Session, classified: CommentClassified) -> None:
    """Upsert one judged comment (its text stays on the topic; the metrics need none)."""
    comment = classified.comment
    session.merge(
        ClassificationRow(
            key=classified.key,
            product=comment.product,
            platform=comment.platform.value,
            author_id=comment.author_id,
            verdict=classified.verdict.value,
            reason=classified.reason,
            created_at=comment.created_at,
            classified_at=classified.classified_at,
        )
    )


def project_closure(session: Session, closure: ClosureEvent) -> None:
    """Upsert a closure, whole."""
    session.merge(
        ClosureRow(
            closure_key=closure.closure_key,
            closure_id=closure.closure_id,
            theme_id=closure.theme_id,
            product=closure.product,
            outcome=closure.outcome,
            title=closure.title,
            people_count=closure.people_count,
            comment_count=closure.comment_count,
            closed_at=closure.generated_at,
            event=closure.model_dump(mode="json"),
        )
    )


def project_outcome(session: Session, outcome: CommandOutcome) -> None:
    """Upsert a command's outcome and add its accepted changes to the themes' history."""
    session.merge(
        OutcomeRow(
            command_id=outcome.command_id,
            product=outcome.product,
            theme_id=outcome.theme_id,
            kind=outcome.kind.value if outcome.kind else None,
            accepted=outcome.accepted,
            code=outcome.code,
            message=outcome.message,
            closure_key=outcome.closure_key,
            decided_at=outcome.decided_at,
        )
    )
    for change in outcome.changes:
        exists = session.scalar(
            select(ThemeHistoryRow.id).where(
                ThemeHistoryRow.theme_id == change.theme_id,
                ThemeHistoryRow.command_id == outcome.command_id,
                ThemeHistoryRow.kind == change.kind,
                ThemeHistoryRow.to_status == change.to_status.value,
            )
        )
        if exists is None:
            session.add(
                ThemeHistoryRow(
                    theme_id=change.theme_id,
                    command_id=outcome.command_id,
                    kind=change.kind,
                    from_status=change.from_status.value,
                    to_status=change.to_status.value,
                    actor=change.actor,
                    reason=change.reason,
                    detail=change.detail,
                    at=change.at,
                )
            )
            session.flush()


def project_monthly(session: Session, update: MonthlyUpdate) -> None:
    """Upsert a product's monthly update (a newer one for the same month replaces it)."""
    row = session.get(MonthlyUpdateRow, (update.product, update.month))
    if row is not None and row.published_at > update.published_at:
        return
    session.merge(
        MonthlyUpdateRow(
            product=update.product,
            month=update.month,
            distinct_people=update.distinct_people,
            text=update.text,
            published_at=update.published_at,
            event=update.model_dump(mode="json"),
        )
    )


def project_vector(session: Session, detected: SuggestionDetected) -> None:
    """Upsert a suggestion's embedding (float32 bytes; the text stays with the theme members)."""
    vector = np.asarray(detected.embedding, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    session.merge(
        SuggestionVectorRow(
            suggestion_id=detected.suggestion_id,
            product=detected.comment.product,
            model=detected.embedding_model,
            vector=(vector / norm if norm > 0 else vector).tobytes(),
        )
    )


PROJECTIONS: dict[str, tuple[type[Any], Callable[[Session, Any], None]]] = {
    "themes": (ThemeChanged, project_theme),
    "theme-members": (SuggestionThemed, project_member),
    "comments.classified": (CommentClassified, project_classification),
    "closures": (ClosureEvent, project_closure),
    "theme-outcomes": (CommandOutcome, project_outcome),
    "monthly-updates": (MonthlyUpdate, project_monthly),
    "suggestions": (SuggestionDetected, project_vector),
}


def apply_record(session: Session, kind: str, value: bytes | None) -> bool:
    """Apply one record of the topic ``kind`` (a key of :data:`PROJECTIONS`); False when the
    record is a tombstone or unreadable (logged: our own agents write these topics, so an
    unreadable record is a bug upstream, and the projection must not stop on it).
    """
    if value is None:
        return False
    model, project = PROJECTIONS[kind]
    try:
        event = model.model_validate_json(value)
    except ValidationError as error:
        logger.error("unreadable %s record skipped: %s", kind, str(error)[:500])
        return False
    project(session, event)
    return True

"""Project events into the read model: one idempotent upsert per record.

:func:`apply_record` takes a topic's logical name and a record's value (our JSON) and writes
what it says. Rows are keyed by ids the events carry, so applying a record twice, or replaying
a topic from the beginning, leaves the same rows. A theme snapshot older than the stored one
(by ``changed_at``) is ignored, so order across partitions cannot roll a theme back.

A record that is not its topic's event raises :class:`UnreadableRecordError` (the projection
sets it aside). Tombstones (a null value) delete: a theme removed from ``feedback.themes``, a suggestion from
``feedback.theme-members``. An erasure (``feedback.erasures``) deletes a person's rows from
before it and redacts them from closures; their rows arriving later are kept out, so a replay
in any order ends in the same database.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any, cast

import numpy as np
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.readmodel.schema import (
    LIVE_STATUSES,
    ClassificationRow,
    ClosureImpactRow,
    ClosureRow,
    DialogueThreadRow,
    DialogueWeekRow,
    ErasureRow,
    MonthlyUpdateRow,
    OutcomeRow,
    SuggestionRow,
    SuggestionVectorRow,
    ThemeHistoryRow,
    ThemeRow,
    to_utc,
)
from contracts.dialogue import DialogueThreadMeasured, DialogueWeekMeasured
from contracts.events import CommentClassified, SuggestionDetected, SuggestionThemed, ThemeChanged
from contracts.impact import ClosureImpact
from contracts.lifecycle import (
    AuthorErased,
    ClosureEvent,
    CommandOutcome,
    MonthlyUpdate,
    hash_author,
)
from models.scoring import Quadrant, high_impact_threshold, with_impact

logger = logging.getLogger(__name__)

BIGGEST = 2**63 - 1
"""The largest count a BIGINT column holds."""


class UnreadableRecordError(ValueError):
    """A record that is not the event its topic carries (our own agents write these topics, so
    it is a bug upstream or a record from another version): the projection sets it aside.
    """


def search_text_of(theme: ThemeChanged) -> str:
    """What full-text search matches for a theme: its title, label, keywords and representative text."""
    parts = [theme.title, theme.label, " ".join(theme.keywords), theme.representative_text or ""]
    return " ".join(" ".join(parts).lower().split())


def _factor(theme: ThemeChanged, name: str) -> float | None:
    if theme.score is None:
        return None
    for factor in theme.score.factors:
        if factor.name == name:
            return factor.raw
    return None


def erased_since(session: Session) -> dict[str, datetime]:
    """Erased people (author hash -> erased at), loaded once per session."""
    cached = session.info.get("erasures")
    if cached is None:
        cached = {row.author_hash: row.erased_at for row in session.scalars(select(ErasureRow))}
        session.info["erasures"] = cached
    return cast(dict[str, datetime], cached)


def _erased(session: Session, author_hash: str, at: datetime) -> bool:
    """Whether a row of ``author_hash`` written at ``at`` falls under an erasure."""
    erased_at = erased_since(session).get(author_hash)
    return erased_at is not None and at <= erased_at


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
    row.title = theme.title
    row.named = theme.named
    row.representative_id = theme.representative_id
    row.representative_text = theme.representative_text
    row.member_count = theme.member_count
    row.mention_count = theme.mention_count
    row.author_count = theme.author_count
    row.first_seen = theme.first_seen
    row.last_seen = theme.last_seen
    row.platform_counts = dict(theme.platform_counts)
    row.weekly_counts = dict(theme.weekly_counts)
    # likes + replies + shares summed over a theme's comments: unbounded in the contract; a
    # count past 64 bits (never a real one) is kept as the largest, so sorting stays right
    row.engagement = min(theme.engagement, BIGGEST)
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
    row.agreement = theme.agreement


def scored_themes(session: Session, product: str) -> list[tuple[str, float, str]]:
    """``(theme_id, impact, quadrant)`` of each live, scored theme of ``product``."""
    query = select(ThemeRow.theme_id, ThemeRow.impact, ThemeRow.quadrant).where(
        ThemeRow.product == product,
        ThemeRow.status.in_(LIVE_STATUSES),
        ThemeRow.impact.is_not(None),
        ThemeRow.quadrant.is_not(None),
    )
    rows = session.execute(query)
    return [(theme_id, float(impact or 0.0), str(quadrant)) for theme_id, impact, quadrant in rows]


def product_threshold(session: Session, product: str) -> float | None:
    """The impact from which one of ``product``'s live themes is high impact, among them all
    (:func:`models.scoring.high_impact_threshold`); None without a scored theme.
    """
    rows = scored_themes(session, product)
    return high_impact_threshold([impact for _, impact, _ in rows])[0] if rows else None


def rank_products(session: Session, products: Iterable[str], touched: Collection[str] = ()) -> None:
    """Classify each live theme of ``products`` against the product's other themes.

    A snapshot's score is made for one theme alone, with the absolute high-impact threshold
    (:func:`models.scoring.score_theme`): for a product of modest demand no theme reaches it, and
    its quick wins never show. A product manager compares a theme with the product's other
    themes, so here "high impact" is the product's :func:`product_threshold` (the 75th percentile
    of its live themes' impacts, never below the floor; the absolute threshold below five themes),
    as :func:`models.scoring.rank_themes` ranks; the cost side of the quadrant stays
    (:func:`models.scoring.with_impact`). The row's ``quadrant`` and ``hot_plan`` say the result,
    and so does its score (``quadrant``, ``hot_plan``, ``high_impact_threshold``: the bar when the
    row was last ranked) when the row changed quadrant or is one of ``touched`` (the theme ids just
    written). Only the columns are read for the others: a product of thousands of themes is ranked
    at every batch.
    """
    for product in sorted(set(products)):
        rows = scored_themes(session, product)
        if not rows:
            continue
        threshold, _ = high_impact_threshold([impact for _, impact, _ in rows])
        for theme_id, impact, quadrant in rows:
            ranked = with_impact(cast(Quadrant, quadrant), high_impact=impact >= threshold)
            if ranked == quadrant and theme_id not in touched:
                continue
            row = session.get(ThemeRow, theme_id)
            if row is None:
                continue
            row.quadrant = ranked
            row.hot_plan = ranked == "quick_win"
            if row.score:
                row.score = {**row.score, "quadrant": ranked, "hot_plan": row.hot_plan,
                             "high_impact_threshold": threshold}


def project_member(session: Session, member: SuggestionThemed) -> None:
    """Upsert where a suggestion sits and what its author wrote (unless its author was erased)."""
    author_hash = hash_author(member.platform.value, member.author_id)
    if _erased(session, author_hash, member.asked_at):
        return
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
            author_hash=author_hash,
            author_handle=member.author_handle,
            url=member.url,
            thread_id=member.thread_id,
            text=member.text,
            ask_start=member.ask_start,
            ask_end=member.ask_end,
            comment_text=member.comment_text,
            asked_at=member.asked_at,
            placed_at=member.placed_at,
        )
    )


def project_classification(session: Session, classified: CommentClassified) -> None:
    """Upsert one judged comment (its text stays on the topic; the metrics need none)."""
    comment = classified.comment
    author_hash = hash_author(comment.platform.value, comment.author_id)
    if _erased(session, author_hash, comment.created_at):
        return
    session.merge(
        ClassificationRow(
            key=classified.key,
            product=comment.product,
            platform=comment.platform.value,
            author_id=comment.author_id,
            author_hash=author_hash,
            verdict=classified.verdict.value,
            reason=classified.reason,
            created_at=comment.created_at,
            classified_at=classified.classified_at,
        )
    )


def project_closure(session: Session, closure: ClosureEvent) -> None:
    """Upsert a closure, whole (without the people erased since)."""
    for author_hash, erased_at in erased_since(session).items():
        if closure.generated_at <= erased_at:
            closure = redact_closure(closure, author_hash)
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


def project_impact(session: Session, impact: ClosureImpact) -> None:
    """Upsert one week of a closure's impact (an older version than the stored one is ignored)."""
    row = session.get(ClosureImpactRow, (impact.closure_id, impact.week))
    if row is not None and row.version > impact.version:
        return
    session.merge(
        ClosureImpactRow(
            closure_id=impact.closure_id,
            week=impact.week,
            product=impact.product,
            theme_id=impact.theme_id,
            version=impact.version,
            week_end=impact.week_end,
            event=impact.model_dump(mode="json"),
        )
    )
    session.flush()


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
            author_hash=outcome.author_hash,
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


def redact_closure(closure: ClosureEvent, author_hash: str) -> ClosureEvent:
    """``closure`` without the person ``author_hash``: their entry, replies, handle and judged
    asks (thanked, held or left out) go.
    """
    gone = [p for p in closure.people if hash_author(p.platform.value, p.author_id) == author_hash]
    judged = [j for j in closure.judged if hash_author(j.platform.value, j.author_id) != author_hash]
    if not gone and len(judged) == len(closure.judged):
        return closure
    if not gone:
        return closure.model_copy(update={"judged": judged})
    handles = {p.handle for p in gone if p.handle}
    people = [p for p in closure.people if p not in gone]
    replies = [r for r in closure.replies if hash_author(r.platform.value, r.author_id) != author_hash]
    posts = []
    for post in closure.public_posts:
        text = post.text
        for handle in handles:
            text = re.sub(rf"@{re.escape(handle.lstrip('@'))}\b[,;]?", "", text)
        text = re.sub(r"[ \t]{2,}", " ", text).replace(" ,", ",").strip()
        posts.append(post.model_copy(update={
            "text": text, "length": len(text),
            "mentioned_handles": [h for h in post.mentioned_handles if h not in handles
                                  and h.lstrip("@") not in {x.lstrip("@") for x in handles}],
            "people_on_platform": sum(1 for p in people if p.platform == post.platform),
        }))
    return closure.model_copy(update={
        "people": people, "replies": replies, "public_posts": posts, "people_count": len(people),
        "comment_count": sum(len(p.comments) for p in people), "judged": judged,
    })


def forget(session: Session, erased: AuthorErased) -> dict[str, int]:
    """Record an erasure and delete or redact what the read model holds of that person; the
    counts of what went (all 0 when this erasure, or a later one, was applied before).
    """
    row = session.get(ErasureRow, erased.author_hash)
    if row is not None and row.erased_at >= erased.erased_at:
        return {"suggestions": 0, "classifications": 0, "closures": 0}
    session.merge(ErasureRow(author_hash=erased.author_hash, erasure_id=erased.erasure_id,
                             erased_at=erased.erased_at))
    erased_since(session)[erased.author_hash] = erased.erased_at
    return forget_author(session, erased.author_hash, erased.erased_at)


def project_erasure(session: Session, erased: AuthorErased) -> None:
    """Apply an erasure from ``feedback.erasures`` (see :func:`forget`)."""
    forget(session, erased)


def forget_author(session: Session, author_hash: str, erased_at: datetime) -> dict[str, int]:
    """Delete the person's suggestions (with vectors) and judged comments from before
    ``erased_at``, clear theme texts that were theirs, redact closures; counts of what went.
    """
    suggestion_ids = list(session.scalars(
        select(SuggestionRow.suggestion_id).where(
            SuggestionRow.author_hash == author_hash, SuggestionRow.asked_at <= erased_at
        )
    ))
    for chunk in range(0, len(suggestion_ids), 500):
        ids = suggestion_ids[chunk:chunk + 500]
        session.execute(delete(SuggestionVectorRow).where(SuggestionVectorRow.suggestion_id.in_(ids)))
        session.execute(delete(SuggestionRow).where(SuggestionRow.suggestion_id.in_(ids)))
        for theme in session.scalars(select(ThemeRow).where(ThemeRow.representative_id.in_(ids))):
            theme.representative_text = None
            theme.search_text = " ".join(
                " ".join([theme.title, theme.label, " ".join(theme.keywords)]).lower().split()
            )
    judged = session.execute(delete(ClassificationRow).where(
        ClassificationRow.author_hash == author_hash, ClassificationRow.created_at <= erased_at
    ))
    redacted = 0
    for row in session.scalars(select(ClosureRow).where(ClosureRow.closed_at <= erased_at)):
        closure = ClosureEvent.model_validate(row.event)
        cleaned = redact_closure(closure, author_hash)
        if cleaned is not closure:
            row.event = cleaned.model_dump(mode="json")
            row.people_count = cleaned.people_count
            row.comment_count = cleaned.comment_count
            redacted += 1
    session.flush()
    return {"suggestions": len(suggestion_ids), "classifications": int(getattr(judged, "rowcount", 0) or 0),
            "closures": redacted}


def project_tombstone(session: Session, kind: str, key: bytes) -> bool:
    """A null value on a keyed topic: delete the row it names; False when nothing to delete."""
    ident = key.decode("utf-8", "replace")
    if kind == "themes":
        row: Any = session.get(ThemeRow, ident)
    elif kind == "theme-members":
        row = session.get(SuggestionRow, ident)
        vector = session.get(SuggestionVectorRow, ident)
        if vector is not None:
            session.delete(vector)
    else:
        return False
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def project_dialogue_week(session: Session, measured: DialogueWeekMeasured) -> None:
    """Upsert a week's dialogue measures, unless the stored ones were measured later."""
    stored = session.get(DialogueWeekRow, measured.key)
    if stored is not None and stored.measured_at > to_utc(measured.measured_at):
        return
    fields = measured.model_dump(exclude={"schema_version", "service_level", "platform"})
    session.merge(
        DialogueWeekRow(
            **fields,
            platform=measured.platform.value,
            service_level=measured.service_level.model_dump(mode="json"),
        )
    )


def project_dialogue_thread(session: Session, measured: DialogueThreadMeasured) -> None:
    """Upsert a thread's dialogue measures, unless the stored ones were measured later."""
    stored = session.get(DialogueThreadRow, measured.key)
    if stored is not None and stored.measured_at > to_utc(measured.measured_at):
        return
    fields = measured.model_dump(exclude={"schema_version", "service_level", "platform"})
    session.merge(DialogueThreadRow(**fields, platform=measured.platform.value))


PROJECTIONS: dict[str, tuple[type[Any], Callable[[Session, Any], None]]] = {
    "themes": (ThemeChanged, project_theme),
    "theme-members": (SuggestionThemed, project_member),
    "comments.classified": (CommentClassified, project_classification),
    "closures": (ClosureEvent, project_closure),
    "theme-outcomes": (CommandOutcome, project_outcome),
    "monthly-updates": (MonthlyUpdate, project_monthly),
    "suggestions": (SuggestionDetected, project_vector),
    "erasures": (AuthorErased, project_erasure),
    "closure-impact": (ClosureImpact, project_impact),
    "dialogue-weeks": (DialogueWeekMeasured, project_dialogue_week),
    "dialogue-threads": (DialogueThreadMeasured, project_dialogue_thread),
}


def apply_record(session: Session, kind: str, value: bytes | None, key: bytes | None = None) -> bool:
    """Apply one record of the topic ``kind`` (a key of :data:`PROJECTIONS`); a tombstone
    deletes what its ``key`` names. False when nothing was applied (a tombstone of nothing).

    Raises :class:`UnreadableRecordError` when ``value`` is not the topic's event, and whatever
    the database raises on a value it cannot hold: the projection sets such a record aside.
    """
    if value is None:
        return key is not None and project_tombstone(session, kind, key)
    model, project = PROJECTIONS[kind]
    try:
        event = model.model_validate_json(value)
    except ValidationError as error:
        raise UnreadableRecordError(f"not a {model.__name__}: {str(error)[:1500]}") from error
    project(session, event)
    return True

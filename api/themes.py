"""Routes that read themes: the list with filters and sorts, word and semantic search, a theme
whole (score breakdown, suggestions, history), and the review queue of possible duplicates.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api.common import ERRORS, NOT_FOUND, ApiError, Viewer
from api.dashboard import weekly_counts
from api.parameters import ProductParam, ReadThemeId, UtcInstant, WordsParam
from api.readmodel.schema import ClosureRow, SuggestionRow, ThemeHistoryRow, ThemeRow
from api.reads import suggestion_read, theme_read
from api.schemas import HistoryRead, ReviewItem, ThemeDetail, ThemeHit, ThemeHits, ThemePage
from api.search import SemanticIndex
from api.security import Role
from contracts.events import LIVE_THEME_STATUSES, LifecycleStatus, Platform

LIVE = [status.value for status in LIVE_THEME_STATUSES]


def themes_router(*, engine: Engine, semantic: SemanticIndex) -> APIRouter:
    """``GET /themes``, ``/themes/search``, ``/themes/{theme_id}`` and ``/review-queue``."""
    router = APIRouter()
    _add_list_routes(router, engine=engine, semantic=semantic)  # before /themes/{theme_id}
    _add_theme_route(router, engine=engine)
    _add_review_queue_route(router, engine=engine)
    return router


def _add_list_routes(router: APIRouter, *, engine: Engine, semantic: SemanticIndex) -> None:
    """``GET /themes`` and ``GET /themes/search``."""

    @router.get("/themes", response_model=ThemePage, tags=["themes"], responses=ERRORS)
    def list_themes(
        caller: Viewer,
        product: ProductParam = None,
        status: LifecycleStatus | None = None,
        cluster_status: Annotated[
            Literal["active", "emerging"] | None,
            Query(description="Live themes in this clustering status only (emerging: still small)."),
        ] = None,
        quadrant: Literal["quick_win", "big_bet", "fill_in", "money_pit", "unknown_cost"] | None = None,
        platform: Platform | None = None,
        min_authors: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
        since: UtcInstant | None = None,
        until: UtcInstant | None = None,
        q: WordsParam = None,
        include_merged: bool = False,
        sort: Literal["score", "authors", "growth", "recency"] = "score",
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> ThemePage:
        """Themes with filters, sorted by score (priority), distinct authors, growth or recency."""
        query = select(ThemeRow)
        if not include_merged:
            query = query.where(ThemeRow.status.in_(LIVE))
        if product:
            query = query.where(ThemeRow.product == product)
        if status:
            query = query.where(ThemeRow.lifecycle_status == status.value)
        if cluster_status:
            query = query.where(ThemeRow.status == cluster_status)
        if quadrant:
            query = query.where(ThemeRow.quadrant == quadrant)
        if min_authors:
            query = query.where(ThemeRow.author_count >= min_authors)
        if since:
            query = query.where(ThemeRow.last_seen >= since)
        if until:
            query = query.where(ThemeRow.first_seen <= until)
        if platform:  # the snapshot's per-platform mention counts (no join with suggestions)
            query = query.where(ThemeRow.platform_counts[platform.value].as_integer() > 0)
        for word in (q or "").lower().split()[:10]:
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(ThemeRow.search_text.like(f"%{escaped}%", escape="\\"))
        order: tuple[Any, ...] = {
            "score": (ThemeRow.priority.desc().nulls_last(), ThemeRow.author_count.desc()),
            "authors": (ThemeRow.author_count.desc(), ThemeRow.mention_count.desc()),
            "growth": (ThemeRow.growth.desc().nulls_last(), ThemeRow.author_count.desc()),
            "recency": (ThemeRow.last_seen.desc().nulls_last(),),
        }[sort]
        with Session(engine) as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(*order, ThemeRow.theme_id).limit(limit).offset(offset)
            ).all()
            items = [theme_read(row, handles=caller.role >= Role.pm) for row in rows]
        return ThemePage(items=items, total=total, limit=limit, offset=offset)

    @router.get("/themes/search", response_model=ThemeHits, tags=["themes"], responses=ERRORS)
    async def search_themes(
        caller: Viewer,
        q: Annotated[str, Query(min_length=1, max_length=500, description="What people might have asked.")],
        product: ProductParam = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> ThemeHits:
        """Active themes nearest in meaning to ``q`` (the query is embedded with the pipeline's model)."""
        hits = await asyncio.to_thread(semantic.search, q, product=product, limit=limit)
        with Session(engine) as session:
            rows = {
                row.theme_id: row
                for row in session.scalars(
                    select(ThemeRow).where(ThemeRow.theme_id.in_([theme_id for theme_id, _ in hits]))
                )
            }
            items = [
                ThemeHit(
                    **theme_read(rows[theme_id], handles=caller.role >= Role.pm).model_dump(),
                    similarity=similarity,
                )
                for theme_id, similarity in hits
                if theme_id in rows
            ]
        return ThemeHits(query=q, items=items)


def _add_theme_route(router: APIRouter, *, engine: Engine) -> None:
    """``GET /themes/{theme_id}``."""

    @router.get(
        "/themes/{theme_id}", response_model=ThemeDetail, tags=["themes"], responses={**ERRORS, **NOT_FOUND}
    )
    def get_theme(
        theme_id: ReadThemeId,
        caller: Viewer,
        suggestions_limit: Annotated[int, Query(ge=0, le=1000)] = 100,
    ) -> ThemeDetail:
        """A theme whole: score breakdown, cost, release, suggestions and history."""
        with Session(engine) as session:
            row = session.get(ThemeRow, theme_id)
            if row is None:
                raise ApiError(404, "not_found", f"no theme {theme_id}")
            members = session.scalars(
                select(SuggestionRow)
                .where(SuggestionRow.theme_id == theme_id)
                .order_by(SuggestionRow.asked_at.desc(), SuggestionRow.suggestion_id)
                .limit(suggestions_limit)
            ).all()
            history = session.scalars(
                select(ThemeHistoryRow)
                .where(ThemeHistoryRow.theme_id == theme_id)
                .order_by(ThemeHistoryRow.at)
            ).all()
            handles = caller.role >= Role.pm
            shipped_at = shipped_cutoff(session, theme_id)
            after = 0 if shipped_at is None else session.scalar(
                select(func.count()).select_from(SuggestionRow)
                .where(SuggestionRow.theme_id == theme_id, SuggestionRow.asked_at > shipped_at)
            ) or 0
            return ThemeDetail(
                **theme_read(row, handles=handles).model_dump(),
                score=row.score,
                cost=row.cost,
                release=row.release,
                weekly_counts=weekly_counts(row.weekly_counts or {}),
                suggestions=[suggestion_read(m, handles=handles) for m in members],
                history=[
                    HistoryRead(
                        command_id=h.command_id,
                        kind=h.kind,
                        from_status=h.from_status,
                        to_status=h.to_status,
                        actor=h.actor,
                        reason=h.reason,
                        detail=h.detail,
                        at=h.at,
                    )
                    for h in history
                ],
                shipped_at=shipped_at,
                asked_after_shipping=after,
            )


def shipped_cutoff(session: Session, theme_id: str) -> datetime | None:
    """The cut-off of ``theme_id``'s latest shipped closure (its ``asked_by``), None when it never shipped."""
    closure = session.scalars(
        select(ClosureRow)
        .where(ClosureRow.theme_id == theme_id, ClosureRow.outcome == "shipped")
        .order_by(ClosureRow.closed_at.desc())
        .limit(1)
    ).first()
    asked_by = None if closure is None else closure.event.get("asked_by")
    return datetime.fromisoformat(asked_by) if isinstance(asked_by, str) else None


def _add_review_queue_route(router: APIRouter, *, engine: Engine) -> None:
    """``GET /review-queue``."""

    @router.get("/review-queue", response_model=list[ReviewItem], tags=["themes"], responses=ERRORS)
    def review_queue(
        caller: Viewer,
        product: ProductParam = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> list[ReviewItem]:
        """Possible duplicates (the review band of similarity), most similar first, each with the
        suggestion it may repeat. A pm settles one with ``POST /review-queue/{id}/confirm`` or
        ``.../reject``.
        """
        query = (
            select(SuggestionRow)
            .where(SuggestionRow.duplicate_kind == "review")
            .order_by(SuggestionRow.similarity.desc().nulls_last(), SuggestionRow.suggestion_id)
            .limit(limit)
        )
        if product:
            query = query.where(SuggestionRow.product == product)
        handles = caller.role >= Role.pm
        with Session(engine) as session:
            rows = session.scalars(query).all()
            originals = {
                row.suggestion_id: row
                for row in session.scalars(
                    select(SuggestionRow).where(
                        SuggestionRow.suggestion_id.in_([r.duplicate_of for r in rows if r.duplicate_of])
                    )
                )
            }
            items = []
            for row in rows:
                original = originals.get(row.duplicate_of or "")
                items.append(
                    ReviewItem(
                        suggestion=suggestion_read(row, handles=handles),
                        theme_id=row.theme_id,
                        original=suggestion_read(original, handles=handles) if original else None,
                        original_theme_id=original.theme_id if original else None,
                        similarity=row.similarity,
                        same_theme=original is not None and original.theme_id == row.theme_id,
                    )
                )
        return items

"""Routes that read themes: the list with filters and sorts, word and semantic search, a theme
whole (score breakdown, suggestions, history), and the review queue of possible duplicates.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from fastapi import APIRouter, Query
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from api.common import ERRORS, NOT_FOUND, ApiError, Viewer
from api.dashboard import weekly_counts
from api.parameters import NO_NUL, ProductParam, ReadThemeId, UtcInstant, WordsParam
from api.readmodel.schema import (
    LIVE_STATUSES,
    ClosureRow,
    SuggestionRow,
    SuggestionVectorRow,
    ThemeHistoryRow,
    ThemeRow,
)
from api.reads import LISTED_REPEATS, placed_asks, repeat_homes, suggestion_read, theme_asks, theme_read
from api.schemas import (
    AloneItem,
    AloneReport,
    HistoryRead,
    ReviewItem,
    ThemeDetail,
    ThemeHit,
    ThemeHits,
    ThemePage,
)
from api.search import SemanticIndex
from api.security import Role
from contracts.events import LifecycleStatus, Platform
from models.embedding import EMBEDDING_DIM
from models.other_languages import reads_as_other_language
from models.themes.alone import REASONS, AloneAsk, AloneReason, alone_reasons, theme_centres

LIVE = LIVE_STATUSES
ALONE_CONSIDERED = 2_000
"""Most recent alone asks of a product whose reasons ``GET /themes/alone`` works out."""
CENTRE_MEMBERS = 20_000
"""Most recent theme members whose vectors give the themes' centres there."""
_CHUNK = 500


def themes_router(*, engine: Engine, semantic: SemanticIndex) -> APIRouter:
    """``GET /themes``, ``/themes/search``, ``/themes/alone``, ``/themes/{theme_id}`` and
    ``/review-queue``.
    """
    router = APIRouter()
    _add_list_routes(router, engine=engine, semantic=semantic)  # before /themes/{theme_id}
    _add_alone_route(router, engine=engine)  # before /themes/{theme_id} too
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


def _add_alone_route(router: APIRouter, *, engine: Engine) -> None:
    """``GET /themes/alone``."""

    @router.get("/themes/alone", response_model=AloneReport, tags=["themes"], responses=ERRORS)
    def alone_asks(
        caller: Viewer,
        product: Annotated[str, Query(min_length=1, max_length=256, pattern=NO_NUL)],
        reason: Annotated[
            Literal["repeat", "under_review", "near_ask", "near_theme", "other_language", "unique"] | None,
            Query(description="Only the asks alone for this reason."),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> AloneReport:
        """A product's asks that are in no theme, each with why (:mod:`models.themes.alone`):
        every suggestion is in a theme or visibly alone for a reason. The reasons are worked out
        for the product's most recent alone asks (at most 2,000), against the centres of its live
        themes (from their most recent members' vectors, at most 20,000).
        """
        with Session(engine) as session:
            titles = {
                theme_id: title or label
                for theme_id, title, label in session.execute(
                    select(ThemeRow.theme_id, ThemeRow.title, ThemeRow.label).where(
                        ThemeRow.product == product, ThemeRow.status.in_(LIVE)
                    )
                )
            }
            # a repeat lives beside what it repeats: one of a theme's asks is in that theme,
            # whatever theme its own row names
            homes = repeat_homes(session, product)
            beside = {sid for sid, where in homes.items() if where.own is None and where.home in titles}
            counted = select(func.count()).select_from(SuggestionRow).where(SuggestionRow.product == product)
            # ...and one whose original is alone now is alone with it
            strayed = sorted(sid for sid, at in homes.items() if at.own is not None and at.home is None)
            in_none = session.scalar(counted.where(SuggestionRow.theme_id.is_(None))) or 0
            alone_total = in_none - len(beside) + len(strayed)
            themed = session.scalar(counted.where(SuggestionRow.theme_id.in_(list(titles)))) or 0
            in_themes = (
                themed
                - sum(1 for where in homes.values() if where.own in titles)
                + sum(1 for where in homes.values() if where.home in titles)
            )
            # the reasons need only who asked and what each ask repeats; whole rows are read for
            # the asks shown
            rows = [
                row
                for row in session.execute(
                    select(
                        SuggestionRow.suggestion_id,
                        SuggestionRow.platform,
                        SuggestionRow.author_id,
                        SuggestionRow.duplicate_kind,
                        SuggestionRow.duplicate_of,
                        SuggestionRow.text,
                    )
                    .where(
                        SuggestionRow.product == product,
                        or_(
                            SuggestionRow.theme_id.is_(None),
                            SuggestionRow.suggestion_id.in_(strayed[:LISTED_REPEATS]),
                        ),
                    )
                    .order_by(SuggestionRow.asked_at.desc(), SuggestionRow.suggestion_id)
                    .limit(ALONE_CONSIDERED + len(beside))
                ).all()
                if row.suggestion_id not in beside
            ][:ALONE_CONSIDERED]
            vectors = _vectors(session, [row.suggestion_id for row in rows])
            theme_ids, centres = theme_centres(*live_theme_members(session, product, list(titles)))
            asks = [
                AloneAsk(
                    row.suggestion_id,
                    f"{row.platform}:{row.author_id}",
                    row.duplicate_kind,
                    row.duplicate_of,
                    reads_as_other_language(row.text),
                )
                for row in rows
            ]
            found = alone_reasons(
                asks,
                matrix_of([vectors.get(row.suggestion_id) for row in rows]),
                theme_ids=theme_ids,
                centres=centres,
            )
            counts = {name: 0 for name in REASONS}
            for why in found:
                counts[why.reason] += 1
            shown = [why for why in found if reason is None or why.reason == reason][:limit]
            whole = {
                row.suggestion_id: row
                for row in session.scalars(
                    select(SuggestionRow).where(
                        SuggestionRow.suggestion_id.in_([why.suggestion_id for why in shown])
                    )
                )
            }
            handles = caller.role >= Role.pm
            items = [
                AloneItem(
                    suggestion=suggestion_read(whole[why.suggestion_id], handles=handles),
                    reason=why.reason,
                    detail=_alone_detail(why, titles),
                    nearest_theme_id=why.nearest_theme,
                    nearest_theme_title=titles.get(why.nearest_theme or ""),
                    theme_similarity=why.theme_similarity,
                    nearest_ask_id=why.nearest_ask,
                    ask_similarity=why.ask_similarity,
                )
                for why in shown
                if why.suggestion_id in whole
            ]
        return AloneReport(
            product=product,
            alone=alone_total,
            in_themes=in_themes,
            considered=len(rows),
            reasons=counts,
            items=items,
        )


def _vectors(session: Session, suggestion_ids: list[str]) -> dict[str, bytes]:
    """The stored vectors of ``suggestion_ids`` (those the read model holds)."""
    out: dict[str, bytes] = {}
    for start in range(0, len(suggestion_ids), _CHUNK):
        chunk = suggestion_ids[start : start + _CHUNK]
        for suggestion_id, vector in session.execute(
            select(SuggestionVectorRow.suggestion_id, SuggestionVectorRow.vector).where(
                SuggestionVectorRow.suggestion_id.in_(chunk)
            )
        ):
            out[suggestion_id] = vector
    return out


def live_theme_members(
    session: Session, product: str, theme_ids: list[str]
) -> tuple[list[str], npt.NDArray[np.float32]]:
    """The stored vectors of the members of ``theme_ids`` (the product's live themes), the
    product's :data:`CENTRE_MEMBERS` most recent members at most: the theme of each row, and the
    rows ``(n, dim)``.
    """
    members = session.execute(
        select(SuggestionRow.theme_id, SuggestionVectorRow.vector)
        .join(SuggestionVectorRow, SuggestionVectorRow.suggestion_id == SuggestionRow.suggestion_id)
        .where(SuggestionRow.product == product, SuggestionRow.theme_id.in_(theme_ids))
        .order_by(SuggestionRow.asked_at.desc())
        .limit(CENTRE_MEMBERS)
    ).all()
    return [str(theme_id) for theme_id, _ in members], matrix_of([blob for _, blob in members])


def matrix_of(blobs: list[bytes | None]) -> npt.NDArray[np.float32]:
    """``(n, EMBEDDING_DIM)`` float32 rows of stored vectors; a missing or malformed one is a zero row."""
    out = np.zeros((len(blobs), EMBEDDING_DIM), dtype=np.float32)
    for i, blob in enumerate(blobs):
        if blob is not None and len(blob) == 4 * EMBEDDING_DIM:
            out[i] = np.frombuffer(blob, dtype=np.float32)
    return out


def _alone_detail(why: AloneReason, titles: dict[str, str]) -> str:
    """The reason of one alone ask in a sentence."""
    theme = f"«{titles.get(why.nearest_theme or '', '')}»" if why.nearest_theme else ""
    if why.reason == "repeat":
        return "repeats another ask that is alone: counted as a mention of it, it goes where that ask goes"
    if why.reason == "under_review":
        return "may repeat another ask: waiting for a person to say whether it does (the review queue)"
    if why.reason == "near_ask":
        return (
            f"close to another person's ask that is alone (cosine {why.ask_similarity:.2f}): a re-cluster "
            "founds an emerging theme of them, unless one of them joins a theme first"
        )
    if why.reason == "near_theme":
        return (
            f"within reach of {theme} (cosine {why.theme_similarity:.2f} to its centre): a re-cluster "
            "places it there if it is still that close to the centre the theme has then"
        )
    closest = f"; the closest theme is {theme}, at cosine {why.theme_similarity:.2f}" if theme else ""
    if why.reason == "other_language":
        return (
            "written in another language, which the model reads by its words' surface: it joins a theme it "
            "comes close to but founds none, and the closest theme it measures says little; place it by hand"
        )
    return f"no theme and no other person's ask is close to it yet: an idea of one person so far{closest}"


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
            # the theme's asks, with the repeats of them made while their original was alone or
            # in another theme: counted among the theme's people and thanked by its closures
            listed = theme_asks(session, theme_id)
            members = session.scalars(
                select(SuggestionRow)
                .where(listed)
                .order_by(SuggestionRow.asked_at.desc(), SuggestionRow.suggestion_id)
                .limit(suggestions_limit)
            ).all()
            history = session.scalars(
                select(ThemeHistoryRow)
                .where(ThemeHistoryRow.theme_id == theme_id)
                .order_by(ThemeHistoryRow.at)
            ).all()
            handles = caller.role >= Role.pm
            placed = placed_asks(session, theme_id)
            shipped_at = shipped_cutoff(session, theme_id)
            after = 0 if shipped_at is None else session.scalar(
                select(func.count()).select_from(SuggestionRow)
                .where(listed, SuggestionRow.asked_at > shipped_at)
            ) or 0
            return ThemeDetail(
                **theme_read(row, handles=handles).model_dump(),
                score=row.score,
                cost=row.cost,
                release=row.release,
                weekly_counts=weekly_counts(row.weekly_counts or {}),
                suggestions=[
                    suggestion_read(m, handles=handles, placed=m.suggestion_id in placed) for m in members
                ],
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

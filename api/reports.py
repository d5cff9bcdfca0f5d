"""Routes that report: closures, the monthly updates, valid suggestions per month (count and
distinct authors, rejections by reason) and themes shipped per month with the median wait.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.common import ERRORS, NOT_FOUND, ApiError, Viewer
from api.parameters import ProductParam
from api.readmodel.schema import ClassificationRow, ClosureImpactRow, ClosureRow, MonthlyUpdateRow, ThemeRow
from api.reads import closure_impact_read, closure_read, monthly_update_read
from api.schemas import (
    ClosureImpactRead,
    ClosureRead,
    MonthCount,
    MonthlyMetrics,
    MonthlyUpdateRead,
    ShippedMetrics,
    ShippedMonth,
)
from api.security import Role
from contracts.events import Platform


def reports_router(*, engine: Engine) -> APIRouter:
    """``GET /closures``, ``/monthly-updates``, ``/metrics/monthly`` and ``/metrics/shipped``."""
    router = APIRouter()

    @router.get("/closures", response_model=list[ClosureRead], tags=["closures"], responses=ERRORS)
    def list_closures(
        caller: Viewer,
        product: ProductParam = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> list[ClosureRead]:
        """Recent closures, newest first. The people who asked are listed for pm and admin."""
        query = select(ClosureRow).order_by(ClosureRow.closed_at.desc(), ClosureRow.closure_key).limit(limit)
        if product:
            query = query.where(ClosureRow.product == product)
        with Session(engine) as session:
            rows = session.scalars(query).all()
            return [closure_read(row, people=caller.role >= Role.pm) for row in rows]

    @router.get(
        "/closures/{closure_id}/impact", response_model=ClosureImpactRead, tags=["closures"],
        responses={**ERRORS, **NOT_FOUND},
    )
    def closure_impact(caller: Viewer, closure_id: str) -> ClosureImpactRead:
        """A shipped closure's impact: asks per week before and after shipping, week by week for
        12 weeks, and the follow-up praise (404 for a closure the read model does not know).
        """
        with Session(engine) as session:
            rows = session.scalars(
                select(ClosureImpactRow).where(ClosureImpactRow.closure_id == closure_id)
                .order_by(ClosureImpactRow.week)
            ).all()
            closure = session.get(ClosureRow, closure_id)
            if not rows and closure is None:
                raise ApiError(404, "not_found", f"no closure {closure_id}")
            return closure_impact_read(closure_id, closure, list(rows))

    @router.get("/metrics/monthly", response_model=MonthlyMetrics, tags=["metrics"], responses=ERRORS)
    def monthly(
        _caller: Viewer,
        product: ProductParam = None,
        platform: Platform | None = None,
    ) -> MonthlyMetrics:
        """Valid suggestions per month (count and distinct authors), and rejections by reason."""
        with Session(engine) as session:
            query = select(
                ClassificationRow.created_at,
                ClassificationRow.author_id,
                ClassificationRow.verdict,
                ClassificationRow.reason,
            )
            if product:
                query = query.where(ClassificationRow.product == product)
            if platform:
                query = query.where(ClassificationRow.platform == platform.value)
            months: dict[str, tuple[int, set[str]]] = {}
            rejected: dict[str, int] = {}
            for created_at, author, verdict, reason in session.execute(query):
                if verdict == "brand_reply":  # the brand's own replies: dialogue, not feedback
                    continue
                if verdict == "suggestion":
                    month = month_label(created_at)
                    count, authors = months.get(month, (0, set()))
                    authors.add(author)
                    months[month] = (count + 1, authors)
                else:
                    rejected[reason] = rejected.get(reason, 0) + 1
        return MonthlyMetrics(
            product=product,
            platform=platform.value if platform else None,
            months=[
                MonthCount(month=m, suggestions=c, distinct_authors=len(a))
                for m, (c, a) in sorted(months.items())
            ],
            rejected_by_reason=dict(sorted(rejected.items())),
        )

    @router.get(
        "/monthly-updates", response_model=list[MonthlyUpdateRead], tags=["closures"], responses=ERRORS
    )
    def monthly_updates(
        caller: Viewer,
        product: ProductParam = None,
        limit: Annotated[int, Query(ge=1, le=120)] = 12,
    ) -> list[MonthlyUpdateRead]:
        """The "what we shipped this month" updates, newest month first (handles in their text
        shown as ``@…`` below the pm role).
        """
        handles = caller.role >= Role.pm
        query = select(MonthlyUpdateRow).order_by(MonthlyUpdateRow.month.desc(), MonthlyUpdateRow.product)
        if product:
            query = query.where(MonthlyUpdateRow.product == product)
        with Session(engine) as session:
            return [monthly_update_read(row, handles=handles) for row in session.scalars(query.limit(limit))]

    @router.get("/metrics/shipped", response_model=ShippedMetrics, tags=["metrics"], responses=ERRORS)
    def shipped_per_month(_caller: Viewer, product: ProductParam = None) -> ShippedMetrics:
        """Themes shipped per month, and the median days from a theme's first mention to shipping
        (a follow-up closure, thanking people a product manager added later, ships nothing).
        """
        query = (
            select(ClosureRow, ThemeRow.first_seen)
            .join(ThemeRow, ThemeRow.theme_id == ClosureRow.theme_id, isouter=True)
            .where(ClosureRow.outcome == "shipped")
        )
        if product:
            query = query.where(ClosureRow.product == product)
        waits: dict[str, list[float]] = {}
        counts: dict[str, int] = {}
        with Session(engine) as session:
            for closure, first_seen in session.execute(query):
                if closure.follow_up_of is not None:
                    continue
                closed_at = closure.closed_at
                month = month_label(closed_at)
                counts[month] = counts.get(month, 0) + 1
                if first_seen is not None:
                    days = (closed_at - first_seen).total_seconds() / 86400
                    waits.setdefault(month, []).append(days)
        return ShippedMetrics(
            product=product,
            months=[
                ShippedMonth(month=m, shipped=n, median_days_to_ship=_median(waits.get(m, [])))
                for m, n in sorted(counts.items())
            ],
        )

    return router


def month_label(moment: datetime) -> str:
    """The month of an aware ``moment`` in UTC as ``YYYY-MM`` (four-digit year: ``0001-01``)."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}"


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return round(value, 2)

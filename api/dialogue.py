"""``GET /metrics/dialogue``: how a product's brand answers in reply threads, per platform and
week, as the read model projected it from ``feedback.dialogue-weeks``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.common import ERRORS, Viewer
from api.parameters import NO_NUL
from api.readmodel.schema import DialogueWeekRow
from api.schemas import DialogueMetrics, DialogueWeekRead
from contracts.events import Platform

RequiredProduct = Annotated[str, Query(min_length=1, max_length=256, pattern=NO_NUL)]


def dialogue_router(*, engine: Engine) -> APIRouter:
    """``GET /metrics/dialogue?product=...[&platform=...]``."""
    router = APIRouter()

    @router.get("/metrics/dialogue", response_model=DialogueMetrics, tags=["metrics"], responses=ERRORS)
    def dialogue(
        _caller: Viewer,
        product: RequiredProduct,
        platform: Platform | None = None,
    ) -> DialogueMetrics:
        """First response p50/p90 (wall clock and working time), the share of threads answered
        within the service level and the share of answered threads closed without escalation to
        another channel, per platform and ISO week of the threads' first customer message.
        """
        query = select(DialogueWeekRow).where(DialogueWeekRow.product == product)
        if platform is not None:
            query = query.where(DialogueWeekRow.platform == platform.value)
        query = query.order_by(DialogueWeekRow.week, DialogueWeekRow.platform)
        with Session(engine) as session:
            rows = session.scalars(query).all()
            weeks = [
                DialogueWeekRead(
                    platform=row.platform,
                    week=row.week,
                    threads=row.threads,
                    answered=row.answered,
                    within_service_level=row.within_service_level,
                    escalated=row.escalated,
                    closed_without_escalation=row.closed_without_escalation,
                    share_within_service_level=row.share_within_service_level,
                    share_closed_without_escalation=row.share_closed_without_escalation,
                    response_p50_s=row.response_p50_s,
                    response_p90_s=row.response_p90_s,
                    working_response_p50_s=row.working_response_p50_s,
                    working_response_p90_s=row.working_response_p90_s,
                    service_level=row.service_level,
                    measured_at=row.measured_at,
                )
                for row in rows
            ]
        return DialogueMetrics(product=product, platform=platform.value if platform else None, weeks=weeks)

    return router

"""Viewer routes the dashboard needs beyond the theme and metrics routes: the impact/cost matrix
with each theme's weekly trend (top themes only, never all of them), and pipeline health.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api.common import ERRORS, Viewer
from api.parameters import ProductParam
from api.pipeline import PipelineProbe, stage_dead_letters
from api.readmodel.project import product_threshold
from api.readmodel.schema import LIVE_STATUSES, ThemeRow
from api.schemas import Body
from contracts.events import LifecycleStatus, Platform, is_mixed
from contracts.settings import Settings
from models.scoring import DEFAULT_RULES, ScoringWeights

LIVE = LIVE_STATUSES

TREND_WEEKS = 12


class MatrixPoint(Body):
    """One theme on the impact/cost matrix, with its trend."""

    theme_id: str
    product: str
    title: str = Field(description="Given by a person, else picked from the asks' words.")
    label: str = Field(description="Keywords.")
    lifecycle_status: LifecycleStatus
    emerging: bool = Field(default=False, description="Still small: fewer asks than a theme is founded from.")
    quadrant: str | None
    impact: float | None = Field(description="0..1, the score's impact.")
    cost_normalized: float | None = Field(description="0..1, the score's cost (assumed M until estimated).")
    cost_assumed: bool | None = Field(description="True while no cost has been estimated.")
    priority: float | None
    author_count: int = Field(description="Distinct people who asked.")
    mention_count: int
    hot_plan: bool
    trend: list[int] = Field(description="Mentions per ISO week, the weeks of ThemeMatrix.trend_weeks.")
    mixed: bool = Field(default=False, description="It likely gathers several ideas (ThemeRead.mixed).")


class ThemeMatrix(Body):
    """The top themes by score as points on the impact/cost matrix."""

    product: str | None
    platform: str | None
    total: int = Field(description="Active themes matching the filters (items holds the top ones).")
    products: list[str] = Field(description="Every product with an active theme, for filters.")
    high_impact_threshold: float | None = Field(description="Impact from which a theme is high impact.")
    high_cost_from: float = Field(description="Normalized cost from which a cost is high (5 story points).")
    trend_weeks: list[str] = Field(description="ISO weeks (YYYY-Www) of every item's trend, oldest first.")
    items: list[MatrixPoint]


class InputLag(Body):
    """An input topic of the worker: records written, records its consumer group committed, the gap."""

    topic: str
    end_offset: int
    committed: int
    lag: int


class StageDeadLetters(Body):
    """Records one stage of the worker set aside, held in the dead-letter topics of its inputs."""

    stage: str = Field(description="The agent, e.g. ingest-validate, classify, themes.")
    dead_letters: int = Field(description="Records held in the stage's dead-letter topics.")
    topics: dict[str, int] = Field(description="Records held in each of them (one per input topic).")


class PipelineHealth(Body):
    """The pipeline as the broker sees it; ``unknown`` (and None figures) when it cannot be asked."""

    broker: Literal["ok", "unknown"]
    message: str | None = Field(description="Why the figures are unknown.")
    consumer_group: str
    inputs: list[InputLag]
    total_lag: int | None = Field(description="Records written to the worker's inputs and not yet processed.")
    dead_letters: dict[str, int] = Field(
        description="Records held in each dead-letter topic of this environment (its topic prefix)."
    )
    dead_letter_total: int | None
    stages: list[StageDeadLetters] = Field(description="Dead letters by stage of the worker.")
    comments_per_minute: float | None = Field(
        description="Comments the worker committed on feedback.comments per minute, measured between "
        "this service's probes over the last few minutes; None until two probes are 5 s apart."
    )
    measured_over_s: float | None
    checked_at: datetime


class CallerRead(Body):
    """Whose key this is and what its role may do."""

    name: str
    role: Literal["viewer", "pm", "admin"]


def _week_start(label: str) -> date | None:
    """The Monday of an ISO week label (``2026-W09``, or a year written with fewer digits), or None."""
    year, separator, week = label.partition("-W")
    if not (separator and year.isascii() and year.isdigit() and week.isascii() and week.isdigit()):
        return None
    try:
        return date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        return None


def week_label(day: date) -> str:
    """The ISO week of ``day`` as ``YYYY-Www``, the year in four digits (``0001-W01``)."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def weekly_counts(counts: dict[str, Any]) -> dict[str, int]:
    """A theme's mentions per week keyed by :func:`week_label` (labels that name no week left out)."""
    weekly: dict[str, int] = {}
    for label, count in counts.items():
        start = _week_start(label)
        if start is not None:
            weekly[week_label(start)] = weekly.get(week_label(start), 0) + int(count)
    return weekly


def trend_weeks(latest: str | None, count: int = TREND_WEEKS) -> list[str]:
    """``count`` ISO weeks ending with ``latest`` (YYYY-Www), oldest first, less the weeks before
    year 1 when ``latest`` is that early; [] without a week.
    """
    start = _week_start(latest) if latest else None
    if start is None:
        return []
    weeks = []
    for back in range(count - 1, -1, -1):
        try:
            weeks.append(week_label(start - timedelta(weeks=back)))
        except OverflowError:  # before 0001-01-01: no such week
            continue
    return weeks


def high_cost_from(settings: Settings) -> float:
    """The normalized cost of the smallest high cost (``QuadrantRules.high_cost_min_points``), by the
    scoring's own scale: ``log(1 + points) / log(1 + cost_saturation_points)``.
    """
    weights = ScoringWeights(**settings.score_weights)  # type: ignore[arg-type]
    return min(
        1.0, math.log1p(DEFAULT_RULES.high_cost_min_points) / math.log1p(weights.cost_saturation_points)
    )


def matrix(
    engine: Engine, *, product: str | None, platform: Platform | None, limit: int, cost_split: float
) -> ThemeMatrix:
    """The ``limit`` best-scored active themes (by the same order as ``/themes?sort=score``)."""
    query = select(ThemeRow).where(ThemeRow.status.in_(LIVE))
    if product:
        query = query.where(ThemeRow.product == product)
    if platform:
        query = query.where(ThemeRow.platform_counts[platform.value].as_integer() > 0)
    with Session(engine) as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(
                ThemeRow.priority.desc().nulls_last(), ThemeRow.author_count.desc(), ThemeRow.theme_id
            ).limit(limit)
        ).all()
        products = list(
            session.scalars(
                select(ThemeRow.product)
                .where(ThemeRow.status.in_(LIVE))
                .distinct()
                .order_by(ThemeRow.product)
            )
        )
        counts_of = {row.theme_id: weekly_counts(row.weekly_counts or {}) for row in rows}
        latest = max((week for counts in counts_of.values() for week in counts), default=None)
        weeks = trend_weeks(latest)
        threshold = product_threshold(session, product) if product else None
        items = []
        for row in rows:
            score: dict[str, Any] = row.score or {}
            threshold = threshold if threshold is not None else score.get("high_impact_threshold")
            counts = counts_of[row.theme_id]
            items.append(
                MatrixPoint(
                    theme_id=row.theme_id,
                    product=row.product,
                    title=row.title,
                    label=row.label,
                    lifecycle_status=LifecycleStatus(row.lifecycle_status),
                    emerging=row.status == "emerging",
                    quadrant=row.quadrant,
                    impact=score.get("impact", row.impact),
                    cost_normalized=score.get("cost_normalized"),
                    cost_assumed=score.get("cost_assumed"),
                    priority=row.priority,
                    author_count=row.author_count,
                    mention_count=row.mention_count,
                    hot_plan=row.hot_plan,
                    trend=[int(counts.get(week, 0)) for week in weeks],
                    mixed=is_mixed(row.agreement),
                )
            )
    return ThemeMatrix(
        product=product,
        platform=platform.value if platform else None,
        total=total,
        products=products,
        high_impact_threshold=threshold,
        high_cost_from=cost_split,
        trend_weeks=weeks,
        items=items,
    )


def dashboard_router(probe: PipelineProbe) -> APIRouter:
    """The matrix and pipeline routes (viewer role); ``probe`` asks the broker."""
    router = APIRouter(tags=["dashboard"])
    cost_split = high_cost_from(probe.settings)

    @router.get("/matrix", response_model=ThemeMatrix, responses=ERRORS)
    def get_matrix(
        request: Request,
        _caller: Viewer,
        product: ProductParam = None,
        platform: Platform | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 150,
    ) -> ThemeMatrix:
        """The top themes by score as points: impact against cost, sized by distinct people, with
        each theme's mentions per week over the last 12 weeks.
        """
        return matrix(
            request.app.state.engine, product=product, platform=platform, limit=limit, cost_split=cost_split
        )

    @router.get("/me", response_model=CallerRead, responses=ERRORS)
    def who_am_i(caller: Viewer) -> CallerRead:
        """The calling key's name and role (pages show what the role may do)."""
        return CallerRead(name=caller.name, role=caller.role.name)

    @router.get("/pipeline", response_model=PipelineHealth, responses=ERRORS)
    async def get_pipeline(_caller: Viewer) -> PipelineHealth:
        """Consumer lag of the worker's group per input topic, dead letters held (per topic and per
        stage, this environment's topics only), comments per minute. Answers within a few
        seconds; ``unknown`` when the broker cannot be asked.
        """
        reading, message = await probe.read()
        group = probe.settings.app_id
        now = datetime.now(UTC)
        if reading is None:
            return PipelineHealth(
                broker="unknown",
                message=message or "the broker could not be read",
                consumer_group=group,
                inputs=[],
                total_lag=None,
                dead_letters={},
                dead_letter_total=None,
                stages=[],
                comments_per_minute=None,
                measured_over_s=None,
                checked_at=now,
            )
        rate, span = probe.throughput_per_minute()
        return PipelineHealth(
            broker="ok",
            message=None,
            consumer_group=group,
            inputs=[
                InputLag(topic=t.topic, end_offset=t.end_offset, committed=t.committed, lag=t.lag)
                for t in reading.inputs
            ],
            total_lag=sum(t.lag for t in reading.inputs),
            dead_letters=reading.dead_letters,
            dead_letter_total=sum(reading.dead_letters.values()),
            stages=[
                StageDeadLetters(stage=stage, dead_letters=sum(topics.values()), topics=topics)
                for stage, topics in stage_dead_letters(probe.settings, reading.dead_letters).items()
            ],
            comments_per_minute=None if rate is None else round(rate, 1),
            measured_over_s=round(span, 1) if rate is not None else None,
            checked_at=now,
        )

    return router

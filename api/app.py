"""The product managers' API (FastAPI): themes, commands, closures, metrics, keys, health.

``create_api`` builds the app from settings; nothing connects at import time. At start it
migrates the read model, starts a Kafka producer for commands and, unless told otherwise, the
projection that keeps the read model up to date (:mod:`youasked.readmodel.projector`). Commands
are published to ``feedback.theme-commands`` and answered 202 with their id; the worker decides
and its outcome shows at ``/commands/{command_id}`` once projected.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any, Literal, Protocol

from aiokafka import AIOKafkaProducer
from fastapi import Depends, FastAPI, Header, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BeforeValidator
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import (
    ClosureRead,
    CommandAccepted,
    CostChange,
    ErrorBody,
    Health,
    HistoryRead,
    IngestAccepted,
    KeyCreate,
    KeyCreated,
    MergeRequest,
    MonthCount,
    MonthlyMetrics,
    MonthlyUpdateRead,
    OutcomeRead,
    ReleaseChange,
    ReviewItem,
    ShippedMetrics,
    ShippedMonth,
    SplitRequest,
    StatusChange,
    SuggestionRead,
    ThemeDetail,
    ThemeHit,
    ThemeHits,
    ThemePage,
    ThemeRead,
)
from api.search import SemanticIndex
from api.security import Caller, Role, authenticate, create_key, revoke_key
from api.telemetry import instrument
from models.embedding import Embedder
from youasked.contracts.events import LifecycleStatus, event_json
from youasked.contracts.lifecycle import CommandKind, ThemeCommand
from youasked.contracts.topics import COMMENTS, THEME_COMMANDS
from youasked.readmodel.db import make_engine, upgrade
from youasked.readmodel.projector import Projection
from youasked.readmodel.schema import (
    ClassificationRow,
    ClosureRow,
    MonthlyUpdateRow,
    OutcomeRow,
    SuggestionRow,
    ThemeHistoryRow,
    ThemeRow,
)
from youasked.settings import Settings

logger = logging.getLogger(__name__)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body could not be parsed."},
    401: {"model": ErrorBody, "description": "No valid API key."},
    403: {"model": ErrorBody, "description": "The key's role may not do this."},
    422: {"model": ErrorBody, "description": "The request is not valid."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "Not found."}}
SORTS = {"score", "authors", "growth", "recency"}


class Publisher(Protocol):
    """Where commands go: Kafka in service (:class:`KafkaPublisher`), memory in tests."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        """Return once the record is acknowledged."""

    async def reachable(self) -> bool:
        """True when records can be sent now."""


class KafkaPublisher:
    """Commands to the Kafka cluster of ``settings`` (acks=all)."""

    def __init__(self, settings: Settings) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        await self.producer.send_and_wait(topic, key=key, value=value)

    async def reachable(self) -> bool:
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout=5)
            return True
        except Exception:
            return False


class ApiError(HTTPException):
    """An HTTP error with a stable code, rendered as :class:`ErrorBody`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status_code=status, detail=message)
        self.code = code


def role(minimum: Role) -> Callable[..., Caller]:
    """A dependency admitting callers whose key has at least the role ``minimum``."""

    def check(request: Request, x_api_key: Annotated[str | None, Header()] = None) -> Caller:
        caller = authenticate(request.app.state.engine, x_api_key)
        if caller is None:
            raise ApiError(401, "unauthorized", "send a valid API key in X-API-Key")
        if caller.role < minimum:
            raise ApiError(403, "forbidden", f"the {caller.role.name} role may not do this")
        return caller

    return check


def _iso_instant(value: Any) -> Any:
    """Query instants are RFC 3339 text with an offset; pydantic would also read numbers."""
    if isinstance(value, str) and ("T" not in value.upper() or not any(c in value for c in "+-Zz")):
        raise ValueError("expected an RFC 3339 date-time with an offset, e.g. 2026-03-01T00:00:00Z")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_instant)]
Viewer = Annotated[Caller, Depends(role(Role.viewer))]
Pm = Annotated[Caller, Depends(role(Role.pm))]
Admin = Annotated[Caller, Depends(role(Role.admin))]
ThemeId = Annotated[str, Path(min_length=1, max_length=256)]


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody.model_validate({"error": {"code": code, "message": message}})
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


def create_api(
    settings: Settings,
    *,
    engine: Engine | None = None,
    project: bool = True,
    commands: bool = True,
    publisher: Publisher | None = None,
    embedder: Callable[[], Embedder] | None = None,
) -> FastAPI:
    """The API app. ``engine`` defaults to the configured read model; ``project`` runs the
    projection inside the service (one process to deploy; several API processes may each run
    it, since its writes are idempotent); without ``commands`` no producer is started and
    commands answer 503 (a read-only replica). ``publisher`` replaces the Kafka producer;
    ``embedder`` makes the model semantic search embeds queries with (loaded on first use).
    """
    engine = engine or make_engine(settings.read_model_url)
    state: dict[str, Any] = {"producer": None, "projection": None}

    def default_embedder() -> Embedder:
        from youasked.factories import embedder as load

        return load(settings)

    semantic = SemanticIndex(engine, embedder or default_embedder)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(upgrade, engine)
        if commands:
            chosen = publisher or KafkaPublisher(settings)
            try:
                await chosen.start()
                state["producer"] = chosen
            except Exception:  # the API still serves reads; commands answer 503 until a restart
                logger.exception("Kafka producer unavailable: commands are refused")
        task = None
        if project:
            projection = Projection(settings, engine)
            state["projection"] = projection
            task = asyncio.create_task(projection.run())
        try:
            yield
        finally:
            if task is not None:
                state["projection"].stop()
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            if state["producer"] is not None:
                await state["producer"].stop()

    app = FastAPI(
        title="youasked",
        version="1",
        description="Themes of what people ask for, their scores and lifecycle, and the closures "
        "that tell every one of them when it shipped. Send an API key in `X-API-Key`.",
        lifespan=lifespan,
    )
    app.state.engine = engine
    instrument(app)  # GET /metrics, public: request counts and latency, no personal data

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = getattr(exc, "code", None) or {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
        }.get(exc.status_code, "error")
        return _error(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        message = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors()
        )
        return _error(422, "invalid_request", message[:2000])

    @app.get("/health", response_model=Health, tags=["health"])
    def health() -> Health:
        """The process answers."""
        return Health(status="ok")

    @app.get("/ready", response_model=Health, tags=["health"], responses={503: {"model": Health}})
    async def ready() -> Any:
        """Broker and database reachable."""
        database = await asyncio.to_thread(_database_ok, engine)
        producer = state["producer"]
        broker = producer is not None and await producer.reachable()
        projection = state["projection"]
        body = Health(
            status="ok" if database and broker else "unavailable",
            broker=broker,
            database=database,
            projected_records=projection.applied if projection else None,
        )
        return JSONResponse(status_code=200 if body.status == "ok" else 503, content=body.model_dump())

    @app.get("/themes", response_model=ThemePage, tags=["themes"], responses=ERRORS)
    def list_themes(
        caller: Viewer,
        product: Annotated[str | None, Query(max_length=256)] = None,
        status: LifecycleStatus | None = None,
        quadrant: Literal["quick_win", "big_bet", "fill_in", "money_pit", "unknown_cost"] | None = None,
        platform: Annotated[str | None, Query(max_length=32)] = None,
        min_authors: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
        since: Instant | None = None,
        until: Instant | None = None,
        q: Annotated[str | None, Query(max_length=200, description="Words the theme must contain.")] = None,
        include_merged: bool = False,
        sort: Literal["score", "authors", "growth", "recency"] = "score",
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> ThemePage:
        """Themes with filters, sorted by score (priority), distinct authors, growth or recency."""
        query = select(ThemeRow)
        if not include_merged:
            query = query.where(ThemeRow.status == "active")
        if product:
            query = query.where(ThemeRow.product == product)
        if status:
            query = query.where(ThemeRow.lifecycle_status == status.value)
        if quadrant:
            query = query.where(ThemeRow.quadrant == quadrant)
        if min_authors:
            query = query.where(ThemeRow.author_count >= min_authors)
        if since:
            query = query.where(ThemeRow.last_seen >= since)
        if until:
            query = query.where(ThemeRow.first_seen <= until)
        if platform:  # the snapshot's per-platform mention counts (no join with suggestions)
            query = query.where(ThemeRow.platform_counts[platform].as_integer() > 0)
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
            items = [_theme_read(row, handles=caller.role >= Role.pm) for row in rows]
        return ThemePage(items=items, total=total, limit=limit, offset=offset)

    @app.get("/themes/search", response_model=ThemeHits, tags=["themes"], responses=ERRORS)
    async def search_themes(
        caller: Viewer,
        q: Annotated[str, Query(min_length=1, max_length=500, description="What people might have asked.")],
        product: Annotated[str | None, Query(max_length=256)] = None,
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
                ThemeHit(**_theme_read(rows[theme_id], handles=caller.role >= Role.pm).model_dump(),
                         similarity=similarity)
                for theme_id, similarity in hits
                if theme_id in rows
            ]
        return ThemeHits(query=q, items=items)

    @app.get(
        "/themes/{theme_id}", response_model=ThemeDetail, tags=["themes"], responses={**ERRORS, **NOT_FOUND}
    )
    def get_theme(
        theme_id: ThemeId,
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
            return ThemeDetail(
                **_theme_read(row, handles=handles).model_dump(),
                score=row.score,
                cost=row.cost,
                release=row.release,
                weekly_counts=dict(row.weekly_counts or {}),
                suggestions=[_suggestion_read(m, handles=handles) for m in members],
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
            )

    async def publish(caller: Caller, theme_id: str, kind: CommandKind, **fields: Any) -> CommandAccepted:
        producer = state["producer"]
        if producer is None:
            raise ApiError(503, "broker_unavailable", "the broker is not reachable; try again later")
        product = await asyncio.to_thread(_product_of, engine, theme_id)
        if product is None:
            raise ApiError(404, "not_found", f"no theme {theme_id}")
        command = ThemeCommand(
            command_id=f"api-{uuid.uuid4().hex}",
            product=product,
            theme_id=theme_id,
            kind=kind,
            actor=caller.name,
            issued_at=datetime.now(UTC),
            **fields,
        )
        await producer.send(settings.topic_name(THEME_COMMANDS), product.encode(), event_json(command))
        return CommandAccepted(command_id=command.command_id)

    accepted: dict[int | str, dict[str, Any]] = {
        **ERRORS,
        **NOT_FOUND,
        503: {"model": ErrorBody, "description": "The broker is not reachable."},
    }
    command_route = partial(
        app.post, status_code=202, response_model=CommandAccepted, tags=["commands"], responses=accepted
    )

    @command_route("/themes/{theme_id}/status")
    async def set_status(theme_id: ThemeId, body: StatusChange, caller: Pm) -> CommandAccepted:
        """Move a theme to another status (shipped and declined close the loop)."""
        return await publish(
            caller, theme_id, CommandKind.SET_STATUS, status=body.status, reason=body.reason, title=body.title
        )

    @command_route("/themes/{theme_id}/cost")
    async def set_cost(theme_id: ThemeId, body: CostChange, caller: Pm) -> CommandAccepted:
        """Set the cost estimate (t-shirt size or points)."""
        return await publish(caller, theme_id, CommandKind.SET_COST, cost=body.cost, reason=body.reason)

    @command_route("/themes/{theme_id}/release")
    async def set_release(theme_id: ThemeId, body: ReleaseChange, caller: Pm) -> CommandAccepted:
        """Attach the release that ships the theme."""
        return await publish(
            caller, theme_id, CommandKind.ATTACH_RELEASE, release=body.release, reason=body.reason
        )

    @command_route("/themes/{theme_id}/merge")
    async def merge(theme_id: ThemeId, body: MergeRequest, caller: Pm) -> CommandAccepted:
        """Merge other themes into this one."""
        return await publish(
            caller, theme_id, CommandKind.MERGE, source_ids=body.source_ids, reason=body.reason
        )

    @command_route("/themes/{theme_id}/split")
    async def split(theme_id: ThemeId, body: SplitRequest, caller: Pm) -> CommandAccepted:
        """Split members of this theme into new themes."""
        return await publish(caller, theme_id, CommandKind.SPLIT, parts=body.parts, reason=body.reason)

    @app.get("/review-queue", response_model=list[ReviewItem], tags=["themes"], responses=ERRORS)
    def review_queue(
        caller: Viewer,
        product: Annotated[str | None, Query(max_length=256)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> list[ReviewItem]:
        """Possible duplicates (the review band of similarity), most similar first, each with the
        suggestion it may repeat. A person settles one with a merge or a split of the themes.
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
                        suggestion=_suggestion_read(row, handles=handles),
                        theme_id=row.theme_id,
                        original=_suggestion_read(original, handles=handles) if original else None,
                        original_theme_id=original.theme_id if original else None,
                        similarity=row.similarity,
                        same_theme=original is not None and original.theme_id == row.theme_id,
                    )
                )
        return items

    @app.get(
        "/commands/{command_id}",
        response_model=OutcomeRead,
        tags=["commands"],
        responses={**ERRORS, **NOT_FOUND},
    )
    def get_outcome(
        command_id: Annotated[str, Path(min_length=1, max_length=256)], _caller: Viewer
    ) -> OutcomeRead:
        """A command's outcome; 404 ``pending`` until the worker decided and it was projected."""
        with Session(engine) as session:
            row = session.get(OutcomeRow, command_id)
            if row is None:
                raise ApiError(404, "pending", f"no outcome yet for {command_id}")
            return OutcomeRead(
                command_id=row.command_id,
                theme_id=row.theme_id,
                kind=row.kind,
                accepted=row.accepted,
                code=row.code,
                message=row.message,
                closure_key=row.closure_key,
                decided_at=row.decided_at,
            )

    @app.get("/closures", response_model=list[ClosureRead], tags=["closures"], responses=ERRORS)
    def list_closures(
        caller: Viewer,
        product: Annotated[str | None, Query(max_length=256)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> list[ClosureRead]:
        """Recent closures, newest first. The people who asked are listed for pm and admin."""
        query = select(ClosureRow).order_by(ClosureRow.closed_at.desc(), ClosureRow.closure_key).limit(limit)
        if product:
            query = query.where(ClosureRow.product == product)
        with Session(engine) as session:
            rows = session.scalars(query).all()
            return [_closure_read(row, people=caller.role >= Role.pm) for row in rows]

    @app.get("/metrics/monthly", response_model=MonthlyMetrics, tags=["metrics"], responses=ERRORS)
    def monthly(
        _caller: Viewer,
        product: Annotated[str | None, Query(max_length=256)] = None,
        platform: Annotated[str | None, Query(max_length=32)] = None,
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
                query = query.where(ClassificationRow.platform == platform)
            months: dict[str, tuple[int, set[str]]] = {}
            rejected: dict[str, int] = {}
            for created_at, author, verdict, reason in session.execute(query):
                if verdict == "suggestion":
                    month = created_at.astimezone(UTC).strftime("%Y-%m")
                    count, authors = months.get(month, (0, set()))
                    authors.add(author)
                    months[month] = (count + 1, authors)
                else:
                    rejected[reason] = rejected.get(reason, 0) + 1
        return MonthlyMetrics(
            product=product,
            platform=platform,
            months=[
                MonthCount(month=m, suggestions=c, distinct_authors=len(a))
                for m, (c, a) in sorted(months.items())
            ],
            rejected_by_reason=dict(sorted(rejected.items())),
        )

    @app.get("/monthly-updates", response_model=list[MonthlyUpdateRead], tags=["closures"], responses=ERRORS)
    def monthly_updates(
        _caller: Viewer,
        product: Annotated[str | None, Query(max_length=256)] = None,
        limit: Annotated[int, Query(ge=1, le=120)] = 12,
    ) -> list[MonthlyUpdateRead]:
        """The "what we shipped this month" updates, newest month first."""
        query = select(MonthlyUpdateRow).order_by(MonthlyUpdateRow.month.desc(), MonthlyUpdateRow.product)
        if product:
            query = query.where(MonthlyUpdateRow.product == product)
        with Session(engine) as session:
            return [
                MonthlyUpdateRead(
                    product=row.product,
                    month=row.month,
                    distinct_people=row.distinct_people,
                    text=row.text,
                    published_at=row.published_at,
                    event=row.event,
                )
                for row in session.scalars(query.limit(limit))
            ]

    @app.get("/metrics/shipped", response_model=ShippedMetrics, tags=["metrics"], responses=ERRORS)
    def shipped_per_month(
        _caller: Viewer, product: Annotated[str | None, Query(max_length=256)] = None
    ) -> ShippedMetrics:
        """Themes shipped per month, and the median days from a theme's first mention to shipping."""
        query = (
            select(ClosureRow.closed_at, ThemeRow.first_seen)
            .join(ThemeRow, ThemeRow.theme_id == ClosureRow.theme_id, isouter=True)
            .where(ClosureRow.outcome == "shipped")
        )
        if product:
            query = query.where(ClosureRow.product == product)
        waits: dict[str, list[float]] = {}
        counts: dict[str, int] = {}
        with Session(engine) as session:
            for closed_at, first_seen in session.execute(query):
                month = closed_at.astimezone(UTC).strftime("%Y-%m")
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

    @app.post(
        "/ingest",
        status_code=202,
        response_model=IngestAccepted,
        tags=["ingest"],
        responses={
            400: {"model": ErrorBody, "description": "Not a JSON object or array of objects."},
            401: {"model": ErrorBody, "description": "Missing, stale or wrong signature."},
            404: {"model": ErrorBody, "description": "Signed ingest is not configured."},
            413: {"model": ErrorBody, "description": "Body over the size limit."},
            503: {"model": ErrorBody, "description": "The broker is not reachable."},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": ["object", "array"]}}},
            },
            "parameters": [
                {
                    "name": "X-Youasked-Timestamp",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                },
                {
                    "name": "X-Youasked-Signature",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                },
            ],
        },
    )
    async def ingest(request: Request) -> IngestAccepted:
        """Comments pushed by a platform: a ``CommentReceived`` object or an array of them, signed
        ``X-Youasked-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with
        ``X-Youasked-Timestamp: <unix seconds>`` within ``YOUASKED_INGEST_WINDOW_S``. Each comment
        goes onto ``feedback.comments`` as sent; the worker validates it (bad ones are
        dead-lettered with their reason).
        """
        secret = settings.ingest_secret
        if not secret:
            raise ApiError(404, "not_found", "signed ingest is not configured (YOUASKED_INGEST_SECRET)")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.ingest_max_bytes:
            raise ApiError(413, "too_large", f"the body is over {settings.ingest_max_bytes} bytes")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > settings.ingest_max_bytes:
                raise ApiError(413, "too_large", f"the body is over {settings.ingest_max_bytes} bytes")
        if not verify_signature(
            secret,
            body,
            timestamp=request.headers.get("x-youasked-timestamp"),
            signature=request.headers.get("x-youasked-signature"),
            window_s=settings.ingest_window_s,
        ):
            raise ApiError(401, "bad_signature", "missing, stale or wrong signature")
        records = split_records(body)
        if records is None:
            raise ApiError(400, "bad_request", "expected a JSON object or an array of JSON objects")
        producer = state["producer"]
        if producer is None:
            raise ApiError(503, "broker_unavailable", "the broker is not reachable; try again later")
        for record in records:
            await producer.send(settings.topic_name(COMMENTS), b"", record)
        return IngestAccepted(accepted=len(records))

    @app.post("/keys", status_code=201, response_model=KeyCreated, tags=["admin"], responses=ERRORS)
    def new_key(body: KeyCreate, _caller: Admin) -> KeyCreated:
        """Create an API key; it is shown this once."""
        key = create_key(engine, name=body.name, role=Role[body.role])
        return KeyCreated(key_id=key.split("_", 2)[1], key=key, role=body.role)

    @app.delete("/keys/{key_id}", status_code=204, tags=["admin"], responses={**ERRORS, **NOT_FOUND})
    def delete_key(key_id: Annotated[str, Path(min_length=1, max_length=64)], _caller: Admin) -> None:
        """Revoke an API key."""
        if not revoke_key(engine, key_id):
            raise ApiError(404, "not_found", f"no live key {key_id}")

    async def send_record(topic: str, key: bytes, value: bytes) -> None:
        producer = state["producer"]
        if producer is None:
            raise ApiError(503, "broker_unavailable", "the broker is not reachable; try again later")
        await producer.send(topic, key, value)

    from api.pages import pages_router  # imports this module: only once it is loaded
    from api.people import people_router

    app.include_router(people_router(settings, engine=engine, send=send_record))  # review, erasure
    app.include_router(pages_router(settings))  # /dashboard, /board, /matrix, /pipeline, /public/*
    return app


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return round(value, 2)


def sign(secret: str, body: bytes, timestamp: str) -> str:
    """The ``X-Youasked-Signature`` value of ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str, body: bytes, *, timestamp: str | None, signature: str | None, window_s: float
) -> bool:
    """True when ``signature`` signs ``body`` at ``timestamp`` and that is within ``window_s`` of now."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs(time.time() - int(timestamp)) > window_s:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), signature.strip())


def split_records(body: bytes) -> list[bytes] | None:
    """The comments of an ingest body, each as its own JSON text; None unless the body is a JSON
    object or a non-empty array of objects (each comment's fields are checked downstream).
    """
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    return [json.dumps(item, ensure_ascii=False).encode() for item in items]


def _suggestion_read(row: SuggestionRow, *, handles: bool) -> SuggestionRead:
    return SuggestionRead(
        suggestion_id=row.suggestion_id,
        platform=row.platform,
        comment_id=row.comment_id,
        url=row.url,
        text=row.text if handles else mask_handles(row.text),
        asked_at=row.asked_at,
        duplicate_of=row.duplicate_of,
        duplicate_kind=row.duplicate_kind,
        author_handle=row.author_handle if handles else None,
    )


HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_.]+(?<!\.)")


def mask_handles(text: str | None) -> str | None:
    """``text`` with every ``@handle`` in it shown as ``@…``: what roles without handles see of
    people's own words (they name themselves or others that way).
    """
    return None if text is None else HANDLE.sub("@…", text)


def _theme_read(row: ThemeRow, *, handles: bool = False) -> ThemeRead:
    return ThemeRead(
        theme_id=row.theme_id,
        product=row.product,
        status=row.status,
        lifecycle_status=LifecycleStatus(row.lifecycle_status),
        merged_into=row.merged_into,
        label=row.label,
        keywords=list(row.keywords or []),
        representative_text=row.representative_text if handles else mask_handles(row.representative_text),
        mention_count=row.mention_count,
        member_count=row.member_count,
        author_count=row.author_count,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        platform_counts=dict(row.platform_counts or {}),
        priority=row.priority,
        impact=row.impact,
        growth=row.growth,
        quadrant=row.quadrant,
        hot_plan=row.hot_plan,
        changed_at=row.changed_at,
    )


def _closure_read(row: ClosureRow, *, people: bool) -> ClosureRead:
    event = dict(row.event)
    if not people:  # posts may mention handles: the viewer role sees counts and titles only
        for field in ("people", "replies", "public_posts"):
            event.pop(field, None)
    return ClosureRead(
        closure_key=row.closure_key,
        theme_id=row.theme_id,
        product=row.product,
        outcome=row.outcome,
        title=row.title,
        people_count=row.people_count,
        comment_count=row.comment_count,
        closed_at=row.closed_at,
        event=event,
    )


def _product_of(engine: Engine, theme_id: str) -> str | None:
    with Session(engine) as session:
        row = session.get(ThemeRow, theme_id)
        return None if row is None else row.product


def _database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False

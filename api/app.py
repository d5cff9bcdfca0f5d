"""The product managers' API (FastAPI): the app, its lifespan, error bodies, health and readiness.

``create_api`` builds the app from settings; nothing connects at import time. At start it
migrates the read model, starts a Kafka producer for commands and, unless told otherwise, the
projection that keeps the read model up to date (:mod:`youasked.readmodel.projector`). The
routes live in routers by responsibility: :mod:`api.themes` (reads), :mod:`api.commands`
(changes and their outcomes), :mod:`api.reports` (closures and metrics), :mod:`api.ingest`
(signed push), :mod:`api.keys`, :mod:`api.people` (review decisions, erasure) and
:mod:`api.pages` (dashboard, public board).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.commands import commands_router
from api.common import broker_unavailable, error_response
from api.ingest import ingest_router
from api.keys import keys_router
from api.pages import pages_router
from api.people import people_router
from api.publisher import KafkaPublisher, Publisher
from api.reports import reports_router
from api.schemas import Health
from api.search import SemanticIndex
from api.telemetry import instrument
from api.themes import themes_router
from models.embedding import Embedder
from youasked.readmodel.db import make_engine, upgrade
from youasked.readmodel.projector import Projection
from youasked.settings import Settings

logger = logging.getLogger(__name__)


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
        return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        message = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors()
        )
        return error_response(422, "invalid_request", message[:2000])

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

    async def send_record(topic: str, key: bytes, value: bytes) -> None:
        producer = state["producer"]
        if producer is None:
            raise broker_unavailable()
        await producer.send(topic, key, value)

    app.include_router(themes_router(engine=engine, semantic=semantic))
    app.include_router(commands_router(settings, engine=engine, send=send_record))
    app.include_router(reports_router(engine=engine))  # closures, monthly updates, metrics
    app.include_router(ingest_router(settings, send=send_record))
    app.include_router(keys_router(engine=engine))
    app.include_router(people_router(settings, engine=engine, send=send_record))  # review, erasure
    app.include_router(pages_router(settings))  # /dashboard, /board, /matrix, /pipeline, /public/*
    return app


def _database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False

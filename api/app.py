"""The product managers' API (FastAPI): the app, its lifespan, its edges, health and readiness.

``create_api`` builds the app from settings; nothing connects at import time. At start it
migrates the read model and, in the background (:mod:`api.startup`), loads the search model,
starts a Kafka producer for commands (again until the broker answers) and creates the declared
topics that are missing; unless told otherwise it runs the projection that keeps the read model
up to date (:mod:`api.readmodel.projector`). Every request passes the body limit
(:mod:`api.limits`) and the key check (:mod:`api.gate`) before its body is read; every error
answers in one shape (:mod:`api.errors`); every send is bounded by ``api_send_timeout_s``. The
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

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from api.ask_places import ask_places_router
from api.closure_preview import closure_preview_router
from api.commands import commands_router
from api.common import ApiError, broker_unavailable
from api.dialogue import dialogue_router
from api.errors import install_error_handlers
from api.gate import KeyFirstMiddleware
from api.ingest import ingest_router
from api.keys import keys_router
from api.limits import BodyLimitMiddleware
from api.pages import pages_router
from api.people import people_router
from api.publisher import BrokerUnavailableError, KafkaPublisher, Publisher, RecordTooLargeError
from api.readmodel.db import make_engine, upgrade
from api.readmodel.projector import Projection
from api.reports import reports_router
from api.schemas import Health
from api.search import SemanticIndex
from api.startup import ModelLoader, keep_ensuring_topics, keep_starting, load_model
from api.telemetry import instrument
from api.theme_pairs import theme_pairs_router
from api.themes import themes_router
from contracts.settings import Settings
from models.embedding import Embedder
from models.factories import embedder

logger = logging.getLogger(__name__)


def create_api(
    settings: Settings,
    *,
    engine: Engine | None = None,
    project: bool = True,
    commands: bool = True,
    publisher: Publisher | None = None,
    embedder: Callable[[], Embedder] | None = None,
    create_topics: bool | None = None,
) -> FastAPI:
    """The API app. ``engine`` defaults to the configured read model; ``project`` runs the
    projection inside the service (one process to deploy; several API processes may each run
    it, since its writes are idempotent); without ``commands`` no producer is started and
    commands answer 503 (a read-only replica). ``publisher`` replaces the Kafka producer;
    ``embedder`` makes the model semantic search embeds queries with (loaded at start-up).
    ``create_topics`` (default: when the Kafka producer is used) creates missing topics at start.
    """
    engine = engine or make_engine(settings.read_model_url)
    state: dict[str, Any] = {"producer": None, "projection": None}
    model = ModelLoader(embedder or _default_embedder(settings))
    ensure = (commands and publisher is None) if create_topics is None else create_topics

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(upgrade, engine)
        tasks = [asyncio.create_task(load_model(model))]
        if ensure:
            tasks.append(asyncio.create_task(keep_ensuring_topics(settings)))
        if commands:
            chosen = publisher or KafkaPublisher(settings)
            tasks.append(asyncio.create_task(keep_starting(chosen, on_started=_keep(state, "producer"))))
        if project:
            state["projection"] = Projection(settings, engine)
            tasks.append(asyncio.create_task(state["projection"].run()))
        try:
            yield
        finally:
            if state["projection"] is not None:
                state["projection"].stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
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
    app.add_middleware(KeyFirstMiddleware, engine=engine)  # inner: the key before the body
    app.add_middleware(BodyLimitMiddleware, settings=settings)  # outer: no byte over the limit
    instrument(app)  # GET /metrics, public: request counts and latency, no personal data
    install_error_handlers(app)
    _health_routes(app, engine=engine, state=state, model=model)

    async def send_record(topic: str, key: bytes, value: bytes) -> None:
        await _send(state["producer"], settings, topic, key, value)

    semantic = SemanticIndex(engine, model)
    app.include_router(theme_pairs_router(engine=engine))  # /themes/pairs before /themes/{theme_id}
    app.include_router(ask_places_router(engine=engine))
    app.include_router(themes_router(engine=engine, semantic=semantic))
    app.include_router(closure_preview_router(engine=engine, semantic=semantic))
    app.include_router(commands_router(settings, engine=engine, send=send_record))
    app.include_router(reports_router(engine=engine))  # closures, monthly updates, metrics
    app.include_router(dialogue_router(engine=engine))  # /metrics/dialogue
    app.include_router(ingest_router(settings, send=send_record))
    app.include_router(keys_router(engine=engine))
    app.include_router(people_router(settings, engine=engine, send=send_record))  # review, erasure
    app.include_router(pages_router(settings))  # /dashboard, /board, /matrix, /pipeline, /public/*
    return app


def _default_embedder(settings: Settings) -> Callable[[], Embedder]:
    def load() -> Embedder:

        return embedder(settings)

    return load


def _keep(state: dict[str, Any], name: str) -> Callable[[Any], None]:
    def keep(value: Any) -> None:
        state[name] = value

    return keep


async def _send(producer: Publisher | None, settings: Settings, topic: str, key: bytes, value: bytes) -> None:
    """One record to the broker within ``api_send_timeout_s``: 503 ``broker_unavailable`` when it
    is not started, down, has no such topic yet or does not answer in time; 413 when the record
    is over the producer's limit. A 503 after the record was queued may still deliver it: callers
    retry, and every record the API sends carries its own id or applies again without harm.
    """
    if producer is None:
        raise broker_unavailable()
    try:
        await asyncio.wait_for(producer.send(topic, key, value), timeout=settings.api_send_timeout_s)
    except RecordTooLargeError as error:
        raise ApiError(413, "too_large", "the record is over the broker's size limit") from error
    except (TimeoutError, BrokerUnavailableError) as error:
        logger.warning("send to %s failed: %s", topic, str(error) or "no answer in time")
        raise broker_unavailable() from error


def _health_routes(app: FastAPI, *, engine: Engine, state: dict[str, Any], model: ModelLoader) -> None:
    @app.get("/health", response_model=Health, tags=["health"])
    def health() -> Health:
        """The process answers."""
        return Health(status="ok")

    @app.get("/ready", response_model=Health, tags=["health"], responses={503: {"model": Health}})
    async def ready() -> Any:
        """Broker, database and search model ready: 200 ``ok``; 200 ``degraded`` while the
        projection has records set aside (``set_aside``) or is not consuming (``projecting``:
        reads grow stale); 503 ``unavailable`` otherwise.
        """
        database = await asyncio.to_thread(_database_ok, engine)
        producer = state["producer"]
        broker = producer is not None and await producer.reachable()
        projection = state["projection"]
        set_aside = int(getattr(projection, "set_aside", 0) or 0) if projection else 0
        projecting = bool(getattr(projection, "consuming", False)) if projection else None
        usable = database and broker and model.loaded
        body = Health(
            status="unavailable" if not usable else "degraded" if set_aside or projecting is False else "ok",
            broker=broker,
            database=database,
            model=model.loaded,
            projected_records=projection.applied if projection else None,
            set_aside=set_aside if projection else None,
            projecting=projecting,
        )
        return JSONResponse(status_code=200 if usable else 503, content=body.model_dump())


def _database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False

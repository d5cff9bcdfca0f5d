"""The pages the API serves: the product managers' dashboard (``/dashboard``) and the public ideas
board (``/board``), static HTML, JavaScript and CSS from ``api/static/`` with no asset from
elsewhere (the Content-Security-Policy allows this origin only).

The pages read the same API as every other client: the dashboard with the viewer's key (kept in
the browser's localStorage; a ``#key=...`` fragment stores one), the board through the public
routes that need none. :func:`pages_router` also carries the routes only these pages need
(:mod:`api.dashboard`, :mod:`api.public`), and reads the pipeline's health every
``PIPELINE_WATCH_S`` seconds while the app runs, for the dead-letter gauges of ``/metrics``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from api.common import ApiError
from api.dashboard import dashboard_router
from api.pipeline import BrokerReading, PipelineProbe, stage_dead_letters
from api.public import public_router
from api.telemetry import ApiMetrics
from contracts.settings import Settings

STATIC = Path(__file__).with_name("static")
PIPELINE_WATCH_S = 15.0  # how often the pipeline's figures are read for the metrics
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _export_dead_letters(metrics: ApiMetrics, settings: Settings, reading: BrokerReading | None) -> None:
    """Each stage's dead letters of ``reading`` as the metrics' gauges (none without a reading)."""
    if reading is None:
        metrics.observe_dead_letters(None)
        return
    stages = stage_dead_letters(settings, reading.dead_letters)
    metrics.observe_dead_letters({stage: sum(topics.values()) for stage, topics in stages.items()})


def _assets() -> dict[str, Path]:
    return {path.name: path for path in STATIC.iterdir() if path.suffix in TYPES}


def pages_router(settings: Settings) -> APIRouter:
    """The pages, their assets, and the dashboard's and the board's own routes."""
    probe = PipelineProbe(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics = getattr(app.state, "metrics", None)
        if isinstance(metrics, ApiMetrics):
            probe.listeners.append(partial(_export_dead_letters, metrics, settings))
        watcher = asyncio.create_task(probe.watch(PIPELINE_WATCH_S))
        try:
            yield
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            probe.close()

    router = APIRouter(lifespan=lifespan)
    assets = _assets()

    def page(name: str) -> HTMLResponse:
        return HTMLResponse((STATIC / name).read_text(encoding="utf-8"), headers=HEADERS)

    @router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
    def dashboard() -> HTMLResponse:
        """The product managers' dashboard (asks for an API key)."""
        return page("dashboard.html")

    @router.get("/board", response_class=HTMLResponse, include_in_schema=False)
    def ideas_board() -> HTMLResponse:
        """The public ideas board (no key)."""
        return page("board.html")

    @router.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/dashboard")

    @router.get("/static/{name}", include_in_schema=False)
    def asset(name: Annotated[str, PathParam(max_length=64)]) -> FileResponse:
        path = assets.get(name)
        if path is None:
            raise ApiError(404, "not_found", f"no asset {name}")
        return FileResponse(path, media_type=TYPES[path.suffix], headers=HEADERS)

    router.include_router(dashboard_router(probe))
    router.include_router(public_router(settings))
    return router

"""Prometheus metrics of the API: request counts and latency by route template, method and status.

:func:`instrument` adds a small ASGI middleware and a public ``GET /metrics`` (Prometheus text
format, left out of the OpenAPI document). The metrics carry route templates
(``/themes/{theme_id}``), never the paths requested, and no key or person: so ``/metrics`` needs
no API key. Each app gets a registry of its own.

``youasked_pipeline_dead_letters{stage}`` is the number of records held in the dead-letter
topics of each stage of the worker, as the pipeline probe last read them from the broker (the
API reads them periodically and for ``/pipeline``); while the broker cannot be read the series
are absent rather than stale.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# From a cached read (a millisecond) to a slow semantic search on a busy machine (seconds).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # requests no route answers share one label: the paths asked are unbounded


class ApiMetrics:
    """``youasked_http_requests_total`` and ``youasked_http_request_duration_seconds``, labelled
    ``method``, ``route`` (the template) and ``status``, on ``registry`` (a new one by default).
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        labels = ["method", "route", "status"]
        self.requests = Counter(
            "youasked_http_requests", "HTTP requests answered.", labels, registry=self.registry
        )
        self.latency = Histogram(
            "youasked_http_request_duration_seconds",
            "Seconds from a request's arrival to the end of its response.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

        self.dead_letters = Gauge(
            "youasked_pipeline_dead_letters",
            "Records held in the dead-letter topics of each stage of the worker, as last read.",
            ["stage"],
            registry=self.registry,
        )

    def observe_dead_letters(self, by_stage: dict[str, int] | None) -> None:
        """Set each stage's dead letters held; None (the broker could not be read) drops them all."""
        if by_stage is None:
            self.dead_letters.clear()
            return
        for stage, held in by_stage.items():
            self.dead_letters.labels(stage=stage).set(held)

    def observe(self, *, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""
        values = {"method": method if method in METHODS else "other", "route": route, "status": str(status)}
        self.requests.labels(**values).inc()
        self.latency.labels(**values).observe(seconds)


def route_template(scope: Scope) -> str:
    """The template of the route that answered (``/themes/{theme_id}``), or ``unmatched``."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestMetricsMiddleware:
    """Times every HTTP request and counts it with its route template and status."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            self.metrics.observe(
                method=str(scope.get("method", "")),
                route=route_template(scope),
                status=status,
                seconds=time.perf_counter() - started,
            )


def instrument(app: FastAPI, metrics: ApiMetrics | None = None) -> ApiMetrics:
    """Measure every request of ``app`` and serve the figures at ``GET /metrics``."""
    metrics = metrics if metrics is not None else ApiMetrics()
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    app.state.metrics = metrics

    async def prometheus_metrics(_request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", prometheus_metrics, methods=["GET"], include_in_schema=False)
    return metrics

"""The faust app factory. Nothing connects at import time: ``create_app`` builds, ``run_worker`` runs."""

from __future__ import annotations

import asyncio
import atexit
import gc
import io
import logging
import os
import signal
import socket
from typing import TYPE_CHECKING, Any

import faust
from threadpoolctl import threadpool_limits

from contracts.settings import Settings
from messaging.admin import ensure_topics
from models.embedding import SerializedEmbedder
from models.factories import embedder, suggestion_judge
from streams.classify import register_classify
from streams.dialogue import register_dialogue
from streams.ingest import register_ingest
from streams.metrics import WorkerMetrics, register_metrics, start_metrics_server
from streams.step_marker import StepMarker, marker_path
from streams.supervisor import client_id_of
from streams.themes import register_themes
from streams.transport import SCHEME

if TYPE_CHECKING:
    from streams.metrics import WorkerMetrics

logger = logging.getLogger(__name__)


def create_app(settings: Settings, metrics: WorkerMetrics | None = None) -> faust.App:
    """Build the faust app with every agent of youasked registered; its metrics go to
    ``metrics`` (a registry of their own by default).
    """
    datadir = settings.state_dir.resolve() / "worker"
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.app_id,
        # faust's Kafka transport with an idempotent producer; ";" separates faust's hosts
        broker=f"{SCHEME}://" + settings.bootstrap_servers.replace(",", ";"),
        broker_client_id=client_id_of(os.getpid()),  # how the supervisor finds this process's share
        store=settings.table_store,
        datadir=str(datadir),
        web_port=settings.worker_web_port,
        web_host="127.0.0.1",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        producer_acks=-1,
        producer_max_request_size=settings.kafka_message_max_bytes,
        broker_commit_every=100,
        broker_commit_interval=1.0,
        stream_wait_empty=True,
        broker_session_timeout=settings.worker_session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.worker_session_timeout_s / 3),
        broker_rebalance_timeout=max(30.0, settings.worker_session_timeout_s * 2),
        web_in_thread=False,
        logging_config=None,
    )
    metrics = metrics if metrics is not None else WorkerMetrics()
    register_metrics(app, settings, metrics)
    register_ingest(app, settings, metrics=metrics)
    model = SerializedEmbedder(embedder(
        settings,
        batch_size=settings.classify_embedding_batch_size,
        batch_tokens=settings.classify_embedding_batch_tokens or None,
    ))
    register_classify(app, settings, suggestion_judge(settings, with_embedder=model), metrics=metrics)
    register_themes(app, settings, metrics=metrics, embedder=model)
    register_dialogue(app, settings, metrics=metrics)
    return app


def run_worker(settings: Settings, *, loglevel: str = "info", **worker_options: Any) -> None:
    """Create the topics, then run a faust worker in this process until it is stopped."""
    marker = StepMarker(marker_path(settings, os.getpid()))  # for the supervisor (streams/step_marker.py)
    atexit.register(marker.close)
    metrics = WorkerMetrics(marker=marker)
    start_metrics_server(
        metrics.registry, host=settings.worker_metrics_host, port=settings.worker_metrics_port
    )
    limit_blas_threads(settings)
    ensure_topics(settings)
    web_port = free_web_port("127.0.0.1", settings.worker_web_port)  # faust's web_host (create_app)
    if web_port != settings.worker_web_port:
        settings = settings.model_copy(update={"worker_web_port": web_port})
    app = create_app(settings, metrics)
    worker = faust.Worker(app, loglevel=loglevel, **worker_options)

    async def dump_on_signal() -> None:
        # SIGUSR1 logs where every asyncio task waits: the supervisor asks before a restart.
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump_tasks, app)

    app.task(dump_on_signal)

    worker.execute_from_commandline()


def limit_blas_threads(settings: Settings) -> None:
    """Hold numpy's BLAS to ``settings.worker_blas_threads`` threads in this process (0: as is)."""
    if settings.worker_blas_threads:
        threadpool_limits(limits=settings.worker_blas_threads, user_api="blas")


def free_web_port(host: str, port: int) -> int:
    """``port`` when it can be bound on ``host``, else a free one (logged): several workers on one
    host each get their own faust web endpoint.
    """
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
            return port
        except OSError:
            pass
    with socket.socket() as probe:
        probe.bind((host, 0))
        chosen = int(probe.getsockname()[1])
    logger.warning("worker web port %s:%d is taken; using %d", host, port, chosen)
    return chosen


def await_chain(awaitable: Any, depth: int = 40) -> list[str]:
    """Where a coroutine waits: each frame of its ``await`` chain, outermost first."""
    lines: list[str] = []
    current = awaitable
    while current is not None and depth > 0:
        depth -= 1
        frame = getattr(current, "cr_frame", None) or getattr(current, "ag_frame", None)
        if frame is not None:
            lines.append(f"  {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        following = getattr(current, "cr_await", None)
        if following is None:
            following = getattr(current, "ag_await", None)
        if following is None and isinstance(current, asyncio.Task):
            following = current.get_coro()
        if following is None and frame is None:
            referents = gc.get_referents(current)
            inner = [r for r in referents if hasattr(r, "cr_frame") or isinstance(r, asyncio.Future)]
            if inner:  # a coroutine's __await__ wrapper, or a future's iterator
                following = inner[0]
            else:
                lines.append(f"  waiting on {current!r}"[:300])
        current = following
    return lines


def consumer_state(app: faust.App) -> str:
    """What the consumer holds: assigned, paused (by faust's flow control) and active partitions."""
    consumer: Any = app.consumer

    def names(tps: Any) -> str:
        return ", ".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in tps or ()))

    return (
        f"flow_active={consumer.flow_active} assigned: {names(consumer.assignment())}\n"
        f"paused: {names(consumer._paused_partitions)}\nactive: {names(consumer._active_partitions)}"
    )


def dump_tasks(app: faust.App | None = None) -> None:
    """Log where every asyncio task of the running loop waits (its whole await chain)."""
    if app is not None:
        try:
            logger.warning("consumer state:\n%s", consumer_state(app))
        except Exception:  # diagnostics must never take the worker down
            logger.exception("consumer state unavailable")
    tasks = asyncio.all_tasks()
    out = io.StringIO()
    for task in sorted(tasks, key=lambda t: t.get_name()):
        out.write(f"--- {task.get_name()}\n")
        out.write("\n".join(await_chain(task.get_coro())) + "\n")
    logger.warning("%d asyncio tasks:\n%s", len(tasks), out.getvalue())

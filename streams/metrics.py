"""Prometheus metrics of the stream worker, and the HTTP endpoint that serves them.

:class:`WorkerMetrics` holds the metrics on their own registry (one per worker, so tests build
as many as they like). A faust sensor (:class:`MetricsSensor`) counts the records the worker's
streams take in and the records it sends, per topic; the ingest agent counts dead letters by
reason and the classify agent times the model on each batch; a timer measures the consumer lag
of the input partitions this worker holds. :func:`start_metrics_server` serves the registry in
the Prometheus text format on ``worker_metrics_port``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import faust
from aiokafka.admin import AIOKafkaAdminClient
from faust.sensors import Sensor
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from contracts.settings import Settings
from contracts.topics import WORKER_INPUTS
from messaging.offsets import has_commit, lag_by_partition
from streams.step_marker import StepMarker

logger = logging.getLogger(__name__)

# Model time of one classify batch (up to ``classify_batch_size`` comments): tens of milliseconds
# for a few short texts, seconds for a full batch of long ones on a 2-core machine.
MODEL_BATCH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)


class StepClock:
    """How long the oldest step still running has run: an agent that hands a step (a re-cluster, a
    model batch) to a thread is busy, not stalled, while it waits for it. Read from the metrics
    server's thread, so the running steps are kept under a lock; ``on_change`` is called after a
    step begins or ends (outside the lock).
    """

    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._running: dict[int, float] = {}
        self._next = 0
        self._on_change = on_change

    @contextmanager
    def running(self) -> Iterator[None]:
        """Count the ``with`` block as a running step."""
        with self._lock:
            self._next += 1
            token = self._next
            self._running[token] = time.time()
        if self._on_change is not None:
            self._on_change()
        try:
            yield
        finally:
            with self._lock:
                del self._running[token]
            if self._on_change is not None:
                self._on_change()

    def oldest(self) -> float | None:
        """The wall-clock start of the oldest running step (None when none runs)."""
        with self._lock:
            return min(self._running.values(), default=None)

    def seconds(self) -> float:
        """Seconds the oldest running step has run (0 when none runs)."""
        oldest = self.oldest()
        return 0.0 if oldest is None else max(0.0, time.time() - oldest)


class WorkerMetrics:
    """The worker's metrics, registered on ``registry`` (a new one by default).

    * ``youasked_messages_in_total{topic}``: records the worker's streams took in;
    * ``youasked_messages_out_total{topic}``: records it sent and the broker acknowledged
      (outputs, table changelogs, ticks);
    * ``youasked_dead_letters_total{stage, topic, reason}``: input records set aside, by the stage
      (agent) that set them aside, the topic they were read from and the reason;
    * ``youasked_model_batch_seconds``: seconds the model (moderation, embedding, classifier)
      took per classify batch; ``youasked_model_texts_total``: comments it judged;
    * ``youasked_consumer_lag{topic, partition}``: records of an input partition this worker
      holds that its consumer group has not committed yet (end offset - committed offset, counted
      from the log start offset where the group has committed nothing: :mod:`messaging.offsets`);
    * ``youasked_tables_recovering{pid}``: 1 while the worker process ``pid`` rebuilds its tables
      from their changelogs (after a start or a rebalance; its inputs wait meanwhile), else 0;
    * ``youasked_step_running_seconds{pid}``: how long the oldest step the worker process ``pid``
      handed to a thread (a re-cluster, a model batch; :class:`StepClock`) has been running, 0
      when none is (its inputs wait meanwhile: the supervisor does not take that for a stall).
    """

    def __init__(
        self, registry: CollectorRegistry | None = None, *, marker: StepMarker | None = None
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.marker = marker
        self._marker_lock = threading.Lock()
        self.messages_in = Counter(
            "youasked_messages_in", "Records the worker's streams took in.", ["topic"], registry=self.registry
        )
        self.messages_out = Counter(
            "youasked_messages_out",
            "Records the worker sent that the broker acknowledged.",
            ["topic"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "youasked_dead_letters",
            "Input records set aside, by stage, the topic they came from and the reason.",
            ["stage", "topic", "reason"],
            registry=self.registry,
        )
        self.model_batch_seconds = Histogram(
            "youasked_model_batch_seconds",
            "Seconds the model took to judge one classify batch.",
            buckets=MODEL_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.model_texts = Counter(
            "youasked_model_texts", "Comments the model judged.", registry=self.registry
        )
        self.consumer_lag = Gauge(
            "youasked_consumer_lag",
            "Records of an input partition held by this worker not yet committed by its group.",
            ["topic", "partition"],
            registry=self.registry,
        )
        self._lag_labels: set[tuple[str, str]] = set()
        self.tables_recovering = Gauge(
            "youasked_tables_recovering",
            "1 while this worker process rebuilds its tables from their changelogs, else 0.",
            ["pid"],
            registry=self.registry,
        )
        self._steps: dict[str, StepClock] = {}
        self.step_running = Gauge(
            "youasked_step_running_seconds",
            "Seconds the oldest step this worker process handed to a thread has run, 0 when none.",
            ["pid"],
            registry=self.registry,
        )
        self.step_running.labels(pid=str(os.getpid())).set_function(
            lambda: max((clock.seconds() for clock in list(self._steps.values())), default=0.0)
        )

    def steps(self, stage: str) -> StepClock:
        """The :class:`StepClock` of ``stage`` (made on first use); the gauge and the step marker
        (:mod:`streams.step_marker`, for the supervisor) give the oldest step running in any stage.
        """
        return self._steps.setdefault(stage, StepClock(on_change=self._mark))

    def _mark(self) -> None:
        if self.marker is None:
            return
        with self._marker_lock:
            starts = [start for clock in list(self._steps.values()) if (start := clock.oldest()) is not None]
            self.marker.write(min(starts, default=0.0))

    def set_lag(self, lag: Mapping[tuple[str, int], int]) -> None:
        """Replace the lag gauge's series with ``lag`` (``{(topic, partition): records}``);
        partitions this worker no longer holds disappear.
        """
        labels = {(topic, str(partition)): value for (topic, partition), value in lag.items()}
        for gone in self._lag_labels - set(labels):
            self.consumer_lag.remove(*gone)
        for (topic, partition), value in labels.items():
            self.consumer_lag.labels(topic=topic, partition=partition).set(value)
        self._lag_labels = set(labels)


class MetricsSensor(Sensor):
    """A faust sensor that counts records in (per topic, as the consumer hands them to the
    streams) and records out (per topic, once the broker acknowledged them).
    """

    def __init__(self, metrics: WorkerMetrics) -> None:
        super().__init__()
        self.metrics = metrics

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        self.metrics.messages_in.labels(topic=tp.topic).inc()

    def on_send_completed(self, producer: Any, state: Any, metadata: Any) -> None:
        self.metrics.messages_out.labels(topic=metadata.topic).inc()


class LagProbe:
    """Measures the consumer lag of the input partitions ``app``'s consumer holds."""

    def __init__(self, app: faust.App, *, bootstrap_servers: str, group_id: str, topics: Iterable[str]):
        self.app = app
        self.bootstrap_servers = bootstrap_servers
        self.group_id = group_id
        self.topics = set(topics)
        self._admin: AIOKafkaAdminClient | None = None

    async def measure(self) -> dict[tuple[str, int], int] | None:
        """``{(topic, partition): lag}`` of the held input partitions, or None mid-rebalance."""
        if self.app.rebalancing:
            return None
        consumer = self.app.consumer
        held = [tp for tp in consumer.assignment() if tp.topic in self.topics]
        if not held:
            return {}
        ends = await consumer.highwaters(*held)
        if self._admin is None:
            self._admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
            await self._admin.start()
        offsets = await self._admin.list_consumer_group_offsets(self.group_id)
        committed = {(tp.topic, tp.partition): int(meta.offset) for tp, meta in offsets.items()}
        missing = [tp for tp in held if not has_commit(committed.get((tp.topic, tp.partition)))]
        starts = await consumer.earliest_offsets(*missing) if missing else {}
        return lag_by_partition(
            [(tp.topic, tp.partition) for tp in held],
            end_offsets={(tp.topic, tp.partition): int(v) for tp, v in ends.items()},
            committed=committed,
            log_starts={(tp.topic, tp.partition): int(v) for tp, v in starts.items()},
        )

    async def close(self) -> None:
        if self._admin is not None:
            await self._admin.close()
            self._admin = None


def register_metrics(app: faust.App, settings: Settings, metrics: WorkerMetrics) -> None:
    """Add the counting sensor to ``app`` and a timer that keeps the lag gauge current."""
    app.sensors.add(MetricsSensor(metrics))
    # Read at each scrape from the server's thread: faust sets in_recovery while it replays.
    metrics.tables_recovering.labels(pid=str(os.getpid())).set_function(
        lambda: 1.0 if getattr(app, "in_recovery", False) else 0.0
    )
    probe = LagProbe(
        app,
        bootstrap_servers=settings.bootstrap_servers,
        group_id=app.conf.id,
        topics=[settings.topic_name(spec) for spec in WORKER_INPUTS],
    )

    async def measure_lag() -> None:
        try:
            lag = await probe.measure()
        except Exception:  # a metric must never take the worker down; the next tick tries again
            logger.warning("consumer lag not measured", exc_info=True)
            await probe.close()
            return
        if lag is not None:
            metrics.set_lag(lag)

    app.timer(interval=settings.worker_lag_interval_s)(measure_lag)


def start_metrics_server(registry: CollectorRegistry, *, host: str, port: int) -> int | None:
    """Serve ``registry`` at ``http://host:port/metrics`` from a daemon thread; return the port,
    or None when ``port`` is 0 (off) or nothing can be bound (the worker runs on without it).

    When ``port`` is taken (another worker on this host), a free port is chosen and logged:
    several workers on one host each serve their metrics.
    """
    if port == 0:
        return None
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as error:
        logger.warning("metrics port %s:%d not available (%s); choosing a free one", host, port, error)
        try:
            server, _thread = start_http_server(0, addr=host, registry=registry)
        except OSError as again:
            logger.warning("metrics endpoint not started on %s: %s", host, again)
            return None
    bound = int(server.server_port)
    logger.info("metrics at http://%s:%d/metrics", host, bound)
    return bound

"""Pipeline health as the broker sees it: consumer lag of the worker's group, dead letters held,
and comments taken in per minute.

:class:`PipelineProbe` asks the cluster on one thread of its own (kafka-python clients, kept
between calls and rebuilt after a failure) and gives every answer a deadline: a broker that is
down or slow makes the route answer ``unknown`` within ``timeout_s``, never hang. A failure is
remembered for ``retry_after_s`` so that a dashboard refreshing against a dead broker does not
queue connection attempts.

Dead letters are counted on the declared dead-letter topic of every worker input
(:data:`~contracts.topics.DEAD_LETTER_TOPICS`) under this environment's
``topic_prefix`` only: another environment's topics on the same cluster are not ours, whatever
their names end with. :func:`stage_dead_letters` groups them by stage. Each reading (or failure
to read) is passed to the probe's ``listeners``; :meth:`PipelineProbe.watch` reads periodically
so that they hear of it without anyone asking.

Throughput is measured, not guessed: each probe notes the worker group's committed offsets on
``feedback.comments``; the rate is the growth between the oldest and the newest note of the
last ``window_s`` seconds, once they are at least ``min_span_s`` apart (until then it is None).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from contracts.settings import Settings
from contracts.topics import COMMENTS, DEAD_LETTER_TOPICS, STAGES, WORKER_INPUTS
from messaging.lag import read_lag

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopicLag:
    """One input topic of the worker, summed over its partitions: the end offsets, the offsets the
    group has committed (the log start where it has committed nothing), the records between.
    """

    topic: str
    end_offset: int
    committed: int
    lag: int


@dataclass(frozen=True)
class BrokerReading:
    """What one probe read from the cluster."""

    at: float  # time.monotonic()
    inputs: list[TopicLag]
    dead_letters: dict[str, int]  # every declared dead-letter topic of this environment: records held


@dataclass
class PipelineProbe:
    """Reads lag and dead-letter counts from the cluster of ``settings`` (see the module doc)."""

    settings: Settings
    timeout_s: float = 3.0
    retry_after_s: float = 5.0
    window_s: float = 300.0
    min_span_s: float = 5.0
    _executor: ThreadPoolExecutor | None = field(init=False, default=None)
    _clients: tuple[Any, Any] | None = field(init=False, default=None)
    _pending: Future[BrokerReading] | None = field(init=False, default=None)
    _failed_at: float | None = field(init=False, default=None)
    _error: str = field(init=False, default="")
    _samples: deque[tuple[float, int]] = field(init=False, default_factory=deque)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    listeners: list[Callable[[BrokerReading | None], None]] = field(init=False, default_factory=list)

    @property
    def input_topics(self) -> list[str]:
        return [self.settings.topic_name(spec) for spec in WORKER_INPUTS]

    @property
    def dead_letter_topics(self) -> list[str]:
        """The dead-letter topic of every worker input, in this environment (``topic_prefix``)."""
        return [self.settings.topic_name(spec) for spec in DEAD_LETTER_TOPICS.values()]

    @property
    def comments_topic(self) -> str:
        return self.settings.topic_name(COMMENTS)

    async def read(self) -> tuple[BrokerReading | None, str]:
        """The cluster's answer, or None and why not (down, slow, or failed recently); the
        listeners hear of either.
        """
        reading, message = await self._ask()
        for listener in self.listeners:
            listener(reading)
        return reading, message

    async def watch(self, every_s: float) -> None:
        """Read every ``every_s`` seconds until cancelled (the listeners hear of each)."""
        while True:
            await self.read()
            await asyncio.sleep(every_s)

    async def _ask(self) -> tuple[BrokerReading | None, str]:
        now = time.monotonic()
        if self._failed_at is not None and now - self._failed_at < self.retry_after_s:
            return None, self._error
        if self._clients is None and not await self._reachable():
            self._fail("the broker is not reachable")
            return None, self._error
        with self._lock:
            if self._executor is None:  # one thread owns the clients; a closed probe starts anew
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipeline-probe")
            if self._pending is None or self._pending.done():
                self._pending = self._executor.submit(self._read_blocking)
            pending = self._pending
        try:
            reading = await asyncio.wait_for(asyncio.wrap_future(pending), timeout=self.timeout_s)
        except TimeoutError:
            self._fail(f"the broker did not answer within {self.timeout_s:g} s")
            return None, self._error
        except Exception as exc:  # any client error: the broker is unknown, the page says so
            self._fail(f"the broker could not be read: {type(exc).__name__}")
            return None, self._error
        self._failed_at = None
        self._note(reading)
        return reading, ""

    async def _reachable(self) -> bool:
        """Whether any bootstrap server accepts a TCP connection (a refused port fails at once,
        where the Kafka clients would retry until their timeout).
        """
        for server in self.settings.bootstrap_servers.split(","):
            host, _, port = server.strip().rpartition(":")
            try:
                _reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host.strip("[]") or "localhost", int(port)), timeout=1.0
                )
            except (OSError, ValueError, TimeoutError):
                continue
            writer.close()
            return True
        return False

    def throughput_per_minute(self) -> tuple[float | None, float]:
        """Comments the worker group committed per minute over the window, and the span measured (s)."""
        with self._lock:
            samples = list(self._samples)
        if len(samples) < 2:
            return None, 0.0
        (first_at, first), (last_at, last) = samples[0], samples[-1]
        span = last_at - first_at
        if span < self.min_span_s:
            return None, span
        return max(0, last - first) * 60.0 / span, span

    def close(self) -> None:
        """Close the clients and the thread (a later read opens them again)."""
        with self._lock:
            executor, self._executor, self._pending = self._executor, None, None
        if executor is not None:
            executor.submit(self._close_clients)
            executor.shutdown(wait=False)

    def _fail(self, message: str) -> None:
        self._failed_at = time.monotonic()
        self._error = message
        with self._lock:
            self._samples.clear()  # a gap in the notes: measure afresh once it answers again

    def _note(self, reading: BrokerReading) -> None:
        committed = sum(t.committed for t in reading.inputs if t.topic == self.comments_topic)
        with self._lock:
            self._samples.append((reading.at, committed))
            while self._samples and reading.at - self._samples[0][0] > self.window_s:
                self._samples.popleft()

    def _close_clients(self) -> None:
        if self._clients is not None:
            for client in self._clients:
                try:
                    client.close()
                except Exception:  # closing a broken client: nothing left to do
                    logger.debug("closing a pipeline probe client failed", exc_info=True)
            self._clients = None

    def _read_blocking(self) -> BrokerReading:
        try:
            admin, consumer = self._connect()
            existing = set(consumer.topics())
            inputs = _input_lag(
                admin, consumer, self.settings.app_id, [t for t in self.input_topics if t in existing]
            )
            dead = {
                topic: _held(consumer, topic) if topic in existing else 0 for topic in self.dead_letter_topics
            }
            return BrokerReading(at=time.monotonic(), inputs=inputs, dead_letters=dead)
        except Exception:
            self._close_clients()
            raise

    def _connect(self) -> tuple[Any, Any]:
        """The admin client and the consumer, made on first use and kept."""
        if self._clients is None:
            options: dict[str, Any] = {
                "bootstrap_servers": self.settings.bootstrap_servers,
                "client_id": "youasked-pipeline",
                "request_timeout_ms": int(self.timeout_s * 1000),
                "api_version_auto_timeout_ms": int(self.timeout_s * 1000),
            }
            admin = KafkaAdminClient(**options)
            try:
                consumer = KafkaConsumer(group_id=None, **options)
            except Exception:
                admin.close()
                raise
            self._clients = (admin, consumer)
        return self._clients


def stage_dead_letters(settings: Settings, dead_letters: dict[str, int]) -> dict[str, dict[str, int]]:
    """Each stage of :data:`~contracts.topics.STAGES` (in that order) and the records held
    in the dead-letter topic of each of its inputs, by the topic's name in ``settings``'
    environment; a topic ``dead_letters`` does not name holds 0.
    """
    stages: dict[str, dict[str, int]] = {}
    for stage, inputs in STAGES.items():
        topics = [settings.topic_name(DEAD_LETTER_TOPICS[spec.name]) for spec in inputs]
        stages[stage] = {topic: dead_letters.get(topic, 0) for topic in topics}
    return stages


def _partitions(consumer: Any, topic: str) -> list[Any]:

    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]


def _input_lag(admin: Any, consumer: Any, group_id: str, topics: list[str]) -> list[TopicLag]:
    """Each of ``topics``: records written, the offsets ``group_id`` reached, and the gap, summed over
    its partitions (a partition with no commit counted from its log start: see :mod:`messaging.offsets`).
    """
    partitions = read_lag(admin, consumer, group_id, topics)
    lags = []
    for topic in topics:
        mine = [p for p in partitions if p.topic == topic]
        lags.append(
            TopicLag(
                topic,
                end_offset=sum(p.end_offset for p in mine),
                committed=sum(p.counted_from for p in mine),
                lag=sum(p.lag for p in mine),
            )
        )
    return lags


def _held(consumer: Any, topic: str) -> int:
    """Records ``topic`` holds (from each partition's first offset kept to its end)."""
    tps = _partitions(consumer, topic)
    if not tps:
        return 0
    ends = consumer.end_offsets(tps)
    starts = consumer.beginning_offsets(tps)
    return sum(ends[tp] - starts[tp] for tp in tps)

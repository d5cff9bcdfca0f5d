"""Pipeline health as the broker sees it: consumer lag of the worker's group, dead letters held,
and comments taken in per minute.

:class:`PipelineProbe` asks the cluster on one thread of its own (kafka-python clients, kept
between calls and rebuilt after a failure) and gives every answer a deadline: a broker that is
down or slow makes the route answer ``unknown`` within ``timeout_s``, never hang. A failure is
remembered for ``retry_after_s`` so that a dashboard refreshing against a dead broker does not
queue connection attempts.

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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from youasked.contracts.topics import ALL_TOPICS, COMMENTS, WORKER_INPUTS
from youasked.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopicLag:
    """One input topic of the worker: records written, records the group has committed, the gap."""

    topic: str
    end_offset: int
    committed: int
    lag: int


@dataclass(frozen=True)
class BrokerReading:
    """What one probe read from the cluster."""

    at: float  # time.monotonic()
    inputs: list[TopicLag]
    dead_letters: dict[str, int]


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

    @property
    def input_topics(self) -> list[str]:
        return [self.settings.topic_name(spec) for spec in WORKER_INPUTS]

    @property
    def comments_topic(self) -> str:
        return self.settings.topic_name(COMMENTS)

    async def read(self) -> tuple[BrokerReading | None, str]:
        """The cluster's answer, or None and why not (down, slow, or failed recently)."""
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
        from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

        try:
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
            admin, consumer = self._clients
            existing = set(consumer.topics())
            committed = admin.list_consumer_group_offsets(self.settings.app_id)
            inputs = []
            for topic in self.input_topics:
                if topic not in existing:
                    continue
                tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
                ends = consumer.end_offsets(tps) if tps else {}
                end_total = done_total = 0
                for tp in tps:
                    done = committed.get(tp)
                    end_total += ends[tp]
                    done_total += done.offset if done is not None and done.offset >= 0 else 0
                inputs.append(TopicLag(topic, end_total, done_total, max(0, end_total - done_total)))
            declared = {self.settings.topic_name(s) for s in ALL_TOPICS if s.name.endswith(".dlq")}
            dead: dict[str, int] = {}
            prefix = self.settings.topic_prefix
            for topic in sorted(existing):
                if topic in declared or (topic.startswith(prefix) and topic.endswith(".dlq")):
                    tps = [
                        TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
                    ]
                    if not tps:
                        continue
                    ends = consumer.end_offsets(tps)
                    starts = consumer.beginning_offsets(tps)
                    dead[topic] = sum(ends[tp] - starts[tp] for tp in tps)
            return BrokerReading(at=time.monotonic(), inputs=inputs, dead_letters=dead)
        except Exception:
            self._close_clients()
            raise

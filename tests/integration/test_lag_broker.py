"""Every reader of consumer lag counts alike on a topic whose early records were deleted: the demo's
(``messaging.lag.group_lag``), the supervisor's, the dashboard's (``PipelineProbe``) and the
worker's metrics (``LagProbe``). A partition the group never committed lags from its log start
offset, not from 0: counting from 0 would report the deleted records as still waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from api.pipeline import PipelineProbe
from contracts.settings import Settings
from contracts.topics import COMMENTS
from messaging.lag import group_lag
from streams import supervisor
from streams.metrics import LagProbe
from tests.kafka_support import isolated_settings

pytestmark = pytest.mark.integration

WRITTEN = 10  # records per partition
DELETED = 6  # records retention took from the front of each partition


class HeldPartitions:
    """The calls of faust's consumer that :class:`LagProbe` makes, over a real aiokafka consumer
    that holds ``partitions``.
    """

    def __init__(self, consumer: AIOKafkaConsumer, partitions: Iterable[Any]) -> None:
        self.consumer = consumer
        self.partitions = set(partitions)

    def assignment(self) -> set[Any]:
        return self.partitions

    async def highwaters(self, *partitions: Any) -> dict[Any, int]:
        return dict(await self.consumer.end_offsets(list(partitions)))

    async def earliest_offsets(self, *partitions: Any) -> dict[Any, int]:
        return dict(await self.consumer.beginning_offsets(list(partitions)))


def write_and_delete_the_front(settings: Settings, topic: str) -> list[TopicPartition]:
    """``topic`` with two partitions of :data:`WRITTEN` records each, the first :data:`DELETED` of
    each deleted (as retention would).
    """
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
        tps = [TopicPartition(topic, p) for p in range(2)]
        producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
        for tp in tps:
            for n in range(WRITTEN):
                producer.send(topic, value=b"%d" % n, partition=tp.partition)
        producer.flush()
        producer.close()
        admin.delete_records(dict.fromkeys(tps, DELETED))
        return tps
    finally:
        admin.close()


def commit(settings: Settings, tp: TopicPartition, offset: int) -> None:
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, group_id=settings.app_id, enable_auto_commit=False
    )
    try:
        consumer.assign([tp])
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1)})
    finally:
        consumer.close()


async def metrics_lag(settings: Settings, tps: list[TopicPartition]) -> dict[tuple[str, int], int] | None:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    await consumer.start()
    app = SimpleNamespace(rebalancing=False, consumer=HeldPartitions(consumer, tps))
    probe = LagProbe(
        app,  # type: ignore[arg-type]
        bootstrap_servers=settings.bootstrap_servers,
        group_id=settings.app_id,
        topics=[tp.topic for tp in tps],
    )
    try:
        return await probe.measure()
    finally:
        await probe.close()
        await consumer.stop()


def wait_for_the_group_coordinator(settings: Settings, topic: str, timeout_s: float = 60.0) -> None:
    """On a fresh cluster the group coordinator takes a moment to come up (NotCoordinatorError)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            group_lag(settings, [topic])
            return
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def every_reader(settings: Settings, tps: list[TopicPartition]) -> dict[str, dict[int, int]]:
    """Lag by partition as each reader reports it (the demo and the dashboard sum a topic's)."""
    topic = tps[0].topic
    progress = supervisor._progress(settings, [topic]) or {}
    probe = PipelineProbe(settings, timeout_s=10.0)
    try:
        reading, error = asyncio.run(probe.read())
    finally:
        probe.close()
    assert reading is not None, error
    (dashboard,) = [t for t in reading.inputs if t.topic == topic]
    metrics = asyncio.run(metrics_lag(settings, tps)) or {}
    return {
        "demo": {-1: group_lag(settings, [topic])[topic]},
        "supervisor": {p: lag for (_t, p), (_offset, lag) in progress.items()},
        "dashboard": {-1: dashboard.lag},
        "metrics": {p: lag for (_t, p), lag in metrics.items()},
    }


def test_every_reader_counts_a_partition_with_no_commit_from_its_log_start(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = isolated_settings(kafka_bootstrap, tmp_path)
    tps = write_and_delete_the_front(settings, settings.topic_name(COMMENTS))
    wait_for_the_group_coordinator(settings, tps[0].topic)
    waiting = WRITTEN - DELETED

    # No commit at all: each partition holds WRITTEN - DELETED records, and they all wait.
    assert every_reader(settings, tps) == {
        "demo": {-1: 2 * waiting},
        "supervisor": {0: waiting, 1: waiting},
        "dashboard": {-1: 2 * waiting},
        "metrics": {0: waiting, 1: waiting},
    }

    # A commit on partition 0 only: it lags from there, partition 1 still from its log start.
    commit(settings, tps[0], 8)
    assert every_reader(settings, tps) == {
        "demo": {-1: WRITTEN - 8 + waiting},
        "supervisor": {0: WRITTEN - 8, 1: waiting},
        "dashboard": {-1: WRITTEN - 8 + waiting},
        "metrics": {0: WRITTEN - 8, 1: waiting},
    }
